"""Tests for create_pretraining_data.py.

The golden runs of the original (../shared/golden/pretraining_data) are
reproduced record for record and byte for byte, through main and through the
public functions; the quick random draws are checked against
`random.Random`; then the sharding guarantee, atomic outputs, progress and
the one-line errors.
"""
# pylint: disable=protected-access

import json
import os
import random

from absl import flags
import pytest
import tensorflow.compat.v1 as tf

import create_pretraining_data as cpd
import helpers
import script_io
import tokenization
from helpers import write_tiny_vocab

FLAGS = flags.FLAGS

GOLDEN_RUNS = ("a_default_seed12345", "b_wwm_seed7", "c_cased_seq32_seed99")


def golden_flags(golden, run, output_file):
  """The flags of a golden run (its .cmd), with paths made absolute."""
  with open(os.path.join(golden, "pretraining_data", run + ".cmd")) as f:
    argv = f.read().split()[2:]
  values = {}
  for arg in argv:
    name, value = arg[2:].split("=", 1)
    if name in ("input_file", "vocab_file"):
      value = os.path.join(golden, value)
    values[name] = value
  values["output_file"] = output_file
  return {name: FLAGS[name].parser.parse(value)
          for name, value in values.items()}


def read_golden_records(golden, run):
  with open(os.path.join(golden, "pretraining_data", run + ".jsonl")) as f:
    return [json.loads(line) for line in f]


def parse_records(path):
  """The records of a TFRecord file as dicts of feature lists."""
  records = []
  for serialized in tf.python_io.tf_record_iterator(path):
    feature = tf.train.Example.FromString(serialized).features.feature
    records.append({
        name: list(feature[name].int64_list.value or
                   feature[name].float_list.value) for name in feature})
  return records


def assert_records_match(records, expected):
  assert len(records) == len(expected)
  for got, want in zip(records, expected):
    for name in cpd._FEATURE_NAMES:
      assert got[name] == want[name], (want["index"], name)


@pytest.mark.parametrize("run", GOLDEN_RUNS)
def test_main_reproduces_golden_run(golden, tmp_path, run):
  output_file = str(tmp_path / "out.tfrecord")
  helpers.run_main(cpd, golden_flags(golden, run, output_file))
  assert_records_match(parse_records(output_file),
                       read_golden_records(golden, run))
  with open(output_file, "rb") as f:
    ours = f.read()
  with open(os.path.join(golden, "pretraining_data", run + ".tfrecord"),
            "rb") as f:
    assert ours == f.read()
  assert os.listdir(str(tmp_path)) == ["out.tfrecord"]


def test_public_functions_reproduce_golden_run(golden, tmp_path):
  values = golden_flags(golden, "b_wwm_seed7", str(tmp_path / "out.tfrecord"))
  # Quirk of the original: its functions read --do_whole_word_mask.
  with helpers.command_line(values=values):
    tokenizer = tokenization.FullTokenizer(values["vocab_file"],
                                           values["do_lower_case"])
    rng = random.Random(values["random_seed"])
    instances = cpd.create_training_instances(
        [values["input_file"]], tokenizer, values["max_seq_length"],
        values["dupe_factor"], values["short_seq_prob"],
        values["masked_lm_prob"], values["max_predictions_per_seq"], rng)
    expected = read_golden_records(golden, "b_wwm_seed7")
    assert [i.tokens for i in instances] == [r["tokens"] for r in expected]
    assert [i.masked_lm_labels for i in instances] == [
        r["masked_lm_labels"] for r in expected]
    assert isinstance(instances[0], cpd.TrainingInstance)
    assert "masked_lm_labels: " in str(instances[0])
    cpd.write_instance_to_example_files(
        instances, tokenizer, values["max_seq_length"],
        values["max_predictions_per_seq"], [values["output_file"]])
  assert_records_match(parse_records(values["output_file"]), expected)


def test_output_files_are_filled_round_robin(golden, tmp_path):
  outputs = [str(tmp_path / name) for name in ("x.tfrecord", "y.tfrecord")]
  helpers.run_main(cpd, golden_flags(golden, "a_default_seed12345",
                                     ",".join(outputs)))
  expected = read_golden_records(golden, "a_default_seed12345")
  assert_records_match(parse_records(outputs[0]), expected[0::2])
  assert_records_match(parse_records(outputs[1]), expected[1::2])


def test_hand_built_example_bytes_equal_the_generic_serializer():
  serializer = cpd._ExampleSerializer(8, 3, 300)
  # 70000 is past the serializer's cached varints.
  serialized = serializer.serialize([2, 200, 4, 3, 70000, 3], 4, [1, 2],
                                    [280, 5], True)
  features = [
      ("input_ids", cpd.create_int_feature([2, 200, 4, 3, 70000, 3, 0, 0])),
      ("input_mask", cpd.create_int_feature([1] * 6 + [0] * 2)),
      ("segment_ids", cpd.create_int_feature([0] * 4 + [1] * 2 + [0] * 2)),
      ("masked_lm_positions", cpd.create_int_feature([1, 2, 0])),
      ("masked_lm_ids", cpd.create_int_feature([280, 5, 0])),
      ("masked_lm_weights", cpd.create_float_feature([1.0, 1.0, 0.0])),
      ("next_sentence_labels", cpd.create_int_feature([1])),
  ]
  assert serialized == script_io.serialize_example_in_order(features)
  # No predictions at all: empty packed lists.
  empty = cpd._ExampleSerializer(5, 0, 10).serialize([2, 5, 3, 6, 3], 3,
                                                      [], [], False)
  assert empty == script_io.serialize_example_in_order([
      ("input_ids", cpd.create_int_feature([2, 5, 3, 6, 3])),
      ("input_mask", cpd.create_int_feature([1] * 5)),
      ("segment_ids", cpd.create_int_feature([0, 0, 0, 1, 1])),
      ("masked_lm_positions", cpd.create_int_feature([])),
      ("masked_lm_ids", cpd.create_int_feature([])),
      ("masked_lm_weights", cpd.create_float_feature([])),
      ("next_sentence_labels", cpd.create_int_feature([0])),
  ])


def test_fast_draws_equal_random_random():
  reference = random.Random(2024)
  ours = random.Random(2024)
  draws = cpd._draws_of(ours)
  for size in [0, 1, 2, 3, 5, 17, 64, 65, 129, 1000, 5000]:
    want, got = list(range(size)), list(range(size))
    reference.shuffle(want)
    draws.shuffle(got)
    assert got == want
    assert draws.random() == reference.random()
    for a, b in [(0, 0), (1, 1), (0, 1), (2, 125), (0, 30521), (5, 2**31)]:
      assert draws.randint(a, b) == reference.randint(a, b)
    # The generator never runs ahead of the draws made.
    assert ours.getstate() == reference.getstate()


def test_truncate_seq_pair_draws_like_one_token_at_a_time():
  for seed in range(20):
    rng = random.Random(seed)
    tokens_a = list(range(30))
    tokens_b = list(range(100, 100 + rng.randint(1, 40)))
    want_a, want_b = list(tokens_a), list(tokens_b)
    reference = random.Random(seed)
    reference.randint(1, 40)
    # The spec: cut the longer one (B on ties), front or back by a coin.
    while len(want_a) + len(want_b) > 25:
      longer = want_a if len(want_a) > len(want_b) else want_b
      if reference.random() < 0.5:
        del longer[0]
      else:
        longer.pop()
    cpd.truncate_seq_pair(tokens_a, tokens_b, 25, rng)
    assert (tokens_a, tokens_b) == (want_a, want_b)
    assert rng.getstate() == reference.getstate()


def test_string_and_id_masking_agree(golden):
  tokenizer = tokenization.FullTokenizer(
      os.path.join(golden, "tokenization", "vocab.txt"), True)
  tokens = (["[CLS]"] + tokenizer.tokenize("the unbelievable teamwork of the "
                                           "bakers") + ["[SEP]"] +
            tokenizer.tokenize("water boils at sea level") + ["[SEP]"])
  vocab_words = list(tokenizer.vocab.keys())
  for whole_word in (False, True):
    for seed in range(10):
      with helpers.command_line(values={"do_whole_word_mask": whole_word}):
        by_strings = cpd.create_masked_lm_predictions(
            tokens, 0.3, 5, vocab_words, random.Random(seed))
      masking = cpd._MaskingVocab.of_ids(tokenizer.vocab, whole_word)
      by_ids = cpd._mask_tokens(
          tokenizer.convert_tokens_to_ids(tokens), 0.3, 5, masking,
          cpd._draws_of(random.Random(seed)))
      assert by_ids[1] == by_strings[1]
      assert tokenizer.convert_ids_to_tokens(by_ids[0]) == by_strings[0]
      assert tokenizer.convert_ids_to_tokens(by_ids[2]) == by_strings[2]
      assert len(by_strings[1]) <= 5


def test_logs_first_examples_and_progress(golden, tmp_path, monkeypatch):
  lines = []
  monkeypatch.setattr(tf.logging, "info",
                      lambda msg, *args: lines.append(msg % args if args
                                                      else msg))
  monkeypatch.setattr(cpd, "_PROGRESS_EVERY_SECONDS", 0.0)
  helpers.run_main(cpd, golden_flags(golden, "c_cased_seq32_seed99",
                                     str(tmp_path / "out.tfrecord")))
  expected = read_golden_records(golden, "c_cased_seq32_seed99")
  assert lines.count("*** Example ***") == 20
  first = lines.index("*** Example ***")
  assert lines[first + 1] == "tokens: " + " ".join(expected[0]["tokens"])
  assert lines[first + 2] == "input_ids: " + " ".join(
      str(i) for i in expected[0]["input_ids"])
  assert lines[first + 7] == "masked_lm_weights: " + " ".join(
      str(w) for w in expected[0]["masked_lm_weights"])
  assert lines[-1] == "Wrote 63 total instances"
  assert any(l.startswith("Read ") and "documents" in l for l in lines)
  assert any(l.startswith("Created ") and "/s)" in l for l in lines)
  assert any(l.startswith("Wrote 1 of 63 instances") for l in lines)


def test_failed_write_leaves_no_output(golden, tmp_path, monkeypatch):
  update = script_io.ProgressLog.update

  def fail_at_the_third_record(self, count, *values):
    if self._template.startswith("Wrote") and count == 3:
      raise RuntimeError("killed")
    return update(self, count, *values)

  monkeypatch.setattr(script_io.ProgressLog, "update",
                      fail_at_the_third_record)
  with pytest.raises(RuntimeError):
    helpers.run_main(cpd, golden_flags(golden, "a_default_seed12345",
                                       str(tmp_path / "out.tfrecord")))
  assert os.listdir(str(tmp_path)) == []


def write_shards(golden, directory):
  """Splits the golden corpus in two shard files (4 documents each)."""
  with open(os.path.join(golden, "pretraining_data", "corpus.txt"),
            encoding="utf-8") as f:
    text = f.read()
  cut = text.index("Tea leaves come")
  paths = []
  for index, part in enumerate((text[:cut], text[cut:])):
    path = os.path.join(directory, "shard-%d.txt" % index)
    with open(path, "w", encoding="utf-8") as f:
      f.write(part)
    paths.append(path)
  return paths


def test_num_workers_output_equals_single_runs_per_shard(golden, tmp_path):
  shards = write_shards(golden, str(tmp_path))
  values = golden_flags(golden, "a_default_seed12345",
                        str(tmp_path / "sharded.tfrecord"))
  values.update(input_file=str(tmp_path / "shard-*.txt"), num_workers=2)
  helpers.run_main(cpd, values)
  for index, shard in enumerate(shards):
    single = str(tmp_path / ("single-%d.tfrecord" % index))
    values.update(input_file=shard, output_file=single, num_workers=0,
                  random_seed=12345 + index)
    helpers.run_main(cpd, values)
    sharded = str(tmp_path / ("sharded.tfrecord-%05d-of-00002" % index))
    with open(sharded, "rb") as f, open(single, "rb") as g:
      sharded_bytes = f.read()
      assert sharded_bytes == g.read()
    assert parse_records(sharded)


def test_num_workers_reports_a_failed_shard(golden, tmp_path):
  shards = write_shards(golden, str(tmp_path))
  # The first shard fails, so the second one never starts.
  with open(shards[0], "w") as f:
    f.write("\n \n")
  values = golden_flags(golden, "a_default_seed12345",
                        str(tmp_path / "a.tfrecord,") +
                        str(tmp_path / "b.tfrecord"))
  values.update(input_file=",".join(shards), num_workers=1)
  with pytest.raises(script_io.InputError, match="shard 0 .*no document"):
    helpers.run_main(cpd, values)
  assert not [f for f in os.listdir(str(tmp_path)) if "tfrecord" in f]


def bad_vocab(tmp_path):
  path = str(tmp_path / "vocab.txt")
  tokens = [t for t in write_tiny_vocab(path) if t != "[MASK]"]
  with open(path, "w") as f:
    f.write("\n".join(tokens) + "\n")
  return path


@pytest.mark.parametrize("change,message", [
    ({"input_file": "/nonexistent/*.txt"}, "--input_file.*nonexistent"),
    ({"input_file": "/tmp/*.no-such-suffix"}, "--input_file: no file matches"),
    ({"max_seq_length": 4}, "--max_seq_length=4"),
    ({"masked_lm_prob": 1.5}, "--masked_lm_prob=1.5"),
    ({"masked_lm_prob": -0.1}, "--masked_lm_prob=-0.1"),
    ({"max_predictions_per_seq": -1}, "--max_predictions_per_seq=-1"),
    ({"dupe_factor": -2}, "--dupe_factor=-2"),
    ({"dupe_factor": 0}, "--dupe_factor=0: must be at least 1"),
    ({"short_seq_prob": 1.01}, "--short_seq_prob=1.01"),
    ({"short_seq_prob": -0.5}, "--short_seq_prob=-0.5"),
    ({"output_file": "/nonexistent/out.tfrecord"},
     "--output_file=/nonexistent/out.tfrecord: the directory"),
    ("output_folder", "--output_file=.* is a directory, not a file"),
    ({"num_workers": -1}, "--num_workers=-1"),
    ("empty_corpus", "--input_file=.*no document"),
    ("bad_vocab", "--vocab_file=.*lacks \\[MASK\\]"),
])
def test_bad_input_is_reported_before_any_work(golden, tmp_path, change,
                                               message):
  output_file = str(tmp_path / "out.tfrecord")
  values = golden_flags(golden, "a_default_seed12345", output_file)
  if change == "empty_corpus":
    empty = tmp_path / "empty.txt"
    empty.write_text("\n   \n\u200b\n")
    change = {"input_file": str(empty)}
  elif change == "bad_vocab":
    change = {"vocab_file": bad_vocab(tmp_path)}
  elif change == "output_folder":
    change = {"output_file": str(tmp_path)}
  values.update(change)
  with pytest.raises(script_io.InputError, match=message):
    helpers.run_main(cpd, values)
  assert not [f for f in os.listdir(str(tmp_path)) if "tfrecord" in f]


def test_command_line_error_is_one_line(tmp_path):
  vocab = str(tmp_path / "vocab.txt")
  write_tiny_vocab(vocab)
  [(status, stderr)] = helpers.run_scripts("create_pretraining_data.py", [[
      "--input_file=" + str(tmp_path / "missing-*.txt"),
      "--output_file=" + str(tmp_path / "out.tfrecord"),
      "--vocab_file=" + vocab]])
  assert status == 2
  errors = [l for l in stderr.splitlines() if l.startswith("error: ")]
  assert errors == ["error: --input_file: no file matches %s" %
                    (tmp_path / "missing-*.txt")]
  assert "Traceback" not in stderr


def test_sample_text_is_in_the_input_format():
  with open(os.path.join(helpers.ROOT, "sample_text.txt"),
            encoding="utf-8") as f:
    documents = f.read().split("\n\n")
  assert len(documents) >= 40
  for document in documents:
    sentences = document.strip("\n").split("\n")
    assert 8 <= len(sentences) <= 25
    assert all(s.strip() == s and s for s in sentences)
