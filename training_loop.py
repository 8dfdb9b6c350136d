# coding=utf-8
# Copyright 2026 The BERT re-creation authors.
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.
"""Fine-tuning around the runner: evaluation as training goes, restarts.

What run_classifier.py and run_squad.py share, behind flags that are off by
default:

- `--eval_every_n_steps=N`: training runs in chunks of N steps
  (`runner.train(input_fn, max_steps=k)`, which leaves a checkpoint at step
  k on every engine), and the latest checkpoint is evaluated after each.
  Each result is logged and appended to `output_dir/eval_history.jsonl`
  (one JSON object a line: `step` and the metrics).
- `--keep_best_metric=NAME`: the checkpoint with the best value of NAME
  (lowest for a loss, else highest) is copied to `output_dir/best/`: its
  files, a `checkpoint` state file (so `--init_checkpoint=output_dir/best`
  works) and `metrics.json`. The copy replaces the older one at once.
- `--early_stopping_patience=N`: training stops after N evaluations in a
  row without a better NAME.
- `--num_restarts=N` with `--seed=S`: N fine-tunings with the seeds S,
  S + 1, ... in `output_dir/restart_<i>/`, each evaluated on the dev set;
  `output_dir/restart_results.jsonl` lists each result and the best.

The scripts' `main` reads the flags (`settings_from_flags`) and passes the
settings; nothing here reads flags.
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import collections
import json
import os

from absl import flags
import numpy as np
import tensorflow.compat.v1 as tf

import export
import script_io

HISTORY_FILE = "eval_history.jsonl"
BEST_DIR = "best"
BEST_METRICS_FILE = "metrics.json"
RESTART_RESULTS_FILE = "restart_results.jsonl"

LoopSettings = collections.namedtuple("LoopSettings", [
    "eval_every_n_steps", "keep_best_metric", "early_stopping_patience",
    "num_restarts", "seed"
])


def define_flags():
  """Defines the fine-tuning loop's flags, `--export_dir` among them."""
  export.define_flags()
  flags.DEFINE_integer(
      "eval_every_n_steps", 0,
      "If positive, evaluate on the dev set every this many training steps "
      "(and at the end), logging each result to eval_history.jsonl in "
      "--output_dir.", **script_io.OVERRIDABLE)
  flags.DEFINE_string(
      "keep_best_metric", None,
      "With --eval_every_n_steps: copy the checkpoint with the best value of "
      "this metric (e.g. eval_accuracy; run_squad.py: f1) to "
      "--output_dir/best/, with its metrics. A loss is best lowest.",
      **script_io.OVERRIDABLE)
  flags.DEFINE_integer(
      "early_stopping_patience", 0,
      "With --keep_best_metric: stop training after this many evaluations "
      "in a row without improvement (0: never).", **script_io.OVERRIDABLE)
  flags.DEFINE_integer(
      "num_restarts", 1,
      "Fine-tune this many times with the seeds --seed, --seed + 1, ... in "
      "--output_dir/restart_<i>/, report each dev result and predict and "
      "export with the best.", **script_io.OVERRIDABLE)
  flags.DEFINE_integer(
      "seed", None,
      "Graph-level random seed of training (initial weights of the new "
      "layers, dropout, input shuffling): the same seed gives the same "
      "model. Unset: random, as the original.", **script_io.OVERRIDABLE)


def settings_from_flags(flag_values):
  """Returns the `LoopSettings` of parsed `define_flags` flags."""
  return LoopSettings(
      eval_every_n_steps=flag_values.eval_every_n_steps,
      keep_best_metric=flag_values.keep_best_metric,
      early_stopping_patience=flag_values.early_stopping_patience,
      num_restarts=flag_values.num_restarts,
      seed=flag_values.seed)


def check_settings(settings, metric_names, do_train, can_evaluate):
  """Raises InputError for settings that cannot work, before anything runs.

  Args:
    settings: `LoopSettings`.
    metric_names: the names of the metrics the task's evaluation computes.
    do_train: whether the run trains.
    can_evaluate: None when the run has a dev set to evaluate on, else
      what to pass to get one (named in the error).

  Raises:
    InputError: for a negative number, a metric the task does not compute,
      patience without a metric, evaluation or restarts without training
      or without a dev set.
  """
  for name in ("eval_every_n_steps", "early_stopping_patience"):
    if getattr(settings, name) < 0:
      raise script_io.InputError("--%s=%d: must be 0 or more" %
                                 (name, getattr(settings, name)))
  if settings.num_restarts < 1:
    raise script_io.InputError("--num_restarts=%d: must be at least 1" %
                               settings.num_restarts)
  metric = settings.keep_best_metric
  if metric is not None and metric not in metric_names:
    raise script_io.InputError(
        "--keep_best_metric=%s: the task does not compute it; it computes "
        "%s" % (metric, ", ".join(metric_names)))
  if settings.early_stopping_patience and metric is None:
    raise script_io.InputError(
        "--early_stopping_patience needs --keep_best_metric: the metric "
        "that must improve")
  if metric is not None and not settings.eval_every_n_steps:
    raise script_io.InputError(
        "--keep_best_metric needs --eval_every_n_steps: how often to "
        "evaluate")
  evaluating = []
  if settings.eval_every_n_steps:
    evaluating.append("--eval_every_n_steps=%d" % settings.eval_every_n_steps)
  if settings.num_restarts > 1:
    evaluating.append("--num_restarts=%d" % settings.num_restarts)
  for flag in evaluating:
    if not do_train:
      raise script_io.InputError("%s needs --do_train=True" % flag)
    if can_evaluate is not None:
      raise script_io.InputError(
          "%s evaluates on the dev set: it needs %s" % (flag, can_evaluate))


def restart_metric(settings, metric_names):
  """The metric restarts are compared by.

  Args:
    settings: `LoopSettings`.
    metric_names: the task's metrics, the main one first.

  Returns:
    `settings.keep_best_metric`, else the first of `metric_names`.
  """
  return settings.keep_best_metric or metric_names[0]


def is_better(metric, value, best):
  """Whether `value` of `metric` beats `best` (None: nothing yet)."""
  if best is None:
    return True
  if "loss" in metric:
    return value < best
  return value > best


def seeded_input_fn(input_fn, seed):
  """`input_fn` setting the graph's random seed first (None: unchanged).

  Both engines call the `input_fn` first in each fresh graph, so the seed
  then decides the dataset's shuffling, the new layers' initial values and
  the dropout masks.
  """
  if seed is None:
    return input_fn

  def seeded(params):
    tf.set_random_seed(seed)
    return input_fn(params)

  return seeded


def train_and_evaluate(estimator, input_fn, max_steps, hooks, evaluate_fn,
                       model_dir, settings):
  """Trains in chunks of `settings.eval_every_n_steps`, evaluating each.

  Args:
    estimator: the runner (`runner.build_runner`), writing to `model_dir`.
    input_fn: the training `input_fn`.
    max_steps: the global step to train to.
    hooks: `SessionRunHook`s for every chunk (e.g. `runner.ProgressHook`).
    evaluate_fn: `evaluate_fn()` evaluates the latest checkpoint of
      `model_dir` (and writes the script's own results file); returns a
      dict of metric name to number.
    model_dir: the run's directory (`eval_history.jsonl`, `best/`).
    settings: `LoopSettings`.

  Returns:
    The metrics of the last evaluation.
  """
  step = _checkpoint_step(model_dir)
  history = _read_history(model_dir, step)
  metric = settings.keep_best_metric
  best = _best_value(model_dir, metric)
  evaluations_without_improvement = 0
  result = None
  while result is None or step < max_steps:
    step = min(step + settings.eval_every_n_steps, max_steps)
    estimator.train(input_fn=input_fn, max_steps=step, hooks=hooks)
    result = {name: _plain(value) for (name, value) in evaluate_fn().items()}
    history.append(collections.OrderedDict([("step", step)] +
                                           sorted(result.items())))
    _write_history(model_dir, history)
    tf.logging.info("Evaluation at step %d: %s", step, json.dumps(result))
    if metric is None:
      continue
    if is_better(metric, result[metric], best):
      best = result[metric]
      evaluations_without_improvement = 0
      save_best(model_dir, tf.train.latest_checkpoint(model_dir), history[-1])
    else:
      evaluations_without_improvement += 1
      if evaluations_without_improvement == settings.early_stopping_patience:
        tf.logging.info(
            "Early stopping at step %d: %s has not improved on %s for %d "
            "evaluations.", step, metric, best,
            evaluations_without_improvement)
        break
  return result


def _checkpoint_step(model_dir):
  checkpoint = tf.train.latest_checkpoint(model_dir)
  if checkpoint is None:
    return 0
  return int(tf.train.load_variable(checkpoint, tf.GraphKeys.GLOBAL_STEP))


def _plain(value):
  """A metric as a JSON number (numpy scalars are not)."""
  value = np.asarray(value).item()
  return value if isinstance(value, (int, float)) else str(value)


def _read_history(model_dir, up_to_step):
  """The lines of an earlier run's history up to `up_to_step` (resuming)."""
  path = os.path.join(model_dir, HISTORY_FILE)
  if not tf.gfile.Exists(path):
    return []
  lines = [json.loads(line, object_pairs_hook=collections.OrderedDict)
           for line in script_io.read_text_lines(path) if line.strip()]
  return [line for line in lines if line["step"] <= up_to_step]


def _write_history(model_dir, history):
  with script_io.atomic_output(os.path.join(model_dir, HISTORY_FILE)) as f:
    for line in history:
      f.write(json.dumps(line) + "\n")


def _best_value(model_dir, metric):
  """The metric of the checkpoint in `model_dir/best/`, or None."""
  path = os.path.join(model_dir, BEST_DIR, BEST_METRICS_FILE)
  if metric is None or not tf.gfile.Exists(path):
    return None
  with tf.gfile.GFile(path) as f:
    return json.load(f).get(metric)


def save_best(model_dir, checkpoint, metrics):
  """Copies `checkpoint` and its `metrics` to `model_dir/best/`.

  The copy is made under a temporary name and renamed; an older `best/` is
  first moved aside, then removed, so that `best/` is always one whole
  checkpoint.

  Args:
    model_dir: the run's directory.
    checkpoint: the checkpoint prefix, e.g. `model_dir/model.ckpt-300`.
    metrics: a dict of its metrics (with `step`), written as JSON.
  """
  best_dir = os.path.join(model_dir, BEST_DIR)
  name = os.path.basename(checkpoint)
  old_dir = None
  with script_io.atomic_path(best_dir) as temp_dir:
    tf.gfile.MakeDirs(temp_dir)
    for path in tf.gfile.Glob(checkpoint + ".*"):
      tf.gfile.Copy(path, os.path.join(temp_dir, os.path.basename(path)))
    with tf.gfile.GFile(os.path.join(temp_dir, "checkpoint"), "w") as f:
      f.write('model_checkpoint_path: "%s"\n'
              'all_model_checkpoint_paths: "%s"\n' % (name, name))
    with tf.gfile.GFile(os.path.join(temp_dir, BEST_METRICS_FILE), "w") as f:
      f.write(json.dumps(metrics, indent=2) + "\n")
    if tf.gfile.Exists(best_dir):
      old_dir = script_io.temporary_path(best_dir)
      tf.gfile.Rename(best_dir, old_dir)
  if old_dir is not None:
    script_io.discard_path(old_dir)
  tf.logging.info("Best %s so far: copied %s to %s", metrics, checkpoint,
                  best_dir)


def run_restarts(run_one, settings, metric, output_dir):
  """Fine-tunes `settings.num_restarts` times; returns the best directory.

  Args:
    run_one: `run_one(model_dir, seed)` trains in `model_dir` with `seed`
      and returns the dev metrics of the result.
    settings: `LoopSettings`; the seeds are `seed + i` (`seed` None: 0).
    metric: the name of the metric to compare the runs by.
    output_dir: the run's directory; restart i goes to `restart_<i>/`.

  Returns:
    The directory of the best restart.
  """
  first_seed = settings.seed or 0
  results = []
  for i in range(settings.num_restarts):
    model_dir = os.path.join(output_dir, "restart_%d" % i)
    tf.logging.info("***** Restart %d of %d, seed %d *****", i + 1,
                    settings.num_restarts, first_seed + i)
    metrics = run_one(model_dir, first_seed + i)
    results.append(collections.OrderedDict(
        [("restart", i), ("seed", first_seed + i), ("model_dir", model_dir)] +
        sorted((name, _plain(value)) for (name, value) in metrics.items())))
  best = 0
  for (i, result) in enumerate(results):
    if is_better(metric, result[metric], results[best][metric]):
      best = i
  path = os.path.join(output_dir, RESTART_RESULTS_FILE)
  with script_io.atomic_output(path) as f:
    for (i, result) in enumerate(results):
      tf.logging.info("Restart %d (seed %d): %s = %s%s", i, result["seed"],
                      metric, result[metric], " (best)" if i == best else "")
      f.write(json.dumps(dict(result, best=(i == best))) + "\n")
  return results[best]["model_dir"]
