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
"""The run that `run_classifier.py`, `run_ner.py` and `run_multiple_choice.py`
share: their settings, their checks and the train/evaluate/predict steps.

Each script's `main` reads its flags once into a `FineTuningConfig` and
passes it down; nothing here reads FLAGS. What differs between the tasks
(their data, features and model) stays in the scripts.
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import collections
import math
import os

import tensorflow.compat.v1 as tf

import optimization
import runner
import script_io
import tokenization
import training_options

InputError = script_io.InputError

FineTuningConfig = collections.namedtuple("FineTuningConfig", [
    "data_dir", "output_dir", "max_seq_length", "do_train", "do_eval",
    "do_predict", "train_batch_size", "eval_batch_size",
    "predict_batch_size", "learning_rate", "num_train_epochs",
    "warmup_proportion", "save_checkpoints_steps", "iterations_per_loop",
    "use_tpu"
])


def config_from_flags(flag_values):
  """The `FineTuningConfig` of parsed `runner.define_fine_tuning_flags`."""
  return FineTuningConfig(**{
      name: flag_values[name].value for name in FineTuningConfig._fields})


def check_actions(flag_values, other_actions=()):
  """The original's checks before anything is read.

  Args:
    flag_values: the parsed flags.
    other_actions: names of flags (besides do_train, do_eval and
      do_predict) that also give the run something to do.

  Raises:
    ValueError: the original's error when there is nothing to do, or when
      --do_lower_case does not match the --init_checkpoint's model.
  """
  tokenization.validate_case_matches_checkpoint(flag_values.do_lower_case,
                                                flag_values.init_checkpoint)
  actions = ("do_train", "do_eval", "do_predict") + tuple(other_actions)
  if not any(flag_values[name].value for name in actions):
    raise ValueError(
        "At least one of `do_train`, `do_eval` or `do_predict' must be True.")


def check_shared_flags(flag_values, bert_config, min_seq_length_reason,
                       positive_flags=()):
  """The flag checks every fine-tuning script makes.

  Args:
    flag_values: the parsed flags.
    bert_config: the model's `BertConfig`.
    min_seq_length_reason: why --max_seq_length must be at least 3, for the
      error ("[CLS] and two [SEP] tokens").
    positive_flags: the script's own integer flags that must be at least 1.

  Raises:
    InputError: for a flag value that cannot work.
  """
  max_seq_length = flag_values.max_seq_length
  script_io.check_max_seq_length(max_seq_length,
                                 bert_config.max_position_embeddings,
                                 flag_values.bert_config_file)
  if max_seq_length < 3:
    raise InputError("--max_seq_length=%d: it must leave room for %s (at "
                     "least 3)" % (max_seq_length, min_seq_length_reason))
  # TPUEstimator refuses these below 1, whatever the run does.
  for name in tuple(positive_flags) + (
      "train_batch_size", "eval_batch_size", "predict_batch_size",
      "save_checkpoints_steps", "iterations_per_loop"):
    if flag_values[name].value < 1:
      raise InputError("--%s=%d: must be at least 1" %
                       (name, flag_values[name].value))
  if flag_values.do_train and not math.isfinite(flag_values.num_train_epochs):
    raise InputError("--num_train_epochs=%s: must be a finite number" %
                     flag_values.num_train_epochs)


def make_tokenizer(flag_values, bert_config,
                   required_tokens=("[CLS]", "[SEP]", "[UNK]")):
  """The `FullTokenizer` of --vocab_file, checked against the model.

  Raises:
    InputError: for a missing vocab file, one without `required_tokens`, or
      one larger than the model's vocabulary.
  """
  vocab_file = flag_values.vocab_file
  script_io.check_file(vocab_file, "vocab_file")
  tokenizer = tokenization.FullTokenizer(
      vocab_file=vocab_file, do_lower_case=flag_values.do_lower_case,
      **script_io.tokenizer_options(flag_values))
  missing = [token for token in required_tokens
             if token not in tokenizer.vocab]
  if missing:
    raise InputError("--vocab_file=%s: no %s token" %
                     (vocab_file, " or ".join(missing)))
  runner.check_vocab_fits(tokenizer.vocab, bert_config, vocab_file,
                          flag_values.bert_config_file)
  return tokenizer


def check_data_dir(data_dir):
  """Raises InputError unless `data_dir` is a folder."""
  if not tf.gfile.IsDirectory(data_dir):
    if tf.gfile.Exists(data_dir):
      raise InputError("--data_dir=%s is a file, not a directory" % data_dir)
    raise InputError("--data_dir=%s: no such directory" % data_dir)


def training_steps(num_examples, config, unit="examples"):
  """The original's step counts: (num_train_steps, num_warmup_steps).

  Raises:
    InputError: if the training set makes no step.
  """
  num_train_steps = int(num_examples / config.train_batch_size *
                        config.num_train_epochs)
  num_warmup_steps = int(num_train_steps * config.warmup_proportion)
  if num_train_steps < 1:
    raise InputError(
        "--do_train: %d training %s at --train_batch_size=%d for "
        "--num_train_epochs=%s make no training step" %
        (num_examples, unit, config.train_batch_size,
         config.num_train_epochs))
  return (num_train_steps, num_warmup_steps)


def pad_to_batches(items, batch_size, use_tpu, make_padding):
  """Appends `make_padding()` items up to whole batches, on TPU only.

  On TPU every batch must be full; elsewhere the last batch may be short
  and nothing is added.

  Returns:
    The number of real items.
  """
  num_actual = len(items)
  if use_tpu:
    while len(items) % batch_size:
      items.append(make_padding())
  return num_actual


def log_set(num_items, num_actual, batch_size, unit="examples", detail=""):
  """Logs the size of a set about to be written (the original's lines)."""
  tf.logging.info("  Num %s = %d (%d actual, %d padding)%s", unit, num_items,
                  num_actual, num_items - num_actual, detail)
  tf.logging.info("  Batch size = %d", batch_size)


def record_path(config, name):
  """Where a set's features go: `<output_dir>/<name>.tf_record`."""
  return os.path.join(config.output_dir, name + ".tf_record")


def log_features(features):
  """Logs the names and shapes of a `model_fn`'s features, as the original."""
  tf.logging.info("*** Features ***")
  for name in sorted(features.keys()):
    tf.logging.info("  name = %s, shape = %s", name, features[name].shape)


def model_spec(mode, total_loss, eval_metrics, predictions, init_checkpoint,
               schedule, use_tpu, training):
  """What a fine-tuning `model_fn` returns in `mode`, as run_classifier's.

  Args:
    mode: the `runner.ModeKeys` of the call.
    total_loss: the mean loss [].
    eval_metrics: (metric_fn, tensors), for evaluation.
    predictions: {name: tensor}, for prediction.
    init_checkpoint: checkpoint to start from, or None.
    schedule: (learning_rate, num_train_steps, num_warmup_steps) of
      `optimization.create_optimizer`.
    use_tpu: bool.
    training: `training_options.TrainingSettings`.

  Returns:
    A `runner.TPUEstimatorSpec`.
  """
  scaffold_fn = runner.init_from_checkpoint(init_checkpoint, use_tpu)
  if mode == runner.ModeKeys.TRAIN:
    runner.track_training_loss(total_loss, use_tpu)
    (learning_rate, num_train_steps, num_warmup_steps) = schedule
    train_op = optimization.create_optimizer(
        total_loss, learning_rate, num_train_steps, num_warmup_steps, use_tpu,
        **training_options.optimizer_kwargs(training))
    return runner.TPUEstimatorSpec(
        mode=mode, loss=total_loss, train_op=train_op,
        scaffold_fn=scaffold_fn)
  if mode == runner.ModeKeys.EVAL:
    return runner.TPUEstimatorSpec(
        mode=mode, loss=total_loss, eval_metrics=eval_metrics,
        scaffold_fn=scaffold_fn)
  return runner.TPUEstimatorSpec(
      mode=mode, predictions=predictions, scaffold_fn=scaffold_fn)


def build_runner(model_fn, setup, config, model_dir=None):
  """`runner.build_runner` for a fine-tuning run.

  Args:
    model_fn: the script's model function.
    setup: `runner.RunSetup` of the run.
    config: `FineTuningConfig`.
    model_dir: the checkpoints' directory (default: --output_dir).
  """
  return runner.build_runner(
      model_fn,
      setup.settings,
      model_dir=model_dir or config.output_dir,
      save_checkpoints_steps=config.save_checkpoints_steps,
      iterations_per_loop=config.iterations_per_loop,
      train_batch_size=setup.train_batch_size,
      eval_batch_size=config.eval_batch_size,
      predict_batch_size=config.predict_batch_size,
      training=setup.training)


def locked_output_dir(setup, config):
  """Holds --output_dir (a worker's own folder, in a multi-worker run)."""
  return script_io.locked_directory(
      training_options.locked_directory(setup.training, config.output_dir),
      "output_dir")


def progress_hook(num_train_steps, config):
  """The `runner.ProgressHook` of a training run."""
  return runner.ProgressHook(num_train_steps, config.train_batch_size,
                             config.iterations_per_loop)


def train(estimator, input_fn, num_train_steps, config):
  """Trains to `num_train_steps`, logging progress."""
  tf.logging.info("  Num steps = %d", num_train_steps)
  estimator.train(input_fn=input_fn, max_steps=num_train_steps,
                  hooks=[progress_hook(num_train_steps, config)])


def eval_steps(num_items, config):
  """Steps of one evaluation: until the data ends, or whole batches on TPU."""
  if config.use_tpu:
    return num_items // config.eval_batch_size
  return None


def evaluate(estimator, input_fn, num_items, config, results_dir=None):
  """Evaluates the latest checkpoint; writes and returns the metrics.

  Args:
    estimator: the runner.
    input_fn: the evaluation `input_fn`.
    num_items: the examples (padding included) `input_fn` reads.
    config: `FineTuningConfig`.
    results_dir: where eval_results.txt goes (default: --output_dir).

  Returns:
    The dict of metrics.
  """
  result = estimator.evaluate(input_fn=input_fn,
                              steps=eval_steps(num_items, config))
  script_io.write_eval_results(
      os.path.join(results_dir or config.output_dir, "eval_results.txt"),
      result)
  return result


def predictions(estimator, input_fn, num_actual, output_path, unit):
  """The predictions of the first `num_actual` (real) examples.

  Raises:
    ScriptError: if the runner gives fewer; nothing is written to
      `output_path` then.
  """
  results = []
  for result in estimator.predict(input_fn=input_fn):
    if len(results) == num_actual:
      break
    results.append(result)
  if len(results) != num_actual:
    raise script_io.ScriptError(
        "%s: got %d predictions for %d test %s; the file is left as it was" %
        (output_path, len(results), num_actual, unit))
  return results


def softmax_loss(logits, labels, num_classes):
  """The original's softmax cross-entropy of a classifier.

  Args:
    logits: float32 [batch_size, num_classes].
    labels: int32 [batch_size] class ids.
    num_classes: int.

  Returns:
    (loss [], per_example_loss [batch_size], probabilities [batch_size,
    num_classes]); the loss is the mean over the whole batch.
  """
  probabilities = tf.nn.softmax(logits, axis=-1)
  log_probs = tf.nn.log_softmax(logits, axis=-1)
  one_hot_labels = tf.one_hot(labels, depth=num_classes, dtype=tf.float32)
  per_example_loss = -tf.reduce_sum(one_hot_labels * log_probs, axis=-1)
  loss = tf.reduce_mean(per_example_loss)
  return (loss, per_example_loss, probabilities)
