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
"""Times the training options side by side, each in its own process.

Every configuration trains a BERT classifier with `runner.GraphRunner` on
random inputs (one process each, so that peak memory and XLA caches are its
own) and prints examples/s, CPU seconds per step and the peak resident
memory of the process. Three tables:

- speed: float32, bfloat16, XLA, LAMB, accumulation (K=4, the same global
  batch) and gradient checkpointing on one device, then 2 worker processes
  on 127.0.0.1 (`multi_worker_mirrored`, same global batch) against 1.
  float16 is left out: CPUs lack float16 matmuls, and here a step took
  over 100 times the float32 time;
- memory: a BERT-Base training step at --memory_seq_length with and without
  --gradient_checkpointing, at batch 1 and 2, and the largest batch that
  fits --budget_gb (extrapolated linearly from those two).

  python benchmarks/training_options.py
  python benchmarks/training_options.py --only=speed --steps=10
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import argparse
import json
import os
import resource
import socket
import subprocess
import sys
import time

import tensorflow.compat.v1 as tf

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def parse_args(argv):
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--only", choices=["speed", "memory"], default=None)
  parser.add_argument("--steps", type=int, default=8,
                      help="timed optimizer steps per configuration")
  parser.add_argument("--warmup_steps", type=int, default=2)
  parser.add_argument("--batch_size", type=int, default=16,
                      help="global batch of the speed table")
  parser.add_argument("--seq_length", type=int, default=128)
  parser.add_argument("--layers", type=int, default=4,
                      help="layers of the speed table's model (hidden 256)")
  parser.add_argument("--memory_seq_length", type=int, default=512)
  parser.add_argument("--budget_gb", type=float, default=12.0)
  parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
  return parser.parse_args(argv)


def model_config(spec):
  import modeling  # pylint: disable=g-import-not-at-top
  if spec["model"] == "base":
    return modeling.BertConfig(
        vocab_size=30522, hidden_size=768, num_hidden_layers=12,
        num_attention_heads=12, intermediate_size=3072,
        max_position_embeddings=512)
  return modeling.BertConfig(
      vocab_size=30522, hidden_size=256, num_hidden_layers=spec["layers"],
      num_attention_heads=4, intermediate_size=1024,
      max_position_embeddings=512)


def run_child(spec):
  """Trains one configuration; prints one JSON line of figures."""
  sys.path.insert(0, ROOT)
  # pylint: disable=g-import-not-at-top
  import numpy as np
  import modeling
  import optimization
  import runner
  import training_options
  # pylint: enable=g-import-not-at-top
  tf.logging.set_verbosity(tf.logging.ERROR)
  config = model_config(spec)
  training = training_options.DEFAULT_SETTINGS._replace(**spec["training"])
  if spec.get("tf_config"):
    training = training._replace(
        distribution_strategy="multi_worker_mirrored", devices=["/cpu:0"],
        cluster=json.loads(spec["tf_config"]))
  rng = np.random.RandomState(0)
  ids = rng.randint(0, config.vocab_size,
                    size=(64, spec["seq_length"])).astype(np.int32)

  def input_fn(params):
    dataset = tf.data.Dataset.from_tensor_slices({
        "input_ids": ids, "label": ids[:, 0] % 2})
    return dataset.repeat().batch(params["batch_size"], drop_remainder=True)

  def model_fn(features, mode):
    model = modeling.BertModel(
        config, is_training=True, input_ids=features["input_ids"],
        **training_options.model_kwargs(training, is_training=True))
    logits = modeling.dense_layer(model.get_pooled_output(), 2)
    loss = tf.losses.sparse_softmax_cross_entropy(features["label"], logits)
    runner.track_training_loss(loss)
    train_op = optimization.create_optimizer(
        loss, 1e-4, 1000, 10, False,
        **training_options.optimizer_kwargs(training))
    return runner.TPUEstimatorSpec(mode=mode, loss=loss, train_op=train_op)

  timer = _StepTimer(spec["warmup_steps"])
  runner.GraphRunner(
      model_fn, model_dir=spec["model_dir"], save_checkpoints_steps=10**6,
      train_batch_size=training_options.micro_batch_size(
          training, spec["batch_size"]),
      training=training).train(
          input_fn, max_steps=spec["warmup_steps"] + spec["steps"],
          hooks=[timer])
  print(json.dumps({
      "examples_per_sec": spec["batch_size"] * timer.steps / timer.wall,
      "cpu_sec_per_step": timer.cpu / timer.steps,
      "peak_rss_gb": resource.getrusage(
          resource.RUSAGE_SELF).ru_maxrss / 1024.0**2,
  }))


class _StepTimer(tf.train.SessionRunHook):
  """Times optimizer steps after the first `warmup` ones."""

  def __init__(self, warmup):
    self._warmup = warmup
    self.steps = 0
    self.wall = self.cpu = 0.0

  def begin(self):
    self._step = tf.train.get_global_step()

  def before_run(self, run_context):
    self._start = (time.time(), time.process_time())

  def after_run(self, run_context, run_values):
    step = int(run_context.session.run(self._step))
    if step > self._warmup:
      self.wall += time.time() - self._start[0]
      self.cpu += time.process_time() - self._start[1]
      self.steps = step - self._warmup


def run_configuration(spec, tmp_dir, workers=1):
  """Runs `spec` in `workers` child processes; returns the chief's figures."""
  spec = dict(spec, model_dir=os.path.join(tmp_dir, spec["name"]))
  addresses = ["127.0.0.1:%d" % _free_port() for _ in range(workers)]
  processes = []
  for index in range(workers):
    child = dict(spec)
    if workers > 1:
      child["tf_config"] = json.dumps({
          "cluster": {"worker": addresses},
          "task": {"type": "worker", "index": index}})
    processes.append(subprocess.Popen(
        [sys.executable, os.path.abspath(__file__),
         "--child=" + json.dumps(child)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        universal_newlines=True,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")))
  outputs = [process.communicate() for process in processes]
  (stdout, stderr) = outputs[0]
  if processes[0].returncode:
    return {"error": stderr.strip().splitlines()[-1]}
  return json.loads(stdout.strip().splitlines()[-1])


def _free_port():
  with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    return s.getsockname()[1]


def speed_table(args, tmp_dir):
  base = {"model": "small", "layers": args.layers, "steps": args.steps,
          "warmup_steps": args.warmup_steps, "batch_size": args.batch_size,
          "seq_length": args.seq_length}
  rows = [
      ("float32", {}, 1),
      ("bfloat16", {"precision": "bfloat16"}, 1),
      ("XLA", {"use_xla": True}, 1),
      ("LAMB", {"optimizer": "lamb"}, 1),
      ("accumulation K=4", {"num_accumulation_steps": 4}, 1),
      ("gradient checkpointing", {"gradient_checkpointing": True}, 1),
      ("2 workers", {}, 2),
  ]
  print("| configuration | examples/s | CPU s/step | peak RSS (GB) |")
  print("|---|---|---|---|")
  for (name, training, workers) in rows:
    spec = dict(base, name=name.split()[0] + str(workers), training=training)
    result = run_configuration(spec, tmp_dir, workers)
    _print_row(name, result)


def memory_table(args, tmp_dir):
  base = {"model": "base", "steps": 1, "warmup_steps": 1,
          "seq_length": args.memory_seq_length}
  print("\n| BERT-Base, seq %d | peak RSS batch 1 | batch 2 | GB per example "
        "| largest batch in %.0f GB |" % (args.memory_seq_length,
                                           args.budget_gb))
  print("|---|---|---|---|---|")
  for checkpointing in (False, True):
    peaks = []
    for batch_size in (1, 2):
      spec = dict(base, name="base%d%d" % (checkpointing, batch_size),
                  batch_size=batch_size,
                  training={"gradient_checkpointing": checkpointing})
      peaks.append(run_configuration(spec, tmp_dir).get("peak_rss_gb"))
    if None in peaks:
      print("| %s | failed |" % checkpointing)
      continue
    per_example = peaks[1] - peaks[0]
    fixed = peaks[0] - per_example
    largest = int((args.budget_gb - fixed) / per_example)
    print("| gradient_checkpointing=%s | %.2f | %.2f | %.3f | %d |" %
          (checkpointing, peaks[0], peaks[1], per_example, largest))


def _print_row(name, result):
  if "error" in result:
    print("| %s | error: %s | | |" % (name, result["error"]))
  else:
    print("| %s | %.2f | %.3f | %.2f |" %
          (name, result["examples_per_sec"], result["cpu_sec_per_step"],
           result["peak_rss_gb"]))
  sys.stdout.flush()


def main(argv):
  args = parse_args(argv)
  if args.child:
    run_child(json.loads(args.child))
    return
  import tempfile  # pylint: disable=g-import-not-at-top
  print("TensorFlow %s, Python %s, %d CPU(s), load average %s" %
        (tf.__version__, sys.version.split()[0], os.cpu_count(),
         " ".join("%.1f" % x for x in os.getloadavg())))
  tmp_dir = tempfile.mkdtemp(prefix="training_options_")
  if args.only in (None, "speed"):
    speed_table(args, tmp_dir)
  if args.only in (None, "memory"):
    memory_table(args, tmp_dir)


if __name__ == "__main__":
  main(sys.argv[1:])
