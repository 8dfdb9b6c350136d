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
"""Train, evaluate and predict with the original's `model_fn`s, everywhere.

The original runs every script on `TPUEstimator`. TensorFlow 2.16 removed
`tf.estimator`, so this module offers two engines behind one interface
(`train`, `evaluate`, `predict`, as the Estimator's):

- "estimator": `TPUEstimator`, wherever `tf.estimator` exists (TensorFlow
  1.15 to 2.15). The only engine for TPUs.
- "graph": `GraphRunner`, the same graph-mode loop on `tf.compat.v1`
  (`MonitoredTrainingSession` and the standard hooks), on every line. It
  keeps the files the Estimator writes: `model.ckpt-N` with the same
  variable names, the `checkpoint` state file with relative paths,
  `graph.pbtxt`, events with `loss`, evaluation events under `eval/`.

A `model_fn(features, labels, mode, params)` returns a `TPUEstimatorSpec`
(this module's name for `tf.estimator.tpu.TPUEstimatorSpec`, or a tuple of
the same fields where that is gone) and runs unchanged on both engines.
Also here: the TPU flags, checkpoint initialization and progress logs.
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import collections
import inspect
import math
import os
import time

from absl import flags
import numpy as np
import tensorflow.compat.v1 as tf
from tensorflow.core.protobuf import rewriter_config_pb2

import modeling
import script_io
import training_options

# `tf.estimator` is gone from TensorFlow 2.16 on.
HAS_ESTIMATOR = hasattr(tf, "estimator")

# Graph collection holding the training loss that `ProgressHook` reports.
TRAINING_LOSS_COLLECTION = "bert_training_loss"

# Steps between `loss`, `learning_rate` and `global_step/sec` summaries: the
# Estimator's default.
_SAVE_SUMMARY_STEPS = 100

if HAS_ESTIMATOR:
  ModeKeys = tf.estimator.ModeKeys
  TPUEstimatorSpec = tf.estimator.tpu.TPUEstimatorSpec
else:

  class ModeKeys(object):
    """The Estimator's mode names."""
    TRAIN = "train"
    EVAL = "eval"
    PREDICT = "infer"

  class TPUEstimatorSpec(
      collections.namedtuple("TPUEstimatorSpec", [
          "mode", "predictions", "loss", "train_op", "eval_metrics",
          "export_outputs", "scaffold_fn", "host_call", "training_hooks",
          "evaluation_hooks", "prediction_hooks"
      ])):
    """The fields of `tf.estimator.tpu.TPUEstimatorSpec`, for `GraphRunner`."""

    def __new__(cls, mode, predictions=None, loss=None, train_op=None,
                eval_metrics=None, export_outputs=None, scaffold_fn=None,
                host_call=None, training_hooks=None, evaluation_hooks=None,
                prediction_hooks=None):
      return super(TPUEstimatorSpec, cls).__new__(
          cls, mode, predictions, loss, train_op, eval_metrics,
          export_outputs, scaffold_fn, host_call, training_hooks,
          evaluation_hooks, prediction_hooks)


class NanLossError(script_io.ScriptError):
  """The training loss became NaN or infinite."""


RunnerSettings = collections.namedtuple("RunnerSettings", [
    "engine", "use_tpu", "tpu_name", "tpu_zone", "gcp_project", "master",
    "num_tpu_cores"
])


def define_runner_flags():
  """Defines the original's TPU flags (same names, types and defaults).

  Also `--runner`, which picks the engine.
  """
  flags.DEFINE_enum(
      "runner", "auto", ["auto", "estimator", "graph"],
      "What runs train/evaluate/predict: 'estimator' (TPUEstimator, in "
      "TensorFlow 1.15 to 2.15; needed for TPUs), 'graph' (a graph-mode "
      "runner on tf.compat.v1, on every TensorFlow) or 'auto' (the "
      "estimator where TensorFlow has it, else graph).",
      **script_io.OVERRIDABLE)
  flags.DEFINE_bool(
      "allow_partial_checkpoint", False,
      "Train even when --init_checkpoint lacks some of BertModel's "
      "variables (they start from random values). Without it that is an "
      "error, as it always is for evaluation and prediction.",
      **script_io.OVERRIDABLE)
  flags.DEFINE_bool("use_tpu", False, "Whether to use TPU or GPU/CPU.",
                    **script_io.OVERRIDABLE)
  flags.DEFINE_string(
      "tpu_name", None,
      "The Cloud TPU to use for training. This should be either the name "
      "used when creating the Cloud TPU, or a grpc://ip.address.of.tpu:8470 "
      "url.", **script_io.OVERRIDABLE)
  flags.DEFINE_string(
      "tpu_zone", None,
      "[Optional] GCE zone where the Cloud TPU is located in. If not "
      "specified, we will attempt to automatically detect the GCE project "
      "from metadata.", **script_io.OVERRIDABLE)
  flags.DEFINE_string(
      "gcp_project", None,
      "[Optional] Project name for the Cloud TPU-enabled project. If not "
      "specified, we will attempt to automatically detect the GCE project "
      "from metadata.", **script_io.OVERRIDABLE)
  flags.DEFINE_string("master", None, "[Optional] TensorFlow master URL.",
                      **script_io.OVERRIDABLE)
  flags.DEFINE_integer(
      "num_tpu_cores", 8,
      "Only used if `use_tpu` is True. Total number of TPU cores to use.",
      **script_io.OVERRIDABLE)


def define_fine_tuning_flags(unit):
  """Defines the flags the fine-tuning scripts share, and the runner's.

  The original's names, types and defaults.

  Args:
    unit: what a batch is made of, plural and capitalized ("Examples",
      "Windows"), for the help texts.
  """
  flags.DEFINE_string(
      "bert_config_file", None,
      "bert_config.json of the pre-trained model: its architecture.",
      **script_io.OVERRIDABLE)
  flags.DEFINE_string(
      "vocab_file", None,
      "vocab.txt of the pre-trained model (WordPiece vocabulary).",
      **script_io.OVERRIDABLE)
  flags.DEFINE_string(
      "init_checkpoint", None,
      "Checkpoint to start from, normally the pre-trained model's "
      "bert_model.ckpt.", **script_io.OVERRIDABLE)
  flags.DEFINE_bool(
      "do_lower_case", True,
      "Lower-case and strip accents before tokenizing: True for uncased "
      "models, False for cased ones.", **script_io.OVERRIDABLE)
  script_io.define_tokenizer_flags()
  flags.DEFINE_bool("do_train", False, "Fine-tune on the training set.",
                    **script_io.OVERRIDABLE)
  flags.DEFINE_bool("do_eval", False, "Evaluate on the dev set.",
                    **script_io.OVERRIDABLE)
  flags.DEFINE_bool("do_predict", False,
                    "Write predictions for the test set.",
                    **script_io.OVERRIDABLE)
  for (mode, default) in (("train", 32), ("eval", 8), ("predict", 8)):
    flags.DEFINE_integer(
        "%s_batch_size" % mode, default,
        "%s per %s batch (over all cores)." %
        (unit, {"train": "training", "eval": "evaluation",
                "predict": "prediction"}[mode]), **script_io.OVERRIDABLE)
  flags.DEFINE_float("learning_rate", 5e-5,
                     "Peak learning rate of the Adam optimizer.",
                     **script_io.OVERRIDABLE)
  flags.DEFINE_float("num_train_epochs", 3.0,
                     "Passes over the training set (may be fractional).",
                     **script_io.OVERRIDABLE)
  flags.DEFINE_float(
      "warmup_proportion", 0.1,
      "Fraction of the training steps over which the learning rate rises "
      "linearly from 0 (0.1: the first tenth).", **script_io.OVERRIDABLE)
  flags.DEFINE_integer("save_checkpoints_steps", 1000,
                       "Steps between checkpoints.", **script_io.OVERRIDABLE)
  flags.DEFINE_integer("iterations_per_loop", 1000,
                       "Steps per TPU loop, and between progress logs.",
                       **script_io.OVERRIDABLE)
  define_runner_flags()


def settings_from_flags(flag_values):
  """Returns the `RunnerSettings` of parsed `define_runner_flags` flags."""
  return RunnerSettings(
      engine=flag_values.runner,
      use_tpu=flag_values.use_tpu,
      tpu_name=flag_values.tpu_name,
      tpu_zone=flag_values.tpu_zone,
      gcp_project=flag_values.gcp_project,
      master=flag_values.master,
      num_tpu_cores=flag_values.num_tpu_cores)


def resolve_engine(settings):
  """Returns "estimator" or "graph" for `settings`.

  Raises:
    InputError: if the TensorFlow installed lacks what the flags ask for.
  """
  if settings.engine == "graph" and settings.use_tpu:
    raise script_io.InputError(
        "--use_tpu=True runs on TPUEstimator: use --runner=estimator (or "
        "auto) instead of --runner=graph")
  if not HAS_ESTIMATOR and (settings.use_tpu or
                            settings.engine == "estimator"):
    raise script_io.InputError(
        "%s needs tf.estimator, which TensorFlow 1.15 to 2.15 provide; this "
        "is TensorFlow %s, which removed it%s" %
        ("--use_tpu=True" if settings.use_tpu else "--runner=estimator",
         tf.__version__,
         "" if settings.use_tpu else " (--runner=graph runs here)"))
  if settings.engine == "auto":
    return "estimator" if HAS_ESTIMATOR else "graph"
  return settings.engine


def build_runner(model_fn, settings, model_dir=None,
                 save_checkpoints_steps=None, keep_checkpoint_max=5,
                 iterations_per_loop=1000, train_batch_size=None,
                 eval_batch_size=None, predict_batch_size=None,
                 training=None):
  """Builds what runs `model_fn`: a `TPUEstimator` or a `GraphRunner`.

  With `use_tpu=False` the TPUEstimator runs on the CPU or a GPU, as a plain
  Estimator; the `GraphRunner` gives the same results there.

  Args:
    model_fn: the model function, returning `TPUEstimatorSpec`s.
    settings: `RunnerSettings` (engine and TPU flags).
    model_dir: where checkpoints and summaries go (None: a temporary dir for
      the Estimator; predict-only use for the `GraphRunner`).
    save_checkpoints_steps: steps between checkpoints (None: every 10
      minutes).
    keep_checkpoint_max: how many recent checkpoints to keep.
    iterations_per_loop: steps per TPU loop (and between progress logs).
    train_batch_size, eval_batch_size, predict_batch_size: global batch
      sizes (None for modes the script does not run); with `training`,
      `train_batch_size` is what one replica computes in one run (see
      `training_options.micro_batch_size`).
    training: (optional) `training_options.TrainingSettings`: XLA, and the
      distribution strategy (graph runner only).

  Returns:
    An object with the Estimator's `train`, `evaluate` and `predict`.

  Raises:
    InputError: if this TensorFlow cannot run what `settings` ask for.
  """
  if training is not None and training.use_xla:
    model_fn = _xla_compiled_training(model_fn)
  if resolve_engine(settings) == "graph":
    return GraphRunner(
        model_fn, model_dir=model_dir,
        save_checkpoints_steps=save_checkpoints_steps,
        keep_checkpoint_max=keep_checkpoint_max,
        train_batch_size=train_batch_size, eval_batch_size=eval_batch_size,
        predict_batch_size=predict_batch_size, training=training)
  if training_options.is_replicated(training):
    raise script_io.InputError(
        "--distribution_strategy=%s runs on the graph runner: add "
        "--runner=graph" % training.distribution_strategy)

  tpu_cluster_resolver = None
  if settings.use_tpu and settings.tpu_name:
    tpu_cluster_resolver = tf.distribute.cluster_resolver.TPUClusterResolver(
        settings.tpu_name, zone=settings.tpu_zone,
        project=settings.gcp_project)

  per_host = tf.estimator.tpu.InputPipelineConfig.PER_HOST_V2
  run_config = tf.estimator.tpu.RunConfig(
      cluster=tpu_cluster_resolver,
      master=settings.master,
      model_dir=model_dir,
      save_checkpoints_steps=save_checkpoints_steps,
      keep_checkpoint_max=keep_checkpoint_max,
      # On TPU, TPUEstimator logs loss and examples/s once per loop. On CPU
      # and GPU a "loop" is one step, so it would log every step: there
      # `ProgressHook` reports instead.
      log_step_count_steps=(iterations_per_loop if settings.use_tpu else
                            None),
      tpu_config=tf.estimator.tpu.TPUConfig(
          iterations_per_loop=iterations_per_loop,
          num_shards=settings.num_tpu_cores,
          per_host_input_for_training=per_host))

  # If TPU is not available, this falls back to a normal Estimator on CPU
  # or GPU.
  return tf.estimator.tpu.TPUEstimator(
      use_tpu=settings.use_tpu,
      model_fn=model_fn,
      config=run_config,
      train_batch_size=train_batch_size,
      eval_batch_size=eval_batch_size,
      predict_batch_size=predict_batch_size)


def _xla_compiled_training(model_fn):
  """`model_fn` with its training graph (model, gradients, update) in XLA."""

  def xla_model_fn(features, labels, mode, params):
    kwargs = _matching_kwargs(model_fn, features=features, labels=labels,
                              mode=mode, params=params)
    if mode != ModeKeys.TRAIN:
      return model_fn(**kwargs)
    with tf.xla.experimental.jit_scope():
      return model_fn(**kwargs)

  return xla_model_fn


class GraphRunner(object):
  """Runs a TPUEstimator `model_fn` on the CPU or a GPU without Estimator.

  Each call builds a fresh graph, as the Estimator does: `input_fn(params)`
  gives a dataset, `model_fn(features, labels, mode, params)` a
  `TPUEstimatorSpec`, and `params["batch_size"]` is the mode's batch size.
  """

  def __init__(self, model_fn, model_dir=None, save_checkpoints_steps=None,
               keep_checkpoint_max=5, train_batch_size=None,
               eval_batch_size=None, predict_batch_size=None, training=None):
    self._model_fn = model_fn
    # `training_options.TrainingSettings`: the strategy to train under.
    self._training = training
    self.model_dir = model_dir
    self._save_checkpoints_steps = save_checkpoints_steps
    self._keep_checkpoint_max = keep_checkpoint_max
    self._batch_sizes = {
        ModeKeys.TRAIN: train_batch_size,
        ModeKeys.EVAL: eval_batch_size,
        ModeKeys.PREDICT: predict_batch_size,
    }

  def train(self, input_fn, max_steps, hooks=None):
    """Trains until the global step reaches `max_steps`.

    Resumes from the latest checkpoint in `model_dir`, and does nothing when
    that is already at `max_steps`.

    Args:
      input_fn: `input_fn(params)` giving a dataset of (features, labels) or
        features.
      max_steps: the global step to stop at.
      hooks: more `SessionRunHook`s, run before the runner's own.

    Returns:
      self.
    """
    start_step = _checkpoint_step(self.model_dir)
    if start_step >= max_steps:
      tf.logging.info(
          "Skipping training: the latest checkpoint in %s is at step %d, "
          "max_steps is %d.", self.model_dir, start_step, max_steps)
      return self

    with tf.Graph().as_default():
      (config, master, chief) = (_session_config(), "", True)
      if training_options.is_replicated(self._training):
        (strategy, config, master) = training_options.create_strategy(
            self._training, config)
        chief = training_options.is_chief(self._training)
        (spec, input_hooks) = self._replicated_train_spec(strategy,
                                                          input_fn)
      else:
        tf.train.get_or_create_global_step()
        features, labels, input_hooks = _call_input_fn(
            input_fn, ModeKeys.TRAIN, self._params(ModeKeys.TRAIN))
        spec = self._call_model_fn(features, labels, ModeKeys.TRAIN)
      tf.summary.scalar("loss", spec.loss)
      # User hooks run first, so that `ProgressHook` reports a NaN loss with
      # its step before `NanTensorHook` stops the run.
      all_hooks = (list(hooks or []) + [
          tf.train.StopAtStepHook(last_step=max_steps),
          tf.train.NanTensorHook(spec.loss)
      ] + input_hooks + list(spec.training_hooks or []))
      # Every worker of a cluster initializes (or restores) its own copy of
      # the variables, as a chief does; only the chief writes files.
      with tf.train.MonitoredTrainingSession(
          master=master,
          checkpoint_dir=self.model_dir,
          scaffold=self._scaffold(spec),
          hooks=all_hooks,
          chief_only_hooks=[
              _StepRateSummaryHook(every_n_steps=_SAVE_SUMMARY_STEPS,
                                   output_dir=self.model_dir)
          ] if chief else None,
          save_checkpoint_steps=(self._save_checkpoints_steps if chief else
                                 None),
          save_checkpoint_secs=(None if self._save_checkpoints_steps or
                                not chief else 600),
          save_summaries_steps=_SAVE_SUMMARY_STEPS if chief else None,
          save_summaries_secs=None,
          log_step_count_steps=None,
          config=config) as session:
        while not session.should_stop():
          session.run([spec.train_op, spec.loss])
    return self

  def evaluate(self, input_fn, steps=None, hooks=None, checkpoint_path=None,
               name=None):
    """Evaluates the latest checkpoint (fresh weights when there is none).

    Args:
      input_fn: as for `train`.
      steps: batches to evaluate (None: until the input ends).
      hooks: more `SessionRunHook`s.
      checkpoint_path: the checkpoint to evaluate instead of the latest.
      name: evaluations with a name write their events to `eval_<name>`.

    Returns:
      Dict of metric name to its value (numpy), with `loss` (the mean
      loss over the batches) and `global_step`, as the Estimator's.
    """
    checkpoint_path = checkpoint_path or self._latest_checkpoint("evaluate")
    with tf.Graph().as_default():
      global_step = tf.train.get_or_create_global_step()
      features, labels, input_hooks = _call_input_fn(
          input_fn, ModeKeys.EVAL, self._params(ModeKeys.EVAL))
      spec = self._call_model_fn(features, labels, ModeKeys.EVAL)
      metrics = _call_metric_fn(spec.eval_metrics)
      metrics["loss"] = tf.metrics.mean(spec.loss)
      update_ops = [update_op for (_, update_op) in metrics.values()]
      values = {name: value for (name, (value, _)) in metrics.items()}
      values[tf.GraphKeys.GLOBAL_STEP] = global_step
      final_values = _FinalValuesHook(values)
      all_hooks = (input_hooks + list(hooks or []) +
                   list(spec.evaluation_hooks or []) + [final_values])
      evaluated = 0
      with tf.train.MonitoredSession(
          session_creator=self._session_creator(spec, checkpoint_path),
          hooks=all_hooks) as session:
        # The input's end (OutOfRangeError) ends the `with` quietly, and
        # `final_values` reads the metrics as the session closes.
        while not session.should_stop() and (steps is None or
                                             evaluated < steps):
          session.run(update_ops)
          evaluated += 1
    results = final_values.values
    eval_dir = os.path.join(self.model_dir,
                            "eval_" + name if name else "eval")
    _write_scalar_summaries(eval_dir, results,
                            int(results[tf.GraphKeys.GLOBAL_STEP]))
    tf.logging.info("Evaluation of %s: %s", checkpoint_path or "new weights",
                    ", ".join("%s = %s" % (key, results[key])
                              for key in sorted(results)))
    return results

  def predict(self, input_fn, predict_keys=None, hooks=None,
              checkpoint_path=None, yield_single_examples=True):
    """Yields the predictions of the latest checkpoint, as the Estimator's.

    Args:
      input_fn: as for `train`; the predictions end with its input.
      predict_keys: names of the predictions to yield (None: all).
      hooks: more `SessionRunHook`s.
      checkpoint_path: the checkpoint to use instead of the latest.
      yield_single_examples: one example at a time (True) or whole batches.

    Yields:
      A dict of prediction name to numpy value per example (or batch), or
      the value itself when `model_fn` predicts a single tensor.
    """
    checkpoint_path = checkpoint_path or self._latest_checkpoint("predict")
    with tf.Graph().as_default():
      tf.train.get_or_create_global_step()
      features, labels, input_hooks = _call_input_fn(
          input_fn, ModeKeys.PREDICT, self._params(ModeKeys.PREDICT))
      spec = self._call_model_fn(features, labels, ModeKeys.PREDICT)
      predictions = spec.predictions
      if predict_keys is not None:
        predictions = {key: predictions[key] for key in predict_keys}
      all_hooks = (input_hooks + list(hooks or []) +
                   list(spec.prediction_hooks or []))
      with tf.train.MonitoredSession(
          session_creator=self._session_creator(spec, checkpoint_path),
          hooks=all_hooks) as session:
        while not session.should_stop():
          batch = session.run(predictions)
          if not yield_single_examples:
            yield batch
          elif isinstance(batch, dict):
            for i in range(len(next(iter(batch.values())))):
              yield {key: value[i] for (key, value) in batch.items()}
          else:
            for value in batch:
              yield value

  def _params(self, mode):
    return {"batch_size": self._batch_sizes[mode], "use_tpu": False}

  def _replicated_train_spec(self, strategy, input_fn):
    """Builds the training graph under `strategy`, one model per replica.

    Each replica gets batches of `train_batch_size` from its worker's
    `input_fn` dataset (a worker takes every n-th batch of n workers);
    `optimization.create_optimizer` applies their mean gradient once.

    Returns:
      (spec, input_hooks): the first replica's spec with the replicas' mean
      loss and the grouped train op.
    """
    params = self._params(ModeKeys.TRAIN)

    def dataset_fn(input_context):
      dataset = input_fn(**_matching_kwargs(input_fn, params=params,
                                            mode=ModeKeys.TRAIN, config=None))
      return dataset.shard(input_context.num_input_pipelines,
                           input_context.input_pipeline_id)

    specs = []

    def replica_step(inputs):
      (features, labels) = (inputs if isinstance(inputs, tuple) and
                            len(inputs) == 2 else (inputs, None))
      spec = self._call_model_fn(features, labels, ModeKeys.TRAIN)
      specs.append(spec)
      return (spec.loss, spec.train_op)

    # A plain variable: each worker reads its own, in any hook, without the
    # collective broadcast that initializes the strategy's variables.
    tf.train.get_or_create_global_step()
    with strategy.scope():
      iterator = strategy.make_input_fn_iterator(dataset_fn)
      (losses, train_ops) = strategy.extended.call_for_each_replica(
          replica_step, args=(iterator.get_next(),))
      loss = strategy.reduce(tf.distribute.ReduceOp.MEAN, losses, axis=None)
      train_op = strategy.group(train_ops)
    # `ProgressHook` reports the mean, not each replica's loss.
    tf.get_collection_ref(TRAINING_LOSS_COLLECTION)[:] = [loss]
    return (specs[0]._replace(loss=loss, train_op=train_op),
            [_IteratorInitializerHook(iterator.initialize())])

  def _call_model_fn(self, features, labels, mode):
    kwargs = _matching_kwargs(self._model_fn, labels=labels, mode=mode,
                              params=self._params(mode), config=None)
    return self._model_fn(features=features, **kwargs)

  def _scaffold(self, spec):
    """The spec's scaffold, with the Estimator's saver.

    The saver writes the index of a sharded checkpoint last and names it in
    the `checkpoint` file by a path relative to `model_dir`.
    """
    scaffold = spec.scaffold_fn() if spec.scaffold_fn else tf.train.Scaffold()
    if not (scaffold.saver or tf.get_collection(tf.GraphKeys.SAVERS)):
      tf.add_to_collection(
          tf.GraphKeys.SAVERS,
          tf.train.Saver(
              sharded=True,
              max_to_keep=self._keep_checkpoint_max,
              keep_checkpoint_every_n_hours=10000,
              defer_build=True,
              save_relative_paths=True))
    return scaffold

  def _session_creator(self, spec, checkpoint_path):
    return tf.train.ChiefSessionCreator(
        scaffold=self._scaffold(spec),
        checkpoint_filename_with_path=checkpoint_path,
        config=_session_config())

  def _latest_checkpoint(self, action):
    checkpoint = (tf.train.latest_checkpoint(self.model_dir)
                  if self.model_dir else None)
    if checkpoint is None:
      tf.logging.info(
          "No checkpoint in model_dir %s: %s with the variables' initial "
          "values (and what --init_checkpoint restores).", self.model_dir,
          action)
    return checkpoint


def _checkpoint_step(model_dir):
  """The global step of the latest checkpoint in `model_dir`, or 0."""
  checkpoint = tf.train.latest_checkpoint(model_dir) if model_dir else None
  if checkpoint is None:
    return 0
  return int(tf.train.load_variable(checkpoint, tf.GraphKeys.GLOBAL_STEP))


def _session_config():
  """The Estimator's default session configuration."""
  config = tf.ConfigProto(allow_soft_placement=True)
  config.graph_options.rewrite_options.meta_optimizer_iterations = (
      rewriter_config_pb2.RewriterConfig.ONE)
  return config


def _matching_kwargs(fn, **candidates):
  """The `candidates` that `fn` takes by name, as the Estimator passes them."""
  names = inspect.signature(fn).parameters
  return {name: value for (name, value) in candidates.items()
          if name in names}


def _call_input_fn(input_fn, mode, params):
  """Calls `input_fn` on the CPU; returns (features, labels, hooks)."""
  with tf.device("/cpu:0"):
    result = input_fn(**_matching_kwargs(input_fn, params=params, mode=mode,
                                         config=None))
  hooks = []
  if isinstance(result, tf.data.Dataset):
    iterator = tf.data.make_initializable_iterator(result)
    hooks.append(_IteratorInitializerHook(iterator.initializer))
    result = iterator.get_next()
  if isinstance(result, tuple) and len(result) == 2:
    return result[0], result[1], hooks
  return result, None, hooks


def _call_metric_fn(eval_metrics):
  """`metric_fn(*tensors)` (or `**tensors`) of a spec's `eval_metrics`."""
  if eval_metrics is None:
    return {}
  (metric_fn, tensors) = eval_metrics
  if isinstance(tensors, dict):
    return dict(metric_fn(**tensors))
  return dict(metric_fn(*tensors))


def _write_scalar_summaries(output_dir, values, global_step):
  """Writes the numbers in `values` as scalar summaries at `global_step`."""
  summary = tf.Summary()
  for (name, value) in sorted(values.items()):
    if name != tf.GraphKeys.GLOBAL_STEP and getattr(value, "ndim", 0) == 0:
      summary.value.add(tag=name, simple_value=float(value))
  with tf.Graph().as_default():
    writer = tf.summary.FileWriter(output_dir)
    writer.add_summary(summary, global_step)
    writer.close()


class _IteratorInitializerHook(tf.train.SessionRunHook):
  """Starts a dataset's iterator when the session is ready."""

  def __init__(self, initializer):
    self._initializer = initializer

  def after_create_session(self, session, coord):
    session.run(self._initializer)


class _FinalValuesHook(tf.train.SessionRunHook):
  """Reads `values` as the session ends."""

  def __init__(self, values):
    self._values = values
    self.values = None

  def end(self, session):
    self.values = session.run(self._values)


class _StepRateSummaryHook(tf.train.StepCounterHook):
  """Writes `global_step/sec` summaries without logging them.

  `ProgressHook` already logs the speed, in examples per second.
  """

  def _log_and_record(self, elapsed_steps, elapsed_time, global_step):
    if self._summary_writer is not None:
      summary = tf.Summary()
      summary.value.add(tag=self._summary_tag,
                        simple_value=elapsed_steps / elapsed_time)
      self._summary_writer.add_summary(summary, global_step)


def resolve_checkpoint(init_checkpoint, flag_name="init_checkpoint"):
  """Returns the checkpoint prefix `init_checkpoint` names.

  A directory stands for its latest checkpoint. The checkpoint's index must
  read and its data files hold every byte the index lists, so that a
  truncated download fails here with one line, not deep inside a restore.

  Raises:
    InputError: if there is no such checkpoint, or it is incomplete.
  """
  if tf.gfile.IsDirectory(init_checkpoint):
    latest = tf.train.latest_checkpoint(init_checkpoint)
    if latest is None:
      raise script_io.InputError(
          "--%s=%s: the directory holds no checkpoint." %
          (flag_name, init_checkpoint))
    init_checkpoint = latest
  elif not tf.gfile.Exists(init_checkpoint + ".index"):
    raise script_io.InputError(
        "--%s=%s: no such checkpoint (expected %s.index and its data "
        "files)." % (flag_name, init_checkpoint, init_checkpoint))
  _check_checkpoint_data(init_checkpoint, flag_name)
  return init_checkpoint


def _check_checkpoint_data(prefix, flag_name):
  """Checks that the data files of `prefix` are as long as its index says.

  A checkpoint's data files hold the bytes of its numeric tensors back to
  back, so their total size is known from the shapes alone.
  """
  try:
    reader = tf.train.load_checkpoint(prefix)
  except (tf.errors.OpError, RuntimeError) as e:
    raise script_io.InputError("--%s=%s: the checkpoint's index does not "
                               "read: %s" % (flag_name, prefix,
                                             script_io.one_line_message(e)))
  shapes = reader.get_variable_to_shape_map()
  dtypes = reader.get_variable_to_dtype_map()
  if any(dtype == tf.string for dtype in dtypes.values()):
    return
  expected = sum(
      int(np.prod(shape)) * dtypes[name].size
      for (name, shape) in shapes.items())
  data_files = tf.gfile.Glob(prefix + ".data-*-of-*")
  found = sum(tf.gfile.Stat(path).length for path in data_files)
  if not data_files:
    raise script_io.InputError(
        "--%s=%s: the checkpoint has no data file (%s.data-00000-of-...)" %
        (flag_name, prefix, prefix))
  if found < expected:
    raise script_io.InputError(
        "--%s=%s: the checkpoint's data files hold %d bytes, %d fewer than "
        "its index lists (truncated, or a data file is missing)" %
        (flag_name, prefix, found, expected - found))


RunSetup = collections.namedtuple(
    "RunSetup",
    ["settings", "training", "train_batch_size", "init_checkpoint"])


def setup_from_flags(flag_values, bert_config):
  """Reads and checks what a training script's `main` builds its runner from.

  Args:
    flag_values: the parsed flags of `define_runner_flags`,
      `training_options.define_training_flags` and the script's own
      `train_batch_size`, `do_train`, `init_checkpoint`, `bert_config_file`
      and `output_dir`.
    bert_config: the model's `BertConfig`.

  Returns:
    `RunSetup`: the `RunnerSettings`, the `training_options.TrainingSettings`,
    the batch one replica's training `input_fn` reads (the global batch's
    share) and the resolved init checkpoint (or None).

  Raises:
    InputError: for flags that cannot work together, or a bad checkpoint.
  """
  settings = settings_from_flags(flag_values)
  training = training_options.settings_from_flags(flag_values,
                                                  resolve_engine(settings))
  train_batch_size = flag_values.train_batch_size
  if flag_values.do_train:
    train_batch_size = training_options.micro_batch_size(training,
                                                         train_batch_size)
  init_checkpoint = resolve_init_checkpoint(
      flag_values.init_checkpoint, bert_config, flag_values.bert_config_file,
      model_dir=flag_values.output_dir, training=flag_values.do_train,
      allow_partial=flag_values.allow_partial_checkpoint)
  return RunSetup(settings, training, train_batch_size, init_checkpoint)


def resolve_init_checkpoint(init_checkpoint, bert_config, config_file,
                            model_dir=None, training=False,
                            allow_partial=False):
  """`resolve_checkpoint` and `check_init_checkpoint` for `--init_checkpoint`.

  Returns:
    The checkpoint prefix, or None when `init_checkpoint` is empty.
  """
  if not init_checkpoint:
    return None
  init_checkpoint = resolve_checkpoint(init_checkpoint)
  check_init_checkpoint(init_checkpoint, bert_config, config_file, model_dir,
                        training, allow_partial)
  return init_checkpoint


def check_init_checkpoint(init_checkpoint, bert_config, config_file,
                          model_dir=None, training=False,
                          allow_partial=False):
  """Checks that `init_checkpoint` holds every variable of the BertModel.

  A config that does not match the checkpoint (e.g. one without
  `num_hidden_layers`, which defaults to 12 layers) would otherwise leave
  some layers at random values without a word. Nothing is checked when
  `model_dir` already holds a checkpoint: the run resumes from that one.

  Args:
    init_checkpoint: a checkpoint prefix, as `resolve_checkpoint` returns.
    bert_config: the `BertConfig` the script builds the model from.
    config_file: the config's path, named in the error.
    model_dir: the run's output directory, or None.
    training: whether the run trains (else it evaluates or predicts).
    allow_partial: for training, log the missing variables and go on
      (some layers may be meant to start afresh).

  Raises:
    InputError: if variables are missing, unless training with
      `allow_partial`.
  """
  if model_dir and tf.train.latest_checkpoint(model_dir):
    return
  with tf.Graph().as_default():
    modeling.BertModel(bert_config, is_training=False,
                       input_ids=tf.zeros([1, 1], tf.int32))
    wanted = [v.op.name for v in tf.global_variables()]
  saved = set(name for (name, _) in tf.train.list_variables(init_checkpoint))
  missing = [name for name in wanted if name not in saved]
  if not missing:
    return
  message = (
      "--init_checkpoint=%s lacks %d of the model's %d variables (%s%s): "
      "does --bert_config_file=%s match it?" %
      (init_checkpoint, len(missing), len(wanted), ", ".join(missing[:3]),
       ", ..." if len(missing) > 3 else "", config_file))
  if not training:
    raise script_io.InputError(message)
  if not allow_partial:
    raise script_io.InputError(
        message + " (--allow_partial_checkpoint=True trains them from "
        "random values)")
  tf.logging.warning("%s They start from random values.", message)


def check_vocab_fits(vocab, bert_config, vocab_file, config_file):
  """Checks that every id of the vocab has an embedding in the model.

  Raises:
    InputError: if the vocab holds an id of `vocab_size` or more.
  """
  largest = max(vocab.values()) if vocab else -1
  if largest >= bert_config.vocab_size:
    raise script_io.InputError(
        "--vocab_file=%s has ids up to %d but --bert_config_file=%s has "
        "vocab_size %d: is it the vocab of that model?" %
        (vocab_file, largest, config_file, bert_config.vocab_size))


def init_from_checkpoint(init_checkpoint, use_tpu, flag_name="init_checkpoint"):
  """Initializes the graph's variables found in `init_checkpoint`.

  Call inside a model_fn, after the model is built. Logs every trainable
  variable, marking those restored with `*INIT_FROM_CKPT*`, as the original.

  Args:
    init_checkpoint: checkpoint prefix or directory; None or "" to skip.
    use_tpu: bool; on TPU the restore must run in the Scaffold.
    flag_name: the flag the path came from, named in errors.

  Returns:
    The `scaffold_fn` for `TPUEstimatorSpec` (None unless on TPU).

  Raises:
    InputError: if the checkpoint is missing or one of its variables has a
      different shape from the model's variable of that name.
  """
  tvars = tf.trainable_variables()
  initialized_variable_names = {}
  scaffold_fn = None
  if init_checkpoint:
    init_checkpoint = resolve_checkpoint(init_checkpoint, flag_name)
    _check_shapes_match(tvars, init_checkpoint, flag_name)
    (assignment_map, initialized_variable_names
    ) = modeling.get_assignment_map_from_checkpoint(tvars, init_checkpoint)
    if use_tpu:

      def tpu_scaffold():
        tf.train.init_from_checkpoint(init_checkpoint, assignment_map)
        return tf.train.Scaffold()

      scaffold_fn = tpu_scaffold
    else:
      tf.train.init_from_checkpoint(init_checkpoint, assignment_map)

  tf.logging.info("**** Trainable Variables ****")
  for var in tvars:
    init_string = ""
    if var.name in initialized_variable_names:
      init_string = ", *INIT_FROM_CKPT*"
    tf.logging.info("  name = %s, shape = %s%s", var.name, var.shape,
                    init_string)
  return scaffold_fn


def _check_shapes_match(tvars, init_checkpoint, flag_name):
  saved_shapes = dict(tf.train.list_variables(init_checkpoint))
  for var in tvars:
    name = var.op.name
    if name in saved_shapes:
      saved = list(saved_shapes[name])
      wanted = var.shape.as_list()
      if saved != wanted:
        raise script_io.InputError(
            "--%s=%s: variable %s has shape %s there but %s in this model "
            "(does --bert_config_file match the checkpoint?)" %
            (flag_name, init_checkpoint, name, saved, wanted))


def read_bert_config(bert_config_file):
  """Reads `--bert_config_file`, naming the flag in every error."""
  script_io.check_file(bert_config_file, "bert_config_file")
  try:
    return modeling.BertConfig.from_json_file(bert_config_file)
  except ValueError as e:
    raise script_io.InputError("--bert_config_file=%s" % e)


def track_training_loss(loss, use_tpu=False):
  """Registers the training loss for `ProgressHook` to report.

  On a TPU the loss lives inside the replicated computation, where a
  host-side hook cannot fetch it (TPUEstimator logs it once per loop
  there), so nothing is registered and the progress lines show "n/a".
  """
  if not use_tpu:
    tf.add_to_collection(TRAINING_LOSS_COLLECTION, loss)


class ProgressHook(tf.train.SessionRunHook):
  """Logs step, loss, examples/s and the time left as training goes.

  A line every `every_n_steps` steps, and at least every `every_n_secs`
  seconds, so that a slow run on a CPU shows progress between checkpoints.
  A NaN or infinite loss stops training with an error naming the step.
  """

  def __init__(self, num_train_steps, batch_size, every_n_steps,
               every_n_secs=30.0):
    self._num_train_steps = num_train_steps
    self._batch_size = batch_size
    self._every_n_steps = max(1, every_n_steps)
    self._every_n_secs = every_n_secs

  def begin(self):
    self._global_step = tf.train.get_or_create_global_step()
    losses = tf.get_collection(TRAINING_LOSS_COLLECTION)
    self._fetches = {"step": self._global_step}
    if losses:
      self._fetches["loss"] = losses[0]

  def after_create_session(self, session, coord):
    self._last_step = int(session.run(self._global_step))
    self._last_time = time.time()
    self._runs_since_report = 0
    self._loss = None

  def before_run(self, run_context):
    return tf.train.SessionRunArgs(self._fetches)

  def after_run(self, run_context, run_values):
    self._loss = run_values.results.get("loss")
    if self._loss is not None and not math.isfinite(self._loss):
      raise NanLossError(
          "the training loss is %s at step %d (try a lower --learning_rate)"
          % (self._loss, int(run_context.session.run(self._global_step))))
    self._runs_since_report += 1
    # The step fetched with the train op may be read before or after the
    # op's increment, so it only tells that a report is due when a TPU loop
    # runs many steps at once; a report reads the settled step.
    fetched_step = int(run_values.results["step"])
    if (self._runs_since_report >= self._every_n_steps or
        fetched_step - self._last_step >= self._every_n_steps or
        time.time() - self._last_time >= self._every_n_secs):
      self._report(run_context.session)

  def end(self, session):
    self._report(session)

  def _report(self, session):
    step = int(session.run(self._global_step))
    now = time.time()
    if step > self._last_step:
      steps_per_sec = (step - self._last_step) / max(now - self._last_time,
                                                      1e-9)
      left = max(self._num_train_steps - step, 0) / steps_per_sec
      tf.logging.info(
          "step %d/%d: loss = %s, %s", step, self._num_train_steps,
          "%.4f" % self._loss if self._loss is not None else "n/a",
          script_io.format_rate(steps_per_sec * self._batch_size,
                                "examples", left))
    self._last_time, self._last_step = now, step
    self._runs_since_report = 0
