"""Tests of run_pretraining.py: heads, input pipeline, resume and bad input.

The heads are checked against ../shared/golden/modeling (the original's
outputs); the script itself runs on a tiny model, killed mid-training and
run again, as a crashed pre-training run would be.
"""

import json
import os
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow.compat.v1 as tf
# The Saver writes its `checkpoint` state file through this module.
from tensorflow.python.lib.io import file_io

import helpers
import modeling
import optimization
import run_pretraining
import runner
import script_io

SEQ_LENGTH = 32
MAX_PREDICTIONS = 5

# The six keys of eval_results.txt (../shared/reference/formats.md).
EVAL_KEYS = ["global_step", "loss", "masked_lm_accuracy", "masked_lm_loss",
             "next_sentence_accuracy", "next_sentence_loss"]


@pytest.fixture(scope="module")
def records(tiny_bert, tmp_path_factory):
  """Two TFRecord files of 64 records each for the tiny model."""
  data_dir = tmp_path_factory.mktemp("pretraining_records")
  vocab_size = len(tiny_bert["tokens"])
  for index in range(2):
    helpers.write_pretraining_records(
        str(data_dir / ("part-%d.tfrecord" % index)),
        range(5 + 64 * index, 5 + 64 * (index + 1)), vocab_size, seed=index)
  return str(data_dir / "part-*.tfrecord")


def dataset_batches(input_fn, batch_size, num_batches):
  """Runs `input_fn` in graph mode; returns its first batches as numpy."""
  with tf.Graph().as_default():
    tf.set_random_seed(0)
    dataset = input_fn({"batch_size": batch_size})
    next_batch = tf.data.make_one_shot_iterator(dataset).get_next()
    static_shapes = {k: v.shape.as_list() for (k, v) in next_batch.items()}
    with tf.Session() as sess:
      batches = [sess.run(next_batch) for _ in range(num_batches)]
  return static_shapes, batches


# --------------------------------------------------------------------------
# The heads, against the original's outputs.


def golden_inputs(golden):
  inputs = np.load(os.path.join(golden, "modeling", "inputs.npz"))
  return {name: tf.constant(inputs[name]) for name in inputs.files}


def test_heads_reproduce_the_original(golden):
  config = modeling.BertConfig.from_json_file(
      os.path.join(golden, "modeling", "bert_config.json"))
  checkpoint = os.path.join(golden, "modeling", "bert_model.ckpt")
  expected = np.load(
      os.path.join(golden, "modeling", "expected_pretraining_heads.npz"))
  with tf.Graph().as_default():
    inputs = golden_inputs(golden)
    model = modeling.BertModel(config, False, inputs["input_ids"],
                               inputs["input_mask"], inputs["token_type_ids"])
    (masked_lm_loss, masked_lm_example_loss,
     masked_lm_log_probs) = run_pretraining.get_masked_lm_output(
         config, model.get_sequence_output(), model.get_embedding_table(),
         inputs["masked_lm_positions"], inputs["masked_lm_ids"],
         inputs["masked_lm_weights"])
    (next_sentence_loss, next_sentence_example_loss,
     next_sentence_log_probs) = run_pretraining.get_next_sentence_output(
         config, model.get_pooled_output(), inputs["next_sentence_labels"])
    tvars = tf.trainable_variables()
    (assignment_map, _) = modeling.get_assignment_map_from_checkpoint(
        tvars, checkpoint)
    tf.train.init_from_checkpoint(checkpoint, assignment_map)
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      got = sess.run({
          "masked_lm_loss": masked_lm_loss,
          "masked_lm_example_loss": masked_lm_example_loss,
          "masked_lm_log_probs": masked_lm_log_probs,
          "next_sentence_loss": next_sentence_loss,
          "next_sentence_example_loss": next_sentence_example_loss,
          "next_sentence_log_probs": next_sentence_log_probs,
          "total_loss": masked_lm_loss + next_sentence_loss,
      })

  # Every variable of the graph, heads included, is one of the checkpoint's.
  assert sorted(assignment_map) == sorted(v.op.name for v in tvars)
  assert len(tvars) == len(tf.train.list_variables(checkpoint))
  assert sorted(got) == sorted(expected.files)
  for name in expected.files:
    loose = name.endswith("loss") or name == "masked_lm_log_probs"
    np.testing.assert_allclose(got[name], expected[name], rtol=1e-5,
                               atol=1e-4 if loose else 1e-5, err_msg=name)


def test_model_fn_eval_restores_the_checkpoint_and_computes_metrics(golden):
  config = modeling.BertConfig.from_json_file(
      os.path.join(golden, "modeling", "bert_config.json"))
  expected = np.load(
      os.path.join(golden, "modeling", "expected_pretraining_heads.npz"))
  model_fn = run_pretraining.model_fn_builder(
      config, os.path.join(golden, "modeling", "bert_model.ckpt"),
      learning_rate=1e-4, num_train_steps=10, num_warmup_steps=1,
      use_tpu=False, use_one_hot_embeddings=False)
  with tf.Graph().as_default():
    inputs = golden_inputs(golden)
    features = {
        "input_ids": inputs["input_ids"],
        "input_mask": inputs["input_mask"],
        "segment_ids": inputs["token_type_ids"],
        "masked_lm_positions": inputs["masked_lm_positions"],
        "masked_lm_ids": inputs["masked_lm_ids"],
        "masked_lm_weights": inputs["masked_lm_weights"],
        "next_sentence_labels": inputs["next_sentence_labels"],
    }
    spec = model_fn(features, None, runner.ModeKeys.EVAL,
                    {"batch_size": 3})
    (metric_fn, metric_tensors) = spec.eval_metrics
    metrics = metric_fn(*metric_tensors)
    with tf.Session() as sess:
      sess.run([tf.global_variables_initializer(),
                tf.local_variables_initializer()])
      total_loss = sess.run(spec.loss)
      sess.run([update for (_, update) in metrics.values()])
      values = sess.run({name: value for (name, (value, _))
                         in metrics.items()})

  np.testing.assert_allclose(total_loss, expected["total_loss"], atol=1e-4)
  # The metric is a plain weighted mean: no 1e-5 in its denominator.
  weights = np.load(os.path.join(golden, "modeling",
                                 "inputs.npz"))["masked_lm_weights"].ravel()
  example_loss = expected["masked_lm_example_loss"]
  np.testing.assert_allclose(
      values["masked_lm_loss"],
      np.sum(weights * example_loss) / np.sum(weights), rtol=1e-5)
  np.testing.assert_allclose(values["next_sentence_loss"],
                             expected["next_sentence_loss"], atol=1e-4)
  predictions = expected["masked_lm_log_probs"].argmax(axis=-1)
  labels = np.load(os.path.join(golden, "modeling",
                                "inputs.npz"))["masked_lm_ids"].ravel()
  np.testing.assert_allclose(
      values["masked_lm_accuracy"],
      np.sum(weights * (predictions == labels)) / np.sum(weights), rtol=1e-6)


def test_gather_indexes_picks_positions_of_each_sequence():
  with tf.Graph().as_default():
    sequence = tf.constant(np.arange(12, dtype=np.float32).reshape([2, 3, 2]))
    positions = tf.constant([[2, 0], [1, 1]])
    with tf.Session() as sess:
      got = sess.run(run_pretraining.gather_indexes(sequence, positions))
  np.testing.assert_array_equal(got, [[4, 5], [0, 1], [8, 9], [8, 9]])


# --------------------------------------------------------------------------
# Input pipeline.


def test_decode_record_casts_int64_features_to_int32(tiny_bert):
  rng = np.random.RandomState(0)
  example = helpers.pretraining_example(rng, 7, len(tiny_bert["tokens"]),
                                       SEQ_LENGTH, MAX_PREDICTIONS)
  name_to_features = {
      "input_ids": tf.io.FixedLenFeature([SEQ_LENGTH], tf.int64),
      "masked_lm_weights": tf.io.FixedLenFeature([MAX_PREDICTIONS],
                                                 tf.float32),
  }
  with tf.Graph().as_default():
    decoded = run_pretraining._decode_record(
        tf.constant(example.SerializeToString()), name_to_features)
    assert decoded["input_ids"].dtype == tf.int32
    assert decoded["masked_lm_weights"].dtype == tf.float32
    with tf.Session() as sess:
      got = sess.run(decoded)
  assert got["input_ids"][:2].tolist() == [2, 7]
  assert got["masked_lm_weights"].tolist() == [1.0, 1.0, 1.0, 0.0, 0.0]


def test_eval_input_reads_in_order_repeats_and_keeps_batches_full(
    tiny_bert, tmp_path):
  path = helpers.write_pretraining_records(str(tmp_path / "eval.tfrecord"),
                                           range(10, 20),
                                           len(tiny_bert["tokens"]))
  input_fn = run_pretraining.input_fn_builder(
      [path], SEQ_LENGTH, MAX_PREDICTIONS, is_training=False)
  (shapes, batches) = dataset_batches(input_fn, 4, 3)
  assert shapes["input_ids"] == [4, SEQ_LENGTH]
  assert shapes["masked_lm_positions"] == [4, MAX_PREDICTIONS]
  first_ids = [batch["input_ids"][:, 1].tolist() for batch in batches]
  # Quirk of the original: eval wraps around to the first record.
  assert first_ids == [[10, 11, 12, 13], [14, 15, 16, 17], [18, 19, 10, 11]]


def test_eval_input_gives_the_original_records_in_order(golden):
  """Records of the original create_pretraining_data.py (seq 32, 6 slots)."""
  name = os.path.join(golden, "pretraining_data", "c_cased_seq32_seed99")
  with open(name + ".jsonl") as f:
    expected = [json.loads(line) for line in f]
  run_pretraining.check_input_records([name + ".tfrecord"], 32, 6)
  input_fn = run_pretraining.input_fn_builder(
      [name + ".tfrecord"], 32, 6, is_training=False)
  (_, batches) = dataset_batches(input_fn, 9, len(expected) // 9)
  for feature in ("input_ids", "input_mask", "segment_ids",
                  "masked_lm_positions", "masked_lm_ids", "masked_lm_weights",
                  "next_sentence_labels"):
    got = np.concatenate([batch[feature] for batch in batches])
    np.testing.assert_array_equal(
        got, [row[feature] for row in expected], err_msg=feature)


def test_training_input_shuffles_and_repeats_every_file(records):
  input_files = sorted(tf.gfile.Glob(records))
  input_fn = run_pretraining.input_fn_builder(
      input_files, SEQ_LENGTH, MAX_PREDICTIONS, is_training=True)
  (shapes, batches) = dataset_batches(input_fn, 8, 48)
  assert shapes["input_ids"] == [8, SEQ_LENGTH]
  first_ids = np.concatenate([b["input_ids"][:, 1] for b in batches])
  # 384 records drawn from 2 files of 64: both files, read more than once.
  # (Which records come first is left to the sloppy interleave, so a busy
  # machine may starve one reader for a while: only membership is certain.)
  assert set(first_ids) <= set(range(5, 5 + 128))
  assert set(first_ids) & set(range(5, 5 + 64))
  assert set(first_ids) & set(range(5 + 64, 5 + 128))
  assert len(set(first_ids)) > 64
  assert first_ids.tolist() != sorted(first_ids.tolist())
  assert all(b["next_sentence_labels"].dtype == np.int32 for b in batches)


# --------------------------------------------------------------------------
# The learning-rate summary and checkpoint safety.


def test_learning_rate_summary_is_the_rate_the_optimizer_applies():
  init_lr, num_train_steps, num_warmup_steps = 0.1, 100, 10
  with tf.Graph().as_default():
    # A "bias" is left out of weight decay, so its first update from zero
    # moments is exactly learning_rate * m / (sqrt(v) + epsilon).
    bias = tf.get_variable("output_bias", [1],
                           initializer=tf.zeros_initializer())
    loss = tf.reduce_sum(3.0 * bias)
    train_op = optimization.create_optimizer(
        loss, init_lr, num_train_steps, num_warmup_steps, use_tpu=False)
    learning_rate = optimization.learning_rate_schedule(
        init_lr, num_train_steps, num_warmup_steps)
    global_step = tf.train.get_global_step()
    rates = {}
    with tf.Session() as sess:
      for step in (0, 5, 10, 40, 100, 120):
        sess.run(tf.global_variables_initializer())
        sess.run(global_step.assign(step))
        rates[step] = sess.run(learning_rate)
        sess.run(train_op)
        moved = -sess.run(bias)[0]
        # The gradient 3 is clipped to global norm 1.
        first_update = 0.1 / (np.sqrt(0.001) + 1e-6)
        np.testing.assert_allclose(moved, rates[step] * first_update,
                                   rtol=1e-4, atol=1e-9)
  np.testing.assert_allclose(
      [rates[s] for s in (0, 5, 10, 40, 100, 120)],
      [0.0, 0.05, 0.09, 0.06, 0.0, 0.0], rtol=1e-5, atol=1e-9)


def test_saver_names_a_checkpoint_only_after_writing_it(tmp_path,
                                                        monkeypatch):
  """The resume relies on this TensorFlow behaviour (see run_pretraining)."""
  real_atomic_write = file_io.atomic_write_string_to_file
  named = []

  def recording_atomic_write(filename, contents, *args, **kwargs):
    if os.path.basename(filename) == "checkpoint":
      prefix = re.search(r'model_checkpoint_path: "(.*)"', contents).group(1)
      prefix = os.path.join(os.path.dirname(filename), prefix)
      named.append((os.path.basename(prefix),
                    tf.gfile.Exists(prefix + ".index"),
                    bool(tf.gfile.Glob(prefix + ".data-*"))))
    return real_atomic_write(filename, contents, *args, **kwargs)

  monkeypatch.setattr(file_io, "atomic_write_string_to_file",
                      recording_atomic_write)
  with tf.Graph().as_default():
    tf.get_variable("weights", [3])
    saver = tf.train.Saver()
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      saver.save(sess, str(tmp_path / "model.ckpt"), global_step=7)
  # The state file was replaced atomically, once, when index and data of
  # the checkpoint it names were already complete.
  assert named == [("model.ckpt-7", True, True)]


# --------------------------------------------------------------------------
# The script: a killed run resumes; progress, summaries, eval results.


def checkpoint_step(output_dir):
  """The step of the checkpoint the `checkpoint` state file names, or -1."""
  try:
    with open(os.path.join(output_dir, "checkpoint")) as f:
      state = f.read()
  except IOError:
    return -1
  match = re.search(r'model_checkpoint_path: ".*-(\d+)"', state)
  return int(match.group(1)) if match else -1


def start_and_kill_after_checkpoint(command, output_dir, log_path, step):
  """Starts `command`; SIGKILLs it once a checkpoint of `step` or later.

  Returns:
    The process's exit status (negative: killed by that signal).
  """
  with open(log_path, "w") as log:
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                               cwd=helpers.ROOT)
    deadline = time.time() + 300
    while process.poll() is None and time.time() < deadline:
      if checkpoint_step(output_dir) >= step:
        os.kill(process.pid, signal.SIGKILL)
        break
      time.sleep(0.02)
    return process.wait()


def read_log(path):
  with open(path) as f:
    return f.read()


def latest_run_summaries(output_dir):
  """{step: {tag: value}} of the newest events file (the last run's)."""
  paths = tf.gfile.Glob(os.path.join(output_dir, "events.out.tfevents*"))
  summaries = {}
  for event in tf.train.summary_iterator(sorted(paths)[-1]):
    for value in event.summary.value:
      summaries.setdefault(event.step, {})[value.tag] = value.simple_value
  return summaries


def test_killed_training_resumes_from_its_last_checkpoint(
    tiny_bert, records, tmp_path):
  output_dir = str(tmp_path / "output")
  num_train_steps, save_steps = 150, 25
  argv = helpers.pretraining_argv(
      tiny_bert, records, output_dir, "--do_train", "--do_eval",
      "--train_batch_size=32", "--eval_batch_size=4", "--max_eval_steps=5",
      "--num_train_steps=%d" % num_train_steps, "--num_warmup_steps=10",
      "--learning_rate=1e-3", "--save_checkpoints_steps=%d" % save_steps,
      "--iterations_per_loop=10")

  first_log = str(tmp_path / "first.log")
  status = start_and_kill_after_checkpoint(
      [sys.executable, os.path.join(helpers.ROOT, "run_pretraining.py")] +
      argv, output_dir, first_log, save_steps)
  assert status == -signal.SIGKILL, read_log(first_log)[-3000:]
  saved_step = checkpoint_step(output_dir)
  assert save_steps <= saved_step < num_train_steps
  assert not os.path.exists(os.path.join(output_dir, "eval_results.txt"))

  [(status, log_text)] = helpers.run_scripts("run_pretraining.py", [argv])
  assert status == 0, log_text[-3000:]

  # The second run restored the last checkpoint, not the initial weights...
  restored = re.findall(r"Restoring parameters from \S*model\.ckpt-(\d+)",
                        log_text)
  assert int(restored[0]) == saved_step
  # ...trained only the remaining steps (the first save re-saves the
  # restored state), and ended at num_train_steps.
  saved = [int(s) for s in re.findall(r"Saving checkpoints for (\d+) ",
                                      log_text)]
  assert saved[0] == saved_step and max(saved) == num_train_steps
  final = tf.train.latest_checkpoint(output_dir)
  assert tf.train.load_variable(final, "global_step") == num_train_steps

  # Progress every --iterations_per_loop steps, from the restored step on.
  progress = re.findall(
      r"step (\d+)/%d: loss = [\d.]+, [\d.]+ examples/s, \w+ left" %
      num_train_steps, log_text)
  assert len(progress) >= (num_train_steps - saved_step) // 10 - 1
  assert int(progress[0]) > saved_step
  assert int(progress[-1]) == num_train_steps

  # Every variable, heads included, came from --init_checkpoint.
  listing = read_log(first_log).split("**** Trainable Variables ****", 1)[1]
  variables = dict(
      re.findall(r"name = (\S+):0, shape = \([^)]*\)(.*)", listing))
  assert sorted(variables) == sorted(
      name for (name, _) in tf.train.list_variables(tiny_bert["checkpoint"]))
  assert set(variables.values()) == {", *INIT_FROM_CKPT*"}

  summaries = {step: tags for (step, tags) in
               latest_run_summaries(output_dir).items()
               if "masked_lm_loss" in tags}
  assert summaries
  for (step, tags) in summaries.items():
    assert {"loss", "learning_rate", "next_sentence_loss"} <= set(tags)
    # The heads' losses add up to the loss.
    assert tags["masked_lm_loss"] + tags["next_sentence_loss"] == (
        pytest.approx(tags["loss"], rel=1e-5))
    # The decay after the warm-up (within a step's decrease).
    assert tags["learning_rate"] == pytest.approx(
        1e-3 * (1.0 - step / num_train_steps), abs=1e-5)

  with open(os.path.join(output_dir, "eval_results.txt")) as f:
    lines = f.read().splitlines()
  assert [line.split(" = ")[0] for line in lines] == EVAL_KEYS
  results = dict(line.split(" = ") for line in lines)
  assert int(results["global_step"]) == num_train_steps
  assert 0.0 <= float(results["masked_lm_accuracy"]) <= 1.0


# --------------------------------------------------------------------------
# Bad input: one line naming the flag, the file and the values.


@pytest.fixture
def script_flags(tiny_bert, records, tmp_path):
  """The flag values of a run that would train one step."""
  return {
      "input_file": records,
      "bert_config_file": tiny_bert["config_file"],
      "output_dir": str(tmp_path / "output"),
      "init_checkpoint": None,
      "max_seq_length": SEQ_LENGTH,
      "max_predictions_per_seq": MAX_PREDICTIONS,
      "do_train": True,
      "do_eval": False,
      "train_batch_size": 2,
      "num_train_steps": 1,
      "num_warmup_steps": 0,
      "use_tpu": False,
  }


def main_error(script_flags, **overrides):
  with pytest.raises(script_io.InputError) as error:
    helpers.run_main(run_pretraining, dict(script_flags, **overrides))
  message = str(error.value)
  assert "\n" not in message
  return message


def test_error_without_do_train_or_do_eval(script_flags):
  message = main_error(script_flags, do_train=False, do_eval=False)
  assert "--do_train" in message and "--do_eval" in message


def test_error_when_no_file_matches_input_file(script_flags, tmp_path):
  pattern = str(tmp_path / "missing-*.tfrecord")
  message = main_error(script_flags, input_file=pattern)
  assert message == "--input_file: no file matches %s" % pattern


def test_error_when_records_were_made_with_another_max_seq_length(
    script_flags, records):
  message = main_error(script_flags, max_seq_length=64)
  first_file = tf.gfile.Glob(records)[0]
  assert message.startswith("--max_seq_length=64 but %s holds input_ids of "
                            "length 32" % first_file)


def test_error_when_records_have_another_max_predictions_per_seq(
    script_flags):
  message = main_error(script_flags, max_predictions_per_seq=20)
  assert re.match(r"--max_predictions_per_seq=20 but \S+part-\d\.tfrecord "
                  r"holds masked_lm_ids of length 5", message), message


def test_error_when_input_file_is_not_tfrecord(script_flags, tmp_path):
  text_file = tmp_path / "corpus.txt"
  text_file.write_text(u"This is a text corpus, not TFRecords.\n" * 10)
  message = main_error(script_flags, input_file=str(text_file))
  assert message == "--input_file: %s is not a TFRecord file" % text_file


def test_error_when_input_files_hold_no_record(script_flags, tiny_bert,
                                              tmp_path):
  empty = helpers.write_pretraining_records(str(tmp_path / "empty.tfrecord"),
                                            [],
                        len(tiny_bert["tokens"]))
  message = main_error(script_flags, input_file=empty)
  assert message == "--input_file: no record in %s" % empty


def test_error_when_max_seq_length_exceeds_the_config(script_flags,
                                                       tiny_bert):
  message = main_error(script_flags, max_seq_length=256)
  assert message == (
      "--max_seq_length=256: cannot use this sequence length because the "
      "BERT model was only trained up to sequence length 128 "
      "(max_position_embeddings in %s)" % tiny_bert["config_file"])


def test_error_when_init_checkpoint_is_missing(script_flags, tmp_path):
  missing = str(tmp_path / "nothing" / "bert_model.ckpt")
  message = main_error(script_flags, init_checkpoint=missing)
  assert message.startswith("--init_checkpoint=%s: no such checkpoint" %
                            missing)


def test_checkpoint_of_another_shape_is_a_one_line_error(
    tiny_bert, records, tmp_path):
  """The shapes are compared inside the Estimator: check the whole path."""
  config = modeling.BertConfig.from_json_file(tiny_bert["config_file"])
  config.intermediate_size = 40
  config_file = tmp_path / "bert_config.json"
  config_file.write_text(config.to_json_string())
  argv = helpers.pretraining_argv(tiny_bert, records,
                                  str(tmp_path / "output"), "--do_train",
                                  "--num_train_steps=1")
  argv[1] = "--bert_config_file=%s" % config_file
  [(status, stderr)] = helpers.run_scripts("run_pretraining.py", [argv])
  assert status == 2
  assert "Traceback" not in stderr
  last_line = stderr.strip().splitlines()[-1]
  assert last_line.startswith("error: --init_checkpoint=%s: variable "
                              % tiny_bert["checkpoint"])
  assert "[32, 37] there but [32, 40] in this model" in last_line
  assert not tf.train.latest_checkpoint(str(tmp_path / "output"))
