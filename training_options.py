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
"""Training beyond one device, and with less memory, behind flags.

What run_pretraining.py, run_classifier.py, run_squad.py, run_ner.py and
run_multiple_choice.py share, off by default:

- `--distribution_strategy=mirrored` (the GPUs of one machine,
  `--num_gpus`) or `multi_worker_mirrored` (several machines, described by
  the `TF_CONFIG` environment variable), on `runner.GraphRunner`: each
  replica computes the gradients of its part of the global batch,
  `optimization.create_optimizer` averages them, clips and applies them
  once, to variables with the original's names.
- `--num_accumulation_steps=K`: K micro-batches of `train_batch_size / K`
  per optimizer step.
- `--precision=float16|bfloat16`: the Transformer blocks compute in reduced
  precision (float16 with dynamic loss scaling); variables stay float32.
- `--use_xla`: the training step is compiled with XLA.
- `--optimizer=lamb`: LAMB instead of the original's AdamW.
- `--gradient_checkpointing`: each Transformer block is recomputed in the
  backward pass instead of keeping its activations.

The scripts' `main` reads the flags (`settings_from_flags`), which checks
them, and passes the `TrainingSettings`; nothing here reads flags.
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import collections
import json
import os

from absl import flags
import tensorflow.compat.v1 as tf

import optimization
import script_io

DISTRIBUTION_STRATEGIES = ("none", "mirrored", "multi_worker_mirrored")
PRECISIONS = ("float32", "float16", "bfloat16")

TrainingSettings = collections.namedtuple("TrainingSettings", [
    "distribution_strategy", "devices", "cluster", "num_accumulation_steps",
    "precision", "use_xla", "optimizer", "gradient_checkpointing"
])
TrainingSettings.__doc__ = """Checked training options.

  distribution_strategy: one of DISTRIBUTION_STRATEGIES.
  devices: the devices of this machine's replicas, e.g. ["/gpu:0"]
    (["/cpu:0"] without GPUs); ignored with "none".
  cluster: for "multi_worker_mirrored", the parsed TF_CONFIG: a dict with
    "cluster" ({"worker": ["host:port", ...]}) and "task" ({"type":
    "worker", "index": i}); else None.
  num_accumulation_steps: micro-batches per optimizer step.
  precision: one of PRECISIONS.
  use_xla: bool, compile the training step with XLA.
  optimizer: one of optimization.OPTIMIZERS.
  gradient_checkpointing: bool, recompute Transformer blocks in backprop.
"""

# The original's behaviour.
DEFAULT_SETTINGS = TrainingSettings(
    distribution_strategy="none", devices=None, cluster=None,
    num_accumulation_steps=1, precision="float32", use_xla=False,
    optimizer="adamw", gradient_checkpointing=False)


def define_training_flags():
  """Defines the flags of `TrainingSettings`."""
  flags.DEFINE_enum(
      "distribution_strategy", "none", list(DISTRIBUTION_STRATEGIES),
      "How training spreads over devices: 'none' (one device, as the "
      "original), 'mirrored' (the --num_gpus GPUs of this machine) or "
      "'multi_worker_mirrored' (several machines, described by the TF_CONFIG "
      "environment variable). Needs the graph runner. Batch sizes stay "
      "global: each replica gets its share.", **script_io.OVERRIDABLE)
  flags.DEFINE_integer(
      "num_gpus", None,
      "GPUs per machine for --distribution_strategy (default: all that "
      "TensorFlow sees; without any, one replica on the CPU).",
      **script_io.OVERRIDABLE)
  flags.DEFINE_integer(
      "num_accumulation_steps", 1,
      "Micro-batches of train_batch_size / (replicas * "
      "num_accumulation_steps) whose gradients are summed into one "
      "optimizer step. num_train_steps and the learning-rate schedule "
      "count optimizer steps.", **script_io.OVERRIDABLE)
  flags.DEFINE_enum(
      "precision", "float32", list(PRECISIONS),
      "Compute dtype of the Transformer blocks in training. float16 uses "
      "dynamic loss scaling; variables and checkpoints stay float32.",
      **script_io.OVERRIDABLE)
  flags.DEFINE_bool("use_xla", False,
                    "Compile the training step with XLA.",
                    **script_io.OVERRIDABLE)
  flags.DEFINE_enum(
      "optimizer", "adamw", list(optimization.OPTIMIZERS),
      "'adamw' (the original's AdamWeightDecayOptimizer) or 'lamb' "
      "(layer-wise adaptive, for large batches).", **script_io.OVERRIDABLE)
  flags.DEFINE_bool(
      "gradient_checkpointing", False,
      "Recompute each Transformer layer's activations in the backward pass "
      "instead of keeping them: less memory, about a third more compute.",
      **script_io.OVERRIDABLE)


def settings_from_flags(flag_values, engine, environ=None):
  """Returns the checked `TrainingSettings` of parsed flags.

  Args:
    flag_values: parsed flags, with those of `define_training_flags` and
      `--use_tpu`.
    engine: "graph" or "estimator", as `runner.resolve_engine` gives.
    environ: the environment (`os.environ` when None), for TF_CONFIG.

  Raises:
    InputError: for options that cannot work together or on this machine.
  """
  environ = os.environ if environ is None else environ
  strategy = flag_values.distribution_strategy
  if strategy not in DISTRIBUTION_STRATEGIES:
    raise script_io.InputError(
        "--distribution_strategy=%s: not one of %s" %
        (strategy, ", ".join(DISTRIBUTION_STRATEGIES)))
  if flag_values.num_accumulation_steps < 1:
    raise script_io.InputError(
        "--num_accumulation_steps=%d: must be 1 or more" %
        flag_values.num_accumulation_steps)
  if flag_values.precision == "float16" and flag_values.use_tpu:
    raise script_io.InputError(
        "--precision=float16 with --use_tpu=True: TPUs compute in bfloat16 "
        "(--precision=bfloat16)")
  devices = cluster = None
  if strategy != "none":
    _check_distributable(flag_values, strategy, engine)
    devices = _replica_devices(flag_values.num_gpus)
    if strategy == "multi_worker_mirrored":
      cluster = parse_tf_config(environ.get("TF_CONFIG"))
  return TrainingSettings(
      distribution_strategy=strategy, devices=devices, cluster=cluster,
      num_accumulation_steps=flag_values.num_accumulation_steps,
      precision=flag_values.precision, use_xla=flag_values.use_xla,
      optimizer=flag_values.optimizer,
      gradient_checkpointing=flag_values.gradient_checkpointing)


def _check_distributable(flag_values, strategy, engine):
  """Raises InputError for what a distribution strategy cannot run with."""
  if engine != "graph":
    raise script_io.InputError(
        "--distribution_strategy=%s runs on the graph runner: add "
        "--runner=graph (TPUs distribute with --use_tpu instead)" % strategy)
  if flag_values.num_accumulation_steps > 1:
    raise script_io.InputError(
        "--num_accumulation_steps=%d with --distribution_strategy=%s: "
        "accumulation works on one device only" %
        (flag_values.num_accumulation_steps, strategy))
  if flag_values.precision == "float16":
    raise script_io.InputError(
        "--precision=float16 with --distribution_strategy=%s: loss scaling "
        "works on one device only (use --precision=bfloat16)" % strategy)
  if flag_values.use_xla and tf.__version__.startswith("1."):
    raise script_io.InputError(
        "--use_xla with --distribution_strategy=%s needs TensorFlow 2 (%s "
        "leaves the replicas' variables uninitialized)" %
        (strategy, tf.__version__))


def _replica_devices(num_gpus):
  """This machine's replica devices for `--num_gpus` (None: all GPUs)."""
  available = len(tf.config.experimental.list_physical_devices("GPU"))
  if num_gpus is None:
    num_gpus = available
  if num_gpus < 0 or num_gpus > available:
    raise script_io.InputError(
        "--num_gpus=%d but TensorFlow sees %d GPU(s) on this machine" %
        (num_gpus, available))
  if not num_gpus:
    return ["/cpu:0"]
  return ["/gpu:%d" % i for i in range(num_gpus)]


def parse_tf_config(text):
  """Parses and checks the TF_CONFIG of `multi_worker_mirrored`.

  Args:
    text: the variable's value, e.g. '{"cluster": {"worker": ["host1:12345",
      "host2:12345"]}, "task": {"type": "worker", "index": 0}}'.

  Returns:
    The dict.

  Raises:
    InputError: naming what is missing or malformed.
  """
  prefix = "--distribution_strategy=multi_worker_mirrored: TF_CONFIG"
  if not text:
    raise script_io.InputError(
        "%s is not set (it describes the cluster: {\"cluster\": {\"worker\": "
        "[\"host:port\", ...]}, \"task\": {\"type\": \"worker\", \"index\": "
        "i}})" % prefix)
  try:
    config = json.loads(text)
  except ValueError as e:
    raise script_io.InputError("%s=%s is not JSON: %s" % (prefix, text, e))
  cluster = config.get("cluster") if isinstance(config, dict) else None
  workers = cluster.get("worker") if isinstance(cluster, dict) else None
  if (not isinstance(workers, list) or not workers or set(cluster) !=
      {"worker"} or not all(_is_address(w) for w in workers)):
    raise script_io.InputError(
        "%s=%s: \"cluster\" must be {\"worker\": [\"host:port\", ...]} (one "
        "or more workers, no other job)" % (prefix, text))
  task = config.get("task")
  if (not isinstance(task, dict) or task.get("type") != "worker" or
      not isinstance(task.get("index"), int) or
      not 0 <= task["index"] < len(workers)):
    raise script_io.InputError(
        "%s=%s: \"task\" must be {\"type\": \"worker\", \"index\": i} with i "
        "from 0 to %d" % (prefix, text, len(workers) - 1))
  return config


def _is_address(worker):
  (host, _, port) = str(worker).rpartition(":")
  return bool(host) and port.isdigit()


def num_replicas(settings):
  """How many replicas share a global batch."""
  if settings.distribution_strategy == "none":
    return 1
  workers = (len(settings.cluster["cluster"]["worker"])
             if settings.cluster else 1)
  return workers * len(settings.devices)


def is_chief(settings):
  """Whether this process writes checkpoints and summaries."""
  return not settings.cluster or settings.cluster["task"]["index"] == 0


def micro_batch_size(settings, train_batch_size):
  """The batch one replica computes in one run: the global batch's share.

  Raises:
    InputError: if `train_batch_size` does not split evenly.
  """
  parts = num_replicas(settings) * settings.num_accumulation_steps
  if train_batch_size % parts:
    raise script_io.InputError(
        "--train_batch_size=%d is not divisible by %d replica(s) x "
        "--num_accumulation_steps=%d" %
        (train_batch_size, num_replicas(settings),
         settings.num_accumulation_steps))
  return train_batch_size // parts


def model_kwargs(settings, is_training):
  """The `modeling.BertModel` arguments of `settings` ({} by default)."""
  kwargs = {}
  if is_training and settings.precision != "float32":
    kwargs["compute_dtype"] = tf.as_dtype(settings.precision)
  if is_training and settings.gradient_checkpointing:
    kwargs["gradient_checkpointing"] = True
  return kwargs


def optimizer_kwargs(settings):
  """The `optimization.create_optimizer` arguments of `settings`."""
  kwargs = {}
  if settings.optimizer != "adamw":
    kwargs["optimizer_name"] = settings.optimizer
  if settings.num_accumulation_steps > 1:
    kwargs["num_accumulation_steps"] = settings.num_accumulation_steps
  if settings.precision == "float16":
    kwargs["loss_scaling"] = True
  return kwargs


def log_batch_sizes(settings, train_batch_size):
  """Logs how the global batch splits, when it does."""
  parts = num_replicas(settings) * settings.num_accumulation_steps
  if parts > 1:
    tf.logging.info(
        "  Per replica and run: %d (%d replica(s) x %d accumulation "
        "step(s))", micro_batch_size(settings, train_batch_size),
        num_replicas(settings), settings.num_accumulation_steps)


def locked_directory(settings, output_dir):
  """The directory a process locks: `output_dir`, or its own for a worker.

  Workers other than the chief write nothing in `output_dir` (they read its
  checkpoints), so they may share it, e.g. on one machine.
  """
  if is_chief(settings):
    return output_dir
  return os.path.join(output_dir,
                      "worker_%d" % settings.cluster["task"]["index"])


def is_replicated(settings):
  """Whether `settings` train under a tf.distribute strategy."""
  return (settings is not None and
          settings.distribution_strategy != "none")


# A process serves its task of the cluster once: later trainings in the
# same process (e.g. between evaluations) reuse the server.
_SERVERS = {}


def create_strategy(settings, session_config):
  """Creates the strategy of `settings` in the current graph.

  Args:
    settings: `TrainingSettings` with a distribution strategy.
    session_config: the `tf.ConfigProto` training would use on one device.

  Returns:
    (strategy, session_config, master): the strategy, the session
    configuration it needs and the session target ("" for this process).
  """
  cpus = sum(1 for device in settings.devices if "cpu" in device.lower())
  if settings.distribution_strategy == "mirrored":
    strategy = tf.distribute.MirroredStrategy(settings.devices)
  else:
    # It reads the TF_CONFIG that `settings.cluster` was parsed from.
    strategy = tf.distribute.experimental.MultiWorkerMirroredStrategy()
  config = strategy.update_config_proto(session_config)
  if cpus > 1:
    config.device_count["CPU"] = cpus
  if settings.distribution_strategy == "mirrored":
    return (strategy, config, "")
  task = json.dumps(settings.cluster, sort_keys=True)
  if task not in _SERVERS:
    _SERVERS[task] = tf.distribute.Server(
        tf.train.ClusterSpec(settings.cluster["cluster"]), job_name="worker",
        task_index=settings.cluster["task"]["index"], config=config,
        start=True)
  return (strategy, config, _SERVERS[task].target)
