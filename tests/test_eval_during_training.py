"""Tests of evaluation during training, the best checkpoint and restarts.

`training_loop.train_and_evaluate` is checked with a stand-in runner and
scripted metrics (which evaluation improves is then known); short runs of
run_classifier.py and run_squad.py with the tiny model check the wiring on
each engine.
"""

import json
import os

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

import helpers
import run_classifier
import script_io
import task_data
import training_loop


def settings(**overrides):
  values = dict(eval_every_n_steps=2, keep_best_metric=None,
                early_stopping_patience=0, num_restarts=1, seed=None)
  values.update(overrides)
  return training_loop.LoopSettings(**values)


class CheckpointingRunner(object):
  """Stands in for a runner: `train` writes a checkpoint at `max_steps`."""

  def __init__(self, model_dir):
    self.model_dir = model_dir
    self.trained_to = []

  def train(self, input_fn, max_steps, hooks=None):
    del input_fn, hooks
    self.trained_to.append(max_steps)
    with tf.Graph().as_default():
      step = tf.train.get_or_create_global_step()
      weight = tf.get_variable("weight", initializer=float(max_steps))
      with tf.Session() as session:
        session.run(tf.global_variables_initializer())
        session.run(step.assign(max_steps))
        saver = tf.train.Saver([step, weight], max_to_keep=2)
        saver.save(session, os.path.join(self.model_dir, "model.ckpt"),
                   global_step=max_steps)


def read_jsonl(path):
  with open(path) as f:
    return [json.loads(line) for line in f]


@pytest.mark.parametrize("metric,values,stopped_at,best_step", [
    ("eval_accuracy", [0.5, 0.7, 0.6, 0.65, 0.9], 8, 4),
    ("eval_loss", [0.9, 0.8, 0.85, 0.7, 0.75], 10, 8),
])
def test_best_checkpoint_is_kept_and_patience_stops(tmp_path, metric, values,
                                                    stopped_at, best_step):
  model_dir = str(tmp_path)
  estimator = CheckpointingRunner(model_dir)
  scripted = iter(values)
  result = training_loop.train_and_evaluate(
      estimator, None, 10, [], lambda: {metric: next(scripted), "n": 1},
      model_dir, settings(keep_best_metric=metric,
                          early_stopping_patience=2))

  steps = list(range(2, stopped_at + 1, 2))
  assert estimator.trained_to == steps
  history = read_jsonl(os.path.join(model_dir, "eval_history.jsonl"))
  assert [line["step"] for line in history] == steps
  assert [line[metric] for line in history] == values[:len(steps)]
  assert result == {metric: values[len(steps) - 1], "n": 1}

  best_dir = os.path.join(model_dir, "best")
  best = tf.train.latest_checkpoint(best_dir)
  assert best == os.path.join(best_dir, "model.ckpt-%d" % best_step)
  # The copy holds that step's weights, though training went on.
  assert tf.train.load_variable(best, "weight") == best_step
  with open(os.path.join(best_dir, "metrics.json")) as f:
    assert json.load(f) == history[best_step // 2 - 1]
  assert not [n for n in os.listdir(model_dir) if ".tmp-" in n]


def test_without_a_metric_every_chunk_is_evaluated_to_the_end(tmp_path):
  estimator = CheckpointingRunner(str(tmp_path))
  training_loop.train_and_evaluate(
      estimator, None, 5, [], lambda: {"eval_accuracy": np.float32(0.5)},
      str(tmp_path), settings())
  # The last chunk is shorter: the final step is always evaluated.
  assert estimator.trained_to == [2, 4, 5]
  assert not os.path.exists(str(tmp_path / "best"))
  history = read_jsonl(str(tmp_path / "eval_history.jsonl"))
  assert history[-1] == {"step": 5, "eval_accuracy": 0.5}


def test_resumed_run_keeps_the_earlier_history(tmp_path):
  estimator = CheckpointingRunner(str(tmp_path))
  training_loop.train_and_evaluate(
      estimator, None, 4, [], lambda: {"f1": 1.0}, str(tmp_path), settings())
  training_loop.train_and_evaluate(
      estimator, None, 6, [], lambda: {"f1": 2.0}, str(tmp_path), settings())
  history = read_jsonl(str(tmp_path / "eval_history.jsonl"))
  assert [(line["step"], line["f1"]) for line in history] == [
      (2, 1.0), (4, 1.0), (6, 2.0)]


@pytest.mark.parametrize("overrides,do_train,can_evaluate,message", [
    (dict(keep_best_metric="eval_f1"), True, None,
     "--keep_best_metric=eval_f1: the task does not compute it; it computes "
     "eval_accuracy, eval_loss"),
    (dict(keep_best_metric="eval_accuracy", eval_every_n_steps=0), True,
     None, "needs --eval_every_n_steps"),
    (dict(early_stopping_patience=2), True, None,
     "--early_stopping_patience needs --keep_best_metric"),
    (dict(eval_every_n_steps=0, num_restarts=3), False, None,
     "--num_restarts=3 needs --do_train=True"),
    (dict(), True, "--do_eval=True", "--eval_every_n_steps=2 evaluates on "
     "the dev set: it needs --do_eval=True"),
    (dict(eval_every_n_steps=-1), True, None, "must be 0 or more"),
    (dict(eval_every_n_steps=0, num_restarts=0), True, None,
     "--num_restarts=0: must be at least 1"),
])
def test_bad_settings(overrides, do_train, can_evaluate, message):
  with pytest.raises(script_io.InputError, match=message):
    training_loop.check_settings(settings(**overrides),
                                 ["eval_accuracy", "eval_loss"], do_train,
                                 can_evaluate)


def classifier_flags(tiny_bert, tmp_path, output_name="output", **overrides):
  data_dir = str(tmp_path / "data")
  if not os.path.isdir(data_dir):
    task_data.write_task_data(data_dir, "mrpc",
                              np.random.RandomState(5))
  values = task_data.classifier_flags(
      tiny_bert, data_dir, str(tmp_path / output_name), "mrpc")
  values.update(do_predict=False, num_train_epochs=2.0)
  values.update(overrides)
  return values


def test_classifier_evaluates_as_it_trains(tiny_bert, tmp_path):
  # The Estimator where TensorFlow has it, else the graph runner.
  values = classifier_flags(tiny_bert, tmp_path, runner="auto",
                            eval_every_n_steps=3,
                            keep_best_metric="eval_loss")
  helpers.run_main(run_classifier, values)
  output_dir = values["output_dir"]

  history = read_jsonl(os.path.join(output_dir, "eval_history.jsonl"))
  assert [line["step"] for line in history] == [3, 6]
  assert [line["global_step"] for line in history] == [3, 6]
  # eval_results.txt holds the final evaluation, in the original's format.
  results = helpers.read_eval_results(
      os.path.join(output_dir, "eval_results.txt"))
  assert results == {key: pytest.approx(value, rel=1e-6)
                     for (key, value) in history[-1].items() if key != "step"}
  best_line = min(history, key=lambda line: line["eval_loss"])
  best = tf.train.latest_checkpoint(os.path.join(output_dir, "best"))
  assert best.endswith("model.ckpt-%d" % best_line["step"])
  with open(os.path.join(output_dir, "best", "metrics.json")) as f:
    assert json.load(f) == best_line


def test_classifier_bad_metric_is_refused_before_anything(tiny_bert,
                                                          tmp_path):
  values = classifier_flags(tiny_bert, tmp_path, eval_every_n_steps=2,
                            keep_best_metric="eval_pearson")
  with pytest.raises(script_io.InputError,
                     match="it computes eval_accuracy, eval_f1, eval_loss"):
    helpers.run_main(run_classifier, values)
  assert not os.path.exists(values["output_dir"])


def test_restarts_report_each_seed_and_a_seed_repeats(tiny_bert, tmp_path):
  single = classifier_flags(tiny_bert, tmp_path, "single", seed=8,
                            num_train_epochs=1.0)
  helpers.run_main(run_classifier, single)
  export_dir = str(tmp_path / "export")
  restarts = classifier_flags(tiny_bert, tmp_path, "restarts", seed=7,
                              num_restarts=2, num_train_epochs=1.0,
                              export_dir=export_dir)
  helpers.run_main(run_classifier, restarts)
  output_dir = restarts["output_dir"]

  lines = read_jsonl(os.path.join(output_dir, "restart_results.jsonl"))
  assert [(line["restart"], line["seed"]) for line in lines] == [(0, 7),
                                                                 (1, 8)]
  assert sum(line["best"] for line in lines) == 1
  best = max(lines, key=lambda line: line["eval_accuracy"])
  assert best["best"]
  # The restart with seed 8 is the run with seed 8, to the last digit.
  with open(os.path.join(single["output_dir"], "eval_results.txt")) as f:
    single_results = f.read()
  with open(os.path.join(output_dir, "restart_1", "eval_results.txt")) as f:
    assert f.read() == single_results
  assert single_results.count("eval_loss") == 1
  # The export is of the best restart.
  exported = os.path.join(export_dir, "variables", "variables")
  for restart in lines:
    same = np.array_equal(
        tf.train.load_variable(exported, "output_weights"),
        tf.train.load_variable(restart["model_dir"], "output_weights"))
    assert same == restart["best"]


def test_squad_evaluates_as_it_trains(tiny_bert, tmp_path):
  qas = [dict(qa, answers=qa["answers"][:1])
         for qa in task_data.tiny_qas(False)]
  path = task_data.squad_file(tmp_path / "tiny-v1.json", qas,
                              task_data.TINY_CONTEXT,
                              version="1.1")
  out_dir = helpers.run_tiny_squad(tiny_bert, tmp_path / "out", dict(
      do_train=True, do_predict=True, train_file=path, predict_file=path,
      train_batch_size=4, num_train_epochs=2.0, learning_rate=1e-3,
      version_2_with_negative=False, eval_every_n_steps=2,
      keep_best_metric="f1"))

  history = read_jsonl(os.path.join(out_dir, "eval_history.jsonl"))
  assert [line["step"] for line in history] == [2, 4]
  assert sorted(history[0]) == ["exact_match", "f1", "step"]
  # The files of --do_predict are those of the final checkpoint.
  with open(os.path.join(out_dir, "eval_results.json")) as f:
    final = json.load(f)
  assert final == {key: value for (key, value) in history[-1].items()
                   if key != "step"}
  import evaluate_squad  # pylint: disable=g-import-not-at-top
  assert final == evaluate_squad.evaluate_files(
      path, os.path.join(out_dir, "predictions.json"))
  best_line = max(history, key=lambda line: line["f1"])
  best = tf.train.latest_checkpoint(os.path.join(out_dir, "best"))
  assert best.endswith("model.ckpt-%d" % best_line["step"])


def test_squad_evaluation_needs_gold_answers(tiny_bert, tmp_path):
  qas = [{"id": qa["id"], "question": qa["question"]}
         for qa in task_data.tiny_qas(False)]
  test_file = task_data.squad_file(tmp_path / "test.json", qas,
                                   task_data.TINY_CONTEXT)
  train_file = task_data.squad_file(
      tmp_path / "train.json",
      [dict(qa, answers=qa["answers"][:1])
       for qa in task_data.tiny_qas(False)],
      task_data.TINY_CONTEXT)
  with pytest.raises(script_io.InputError, match="without gold answers"):
    helpers.run_tiny_squad(tiny_bert, tmp_path / "out", dict(
        do_train=True, do_predict=True, train_file=train_file,
        predict_file=test_file, train_batch_size=4, eval_every_n_steps=2))
  assert not os.path.exists(str(tmp_path / "out"))
