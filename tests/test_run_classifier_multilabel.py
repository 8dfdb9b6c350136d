"""Tests of run_classifier.py's multi-label task (`--task_name=multilabel`).

The metrics are checked on small tables worked out by hand; the reading,
features and head on made-up files and tensors; the fine-tuning run uses
the tiny random BERT of conftest's `tiny_bert` on a made-up set whose
labels follow from marker words. Bad input runs main in this process (it
raises the `InputError` that `script_io.run` prints as one line), and two
cases as a user does, in processes of their own.
"""

import os
import random

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

import helpers
import run_classifier
import script_io
import task_data


def write_text(path, text):
  os.makedirs(os.path.dirname(path), exist_ok=True)
  with open(path, "w", encoding="utf-8") as f:
    f.write(text)
  return path


def processor_for(data_dir, labels_file=None, separator=","):
  processor = run_classifier.get_processor("multilabel")
  processor.configure(data_dir, separator, labels_file)
  return processor


# --------------------------------------------------------------------------
# Metrics on tables worked out by hand.


def test_f1_scores_from_counts():
  # Labels A, B, C, D. D is neither gold nor predicted anywhere: F1 0.
  counts = ([2.0, 0.0, 1.0, 0.0],   # True positives.
            [1.0, 0.0, 0.0, 0.0],   # False positives.
            [0.0, 1.0, 2.0, 0.0])   # False negatives.
  with tf.Graph().as_default():
    scores = run_classifier.multi_label_f1_scores(
        *[tf.constant(c, tf.float64) for c in counts])
    with tf.Session() as sess:
      (micro, macro, per_label) = sess.run(scores)
  # A: 2 * 2 / (4 + 1) = 4/5; B: 0; C: 2 / (2 + 2) = 1/2.
  np.testing.assert_allclose(per_label, [4 / 5, 0.0, 1 / 2, 0.0], rtol=1e-12)
  # Over all labels: 3 true pos., 1 false pos., 3 false neg.: 6 / 10.
  assert micro == pytest.approx(6 / 10, abs=1e-12)
  assert macro == pytest.approx((4 / 5 + 1 / 2) / 4, abs=1e-12)


LABELS = ["A", "B", "C"]
# Gold and predicted labels of four real examples, then a padding one.
GOLD = [[1, 1, 0], [1, 0, 0], [0, 0, 1], [0, 1, 1], [1, 0, 0]]
PREDICTED = [[1, 1, 0], [1, 0, 1], [0, 0, 0], [0, 0, 1], [0, 0, 1]]
IS_REAL = [1.0, 1.0, 1.0, 1.0, 0.0]
LOSSES = [0.5, 1.0, 1.5, 2.0, 100.0]


def table_batches(logits, sizes=(3, 2)):
  """The table as batches of (losses, label ids, logits, is_real)."""
  columns = (np.array(LOSSES, np.float32), np.array(GOLD, np.int32),
             np.array(logits, np.float32), np.array(IS_REAL, np.float32))
  starts = np.cumsum((0,) + sizes)
  return [tuple(c[start:end] for c in columns)
          for (start, end) in zip(starts[:-1], starts[1:])]


def test_metric_fn_on_a_table_worked_out_by_hand():
  logits = 6.0 * np.array(PREDICTED) - 3.0  # Probabilities .05 or .95.
  got = helpers.run_metric_fn(
      run_classifier._multi_label_metric_fn_builder(LABELS, 0.5),
      table_batches(logits))
  assert sorted(got) == ["eval_exact_match", "eval_f1_A", "eval_f1_B",
                         "eval_f1_C", "eval_loss", "eval_macro_f1",
                         "eval_micro_f1"]
  # A: 2 true pos.; B: 1 true pos., 1 false neg.; C: 1 of each. The
  # padding row (gold A, predicted C) counts nowhere.
  assert got["eval_f1_A"] == pytest.approx(1.0)
  assert got["eval_f1_B"] == pytest.approx(2 / 3)
  assert got["eval_f1_C"] == pytest.approx(1 / 2)
  assert got["eval_micro_f1"] == pytest.approx(2 * 4 / (2 * 4 + 1 + 2))
  assert got["eval_macro_f1"] == pytest.approx((1 + 2 / 3 + 1 / 2) / 3)
  assert got["eval_exact_match"] == pytest.approx(1 / 4)
  assert got["eval_loss"] == pytest.approx(5.0 / 4)


def test_metric_fn_threshold():
  # Probability .73 everywhere: predicted at .5, not at .8 (no label then).
  logits = np.ones([5, 3])
  at_half = helpers.run_metric_fn(
      run_classifier._multi_label_metric_fn_builder(LABELS, 0.5),
      table_batches(logits, (5,)))
  # Every label predicted: 6 true pos., 6 false pos., no false neg.
  assert at_half["eval_micro_f1"] == pytest.approx(12 / 18)
  assert at_half["eval_exact_match"] == 0.0
  at_high = helpers.run_metric_fn(
      run_classifier._multi_label_metric_fn_builder(LABELS, 0.8),
      table_batches(logits, (5,)))
  assert at_high["eval_micro_f1"] == 0.0
  assert at_high["eval_macro_f1"] == 0.0


# --------------------------------------------------------------------------
# Reading the TSV files.


def test_header_names_the_columns_and_labels_come_sorted(tmp_path):
  data_dir = str(tmp_path)
  task_data.write_tsv(os.path.join(data_dir, "train.tsv"), [
      ["id", "labels", "text_a"],
      ["7", "sea, animal", "the dog in the sea"],
      ["8", "colour,,colour", "a red ship"],
  ])
  task_data.write_tsv(os.path.join(data_dir, "test.tsv"), [
      ["text_b", "text_a"], ["b one", "a one"]])
  processor = processor_for(data_dir)
  assert processor.get_labels() == ["animal", "colour", "sea"]
  train = processor.get_train_examples(data_dir)
  assert [(e.guid, e.text_a, e.text_b, e.label) for e in train] == [
      ("train-1", "the dog in the sea", None, ("sea", "animal")),
      ("train-2", "a red ship", None, ("colour",))]
  (test,) = processor.get_test_examples(data_dir)
  assert (test.guid, test.text_a, test.text_b, test.label) == (
      "test-1", "a one", "b one", ())


def test_labels_file_gives_the_order_and_the_separator_is_a_flag(tmp_path):
  data_dir = str(tmp_path)
  task_data.write_tsv(os.path.join(data_dir, "dev.tsv"), [
      ["text_a", "labels"], ["the cat", "b|a"]])
  labels_file = write_text(str(tmp_path / "labels.txt"), "c\n\nb\na\n")
  processor = processor_for(data_dir, labels_file, separator="|")
  assert processor.get_labels() == ["c", "b", "a"]
  (dev,) = processor.get_dev_examples(data_dir)
  assert dev.label == ("b", "a")


def test_features_hold_one_indicator_per_label(tmp_path):
  tokenizer = run_classifier.tokenization.FullTokenizer(
      write_text(str(tmp_path / "vocab.txt"),
                 "[PAD]\n[UNK]\n[CLS]\n[SEP]\nthe\ncat\n"))
  examples = [run_classifier.InputExample("t-1", "the cat", None, ("b", "a")),
              run_classifier.InputExample("t-2", "cat", None, ()),
              run_classifier.PaddingInputExample()]
  path = str(tmp_path / "features.tf_record")
  run_classifier.file_based_convert_examples_to_features(
      examples, ["a", "b", "c"], 6, tokenizer, path, multi_label=True)
  with tf.Graph().as_default():
    dataset = run_classifier.file_based_input_fn_builder(
        path, 6, False, False, num_multi_labels=3)({"batch_size": 3})
    batch = tf.data.make_one_shot_iterator(dataset).get_next()
    with tf.Session() as sess:
      batch = sess.run(batch)
  np.testing.assert_array_equal(batch["label_ids"],
                                [[1, 1, 0], [0, 0, 0], [0, 0, 0]])
  np.testing.assert_array_equal(batch["is_real_example"], [1, 1, 0])
  np.testing.assert_array_equal(batch["input_ids"][0], [2, 4, 5, 3, 0, 0])


def test_sigmoid_head_keeps_the_originals_variables():
  labels = np.array([[1, 0, 1], [0, 0, 0]], np.int32)
  with tf.Graph().as_default():
    (config, input_ids, mask, segments) = helpers.tiny_model_inputs()
    outputs = run_classifier.create_model(
        config, False, input_ids, mask, segments, tf.constant(labels), 3,
        False, multi_label=True)
    names = {v.op.name: v.shape.as_list() for v in tf.global_variables()}
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      (loss, per_example_loss, logits, probabilities) = sess.run(outputs)
  assert names["output_weights"] == [3, 8] and names["output_bias"] == [3]
  np.testing.assert_allclose(probabilities, 1 / (1 + np.exp(-logits)),
                             rtol=1e-5)
  binary_cross_entropy = -(labels * np.log(probabilities) +
                           (1 - labels) * np.log(1 - probabilities))
  np.testing.assert_allclose(per_example_loss,
                             binary_cross_entropy.mean(-1), rtol=1e-5)
  assert loss == pytest.approx(per_example_loss.mean(), rel=1e-6)


# --------------------------------------------------------------------------
# A short fine-tuning run of a tiny model.

SEQ_LENGTH = 16
# Each sentence names one thing among filler words; the thing gives its
# labels, one or two. (Sentences with several things, each adding its
# labels, make a task the tiny random model learns in some runs only: its
# [CLS] attends to one of them, and telling them apart takes far longer.
# Even here, a quarter of the runs of 200 steps leave a label unlearnt;
# 400 steps learnt every label in 10 runs of 10.)
THINGS = {"cat": ["animal", "pet"], "man": ["animal"],
          "rain": ["sky", "water"], "sea": ["water"]}
LABEL_NAMES = ["animal", "pet", "sky", "water"]
FILLER = ("the a of to and in is was it that on for with said went came saw "
          "made took gave found old new good small big").split()


def made_up_rows(num_rows, rng):
  """(text, labels) rows: a thing among 1 to 6 filler words."""
  rows = []
  for _ in range(num_rows):
    thing = rng.choice(sorted(THINGS))
    words = [rng.choice(FILLER) for _ in range(rng.randint(1, 6))]
    words.insert(rng.randint(0, len(words)), thing)
    rows.append((" ".join(words), THINGS[thing]))
  return rows


def write_set(path, rows):
  task_data.write_tsv(path, [["text_a", "labels"]] + [
      [text, ",".join(labels)] for (text, labels) in rows])


def base_flags(tiny_bert, data_dir, output_dir):
  """Every flag of the script, for a seeded multi-label run."""
  values = task_data.classifier_flags(tiny_bert, data_dir, output_dir,
                                      "multilabel")
  values.update(
      max_seq_length=SEQ_LENGTH, train_batch_size=16, eval_batch_size=16,
      predict_batch_size=16, learning_rate=2e-3, num_train_epochs=32.0,
      # A seeded run: the same weights, so the same result, every time.
      seed=1)
  return values


def test_fine_tuning_learns_the_labels_and_predicts_row_for_row(tiny_bert,
                                                                tmp_path):
  data_dir = str(tmp_path / "data")
  output_dir = str(tmp_path / "output")
  rng = random.Random(0)
  write_set(os.path.join(data_dir, "train.tsv"), made_up_rows(200, rng))
  dev_rows = made_up_rows(48, rng)
  write_set(os.path.join(data_dir, "dev.tsv"), dev_rows)
  # test.tsv holds the dev rows, so the predictions can be scored.
  write_set(os.path.join(data_dir, "test.tsv"), dev_rows)
  helpers.run_main(run_classifier, base_flags(tiny_bert, data_dir, output_dir))

  results = helpers.read_eval_results(
      os.path.join(output_dir, "eval_results.txt"))
  assert sorted(results) == sorted(
      ["eval_exact_match", "eval_loss", "eval_macro_f1", "eval_micro_f1",
       "global_step", "loss"] + ["eval_f1_" + name for name in LABEL_NAMES])
  assert results["global_step"] == 400  # int(200 / 16 * 32) steps.
  # Chance: an exact match of 1/4 (one label set for all), a micro F1
  # near 0.55 (every label for all).
  assert results["eval_exact_match"] >= 0.8, results
  assert results["eval_micro_f1"] >= 0.9, results
  assert min(results["eval_f1_" + name] for name in LABEL_NAMES) >= 0.8
  assert not [n for n in os.listdir(output_dir) if ".tmp-" in n]

  # One line per test row: a probability per label, in the labels' order.
  with open(os.path.join(output_dir, "test_results.tsv")) as f:
    lines = f.read().splitlines()
  probabilities = np.array([[float(v) for v in line.split("\t")]
                            for line in lines])
  assert probabilities.shape == (len(dev_rows), len(LABEL_NAMES))
  assert probabilities.min() >= 0.0 and probabilities.max() <= 1.0
  gold = np.array([[name in labels for name in LABEL_NAMES]
                   for (_, labels) in dev_rows])
  predicted = probabilities >= 0.5
  true_pos = np.sum(gold & predicted)
  micro_f1 = 2 * true_pos / (2 * true_pos + np.sum(~gold & predicted) +
                             np.sum(gold & ~predicted))
  assert micro_f1 == pytest.approx(results["eval_micro_f1"])
  assert np.mean(np.all(gold == predicted, axis=-1)) == pytest.approx(
      results["eval_exact_match"])
  binary_cross_entropy = -np.mean(np.where(gold, np.log(probabilities),
                                           np.log(1 - probabilities)))
  assert binary_cross_entropy == pytest.approx(results["eval_loss"],
                                               rel=1e-4)

  # Predicting only, from a folder without train.tsv and a test.tsv without
  # labels: the labels come from --labels_file, and the lines are the same.
  test_only_dir = str(tmp_path / "test_only")
  task_data.write_tsv(os.path.join(test_only_dir, "test.tsv"),
                      [["text_a"]] + [[text] for (text, _) in dev_rows])
  labels_file = write_text(str(tmp_path / "labels.txt"),
                           "\n".join(LABEL_NAMES) + "\n")
  os.remove(os.path.join(output_dir, "test_results.tsv"))
  values = base_flags(tiny_bert, test_only_dir, output_dir)
  values.update(do_train=False, do_eval=False, init_checkpoint=None,
                labels_file=labels_file)
  helpers.run_main(run_classifier, values)
  with open(os.path.join(output_dir, "test_results.tsv")) as f:
    assert f.read().splitlines() == lines


# --------------------------------------------------------------------------
# Bad input: one-line errors naming the file and line, or the flag.

GOOD_ROWS = [["text_a", "labels"], ["the cat", "animal"],
             ["a red sea", "colour,water"]]


def bad_case(**sets):
  """train, dev and test.tsv, each GOOD_ROWS unless given (a list of rows)."""
  return {name + ".tsv": sets.get(name, GOOD_ROWS)
          for name in ("train", "dev", "test")}


# name -> (files, flags, error message; {data} is --data_dir).
BAD_INPUT = {
    "dev_label_not_in_train": (
        bad_case(dev=GOOD_ROWS + [["the dog", "animal, plant"]]), {},
        "{data}/dev.tsv, line 4: unknown label 'plant' (the labels are "
        "animal, colour, water, from {data}/train.tsv)"),
    "threshold_above_one": (
        bad_case(), {"multi_label_threshold": 1.5},
        "--multi_label_threshold=1.5: must be between 0 and 1, both "
        "excluded"),
}

MORE_BAD_INPUT = {
    "empty_labels_in_train": (
        bad_case(train=GOOD_ROWS + [["the dog", " , "]]), {},
        "{data}/train.tsv, line 4: the labels column is empty; every "
        "example needs a label"),
    "empty_labels_in_dev": (
        bad_case(dev=GOOD_ROWS[:2] + [["the dog", ""]]), {},
        "{data}/dev.tsv, line 3: the labels column is empty; every example "
        "needs a label"),
    "test_label_not_in_labels_file": (
        bad_case(test=[["text_a", "labels"], ["the cat", ""],
                       ["the dog", "animal;pet"]]),
        {"labels_file": "{data}/labels.txt", "label_separator": ";"},
        "{data}/test.tsv, line 3: unknown label 'pet' (the labels are "
        "animal, colour,water, from {data}/labels.txt)"),
    "no_labels_column": (
        bad_case(dev=[["text_a", "label"], ["the cat", "animal"]]), {},
        "{data}/dev.tsv, line 1: the header has no 'labels' column (it has "
        "'text_a', 'label')"),
    "too_few_columns": (
        bad_case(train=GOOD_ROWS + [["the dog"]]), {},
        "{data}/train.tsv, line 4: has 1 column(s), but column 1 (counting "
        "from 0) is needed"),
    "label_twice_in_labels_file": (
        bad_case(), {"labels_file": "{data}/labels.txt",
                     "label_separator": ";", "do_train": False},
        "{data}/labels.txt, line 3: the label 'animal' is there twice"),
    "threshold_zero": (
        bad_case(), {"multi_label_threshold": 0.0},
        "--multi_label_threshold=0.0: must be between 0 and 1, both "
        "excluded"),
    "no_separator": (
        bad_case(), {"label_separator": ""},
        "--label_separator: must not be empty"),
}
LABELS_FILES = {"test_label_not_in_labels_file": "animal\ncolour,water\n",
                "label_twice_in_labels_file": "animal\ncolour\nanimal\n"}


def write_case(name, cases, folder, tiny_bert):
  """Writes the files of a case; returns (flag values, data, output)."""
  (files, overrides, _) = cases[name]
  data_dir = os.path.join(folder, "data")
  output_dir = os.path.join(folder, "output")
  for (file_name, rows) in files.items():
    task_data.write_tsv(os.path.join(data_dir, file_name), rows)
  if name in LABELS_FILES:
    write_text(os.path.join(data_dir, "labels.txt"), LABELS_FILES[name])
  values = base_flags(tiny_bert, data_dir, output_dir)
  values["init_checkpoint"] = None  # Not needed to find bad input.
  values.update({flag: value.format(data=data_dir)
                 if isinstance(value, str) else value
                 for (flag, value) in overrides.items()})
  return (values, data_dir, output_dir)


@pytest.fixture(scope="module")
def bad_input_runs(tiny_bert, tmp_path_factory):
  """Runs every BAD_INPUT case; {name: (status, stderr, data, output)}."""
  names = sorted(BAD_INPUT)
  cases = [write_case(name, BAD_INPUT, str(tmp_path_factory.mktemp(name)),
                      tiny_bert) for name in names]
  argvs = [["--%s=%s" % item for item in sorted(values.items())
            if item[1] is not None] for (values, _, _) in cases]
  results = helpers.run_scripts("run_classifier.py", argvs)
  return {name: result + case[1:]
          for (name, result, case) in zip(names, results, cases)}


@pytest.mark.parametrize("name", sorted(BAD_INPUT))
def test_bad_input_is_a_one_line_error(bad_input_runs, name):
  (status, stderr, data_dir, output_dir) = bad_input_runs[name]
  assert status == 2, stderr[-3000:]
  assert "Traceback" not in stderr, stderr[-3000:]
  error_lines = [line for line in stderr.splitlines()
                 if line.startswith("error: ")]
  assert error_lines == [
      "error: " + BAD_INPUT[name][2].format(data=data_dir)], stderr[-3000:]
  assert stderr.rstrip("\n").splitlines()[-1] == error_lines[0]
  assert not os.path.exists(output_dir)  # Nothing written.


@pytest.mark.parametrize("name", sorted(MORE_BAD_INPUT))
def test_more_bad_input_names_the_file_and_line_or_flag(tiny_bert, tmp_path,
                                                        name):
  (values, data_dir, output_dir) = write_case(name, MORE_BAD_INPUT,
                                              str(tmp_path), tiny_bert)
  with pytest.raises(script_io.InputError) as error:
    helpers.run_main(run_classifier, values)
  assert str(error.value) == MORE_BAD_INPUT[name][2].format(data=data_dir)
  assert not os.path.exists(output_dir)
