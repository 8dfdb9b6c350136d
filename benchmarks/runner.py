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
"""Training steps per second under each runner, side by side.

Trains the pre-training `model_fn` of `run_pretraining.py` (random weights,
no init checkpoint) on random in-memory batches through `runner.build_runner`,
with the hooks `run_pretraining.py` passes (`runner.ProgressHook`, which
fetches the loss every step), once per (TensorFlow line, runner, model).
Only steady-state steps are timed: a hook reads the clock after the
`--warmup_steps`-th step and again `--steps` steps later, so building the
graph, creating the session, the first steps and checkpoint saving (the
runs save only at their start and end) are left out.

Run by any Python, the script is the driver: for each TensorFlow line whose
virtualenv exists under `.venv/` it starts this script again with that
line's Python, as a worker per configuration, alternating the
configurations round after round (ABCABC...) so that the load of a shared
machine falls on all of them alike, then prints the median per
configuration and the ratio of the graph runner to the Estimator.

  python benchmarks/runner.py                          # tiny and BERT-Base
  python benchmarks/runner.py --models=tiny --rounds=3
  python benchmarks/runner.py --lines=tf1,tf2,tf3      # with TF 1.15 too
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time

REPO_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.abspath(__file__)

# The model shapes timed. Both use BERT's vocabulary size, 20 masked
# positions and the original's dropout and initializer.
MODELS = {
    "tiny": dict(num_hidden_layers=2, hidden_size=128, num_attention_heads=2,
                 intermediate_size=512),
    "base": dict(num_hidden_layers=12, hidden_size=768,
                 num_attention_heads=12, intermediate_size=3072),
}
MODEL_NAMES = {"tiny": "tiny", "base": "BERT-Base"}
VOCAB_SIZE = 30522
SEQ_LENGTH = 128
BATCH_SIZE = 8
MAX_PREDICTIONS = 20
# Untimed and timed steps per model: a BERT-Base step takes seconds on a
# 2-core CPU, a tiny one a few tens of milliseconds.
DEFAULT_WARMUP_STEPS = {"tiny": 20, "base": 2}
DEFAULT_STEPS = {"tiny": 200, "base": 5}

# The TensorFlow lines, by virtualenv, in the order of the table.
LINES = ("tf1", "tf2", "tf3")


def parse_args(argv):
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument(
      "--models", default="tiny,base",
      help="comma-separated models to time: tiny, base (BERT-Base)")
  parser.add_argument(
      "--steps", default=None,
      help="timed steps: a number for every model, or e.g. tiny:400,base:5 "
      "(default: %s)" % _format_per_model(DEFAULT_STEPS))
  parser.add_argument(
      "--warmup_steps", default=None,
      help="untimed steps first, as --steps (default: %s; at least 1)" %
      _format_per_model(DEFAULT_WARMUP_STEPS))
  parser.add_argument(
      "--rounds", type=int, default=2,
      help="times each configuration runs, in alternation; the table shows "
      "the median")
  parser.add_argument(
      "--lines", default="tf2,tf3",
      help="comma-separated virtualenvs under .venv/ to run (tf1: TF 1.15, "
      "tf2: TF 2.15, tf3: TF 2.16+, which has the graph runner only); those "
      "missing are skipped")
  # Worker mode: one configuration in this process; prints one JSON line.
  parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
  parser.add_argument("--probe", action="store_true", help=argparse.SUPPRESS)
  parser.add_argument("--engine", choices=["estimator", "graph"],
                      help=argparse.SUPPRESS)
  parser.add_argument("--model", choices=sorted(MODELS),
                      help=argparse.SUPPRESS)
  return parser.parse_args(argv)


def _format_per_model(values):
  return ",".join("%s:%d" % (model, values[model]) for model in sorted(values))


def per_model(text, defaults, models, name):
  """Parses "N" or "model:N,..." into {model: N} for `models`."""
  values = dict(defaults)
  if text:
    if ":" not in text:
      values = {model: int(text) for model in MODELS}
    else:
      for item in text.split(","):
        (model, _, number) = item.partition(":")
        if model not in MODELS:
          raise SystemExit("--%s: unknown model %r" % (name, model))
        values[model] = int(number)
  for model in models:
    if values[model] < 1:
      raise SystemExit("--%s must be at least 1 (%s: %d)" %
                       (name, model, values[model]))
  return values


# ----------------------------------------------------------------- worker


def import_tensorflow():
  """Imports TensorFlow and the repository's modules (not this file's name).

  This file is also called `runner.py`: the repository's directory goes
  first on the path so that `import runner` finds the top-level module.
  """
  sys.path.insert(0, REPO_DIR)
  here = os.path.dirname(SCRIPT)
  sys.path[:] = [sys.path[0]] + [
      path for path in sys.path[1:] if os.path.abspath(path or ".") != here]
  # pylint: disable=g-import-not-at-top
  import tensorflow.compat.v1 as tf
  import runner
  import run_pretraining
  # pylint: enable=g-import-not-at-top
  assert os.path.dirname(os.path.abspath(runner.__file__)) == REPO_DIR
  return tf, runner, run_pretraining


def run_probe():
  tf, runner, _ = import_tensorflow()
  print(json.dumps({
      "tf_version": tf.__version__,
      "python_version": platform.python_version(),
      "has_estimator": runner.HAS_ESTIMATOR,
  }))


def bert_config(model):
  import modeling  # pylint: disable=g-import-not-at-top
  return modeling.BertConfig(
      vocab_size=VOCAB_SIZE, hidden_act="gelu", hidden_dropout_prob=0.1,
      attention_probs_dropout_prob=0.1, max_position_embeddings=512,
      type_vocab_size=2, initializer_range=0.02, **MODELS[model])


def random_examples(num_examples, seed=0):
  """Pre-training examples with random values, as numpy arrays."""
  import numpy as np  # pylint: disable=g-import-not-at-top
  rng = np.random.RandomState(seed)
  positions = np.stack([
      np.sort(rng.choice(SEQ_LENGTH, MAX_PREDICTIONS, replace=False))
      for _ in range(num_examples)])
  ones = np.ones([num_examples, 1], dtype=np.int32)
  return {
      "input_ids": rng.randint(0, VOCAB_SIZE, [num_examples, SEQ_LENGTH],
                               dtype=np.int32),
      "input_mask": np.ones([num_examples, SEQ_LENGTH], dtype=np.int32),
      "segment_ids": ones * (np.arange(SEQ_LENGTH) >= SEQ_LENGTH // 2).astype(
          np.int32),
      "masked_lm_positions": positions.astype(np.int32),
      "masked_lm_ids": rng.randint(0, VOCAB_SIZE,
                                   [num_examples, MAX_PREDICTIONS],
                                   dtype=np.int32),
      "masked_lm_weights": np.ones([num_examples, MAX_PREDICTIONS],
                                   dtype=np.float32),
      "next_sentence_labels": rng.randint(0, 2, [num_examples, 1],
                                          dtype=np.int32),
  }


def input_fn_builder(tf, examples):
  """Batches of `examples`, in memory, forever (no file is read)."""

  def input_fn(params):
    dataset = tf.data.Dataset.from_tensor_slices(examples).repeat()
    return dataset.batch(params["batch_size"], drop_remainder=True)

  return input_fn


def scratch_dir():
  """Where the runs' checkpoints go: memory (/dev/shm) when it has room.

  The runners save a checkpoint as the session starts (1.3 GB for BERT-Base
  with its Adam slots) and at the end; in memory that costs no disk time.
  """
  try:
    stat = os.statvfs("/dev/shm")
    if stat.f_bavail * stat.f_frsize > (4 << 30) and os.access("/dev/shm",
                                                                os.W_OK):
      return "/dev/shm"
  except (AttributeError, OSError):
    pass
  return None


def step_timer_hook(tf, start_step, end_step, sync):
  """A hook reading the clocks after steps `start_step` and `end_step`.

  Steps are counted by `after_run` calls (no tensor is fetched), so the
  span covers `end_step - start_step` whole steps with every hook's work.
  With `sync`, the files written so far reach the disk before the span.
  """

  class StepTimerHook(tf.train.SessionRunHook):

    def __init__(self):
      self.steps_run = 0
      self.started = None
      self.ended = None
      self.step_seconds = []
      self._last = None

    def after_run(self, run_context, run_values):
      self.steps_run += 1
      if self.steps_run == start_step:
        # Writes still pending from the checkpoint saved as the session
        # started would otherwise compete with the timed steps.
        if sync and hasattr(os, "sync"):
          os.sync()
        self.started = (time.perf_counter(), time.process_time())
        self._last = self.started[0]
      elif start_step < self.steps_run <= end_step:
        now = time.perf_counter()
        self.step_seconds.append(now - self._last)
        self._last = now
        if self.steps_run == end_step:
          self.ended = (now, time.process_time())

  return StepTimerHook()


def run_worker(args):
  started = time.perf_counter()
  tf, runner, run_pretraining = import_tensorflow()
  tf.logging.set_verbosity(tf.logging.INFO)  # As run_pretraining.py.
  warmup_steps = per_model(args.warmup_steps, DEFAULT_WARMUP_STEPS,
                           [args.model], "warmup_steps")[args.model]
  steps = per_model(args.steps, DEFAULT_STEPS, [args.model],
                    "steps")[args.model]
  max_steps = warmup_steps + steps
  model_fn = run_pretraining.model_fn_builder(
      bert_config=bert_config(args.model), init_checkpoint=None,
      learning_rate=1e-4, num_train_steps=100000, num_warmup_steps=10000,
      use_tpu=False, use_one_hot_embeddings=False)
  settings = runner.RunnerSettings(
      engine=args.engine, use_tpu=False, tpu_name=None, tpu_zone=None,
      gcp_project=None, master=None, num_tpu_cores=8)
  scratch = scratch_dir()
  model_dir = tempfile.mkdtemp(prefix="bert_runner_benchmark_", dir=scratch)
  timer = step_timer_hook(tf, warmup_steps, max_steps, sync=scratch is None)
  try:
    trainer = runner.build_runner(
        model_fn, settings, model_dir=model_dir,
        # No checkpoint inside the run: only the runners' first and last.
        save_checkpoints_steps=max_steps + 1000,
        iterations_per_loop=1000,  # run_pretraining.py's default.
        train_batch_size=BATCH_SIZE)
    progress = runner.ProgressHook(max_steps, BATCH_SIZE, 1000)
    trainer.train(input_fn_builder(tf, random_examples(4 * BATCH_SIZE)),
                  max_steps=max_steps, hooks=[progress, timer])
  finally:
    shutil.rmtree(model_dir, ignore_errors=True)
  if timer.ended is None:
    raise SystemExit("ran %d steps, expected %d" % (timer.steps_run,
                                                    max_steps))
  seconds = timer.ended[0] - timer.started[0]
  cpu_seconds = timer.ended[1] - timer.started[1]
  ordered = sorted(timer.step_seconds)
  print(json.dumps({
      "tf_version": tf.__version__,
      "engine": args.engine,
      "model": args.model,
      "warmup_steps": warmup_steps,
      "steps": steps,
      "seconds": seconds,
      "cpu_seconds": cpu_seconds,
      "steps_per_sec": steps / seconds,
      "examples_per_sec": steps * BATCH_SIZE / seconds,
      "cpu_seconds_per_step": cpu_seconds / steps,
      "median_step_seconds": ordered[len(ordered) // 2],
      "seconds_before_timing": timer.started[0] - started,
      "total_seconds": time.perf_counter() - started,
  }))


# ----------------------------------------------------------------- driver


def cpu_name():
  name = platform.processor()
  if name and name != platform.machine():
    return name
  try:
    with open("/proc/cpuinfo") as cpuinfo:
      for line in cpuinfo:
        if line.startswith("model name"):
          return line.split(":", 1)[1].strip()
  except IOError:
    pass
  return name or platform.machine()


def available_cpus():
  """What `nproc` prints: the CPUs this process may run on."""
  if hasattr(os, "sched_getaffinity"):
    return len(os.sched_getaffinity(0))
  return os.cpu_count()


def median(values):
  ordered = sorted(values)
  middle = len(ordered) // 2
  if len(ordered) % 2:
    return ordered[middle]
  return (ordered[middle - 1] + ordered[middle]) / 2


def run_child(python, arguments, log_path):
  """Runs this script with `python`; returns its last JSON line, or None."""
  with open(log_path, "w") as log:
    completed = subprocess.run(
        [python, SCRIPT] + arguments, cwd=REPO_DIR, stdout=subprocess.PIPE,
        stderr=log, universal_newlines=True)
  lines = [line for line in completed.stdout.splitlines()
           if line.startswith("{")]
  if completed.returncode != 0 or not lines:
    with open(log_path) as log:
      tail = log.read().splitlines()[-15:]
    print("  failed (exit %d): %s %s\n    %s" %
          (completed.returncode, python, " ".join(arguments),
           "\n    ".join(tail)), flush=True)
    return None
  return json.loads(lines[-1])


def run_driver(args):
  models = [model.strip() for model in args.models.split(",") if model]
  for model in models:
    if model not in MODELS:
      raise SystemExit("--models: unknown model %r (known: %s)" %
                       (model, ", ".join(sorted(MODELS))))
  steps = per_model(args.steps, DEFAULT_STEPS, models, "steps")
  warmup = per_model(args.warmup_steps, DEFAULT_WARMUP_STEPS, models,
                     "warmup_steps")
  wanted = [line.strip() for line in args.lines.split(",") if line]
  for line in wanted:
    if line not in LINES:
      raise SystemExit("--lines: unknown line %r (known: %s)" %
                       (line, ", ".join(LINES)))
  if args.rounds < 1:
    raise SystemExit("--rounds must be at least 1")
  log_dir = tempfile.mkdtemp(prefix="bert_runner_benchmark_logs_")

  lines = {}
  for line in LINES:
    python = os.path.join(REPO_DIR, ".venv", line, "bin", "python")
    if line not in wanted:
      continue
    if not os.path.exists(python):
      print("skipped %s: no %s" % (line, python))
      continue
    probe = run_child(python, ["--probe"],
                      os.path.join(log_dir, "probe_%s.log" % line))
    if probe:
      lines[line] = dict(probe, python=python)
  if not lines:
    raise SystemExit("no TensorFlow line to run")
  configs = []
  for line in LINES:
    if line in lines:
      if lines[line]["has_estimator"]:
        configs.append((line, "estimator"))
      configs.append((line, "graph"))

  print("Machine: %s, %d cores (nproc), load average %.1f at start" %
        (cpu_name(), available_cpus(), os.getloadavg()[0]))
  print("TF_ENABLE_ONEDNN_OPTS=%s" %
        os.environ.get("TF_ENABLE_ONEDNN_OPTS", "(unset)"))
  for line in LINES:
    if line in lines:
      print("%s: TensorFlow %s, Python %s" %
            (line, lines[line]["tf_version"], lines[line]["python_version"]))
  for model in models:
    shape = MODELS[model]
    print("%s: %d layers, hidden %d, %d heads, intermediate %d, vocab %d; "
          "batch %d, sequence %d, %d masked positions; %d timed steps after "
          "%d warm-up steps" %
          (MODEL_NAMES[model], shape["num_hidden_layers"],
           shape["hidden_size"], shape["num_attention_heads"],
           shape["intermediate_size"], VOCAB_SIZE, BATCH_SIZE, SEQ_LENGTH,
           MAX_PREDICTIONS, steps[model], warmup[model]))
  print("%d rounds, configurations alternated in each; worker logs in %s" %
        (args.rounds, log_dir))
  print("Timed: the steps after the warm-up, with run_pretraining.py's hooks "
        "(ProgressHook); CPU s/step: CPU seconds of all the worker's threads")
  print(flush=True)

  results = {}  # (model, line, engine) -> list of worker results
  started = time.perf_counter()
  for model in models:
    for round_index in range(args.rounds):
      for (line, engine) in configs:
        result = run_child(
            lines[line]["python"],
            ["--worker", "--engine=" + engine, "--model=" + model,
             "--steps=%d" % steps[model],
             "--warmup_steps=%d" % warmup[model]],
            os.path.join(log_dir, "%s_%s_%s_%d.log" %
                         (model, line, engine, round_index + 1)))
        if result is None:
          continue
        result["round"] = round_index
        results.setdefault((model, line, engine), []).append(result)
        print("round %d/%d  %-9s %-6s %-9s %8.3f steps/s  %7.3f CPU s/step  "
              "(worker %.0f s)" %
              (round_index + 1, args.rounds, MODEL_NAMES[model],
               lines[line]["tf_version"], engine, result["steps_per_sec"],
               result["cpu_seconds_per_step"], result["total_seconds"]),
              flush=True)
  print("\nTotal %.0f s; load average %.1f at the end\n" %
        (time.perf_counter() - started, os.getloadavg()[0]))
  print_table(models, configs, lines, results)


def print_table(models, configs, lines, results):
  """Prints the medians, and each graph runner against an Estimator.

  A graph runner is compared with the Estimator of its own TensorFlow line,
  or with TF 2.15's where its line has none: by steps/s (the ratio of the
  medians, then the ratio of the runs of each round, which ran under about
  the same load) and by CPU seconds per step (the Estimator's over the graph
  runner's, so above 1 also means the graph runner is faster).
  """
  print("| model | TensorFlow | runner | steps/s | examples/s | CPU s/step | "
        "steps/s per round | graph/estimator, steps/s (per round) | "
        "graph/estimator, by CPU s/step |")
  print("|---|---|---|---|---|---|---|---|---|")
  for model in models:
    for (line, engine) in configs:
      runs = results.get((model, line, engine))
      if not runs:
        print("| %s | %s | %s | failed | | | | | |" %
              (MODEL_NAMES[model], lines[line]["tf_version"], engine))
        continue
      rates = [run["steps_per_sec"] for run in runs]
      cpu = median(run["cpu_seconds_per_step"] for run in runs)
      (ratio, cpu_ratio) = ("", "")
      if engine == "graph":
        base_line = line if lines[line]["has_estimator"] else "tf2"
        base = results.get((model, base_line, "estimator"))
        if base:
          base_rounds = {run["round"]: run for run in base}
          per_round = [
              run["steps_per_sec"] / base_rounds[run["round"]]["steps_per_sec"]
              for run in runs if run["round"] in base_rounds]
          ratio = "%.3f (%s)" % (
              median(rates) / median(run["steps_per_sec"] for run in base),
              ", ".join("%.3f" % value for value in per_round))
          cpu_ratio = "%.3f" % (
              median(run["cpu_seconds_per_step"] for run in base) / cpu)
          if base_line != line:
            versus = " vs %s estimator" % lines[base_line]["tf_version"]
            ratio += versus
            cpu_ratio += versus
      print("| %s | %s | %s | %.3f | %.2f | %.3f | %s | %s | %s |" %
            (MODEL_NAMES[model], lines[line]["tf_version"], engine,
             median(rates), median(run["examples_per_sec"] for run in runs),
             cpu, ", ".join("%.3f" % rate for rate in rates), ratio,
             cpu_ratio))


def main(argv):
  args = parse_args(argv)
  if args.probe:
    run_probe()
  elif args.worker:
    run_worker(args)
  else:
    run_driver(args)


if __name__ == "__main__":
  main(sys.argv[1:])
