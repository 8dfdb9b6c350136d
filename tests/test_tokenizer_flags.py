"""Tests of --strip_accents and --never_split in the scripts.

The tokenizer's own behaviour with these options is tested in
test_tokenization.py; here, that each script passes them where its
tokenizer is built (and SQuAD where it re-tokenizes answers).
"""

import json
import os

from absl import flags
import pytest
import tensorflow.compat.v1 as tf

import create_pretraining_data
import create_vocab
import extract_features
import run_squad
import script_io
import tokenization
import helpers
from helpers import write_tiny_vocab

FLAGS = flags.FLAGS

# "[E1]" and "[E2]" mark an entity, as in relation-extraction data.
MARKERS = ["[E1]", "[E2]"]


def test_unset_flags_give_the_original_tokenizer_options():
  with helpers.command_line([]):
    assert script_io.tokenizer_options(FLAGS) == dict(strip_accents=None,
                                                      never_split=None)
  with helpers.command_line(["--nostrip_accents", "--never_split=[E1],[E2]"]):
    assert script_io.tokenizer_options(FLAGS) == dict(strip_accents=False,
                                                      never_split=MARKERS)


def test_create_vocab_keeps_markers_whole_and_accents(tmp_path):
  corpus = tmp_path / "corpus.txt"
  corpus.write_text("[E1] Über [E2] café crème\n\nthe café\n" * 3,
                    encoding="utf-8")
  vocab_file = str(tmp_path / "vocab.txt")
  helpers.run_main(create_vocab, argv=[
      "--input_file=%s" % corpus, "--output_file=%s" % vocab_file,
      "--vocab_size=200", "--nostrip_accents", "--never_split=[E1],[E2]",
      "--min_frequency=1"])
  tokens = tokenization.load_vocab(vocab_file)
  # The markers come right after the five specials.
  assert tokens["[E1]"] == 5 and tokens["[E2]"] == 6
  assert "café" in tokens and "über" in tokens and "cafe" not in tokens
  tokenizer = tokenization.FullTokenizer(vocab_file, strip_accents=False,
                                         never_split=MARKERS)
  assert tokenizer.tokenize("[E1] Café [E2]") == ["[E1]", "café", "[E2]"]


def _shards(directory):
  paths = []
  for index in range(2):
    path = os.path.join(directory, "shard-%d.txt" % index)
    with open(path, "w", encoding="utf-8") as f:
      for doc in range(3):
        f.write("the [E1] cat %d sat [E2] on the mat.\nthe dog ran.\n"
                "the bird sang.\n\n" % (index * 3 + doc))
    paths.append(path)
  return paths


def _input_ids(path):
  ids = []
  for record in tf.python_io.tf_record_iterator(path):
    example = tf.train.Example.FromString(record)
    ids.extend(example.features.feature["input_ids"].int64_list.value)
  return ids


def test_create_pretraining_data_passes_the_options_to_its_workers(tmp_path):
  vocab_file = str(tmp_path / "vocab.txt")
  vocab = write_tiny_vocab(vocab_file, extra_words=MARKERS)
  shards = _shards(str(tmp_path))
  common = ["--vocab_file=" + vocab_file, "--never_split=[E1],[E2]",
            "--max_seq_length=32", "--dupe_factor=1"]
  helpers.run_main(create_pretraining_data, argv=common + [
      "--input_file=" + str(tmp_path / "shard-*.txt"),
      "--output_file=" + str(tmp_path / "sharded.tfrecord"),
      "--num_workers=2"])
  for index, shard in enumerate(shards):
    single = str(tmp_path / ("single-%d.tfrecord" % index))
    helpers.run_main(create_pretraining_data, argv=common + [
        "--input_file=" + shard, "--output_file=" + single,
        "--random_seed=%d" % (12345 + index), "--num_workers=0"])
    sharded = str(tmp_path / ("sharded.tfrecord-%05d-of-00002" % index))
    with open(sharded, "rb") as f, open(single, "rb") as g:
      assert f.read() == g.read()
    # Masking may hide a marker here and there, not all twelve.
    assert _input_ids(single).count(vocab.index("[E1]")) >= 2


def test_extract_features_tokenizes_with_the_options(tiny_bert, tmp_path):
  input_file = tmp_path / "input.txt"
  input_file.write_text("the [MASK] café\n", encoding="utf-8")

  def tokens(*options):
    output_file = str(tmp_path / "output.jsonl")
    helpers.run_main(extract_features, argv=[
        "--input_file=%s" % input_file, "--output_file=" + output_file,
        "--vocab_file=" + tiny_bert["vocab_file"],
        "--bert_config_file=" + tiny_bert["config_file"],
        "--init_checkpoint=" + tiny_bert["checkpoint"], "--layers=-1",
        "--max_seq_length=16"] + list(options))
    with open(output_file, encoding="utf-8") as f:
      return [feature["token"] for feature in json.loads(f.readline())
              ["features"]]

  assert tokens() == ["[CLS]", "the", "[UNK]", "m", "##a", "##s", "##k",
                      "[UNK]", "c", "##a", "##f", "##e", "[SEP]"]
  # The tiny vocab has no "é": kept, it makes the word unknown.
  assert tokens("--never_split=[MASK]", "--nostrip_accents") == [
      "[CLS]", "the", "[MASK]", "[UNK]", "[SEP]"]


@pytest.mark.parametrize("options,expected", [
    ({}, "[E1] Café noir"),
    (dict(never_split=MARKERS, strip_accents=False), "[E1] Café"),
])
def test_squad_answers_map_back_with_the_tokenizer_options(options,
                                                          expected):
  # The prediction, re-joined from word pieces the tokenizer made with
  # these options; re-tokenized without them, the context does not align
  # and the original falls back to the whole span.
  assert run_squad.get_final_text("[E1] café", "[E1] Café noir", True,
                                  **options) == expected


def test_squad_predictions_use_the_tokenizer_options(tmp_path):
  vocab_file = str(tmp_path / "vocab.txt")
  write_tiny_vocab(vocab_file, extra_words=MARKERS)
  input_file = tmp_path / "dev.json"
  input_file.write_text(json.dumps({"data": [{"paragraphs": [{
      "context": "Lights [E1] Gardens [E2] noir.",
      "qas": [{"id": "q1", "question": "the sky", "answers": []}]}]}]}))
  options = dict(strip_accents=None, never_split=MARKERS)
  tokenizer = tokenization.FullTokenizer(vocab_file, **options)
  (examples, feature) = helpers.read_one_squad_feature(input_file, tokenizer,
                                                       32)
  results = [helpers.squad_raw_result(feature, {"[E1]": 10.0},
                                      {"garden": 10.0})]

  def answer(**tokenizer_options):
    texts = run_squad.prediction_texts(examples, [feature], results, 5, 10,
                                       True, **tokenizer_options)
    return json.loads(texts[0])["q1"]

  # Without the options the answer does not align with the context, and
  # the original's fallback gives the whole words of the span.
  assert answer(**options) == "[E1] Garden"
  assert answer() == "[E1] Gardens"
