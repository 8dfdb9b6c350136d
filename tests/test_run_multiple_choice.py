"""Tests of run_multiple_choice.py: SWAG files, features, model, runs.

The fine-tuning run uses the tiny random BERT of conftest's `tiny_bert` on a
made-up SWAG set whose right ending names the marker word of its context.
Bad input runs the script as a user does, in processes of its own (one per
core at a time).
"""

import csv
import os
import random

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

import helpers
import run_multiple_choice
import tokenization


# The SWAG release's header: a leading unnamed index column, no label in
# test.csv.
HEADER = ["", "video-id", "fold-ind", "startphrase", "sent1", "sent2",
          "gold-source", "ending0", "ending1", "ending2", "ending3", "label"]


def swag_row(index, sent1, sent2, endings, label=None):
  row = [str(index), "anetv_x", str(index), sent1 + " " + sent2, sent1,
         sent2, "gold"] + list(endings)
  return row if label is None else row + [str(label)]


def write_csv(path, rows, header=None):
  """Writes `rows` under `header` (HEADER, less label for unlabeled rows)."""
  if header is None:
    header = HEADER if not rows or len(rows[0]) == len(HEADER) else (
        HEADER[:-1])
  os.makedirs(os.path.dirname(path), exist_ok=True)
  with open(path, "w", encoding="utf-8", newline="") as f:
    writer = csv.writer(f)
    writer.writerow(header)
    writer.writerows(rows)
  return path


# --------------------------------------------------------------------------
# Reading SWAG files.


def test_swag_rows_quotes_blank_lines_and_line_numbers(tmp_path):
  path = str(tmp_path / "val.csv")
  with open(path, "w", encoding="utf-8", newline="") as f:
    f.write(",".join(HEADER) + "\r\n")
    f.write('0,v,0,"Someone, then",Someone sits.,"He, then",gold,'
            'runs.,"says ""hi"".",sleeps.,"reads\na book.",3\r\n')
    f.write("\r\n")
    f.write("1,v,1,x,A man.,The man,gold,a,b,c,d,0\r\n")
  examples = run_multiple_choice.read_swag_file(path, require_labels=True)
  assert examples == [
      run_multiple_choice.SwagExample(
          "%s, line 2" % path, "Someone sits.", "He, then",
          ["runs.", 'says "hi".', "sleeps.", "reads\na book."], 3),
      run_multiple_choice.SwagExample(
          "%s, line 5" % path, "A man.", "The man", ["a", "b", "c", "d"], 0)]


def test_test_file_without_labels_and_columns_in_any_order(tmp_path):
  header = ["ending1", "sent2", "ending0", "sent1", "ending2"]
  path = write_csv(str(tmp_path / "test.csv"),
                   [["b", "then", "a", "First.", "c"]], header)
  [example] = run_multiple_choice.read_swag_file(path, require_labels=False)
  assert (example.context, example.start_ending, example.endings,
          example.label) == ("First.", "then", ["a", "b", "c"], None)
  # A test file may also carry labels, or leave them empty.
  path = write_csv(str(tmp_path / "test2.csv"), [
      swag_row(0, "a", "b", "wxyz", 2), swag_row(1, "a", "b", "wxyz", "")])
  assert [e.label for e in run_multiple_choice.read_swag_file(
      path, require_labels=False)] == [2, None]


# --------------------------------------------------------------------------
# Features and model.


@pytest.fixture(scope="module")
def tiny_tokenizer(tiny_bert):
  return tokenization.FullTokenizer(tiny_bert["vocab_file"], True)


def test_each_choice_is_the_pair_context_and_start_plus_ending(
    tiny_tokenizer):
  example = run_multiple_choice.SwagExample(
      "g", "the cat saw the dog .", "the dog",
      ["ran .", "was red .", "sat on the old tree for a long day .", "qux"],
      1)
  feature = run_multiple_choice.convert_example(example, tiny_tokenizer, 12)
  assert np.shape(feature.input_ids) == (4, 12) and feature.label_ids == 1
  for (ending, ids, mask, segments) in zip(
      example.endings, feature.input_ids, feature.input_mask,
      feature.segment_ids):
    (_, want_ids, want_mask, want_segments) = (
        tokenization.pack_sentence_pair(tiny_tokenizer, example.context,
                                        "the dog " + ending, 12))
    assert (ids, mask, segments) == (want_ids, want_mask, want_segments)
  # The longer side is cut first: here the context loses its ".".
  tokens = tiny_tokenizer.convert_ids_to_tokens(feature.input_ids[0])
  assert tokens == ["[CLS]", "the", "cat", "saw", "the", "dog", "[SEP]",
                    "the", "dog", "ran", ".", "[SEP]"]


def test_records_round_trip_through_the_shared_spec(tiny_tokenizer,
                                                    tmp_path):
  examples = [run_multiple_choice.SwagExample(
      "g%d" % i, "the cat .", "it", ["ran .", "sat .", "was red ."], i)
              for i in range(3)]
  features = run_multiple_choice.convert_examples(examples, tiny_tokenizer, 8)
  features.append(run_multiple_choice.padding_features(3, 8))
  path = str(tmp_path / "eval.tf_record")
  run_multiple_choice.write_features(path, features, 3, 8)
  assert os.listdir(str(tmp_path)) == ["eval.tf_record"]
  with tf.Graph().as_default():
    dataset = run_multiple_choice.input_fn_builder(path, 3, 8, False, False)(
        {"batch_size": 8})
    batch = tf.data.make_one_shot_iterator(dataset).get_next()
    with tf.Session() as sess:
      got = sess.run(batch)
  assert sorted(got) == sorted(
      spec.name for spec in run_multiple_choice.feature_specs(3, 8))
  assert got["input_ids"].shape == (4, 3, 8)
  for name in got:
    np.testing.assert_array_equal(
        got[name], [getattr(f, name) for f in features], err_msg=name)
  np.testing.assert_array_equal(got["is_real_example"], [1, 1, 1, 0])


def test_one_shared_head_scores_every_choice():
  config = run_multiple_choice.modeling.BertConfig(
      vocab_size=30, hidden_size=8, num_hidden_layers=1,
      num_attention_heads=2, intermediate_size=16)
  ids = np.array([[[2, 5, 3, 6, 3], [2, 5, 3, 7, 3], [2, 5, 3, 8, 3]],
                  [[2, 9, 3, 6, 3], [2, 9, 3, 8, 3], [2, 9, 3, 7, 3]]])
  segments = np.array([[0, 0, 0, 1, 1]] * 3 * 2).reshape([2, 3, 5])
  with tf.Graph().as_default():
    input_ids = tf.placeholder(tf.int32, [None, 3, 5])
    (loss, per_example_loss, logits, probabilities) = (
        run_multiple_choice.create_model(
            config, False, input_ids, tf.ones_like(input_ids),
            tf.constant(segments, tf.int32), tf.constant([2, 0]), False))
    names = {v.op.name: v.shape.as_list() for v in tf.global_variables()}
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      values = sess.run([loss, per_example_loss, logits, probabilities],
                        {input_ids: ids})
      # Choices in another order: their scores move with them.
      permuted = sess.run(logits, {input_ids: ids[:, [2, 0, 1]]})
  assert names["cls/multiple_choice/output_weights"] == [1, 8]
  assert names["cls/multiple_choice/output_bias"] == [1]
  (loss, per_example_loss, logits, probabilities) = values
  assert logits.shape == probabilities.shape == (2, 3)
  np.testing.assert_allclose(permuted, logits[:, [2, 0, 1]], rtol=1e-5)
  log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
  np.testing.assert_allclose(probabilities, np.exp(log_probs), rtol=1e-5)
  np.testing.assert_allclose(per_example_loss,
                             [-log_probs[0, 2], -log_probs[1, 0]], rtol=1e-5)
  np.testing.assert_allclose(loss, per_example_loss.mean(), rtol=1e-6)


# --------------------------------------------------------------------------
# A short real fine-tuning run of a tiny model.

# The right ending names the marker word of its context; the wrong ones name
# other things. (Wrong endings naming other markers make a task the tiny
# random model learns in some runs only: it must learn to match tokens
# across the two segments, and half the time stays at chance for hundreds
# of steps.)
MARKERS = ["red", "green", "blue", "white"]
OTHERS = ["stone", "tree", "road", "bread", "water", "house"]
SEQ_LENGTH = 12


def made_up_rows(num_rows, rng, labeled=True):
  rows = []
  for index in range(num_rows):
    marker = rng.choice(MARKERS)
    endings = ["%s ." % word for word in rng.sample(OTHERS, 3)]
    label = rng.randrange(4)
    endings.insert(label, "%s ." % marker)
    rows.append(swag_row(index, "the %s ." % marker, "it was", endings,
                         label if labeled else None))
  return rows


def base_flags(tiny_bert, data_dir, output_dir):
  """Every flag of the script, so other scripts' defaults do not leak in."""
  return {
      "data_dir": data_dir, "bert_config_file": tiny_bert["config_file"],
      "vocab_file": tiny_bert["vocab_file"], "output_dir": output_dir,
      "init_checkpoint": tiny_bert["checkpoint"], "do_lower_case": True,
      "max_seq_length": SEQ_LENGTH, "do_train": True, "do_eval": True,
      "do_predict": True, "train_batch_size": 8, "eval_batch_size": 16,
      "predict_batch_size": 16, "learning_rate": 2e-3,
      "num_train_epochs": 4.0, "warmup_proportion": 0.1,
      "save_checkpoints_steps": 10000, "iterations_per_loop": 100,
      "use_tpu": False, "tpu_name": None, "tpu_zone": None,
      "gcp_project": None, "master": None, "num_tpu_cores": 8,
      "runner": "auto", "allow_partial_checkpoint": False,
  }


def test_fine_tuning_picks_the_ending_that_shares_the_marker(tiny_bert,
                                                             tmp_path):
  data_dir = str(tmp_path / "data")
  output_dir = str(tmp_path / "output")
  rng = random.Random(0)
  write_csv(os.path.join(data_dir, "train.csv"), made_up_rows(160, rng))
  write_csv(os.path.join(data_dir, "val.csv"), made_up_rows(60, rng))
  test_rows = made_up_rows(24, rng, labeled=False)
  write_csv(os.path.join(data_dir, "test.csv"), test_rows)
  helpers.run_main(run_multiple_choice,
                   base_flags(tiny_bert, data_dir, output_dir))

  results = helpers.read_eval_results(
      os.path.join(output_dir, "eval_results.txt"))
  assert sorted(results) == ["eval_accuracy", "eval_loss", "global_step",
                             "loss"]
  assert results["global_step"] == 80  # 160 / 8 * 4 steps.
  assert results["eval_accuracy"] >= 0.7, results
  assert not [n for n in os.listdir(output_dir) if ".tmp-" in n]

  # One line per test row: the chosen ending, then its 4 probabilities.
  with open(os.path.join(output_dir, "test_results.tsv")) as f:
    lines = f.read().splitlines()
  assert len(lines) == len(test_rows)
  right = 0
  for (line, row) in zip(lines, test_rows):
    values = line.split("\t")
    assert len(values) == 5
    probabilities = np.array([float(v) for v in values[1:]])
    assert int(values[0]) == probabilities.argmax()
    np.testing.assert_allclose(probabilities.sum(), 1.0, rtol=1e-5)
    context_marker = row[4].split()[1]
    right += row[7 + int(values[0])] == context_marker + " ."
  assert right >= 0.7 * len(test_rows)


def test_float16_training_scales_the_loss_and_keeps_float32_variables(
    tiny_bert, tmp_path):
  data_dir = str(tmp_path / "data")
  output_dir = str(tmp_path / "output")
  rng = random.Random(3)
  write_csv(os.path.join(data_dir, "train.csv"), made_up_rows(24, rng))
  write_csv(os.path.join(data_dir, "val.csv"), made_up_rows(8, rng))
  values = base_flags(tiny_bert, data_dir, output_dir)
  values.update(do_predict=False, num_train_epochs=1.0, precision="float16")
  helpers.run_main(run_multiple_choice, values)

  results = helpers.read_eval_results(
      os.path.join(output_dir, "eval_results.txt"))
  assert results["global_step"] == 3  # 24 / 8 steps.
  assert np.isfinite(results["loss"]) and np.isfinite(results["eval_loss"])
  dtypes = tf.train.load_checkpoint(tf.train.latest_checkpoint(
      output_dir)).get_variable_to_dtype_map()
  assert [name for name in dtypes if name.startswith("loss_scale")]
  assert set(dtype for (name, dtype) in dtypes.items()
             if name.startswith(("bert/", "cls/"))) == {tf.float32}


def test_a_batch_that_does_not_split_is_refused_before_any_output(tiny_bert,
                                                                   tmp_path):
  values = base_flags(tiny_bert, str(tmp_path / "data"),
                      str(tmp_path / "output"))
  values.update(train_batch_size=6, num_accumulation_steps=4)
  assert helpers.input_error(run_multiple_choice, values) == (
      "--train_batch_size=6 is not divisible by 1 replica(s) x "
      "--num_accumulation_steps=4")


# --------------------------------------------------------------------------
# Bad input: exit status 2, one line naming the file and line, no output.

GOOD_ROWS = [swag_row(0, "the red .", "it was", ["red .", "blue .",
                                                 "green .", "white ."], 0),
             swag_row(1, "the blue .", "it was", ["red .", "blue .",
                                                  "green .", "white ."], 1)]


def with_row(row, labeled=True):
  """The good rows and `row` (line 4 of the file)."""
  rows = GOOD_ROWS + [row]
  return rows if labeled else [r[:-1] for r in GOOD_ROWS] + [row]


def bad_case(**files):
  """The rows of train.csv, val.csv and test.csv: GOOD_ROWS unless given."""
  return {name + ".csv": files.get(name, GOOD_ROWS)
          for name in ("train", "val", "test")}


# name -> (rows of the files given, file at fault, error after "error:
# <path>").
BAD_INPUT = {
    "empty_ending": (
        bad_case(train=with_row(swag_row(2, "a", "b", ["x", "", "y", "z"],
                                         0))),
        "train.csv", ", line 4: ending1 is empty"),
    "missing_ending_column": (
        bad_case(val=with_row(swag_row(2, "a", "b", ["x", "y", "z"], 0)[:-1])),
        "val.csv", ", line 4: has 10 column(s), but the header has 12"),
    "missing_label": (
        bad_case(val=with_row(swag_row(2, "a", "b", "wxyz", " "))),
        "val.csv", ", line 4: the label is missing"),
    "label_out_of_range": (
        bad_case(train=with_row(swag_row(2, "a", "b", "wxyz", 4))),
        "train.csv",
        ", line 4: label '4' is out of range: the file has endings 0 to 3"),
}

# More cases, checked in this process through main (the same InputError
# that script_io.run reports as the one line above).
MORE_BAD_INPUT = {
    "label_not_a_number": (
        bad_case(train=with_row(swag_row(2, "a", "b", "wxyz", "b"))),
        "train.csv",
        ", line 4: label 'b' is not an ending's index (0 to 3)"),
    "test_label_out_of_range": (
        bad_case(test=with_row(swag_row(2, "a", "b", "wxyz", -1))),
        "test.csv",
        ", line 4: label '-1' is out of range: the file has endings 0 to 3"),
    "no_label_column": (
        bad_case(val=[r[:-1] for r in GOOD_ROWS]), "val.csv",
        ", line 1: the header has no 'label' column"),
    "only_a_header": (
        bad_case(test=[]), "test.csv", " holds no examples (only a header)"),
}


def bad_data_flags(tiny_bert):
  values = base_flags(tiny_bert, None, None)
  values["init_checkpoint"] = None  # Not needed to find bad data.
  return values


@pytest.fixture(scope="module")
def bad_input_runs(tiny_bert, tmp_path_factory):
  """{case of BAD_INPUT: (status, stderr, data_dir, output_dir)}."""
  return helpers.run_bad_data(
      "run_multiple_choice.py",
      {name: case[0] for (name, case) in BAD_INPUT.items()}, write_csv,
      bad_data_flags(tiny_bert), tmp_path_factory)


@pytest.mark.parametrize("name", sorted(BAD_INPUT))
def test_bad_input_is_a_one_line_error_naming_file_and_line(bad_input_runs,
                                                            name):
  (status, stderr, data_dir, output_dir) = bad_input_runs[name]
  (_, file_name, message) = BAD_INPUT[name]
  helpers.check_one_line_error(
      status, stderr, os.path.join(data_dir, file_name) + message, output_dir)


@pytest.mark.parametrize("name", sorted(MORE_BAD_INPUT))
def test_more_bad_input_is_a_one_line_error_naming_the_file(tiny_bert,
                                                            tmp_path, name):
  (files, file_name, message) = MORE_BAD_INPUT[name]
  data_dir = str(tmp_path / "data")
  helpers.write_data(data_dir, files, write_csv)
  values = dict(bad_data_flags(tiny_bert), data_dir=data_dir,
                output_dir=str(tmp_path / "output"))
  assert helpers.input_error(run_multiple_choice, values) == (
      os.path.join(data_dir, file_name) + message)
