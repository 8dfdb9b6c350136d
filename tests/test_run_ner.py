"""Tests of run_ner.py: conlleval's scores, CoNLL files, windows, runs.

The entity scores are checked on conlleval's rules and on small tables
worked out by hand; the fine-tuning run uses the tiny random BERT of
conftest's `tiny_bert` on a made-up CoNLL set whose entities are words from
fixed lists, long enough to need several windows per sentence. Bad input
runs the script as a user does, in processes of its own (one per core at a
time).
"""

import os
import random

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

import helpers
import run_ner
import script_io
import tokenization


# --------------------------------------------------------------------------
# conlleval's chunks.


@pytest.mark.parametrize("tags,entities", [
    # IOB1: an I- tag after O starts an entity.
    (["O", "I-PER", "I-PER", "O"], [("PER", 1, 3)]),
    # IOB1: a type change inside a run of I- tags ends one, starts another.
    (["I-PER", "I-PER", "I-LOC"], [("PER", 0, 2), ("LOC", 2, 3)]),
    # IOB1: B- starts a new entity of the same type next to another.
    (["I-PER", "B-PER", "I-PER"], [("PER", 0, 1), ("PER", 1, 3)]),
    # IOB2.
    (["B-PER", "I-PER", "B-PER", "O", "B-LOC"],
     [("PER", 0, 2), ("PER", 2, 3), ("LOC", 4, 5)]),
    # An I- of another type after B- is its own entity.
    (["B-PER", "I-LOC"], [("PER", 0, 1), ("LOC", 1, 2)]),
    # The sentence's end ends an entity; types may hold hyphens.
    (["O", "B-ORG-X", "I-ORG-X"], [("ORG-X", 1, 3)]),
    # IOE1 and IOE2: E- ends an entity.
    (["I-PER", "E-PER", "I-PER"], [("PER", 0, 2), ("PER", 2, 3)]),
    (["E-PER", "I-LOC", "E-LOC"], [("PER", 0, 1), ("LOC", 1, 3)]),
    # IOBES: S- is an entity of one word, even next to one of its type.
    (["S-PER", "S-PER", "B-LOC", "E-LOC", "I-PER", "S-PER"],
     [("PER", 0, 1), ("PER", 1, 2), ("LOC", 2, 4), ("PER", 4, 5),
      ("PER", 5, 6)]),
    (["O", "O"], []),
    ([], []),
])
def test_entities_follow_conlleval(tags, entities):
  assert run_ner.get_entities(tags) == entities


def test_split_tag_at_the_first_hyphen():
  assert run_ner.split_tag("B-PER") == ("B", "PER")
  assert run_ner.split_tag("I-SUB-TYPE") == ("I", "SUB-TYPE")
  assert run_ner.split_tag("O") == ("O", "")
  assert run_ner.entity_types_of(["O", "B-PER", "I-PER", "B-LOC"]) == [
      "LOC", "PER"]


# --------------------------------------------------------------------------
# conlleval's scores on tables worked out by hand.


def test_scores_of_a_table_worked_out_by_hand():
  gold = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "O", "B-PER"]]
  predicted = [["B-PER", "I-PER", "O", "B-PER"], ["B-ORG", "O", "O"]]
  # Gold entities: PER 0-2, LOC 3, ORG 0, PER 2 (4). Predicted: PER 0-2,
  # PER 3, ORG 0 (3). Right: PER 0-2 and ORG 0 (2).
  scores = run_ner.entity_scores(gold, predicted)
  assert list(scores) == [
      "accuracy", "precision", "recall", "f1", "LOC_precision",
      "LOC_recall", "LOC_f1", "ORG_precision", "ORG_recall", "ORG_f1",
      "PER_precision", "PER_recall", "PER_f1"]
  expected = {
      "accuracy": 5 / 7, "precision": 2 / 3, "recall": 2 / 4,
      "f1": 2 * (2 / 3) * (1 / 2) / (2 / 3 + 1 / 2),  # 4/7.
      "LOC_precision": 0.0, "LOC_recall": 0.0, "LOC_f1": 0.0,
      "ORG_precision": 1.0, "ORG_recall": 1.0, "ORG_f1": 1.0,
      "PER_precision": 1 / 2, "PER_recall": 1 / 2, "PER_f1": 1 / 2}
  for (name, value) in expected.items():
    assert scores[name] == pytest.approx(value, abs=1e-12), name
  assert scores["f1"] == pytest.approx(4 / 7)


def test_a_boundary_or_type_off_is_wrong_and_sentences_never_merge():
  gold = [["B-PER", "I-PER", "O"], ["B-LOC", "O"], ["I-PER"], ["I-PER"]]
  predicted = [["B-PER", "O", "O"], ["B-PER", "O"], ["I-PER"], ["I-PER"]]
  # Right: only the two one-word PER entities of the last sentences, which
  # would be a single entity if the sentences ran on.
  scores = run_ner.entity_scores(gold, predicted, ["MISC"])
  assert scores["precision"] == pytest.approx(2 / 4)
  assert scores["recall"] == pytest.approx(2 / 4)
  assert scores["PER_precision"] == pytest.approx(2 / 4)
  assert scores["PER_recall"] == pytest.approx(2 / 3)
  assert scores["PER_f1"] == pytest.approx(2 * (1 / 2) * (2 / 3) /
                                           (1 / 2 + 2 / 3))
  assert scores["LOC_recall"] == 0.0 and scores["LOC_precision"] == 0.0
  # A type asked for but absent scores 0, as do empty inputs.
  assert scores["MISC_f1"] == 0.0
  empty = run_ner.entity_scores([], [])
  assert dict(empty) == {"accuracy": 0.0, "precision": 0.0, "recall": 0.0,
                         "f1": 0.0}


def test_iob1_and_iob2_spellings_of_the_same_entities_score_alike():
  iob1 = [["I-PER", "I-PER", "O", "I-LOC", "B-LOC"]]
  iob2 = [["B-PER", "I-PER", "O", "B-LOC", "B-LOC"]]
  scores = run_ner.entity_scores(iob1, iob2)
  assert (scores["precision"], scores["recall"]) == (1.0, 1.0)
  assert scores["accuracy"] == pytest.approx(3 / 5)


def test_mismatched_lengths_are_refused():
  with pytest.raises(ValueError, match="3 words has 2 predicted tags"):
    run_ner.entity_scores([["O", "O", "O"]], [["O", "O"]])


def test_scores_of_rows_in_any_order():
  labels = ["B-LOC", "B-PER", "I-PER", "O"]
  gold = [["B-PER", "I-PER", "O", "B-LOC"], ["B-PER"], ["O", "B-LOC"]]
  predicted = [["B-PER", "O", "O", "B-LOC"], ["B-PER"], ["B-LOC", "B-LOC"]]
  rows = [(s, w, labels.index(gold[s][w]), labels.index(predicted[s][w]))
          for s in range(3) for w in range(len(gold[s]))]
  random.Random(1).shuffle(rows)
  names = run_ner.score_names(labels)
  assert names[:4] == ["accuracy", "f1", "precision", "recall"]
  assert names[4:] == ["LOC_f1", "LOC_precision", "LOC_recall", "PER_f1",
                       "PER_precision", "PER_recall"]
  values = run_ner.scores_of_rows(np.array(rows), labels, names)
  expected = run_ner.entity_scores(gold, predicted, ["LOC", "PER"])
  np.testing.assert_allclose(values, [expected[name] for name in names])


def test_metric_fn_scores_whole_sentences_across_batches():
  """The graph metric equals entity_scores; unscored positions are ignored."""
  labels = ["B-PER", "I-PER", "O"]
  # Two windows of one sentence (words 0-2, then 3-4), and one of another;
  # unscored positions hold junk.
  batches = [
      dict(example_index=[0, 1], word_ids=[[-1, 0, 1, 2], [-1, 0, 1, 7]],
           label_ids=[[2, 0, 1, 2], [2, 1, 2, 1]],
           predictions=[[1, 0, 1, 2], [0, 1, 0, 1]],
           label_weights=[[0, 1, 1, 1], [0, 1, 1, 0]]),
      dict(example_index=[0, 0], word_ids=[[-1, 3, 4, -1], [5, 5, 5, 5]],
           label_ids=[[2, 0, 1, 0], [0, 0, 0, 0]],
           predictions=[[2, 0, 2, 1], [1, 1, 1, 1]],
           label_weights=[[0, 1, 1, 0], [0, 0, 0, 0]]),
  ]
  losses = np.arange(8, dtype=np.float32).reshape([2, 4])
  with tf.Graph().as_default():
    inputs = {name: tf.placeholder(tf.int32, [None] + (
        [] if name == "example_index" else [4])) for name in batches[0]}
    per_token_loss = tf.placeholder(tf.float32, [None, 4])
    metrics = run_ner.metric_fn_builder(labels)(
        per_token_loss, inputs["label_weights"], inputs["example_index"],
        inputs["word_ids"], inputs["label_ids"], inputs["predictions"])
    with tf.Session() as sess:
      sess.run(tf.local_variables_initializer())
      for batch in batches:
        feed = {inputs[name]: value for (name, value) in batch.items()}
        feed[per_token_loss] = losses
        sess.run([update for (_, update) in metrics.values()], feed)
      got = sess.run({name: value for (name, (value, _)) in metrics.items()})
  gold = [["B-PER", "I-PER", "O", "B-PER", "I-PER"], ["I-PER", "O"]]
  predicted = [["B-PER", "I-PER", "O", "B-PER", "O"], ["I-PER", "B-PER"]]
  expected = run_ner.entity_scores(gold, predicted, ["PER"])
  # Run on as one sentence, they would score otherwise.
  assert run_ner.entity_scores([sum(gold, [])], [sum(predicted, [])],
                               ["PER"])["precision"] == pytest.approx(1 / 4)
  assert sorted(got) == sorted(
      ["eval_loss"] + ["eval_" + name for name in run_ner.score_names(labels)])
  for name in run_ner.score_names(labels):
    assert got["eval_" + name] == pytest.approx(expected[name]), name
  # Gold PER 0-2, 3-5 and 0 (IOB1); predicted PER 0-2, 3 and 0, 1: 2 right.
  assert got["eval_precision"] == pytest.approx(2 / 4)
  assert got["eval_recall"] == pytest.approx(2 / 3)
  # The mean loss of the 7 scored positions: 1 2 3, 5 6 of the first batch
  # and 1 2 of the second.
  assert got["eval_loss"] == pytest.approx(20 / 7)


# --------------------------------------------------------------------------
# Reading CoNLL files.


def write_text(path, text):
  os.makedirs(os.path.dirname(path), exist_ok=True)
  with open(path, "w", encoding="utf-8") as f:
    f.write(text)
  return path


CONLL_2003 = """-DOCSTART- -X- -X- O

EU NNP B-NP B-ORG
rejects VBZ B-VP O
German JJ B-NP B-MISC
call NN I-NP O
. . O O

Peter NNP B-NP B-PER
Blackburn NNP I-NP I-PER
-DOCSTART- -X- -X- O
BRUSSELS NNP B-NP B-LOC


-DOCSTART- -X- -X- O

"""


def test_conll_2003_file_sentences_lines_and_labels(tmp_path):
  path = write_text(str(tmp_path / "train.txt"), CONLL_2003)
  conll = run_ner.read_conll_file(path)
  assert [s.words for s in conll.sentences] == [
      ["EU", "rejects", "German", "call", "."], ["Peter", "Blackburn"],
      ["BRUSSELS"]]
  assert [s.tags for s in conll.sentences] == [
      ["B-ORG", "O", "B-MISC", "O", "O"], ["B-PER", "I-PER"], ["B-LOC"]]
  assert [s.line_numbers for s in conll.sentences] == [
      [3, 4, 5, 6, 7], [9, 10], [12]]
  assert (conll.num_columns, conll.delimiter) == (4, " ")
  assert run_ner.labels_of(conll) == ["B-LOC", "B-MISC", "B-ORG", "B-PER",
                                      "I-PER", "O"]


def test_two_columns_tabs_and_tokens_only(tmp_path):
  path = write_text(str(tmp_path / "a.txt"),
                    "Jim\tB-PER\nsaw\tO \n\n\u00a0\tO\n")
  conll = run_ner.read_conll_file(path, ["B-PER", "O"], "labels")
  assert [s.words for s in conll.sentences] == [["Jim", "saw"], ["\u00a0"]]
  assert (conll.num_columns, conll.delimiter, conll.has_tags) == (
      2, "\t", True)
  path = write_text(str(tmp_path / "test.txt"), "Jim\nsaw\n\nhim\n")
  conll = run_ner.read_conll_file(path, ["O"], "x", require_tags=False)
  assert [s.tags for s in conll.sentences] == [None, None]
  assert not conll.has_tags


def test_prediction_lines_append_a_column_word_for_word(tmp_path):
  path = write_text(str(tmp_path / "test.txt"), CONLL_2003)
  conll = run_ner.read_conll_file(path)
  tags = [["O"] * 5, ["B-PER", "I-PER"], ["B-LOC"]]
  lines = list(run_ner.prediction_lines(conll, tags))
  source = CONLL_2003.split("\n")[:-1]
  assert len(lines) == len(source)
  assert lines[:4] == ["-DOCSTART- -X- -X- O O", "", "EU NNP B-NP B-ORG O",
                       "rejects VBZ B-VP O O"]
  for (line, original) in zip(lines, source):
    assert line == (original + " " + line.split()[-1] if original else "")


# --------------------------------------------------------------------------
# Windows and features.


@pytest.fixture(scope="module")
def tiny_tokenizer(tiny_bert):
  return tokenization.FullTokenizer(tiny_bert["vocab_file"], True)


def test_windows_overlap_and_never_skip_a_piece():
  assert run_ner.window_spans(3, 6, 2) == [(0, 3)]
  assert run_ner.window_spans(10, 4, 2) == [(0, 4), (2, 4), (4, 4), (6, 4)]
  # A stride longer than a window still covers every piece.
  assert run_ner.window_spans(10, 4, 9) == [(0, 4), (4, 4), (8, 2)]
  spans = run_ner.window_spans(10, 4, 2)
  # Each piece goes to the window where it is most central; ties to the
  # first.
  assert run_ner.max_context_windows(spans, 10) == [0, 0, 0, 1, 1, 2, 2, 3,
                                                    3, 3]


def test_each_word_is_scored_once_on_its_first_piece(tiny_tokenizer):
  # "qux" and "vex" are three pieces each; "\u200b" tokenizes to nothing.
  words = ("the cat qux saw a dog vex in the \u200b sea and the sun was "
           "warm").split(" ")
  tags = ["O", "B-PER", "I-PER", "O", "O", "B-LOC", "I-LOC", "O", "O",
          "B-PER", "B-LOC", "O", "O", "B-LOC", "O", "O"]
  sentence = run_ner.Sentence(words, tags, list(range(1, 17)))
  labels = ["B-LOC", "B-PER", "I-LOC", "I-PER", "O"]
  label_map = {tag: i for (i, tag) in enumerate(labels)}
  (pieces, starts) = run_ner.word_pieces(words, tiny_tokenizer)
  assert pieces[2:5] == ["q", "##u", "##x"] and pieces[13] == "[UNK]"
  assert len(pieces) == 20 and starts[:4] == [0, 1, 2, 5]
  eval_features = run_ner.convert_sentence(4, sentence, label_map, 10, 3,
                                           tiny_tokenizer, is_training=False)
  assert len(eval_features) == 5  # 8 pieces a window, 3 apart.
  scored = {}
  for (window, feature) in enumerate(eval_features):
    assert feature.example_index == 4
    tokens = tiny_tokenizer.convert_ids_to_tokens(feature.input_ids)
    assert tokens[0] == "[CLS]" and "[SEP]" in tokens
    for position in np.flatnonzero(feature.label_weights):
      word = feature.word_ids[position]
      assert word not in scored
      scored[word] = window
      assert tokens[position] == pieces[starts[word]]
      assert labels[feature.label_ids[position]] == tags[word]
    assert all(feature.word_ids[p] == -1 for p in range(10)
               if not feature.label_weights[p])
  assert sorted(scored) == list(range(len(words)))
  best = run_ner.max_context_windows(
      run_ner.window_spans(len(pieces), 8, 3), len(pieces))
  assert scored == {word: best[starts[word]] for word in scored}
  # Training scores every first piece in every window.
  train_features = run_ner.convert_sentence(4, sentence, label_map, 10, 3,
                                            tiny_tokenizer, is_training=True)
  spans = run_ner.window_spans(len(pieces), 8, 3)
  for (feature, (start, length)) in zip(train_features, spans):
    first_pieces = [piece - start + 1 for piece in starts
                    if start <= piece < start + length]
    assert list(np.flatnonzero(feature.label_weights)) == first_pieces


def test_window_predictions_come_back_one_tag_a_word(tiny_tokenizer,
                                                    tmp_path):
  path = write_text(str(tmp_path / "test.txt"),
                    "the\nqux\ncat\nsaw\nthe\nvex\nand\nthe\nsun\n\na\n")
  conll = run_ner.read_conll_file(path, require_tags=False)
  labels = ["B-PER", "O"]
  features = run_ner.convert_sentences(conll.sentences, labels, 8, 2,
                                       tiny_tokenizer, is_training=False)
  assert len(features) > 2  # The first sentence needs several windows.
  # Each window predicts label id (word index % 2) for each position.
  predictions = [[(word % 2) for word in f.word_ids] for f in features]
  tags = run_ner.predicted_tags(features, predictions, conll, labels)
  assert tags == [[labels[i % 2] for i in range(9)], ["B-PER"]]
  with pytest.raises(script_io.ScriptError,
                     match=r"test.txt, line 11: the word got no prediction"):
    run_ner.predicted_tags(features[:-1], predictions, conll, labels)


def test_records_round_trip_through_the_shared_spec(tiny_tokenizer, tmp_path):
  sentence = run_ner.Sentence(["the", "qux", "cat"], ["O", "B-PER", "O"],
                              [1, 2, 3])
  features = run_ner.convert_sentence(
      7, sentence, {"B-PER": 0, "O": 1}, 8, 4, tiny_tokenizer, False)
  features.append(run_ner.padding_features(8))
  path = str(tmp_path / "eval.tf_record")
  run_ner.write_features(path, features, 8)
  assert os.listdir(str(tmp_path)) == ["eval.tf_record"]
  with tf.Graph().as_default():
    dataset = run_ner.input_fn_builder(path, 8, False, False)(
        {"batch_size": 4})
    batch = tf.data.make_one_shot_iterator(dataset).get_next()
    with tf.Session() as sess:
      got = sess.run(batch)
  assert sorted(got) == sorted(spec.name
                               for spec in run_ner.feature_specs(8))
  for name in got:
    assert got[name].dtype == np.int32
    np.testing.assert_array_equal(
        got[name], [getattr(f, name) for f in features], err_msg=name)
  assert list(got["label_weights"][0]) == [0, 1, 1, 0, 0, 1, 0, 0]
  assert list(got["label_weights"][1]) == [0] * 8


def test_create_model_loss_counts_scored_positions_only():
  config = run_ner.modeling.BertConfig(
      vocab_size=30, hidden_size=8, num_hidden_layers=1,
      num_attention_heads=2, intermediate_size=16)
  with tf.Graph().as_default():
    input_ids = tf.constant([[2, 5, 6, 3], [2, 7, 3, 0]])
    mask = tf.constant([[1, 1, 1, 1], [1, 1, 1, 0]])
    label_ids = tf.constant([[0, 2, 1, 0], [0, 1, 0, 0]])
    weights = tf.constant([[0, 1, 1, 0], [0, 1, 0, 0]])
    (loss, per_token_loss, logits, predictions) = run_ner.create_model(
        config, False, input_ids, mask, tf.zeros([2, 4], tf.int32),
        label_ids, weights, 3, False)
    names = {v.op.name: v.shape.as_list() for v in tf.global_variables()}
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      (loss, per_token_loss, logits, predictions) = sess.run(
          [loss, per_token_loss, logits, predictions])
  assert names["cls/ner/output_weights"] == [3, 8]
  assert names["cls/ner/output_bias"] == [3]
  log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
  np.testing.assert_allclose(per_token_loss[0, 1], -log_probs[0, 1, 2],
                             rtol=1e-5)
  np.testing.assert_allclose(
      loss, (per_token_loss[0, 1] + per_token_loss[0, 2] +
             per_token_loss[1, 1]) / 3, rtol=1e-5)
  np.testing.assert_array_equal(predictions, logits.argmax(-1))


# --------------------------------------------------------------------------
# A short real fine-tuning run of a tiny model.

# Entities are words from fixed lists: a first word (B-) and, half the time,
# a second (I-). "kim", "kay", "jon", "vex", "zed" and the filler "qux" and
# "wib" are several word pieces each.
FIRST_WORDS = {"PER": ["kim", "kay", "jon", "man", "woman"],
               "LOC": ["city", "house", "garden", "zed"]}
SECOND_WORDS = {"PER": ["child", "stone", "vex"],
                "LOC": ["river", "sea", "road"]}
FILLER = ("the a of to and in is was it that on for with said went came saw "
          "made took gave found ran walked looked old new good small big red "
          "qux wib").split()
SEQ_LENGTH = 16
DOC_STRIDE = 6


def made_up_sentence(rng):
  """A sentence of 3 to 12 parts, each a filler word or an entity."""
  (words, tags) = ([], [])
  for _ in range(rng.randint(3, 12)):
    if rng.random() < 0.3 and (not tags or tags[-1] == "O"):
      kind = rng.choice(["PER", "LOC"])
      words.append(rng.choice(FIRST_WORDS[kind]))
      tags.append("B-" + kind)
      if rng.random() < 0.5:
        words.append(rng.choice(SECOND_WORDS[kind]))
        tags.append("I-" + kind)
    else:
      words.append(rng.choice(FILLER))
      tags.append("O")
  return words, tags


def write_conll(path, num_sentences, rng, with_tags=True):
  """A CoNLL-2003 file, a -DOCSTART- every 10 sentences; returns its text."""
  lines = []
  for i in range(num_sentences):
    if i % 10 == 0:
      lines += ["-DOCSTART- -X- -X- O", ""]
    (words, tags) = made_up_sentence(rng)
    for (word, tag) in zip(words, tags):
      lines.append("%s NN O %s" % (word, tag) if with_tags else word)
    lines.append("")
  text = "\n".join(lines) + "\n"
  write_text(path, text)
  return text


def base_flags(tiny_bert, data_dir, output_dir):
  """Every flag of the script, so other scripts' defaults do not leak in."""
  return {
      "data_dir": data_dir, "labels_file": None,
      "bert_config_file": tiny_bert["config_file"],
      "vocab_file": tiny_bert["vocab_file"], "output_dir": output_dir,
      "init_checkpoint": tiny_bert["checkpoint"], "do_lower_case": True,
      "max_seq_length": SEQ_LENGTH, "doc_stride": DOC_STRIDE,
      "do_train": True, "do_eval": True, "do_predict": True,
      "train_batch_size": 16, "eval_batch_size": 16,
      "predict_batch_size": 16, "learning_rate": 3e-3,
      "num_train_epochs": 6.0, "warmup_proportion": 0.1,
      "save_checkpoints_steps": 1000, "iterations_per_loop": 1000,
      "use_tpu": False, "tpu_name": None, "tpu_zone": None,
      "gcp_project": None, "master": None, "num_tpu_cores": 8,
      "runner": "auto", "allow_partial_checkpoint": False,
  }


def test_fine_tuning_learns_the_entities_and_tags_the_test_file(
    tiny_bert, tiny_tokenizer, tmp_path):
  data_dir = str(tmp_path / "data")
  output_dir = str(tmp_path / "output")
  rng = random.Random(0)
  write_conll(os.path.join(data_dir, "train.txt"), 150, rng)
  write_conll(os.path.join(data_dir, "dev.txt"), 40, rng)
  test_text = write_conll(os.path.join(data_dir, "test.txt"), 40, rng)
  helpers.run_main(run_ner, base_flags(tiny_bert, data_dir, output_dir))

  results = helpers.read_eval_results(
      os.path.join(output_dir, "eval_results.txt"))
  assert sorted(results) == sorted(
      ["eval_accuracy", "eval_f1", "eval_precision", "eval_recall",
       "eval_loss", "global_step", "loss"] +
      ["eval_%s_%s" % (kind, name) for kind in ("LOC", "PER")
       for name in ("f1", "precision", "recall")])
  assert results["eval_f1"] >= 0.9, results
  assert results["eval_LOC_f1"] >= 0.8 and results["eval_PER_f1"] >= 0.8
  with open(os.path.join(output_dir, "labels.txt")) as f:
    assert f.read() == "B-LOC\nB-PER\nI-LOC\nI-PER\nO\n"
  assert not [n for n in os.listdir(output_dir) if ".tmp-" in n]

  # Some test sentences need several windows, yet the windows of the dev
  # and test sets score every word exactly once.
  test = run_ner.read_conll_file(os.path.join(data_dir, "test.txt"))
  assert max(len(run_ner.word_pieces(s.words, tiny_tokenizer)[0])
             for s in test.sentences) > SEQ_LENGTH - 2
  for (record_file, set_name) in (("eval", "dev"), ("predict", "test")):
    conll = run_ner.read_conll_file(os.path.join(data_dir, set_name + ".txt"))
    words = scored_words(os.path.join(output_dir, record_file + ".tf_record"))
    assert len(words) > len(conll.sentences)  # Some have several windows.
    assert sorted(sum(words.values(), [])) == [
        (sentence, word) for (sentence, s) in enumerate(conll.sentences)
        for word in range(len(s.words))]
  # test_predictions.txt is test.txt line for line, a column more.
  predictions_path = os.path.join(output_dir, "test_predictions.txt")
  with open(predictions_path) as f:
    predicted_text = f.read()
  check_predictions_match(test_text, predicted_text)
  gold = [s.tags for s in test.sentences]
  predicted = [[line.split()[-1] for line in block.splitlines()]
               for block in predicted_text.split("\n\n")
               if block and not block.startswith("-DOCSTART-")]
  assert run_ner.entity_scores(gold, predicted)["f1"] >= 0.9

  # A prediction-only run from a folder with test.txt alone takes the
  # labels from the model's labels.txt and tags alike.
  test_only_dir = str(tmp_path / "test_only")
  write_text(os.path.join(test_only_dir, "test.txt"), test_text)
  os.remove(predictions_path)
  values = base_flags(tiny_bert, test_only_dir, output_dir)
  values.update(do_train=False, do_eval=False, init_checkpoint=None)
  helpers.run_main(run_ner, values)
  with open(predictions_path) as f:
    assert f.read() == predicted_text


def scored_words(path):
  """{record index: [(sentence, word) scored in it]} of a TFRecord file."""
  words = {}
  for (index, serialized) in enumerate(tf.python_io.tf_record_iterator(path)):
    feature = tf.train.Example.FromString(serialized).features.feature
    (weights, word_ids) = (feature["label_weights"].int64_list.value,
                           feature["word_ids"].int64_list.value)
    sentence = feature["example_index"].int64_list.value[0]
    words[index] = [(sentence, word_ids[position])
                    for position in np.flatnonzero(weights)]
  return words


def check_predictions_match(source_text, predicted_text):
  """Each line is the source line plus one tag; blank lines stay blank."""
  source = source_text.split("\n")
  predicted = predicted_text.split("\n")
  assert len(predicted) == len(source)
  for (original, line) in zip(source, predicted):
    if not original:
      assert line == ""
    else:
      assert line.rsplit(" ", 1)[0] == original
      assert line.rsplit(" ", 1)[1] in ("B-LOC", "B-PER", "I-LOC", "I-PER",
                                        "O")


def test_labels_that_differ_from_the_models_are_refused(tiny_bert,
                                                        tmp_path):
  data_dir = str(tmp_path / "data")
  write_conll(os.path.join(data_dir, "test.txt"), 3, random.Random(2))
  output_dir = write_text(str(tmp_path / "output" / "labels.txt"),
                          "O\nB-PER\nI-PER\nB-LOC\nI-LOC\n")
  labels_file = write_text(str(tmp_path / "labels.txt"),
                           "B-LOC\nB-PER\nI-LOC\nI-PER\nO\n")
  values = base_flags(tiny_bert, data_dir, os.path.dirname(output_dir))
  values.update(do_train=False, do_eval=False, labels_file=labels_file)
  with pytest.raises(script_io.InputError,
                     match=r"^the labels \(B-LOC, B-PER, I-LOC, I-PER, O\) "
                           r"are not those the model in --output_dir="):
    helpers.run_main(run_ner, values)
  values.update(labels_file=None, output_dir=str(tmp_path / "new"),
                init_checkpoint=None)
  with pytest.raises(script_io.InputError,
                     match=r"^--labels_file is needed: --data_dir=.* has no "
                           r"train.txt"):
    helpers.run_main(run_ner, values)


def test_accumulated_micro_batches_take_the_same_steps(tiny_bert, tmp_path):
  data_dir = str(tmp_path / "data")
  output_dir = str(tmp_path / "output")
  rng = random.Random(3)
  write_conll(os.path.join(data_dir, "train.txt"), 40, rng)
  write_conll(os.path.join(data_dir, "dev.txt"), 5, rng)
  values = base_flags(tiny_bert, data_dir, output_dir)
  values.update(do_predict=False, num_train_epochs=1.0,
                num_accumulation_steps=2)
  helpers.run_main(run_ner, values)

  num_windows = sum(1 for _ in tf.python_io.tf_record_iterator(
      os.path.join(output_dir, "train.tf_record")))
  results = helpers.read_eval_results(
      os.path.join(output_dir, "eval_results.txt"))
  # Optimizer steps of the global batch of 16, each two micro-batches.
  assert results["global_step"] == num_windows // 16 > 1
  assert np.isfinite(results["loss"]) and np.isfinite(results["eval_loss"])
  names = [name for (name, _) in tf.train.list_variables(
      tf.train.latest_checkpoint(output_dir))]
  assert "cls/ner/output_weights/accum_grad" in names


def test_a_batch_that_does_not_split_is_refused_before_any_output(tiny_bert,
                                                                   tmp_path):
  values = base_flags(tiny_bert, str(tmp_path / "data"),
                      str(tmp_path / "output"))
  values.update(train_batch_size=6, num_accumulation_steps=4)
  assert helpers.input_error(run_ner, values) == (
      "--train_batch_size=6 is not divisible by 1 replica(s) x "
      "--num_accumulation_steps=4")


# --------------------------------------------------------------------------
# Bad input: exit status 2, one line naming the file and line, no output.

GOOD_LINES = ["-DOCSTART- -X- -X- O", "", "the DT O O", "kim NN O B-PER",
              "saw VB O O", "", "city NN O B-LOC", "sea NN O I-LOC", ""]


def bad_case(train=None, dev=None, test=None):
  """The three files, each GOOD_LINES unless given (a list of lines)."""
  return {name: "\n".join(lines if lines is not None else GOOD_LINES) + "\n"
          for (name, lines) in (("train.txt", train), ("dev.txt", dev),
                                ("test.txt", test))}


# name -> (files, file at fault, error after "error: <path>").
BAD_INPUT = {
    "column_count": (
        bad_case(train=GOOD_LINES[:4] + ["saw VB O"] + GOOD_LINES[5:]),
        "train.txt",
        ", line 5: has 3 column(s), but the file's first word line (line 3) "
        "has 4"),
    "dev_tag_not_in_train": (
        bad_case(dev=GOOD_LINES + ["Paris NNP O B-MISC"]), "dev.txt",
        ", line 10: tag 'B-MISC' is not one of the labels (B-LOC, B-PER, "
        "I-LOC, O, from {data}/train.txt)"),
    "test_tag_not_in_train": (
        bad_case(test=GOOD_LINES[:3] + ["kim NN O I-PER"] + GOOD_LINES[4:]),
        "test.txt",
        ", line 4: tag 'I-PER' is not one of the labels (B-LOC, B-PER, "
        "I-LOC, O, from {data}/train.txt)"),
    "dev_without_sentences": (
        bad_case(dev=["-DOCSTART- -X- -X- O", "", "", "-DOCSTART- -X- -X- O"]),
        "dev.txt", " holds no sentences (no word line outside -DOCSTART- "
        "lines)"),
}

# More cases, checked in this process through main (the same InputError
# that script_io.run reports as the one line above).
MORE_BAD_INPUT = {
    "train_tag_missing": (
        bad_case(train=["the", "kim"]), "train.txt",
        ", line 1: one column, the token: the tag (last column) is missing"),
    "empty_test_file": (
        dict(bad_case(), **{"test.txt": ""}), "test.txt",
        " holds no sentences (it is empty)"),
}


def bad_data_flags(tiny_bert):
  values = base_flags(tiny_bert, None, None)
  values["init_checkpoint"] = None  # Not needed to find bad data.
  return values


@pytest.fixture(scope="module")
def bad_input_runs(tiny_bert, tmp_path_factory):
  """{case of BAD_INPUT: (status, stderr, data_dir, output_dir)}."""
  return helpers.run_bad_data(
      "run_ner.py", {name: case[0] for (name, case) in BAD_INPUT.items()},
      write_text, bad_data_flags(tiny_bert), tmp_path_factory)


@pytest.mark.parametrize("name", sorted(BAD_INPUT))
def test_bad_input_is_a_one_line_error_naming_file_and_line(bad_input_runs,
                                                            name):
  (status, stderr, data_dir, output_dir) = bad_input_runs[name]
  (_, file_name, message) = BAD_INPUT[name]
  helpers.check_one_line_error(
      status, stderr,
      os.path.join(data_dir, file_name) + message.format(data=data_dir),
      output_dir)


@pytest.mark.parametrize("name", sorted(MORE_BAD_INPUT))
def test_more_bad_input_is_a_one_line_error_naming_the_file(tiny_bert,
                                                            tmp_path, name):
  (files, file_name, message) = MORE_BAD_INPUT[name]
  data_dir = str(tmp_path / "data")
  helpers.write_data(data_dir, files, write_text)
  values = dict(bad_data_flags(tiny_bert), data_dir=data_dir,
                output_dir=str(tmp_path / "output"))
  assert helpers.input_error(run_ner, values) == (
      os.path.join(data_dir, file_name) + message.format(data=data_dir))
