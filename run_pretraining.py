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
"""Masked-LM and next-sentence pre-training of BERT, on TPU, GPU or CPU.

Reads the TFRecords of `create_pretraining_data.py`. Training checkpoints to
--output_dir every --save_checkpoints_steps and, run again with the same
command after a crash, resumes from the latest checkpoint up to
--num_train_steps. `--do_eval` writes `eval_results.txt` there.
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import os

from absl import flags
import tensorflow.compat.v1 as tf

import modeling
import optimization
import runner
import script_io
import training_options

FLAGS = flags.FLAGS

## Required parameters
flags.DEFINE_string(
    "bert_config_file", None,
    "The config json file corresponding to the pre-trained BERT model. "
    "This specifies the model architecture.", **script_io.OVERRIDABLE)

flags.DEFINE_string(
    "input_file", None,
    "Input TF example files (can be a glob or comma separated).",
    **script_io.OVERRIDABLE)

flags.DEFINE_string(
    "output_dir", None,
    "The output directory where the model checkpoints will be written.",
    **script_io.OVERRIDABLE)

## Other parameters
flags.DEFINE_string(
    "init_checkpoint", None,
    "Initial checkpoint (usually from a pre-trained BERT model).",
    **script_io.OVERRIDABLE)

flags.DEFINE_integer(
    "max_seq_length", 128,
    "The maximum total input sequence length after WordPiece tokenization. "
    "Sequences longer than this will be truncated, and sequences shorter "
    "than this will be padded. Must match data generation.",
    **script_io.OVERRIDABLE)

flags.DEFINE_integer(
    "max_predictions_per_seq", 20,
    "Maximum number of masked LM predictions per sequence. "
    "Must match data generation.", **script_io.OVERRIDABLE)

flags.DEFINE_bool("do_train", False, "Whether to run training.",
                  **script_io.OVERRIDABLE)

flags.DEFINE_bool("do_eval", False, "Whether to run eval on the dev set.",
                  **script_io.OVERRIDABLE)

flags.DEFINE_integer("train_batch_size", 32, "Total batch size for training.",
                     **script_io.OVERRIDABLE)

flags.DEFINE_integer("eval_batch_size", 8, "Total batch size for eval.",
                     **script_io.OVERRIDABLE)

flags.DEFINE_float("learning_rate", 5e-5, "The initial learning rate for Adam.",
                   **script_io.OVERRIDABLE)

flags.DEFINE_integer("num_train_steps", 100000, "Number of training steps.",
                     **script_io.OVERRIDABLE)

flags.DEFINE_integer("num_warmup_steps", 10000, "Number of warmup steps.",
                     **script_io.OVERRIDABLE)

flags.DEFINE_integer("save_checkpoints_steps", 1000,
                     "How often to save the model checkpoint.",
                     **script_io.OVERRIDABLE)

flags.DEFINE_integer(
    "iterations_per_loop", 1000,
    "How many steps to make in each estimator call (and between progress "
    "reports).", **script_io.OVERRIDABLE)

flags.DEFINE_integer("max_eval_steps", 100, "Maximum number of eval steps.",
                     **script_io.OVERRIDABLE)

runner.define_runner_flags()
training_options.define_training_flags()


def model_fn_builder(bert_config, init_checkpoint, learning_rate,
                     num_train_steps, num_warmup_steps, use_tpu,
                     use_one_hot_embeddings,
                     training=training_options.DEFAULT_SETTINGS):
  """Returns the `model_fn` closure for TPUEstimator.

  Args:
    bert_config: `BertConfig` of the model.
    init_checkpoint: checkpoint to initialize from (None: random weights).
    learning_rate: float, peak learning rate of the optimizer.
    num_train_steps: int, steps until the learning rate reaches 0.
    num_warmup_steps: int, steps of linear warm-up.
    use_tpu: bool, whether the model runs on a TPU.
    use_one_hot_embeddings: bool, one-hot matmul embedding lookups (faster
      on TPUs) instead of gathers.
    training: (not in the original) `training_options.TrainingSettings`:
      optimizer, accumulation, precision, gradient checkpointing.

  Returns:
    `model_fn(features, labels, mode, params)` for TRAIN and EVAL modes.
  """

  def model_fn(features, labels, mode, params):
    """The `model_fn` for TPUEstimator: BertModel and both heads."""
    tf.logging.info("*** Features ***")
    for name in sorted(features.keys()):
      tf.logging.info("  name = %s, shape = %s", name, features[name].shape)

    is_training = (mode == runner.ModeKeys.TRAIN)
    (total_loss, masked_lm_loss, next_sentence_loss,
     metric_inputs) = _pretraining_losses(bert_config, features, is_training,
                                          use_one_hot_embeddings, training)

    scaffold_fn = runner.init_from_checkpoint(init_checkpoint, use_tpu)

    if mode == runner.ModeKeys.TRAIN:
      train_op = optimization.create_optimizer(
          total_loss, learning_rate, num_train_steps, num_warmup_steps, use_tpu,
          **training_options.optimizer_kwargs(training))
      # On a TPU the loss lives inside the replicated computation, where a
      # host-side hook cannot fetch it and summaries are not written;
      # TPUEstimator logs the loss of each loop itself there.
      if not use_tpu:
        _add_training_summaries(total_loss, masked_lm_loss,
                                next_sentence_loss, learning_rate,
                                num_train_steps, num_warmup_steps)
      return runner.TPUEstimatorSpec(
          mode=mode,
          loss=total_loss,
          train_op=train_op,
          scaffold_fn=scaffold_fn)

    if mode == runner.ModeKeys.EVAL:
      return runner.TPUEstimatorSpec(
          mode=mode,
          loss=total_loss,
          eval_metrics=(metric_fn, metric_inputs),
          scaffold_fn=scaffold_fn)

    raise ValueError("Only TRAIN and EVAL modes are supported: %s" % mode)

  return model_fn


def _pretraining_losses(bert_config, features, is_training,
                        use_one_hot_embeddings, training):
  """Builds BertModel and both heads over a batch of `features`.

  Returns:
    (total_loss, masked_lm_loss, next_sentence_loss, metric_inputs): the
    losses (float scalars) and the list of `metric_fn`'s arguments.
  """
  input_ids = features["input_ids"]
  input_mask = features["input_mask"]
  segment_ids = features["segment_ids"]
  masked_lm_positions = features["masked_lm_positions"]
  masked_lm_ids = features["masked_lm_ids"]
  masked_lm_weights = features["masked_lm_weights"]
  next_sentence_labels = features["next_sentence_labels"]

  model = modeling.BertModel(
      config=bert_config,
      is_training=is_training,
      input_ids=input_ids,
      input_mask=input_mask,
      token_type_ids=segment_ids,
      use_one_hot_embeddings=use_one_hot_embeddings,
      **training_options.model_kwargs(training, is_training))

  (masked_lm_loss,
   masked_lm_example_loss, masked_lm_log_probs) = get_masked_lm_output(
       bert_config, model.get_sequence_output(), model.get_embedding_table(),
       masked_lm_positions, masked_lm_ids, masked_lm_weights)

  (next_sentence_loss, next_sentence_example_loss,
   next_sentence_log_probs) = get_next_sentence_output(
       bert_config, model.get_pooled_output(), next_sentence_labels)

  total_loss = masked_lm_loss + next_sentence_loss
  metric_inputs = [
      masked_lm_example_loss, masked_lm_log_probs, masked_lm_ids,
      masked_lm_weights, next_sentence_example_loss,
      next_sentence_log_probs, next_sentence_labels
  ]
  return (total_loss, masked_lm_loss, next_sentence_loss, metric_inputs)


def _add_training_summaries(total_loss, masked_lm_loss, next_sentence_loss,
                            learning_rate, num_train_steps,
                            num_warmup_steps):
  """Logs the loss, and writes summaries of it and of the learning rate."""
  runner.track_training_loss(total_loss)
  tf.summary.scalar(
      "learning_rate",
      optimization.learning_rate_schedule(learning_rate, num_train_steps,
                                          num_warmup_steps))
  # Each head's share of `loss`, for curves of both during training.
  tf.summary.scalar("masked_lm_loss", masked_lm_loss)
  tf.summary.scalar("next_sentence_loss", next_sentence_loss)


def metric_fn(masked_lm_example_loss, masked_lm_log_probs, masked_lm_ids,
              masked_lm_weights, next_sentence_example_loss,
              next_sentence_log_probs, next_sentence_labels):
  """Computes the eval losses and accuracies of both heads.

  Args:
    masked_lm_example_loss: float Tensor [batch_size * max_predictions].
    masked_lm_log_probs: float Tensor [batch_size * max_predictions, vocab].
    masked_lm_ids: int32 Tensor [batch_size, max_predictions].
    masked_lm_weights: float Tensor [batch_size, max_predictions]; padded
      prediction slots have weight 0 and count in neither masked-LM metric.
    next_sentence_example_loss: float Tensor [batch_size].
    next_sentence_log_probs: float Tensor [batch_size, 2].
    next_sentence_labels: int32 Tensor [batch_size, 1].

  Returns:
    A dict of `tf.metrics` (value, update_op) pairs.
  """
  masked_lm_log_probs = tf.reshape(masked_lm_log_probs,
                                   [-1, masked_lm_log_probs.shape[-1]])
  masked_lm_predictions = tf.argmax(
      masked_lm_log_probs, axis=-1, output_type=tf.int32)
  masked_lm_example_loss = tf.reshape(masked_lm_example_loss, [-1])
  masked_lm_ids = tf.reshape(masked_lm_ids, [-1])
  masked_lm_weights = tf.reshape(masked_lm_weights, [-1])
  masked_lm_accuracy = tf.metrics.accuracy(
      labels=masked_lm_ids,
      predictions=masked_lm_predictions,
      weights=masked_lm_weights)
  masked_lm_mean_loss = tf.metrics.mean(
      values=masked_lm_example_loss, weights=masked_lm_weights)

  next_sentence_log_probs = tf.reshape(
      next_sentence_log_probs, [-1, next_sentence_log_probs.shape[-1]])
  next_sentence_predictions = tf.argmax(
      next_sentence_log_probs, axis=-1, output_type=tf.int32)
  next_sentence_labels = tf.reshape(next_sentence_labels, [-1])
  next_sentence_accuracy = tf.metrics.accuracy(
      labels=next_sentence_labels, predictions=next_sentence_predictions)
  next_sentence_mean_loss = tf.metrics.mean(
      values=next_sentence_example_loss)

  return {
      "masked_lm_accuracy": masked_lm_accuracy,
      "masked_lm_loss": masked_lm_mean_loss,
      "next_sentence_accuracy": next_sentence_accuracy,
      "next_sentence_loss": next_sentence_mean_loss,
  }


def get_masked_lm_output(bert_config, input_tensor, output_weights, positions,
                         label_ids, label_weights):
  """Builds the masked-LM head and its loss.

  Args:
    bert_config: `BertConfig`.
    input_tensor: float Tensor [batch_size, seq_length, hidden_size], the
      encoder's last layer.
    output_weights: float Tensor [vocab_size, hidden_size], the word
      embedding table (the output layer shares it).
    positions: int32 Tensor [batch_size, max_predictions], the masked
      positions (zero-padded).
    label_ids: int32 Tensor [batch_size, max_predictions], their true ids.
    label_weights: float Tensor [batch_size, max_predictions], 1.0 for a
      real prediction, 0.0 for padding.

  Returns:
    (loss, per_example_loss, log_probs): the weighted mean loss [], the loss
    of every prediction slot [batch_size * max_predictions] and the
    log-probabilities [batch_size * max_predictions, vocab_size]. Padded
    slots have rows too; only the weights leave them out of the loss.
  """
  input_tensor = gather_indexes(input_tensor, positions)

  with tf.variable_scope("cls/predictions"):
    # One more non-linear transformation before the output layer; only
    # pre-training uses it.
    with tf.variable_scope("transform"):
      input_tensor = modeling.dense_layer(
          input_tensor,
          bert_config.hidden_size,
          activation=modeling.get_activation(bert_config.hidden_act),
          kernel_initializer=modeling.create_initializer(
              bert_config.initializer_range))
      input_tensor = modeling.layer_norm(input_tensor)

    # The output layer is the transposed input embedding table plus a bias
    # of its own for each token.
    output_bias = tf.get_variable(
        "output_bias",
        shape=[bert_config.vocab_size],
        initializer=tf.zeros_initializer())
    logits = tf.matmul(input_tensor, output_weights, transpose_b=True)
    logits = tf.nn.bias_add(logits, output_bias)
    log_probs = tf.nn.log_softmax(logits, axis=-1)

    label_ids = tf.reshape(label_ids, [-1])
    label_weights = tf.reshape(label_weights, [-1])

    one_hot_labels = tf.one_hot(
        label_ids, depth=bert_config.vocab_size, dtype=tf.float32)

    per_example_loss = -tf.reduce_sum(log_probs * one_hot_labels, axis=[-1])
    numerator = tf.reduce_sum(label_weights * per_example_loss)
    # Quirk of the original: the 1e-5 keeps a batch without predictions
    # from dividing by zero, and shifts every loss slightly.
    denominator = tf.reduce_sum(label_weights) + 1e-5
    loss = numerator / denominator

  return (loss, per_example_loss, log_probs)


def get_next_sentence_output(bert_config, input_tensor, labels):
  """Builds the next-sentence head and its loss.

  Label 0 means segment B really follows A, 1 that B is a random segment.

  Args:
    bert_config: `BertConfig`.
    input_tensor: float Tensor [batch_size, hidden_size], the pooled output.
    labels: int32 Tensor [batch_size, 1] (or [batch_size]).

  Returns:
    (loss, per_example_loss, log_probs): the mean loss [], the loss of each
    example [batch_size] and the log-probabilities [batch_size, 2].
  """
  with tf.variable_scope("cls/seq_relationship"):
    output_weights = tf.get_variable(
        "output_weights",
        shape=[2, bert_config.hidden_size],
        initializer=modeling.create_initializer(bert_config.initializer_range))
    output_bias = tf.get_variable(
        "output_bias", shape=[2], initializer=tf.zeros_initializer())

    logits = tf.matmul(input_tensor, output_weights, transpose_b=True)
    logits = tf.nn.bias_add(logits, output_bias)
    log_probs = tf.nn.log_softmax(logits, axis=-1)
    labels = tf.reshape(labels, [-1])
    one_hot_labels = tf.one_hot(labels, depth=2, dtype=tf.float32)
    per_example_loss = -tf.reduce_sum(one_hot_labels * log_probs, axis=-1)
    loss = tf.reduce_mean(per_example_loss)
    return (loss, per_example_loss, log_probs)


def gather_indexes(sequence_tensor, positions):
  """Gathers the vectors at the given positions of each sequence.

  Args:
    sequence_tensor: float Tensor [batch_size, seq_length, width].
    positions: int32 Tensor [batch_size, num_positions].

  Returns:
    float Tensor [batch_size * num_positions, width].
  """
  sequence_shape = modeling.get_shape_list(sequence_tensor, expected_rank=3)
  batch_size = sequence_shape[0]
  seq_length = sequence_shape[1]
  width = sequence_shape[2]

  flat_offsets = tf.reshape(
      tf.range(0, batch_size, dtype=tf.int32) * seq_length, [-1, 1])
  flat_positions = tf.reshape(positions + flat_offsets, [-1])
  flat_sequence_tensor = tf.reshape(sequence_tensor,
                                    [batch_size * seq_length, width])
  output_tensor = tf.gather(flat_sequence_tensor, flat_positions)
  return output_tensor


def feature_lengths(max_seq_length, max_predictions_per_seq):
  """Maps each pre-training feature to (its length, the flag setting it)."""
  return {
      "input_ids": (max_seq_length, "max_seq_length"),
      "input_mask": (max_seq_length, "max_seq_length"),
      "segment_ids": (max_seq_length, "max_seq_length"),
      "masked_lm_positions": (max_predictions_per_seq,
                              "max_predictions_per_seq"),
      "masked_lm_ids": (max_predictions_per_seq, "max_predictions_per_seq"),
      "masked_lm_weights": (max_predictions_per_seq,
                            "max_predictions_per_seq"),
      "next_sentence_labels": (1, None),
  }


def input_fn_builder(input_files,
                     max_seq_length,
                     max_predictions_per_seq,
                     is_training,
                     num_cpu_threads=4):
  """Returns the `input_fn` for TPUEstimator over `input_files`.

  Training reads the files in a random order, forever, several at a time,
  and shuffles records in a small buffer. Eval reads them in order.
  Both repeat and drop the last partial batch, so every batch is full.

  Args:
    input_files: list of TFRecord paths from create_pretraining_data.py.
    max_seq_length: int, length of input_ids, input_mask and segment_ids.
    max_predictions_per_seq: int, length of the masked_lm_* features.
    is_training: bool, training (shuffled) or eval (in order) reading.
    num_cpu_threads: int, files read and batches decoded in parallel.

  Returns:
    `input_fn(params)` giving a dataset of feature dicts with
    [batch_size, length] tensors, `params["batch_size"]` records each.
  """
  name_to_features = {}
  for (name, (length, _)) in feature_lengths(
      max_seq_length, max_predictions_per_seq).items():
    dtype = tf.float32 if name == "masked_lm_weights" else tf.int64
    name_to_features[name] = tf.io.FixedLenFeature([length], dtype)

  def input_fn(params):
    """The actual input function."""
    batch_size = params["batch_size"]

    if is_training:
      d = tf.data.Dataset.from_tensor_slices(tf.constant(input_files))
      d = d.repeat()
      d = d.shuffle(buffer_size=len(input_files))

      # How many files are read in parallel.
      cycle_length = min(num_cpu_threads, len(input_files))

      # A "sloppy" interleave takes records from whichever file is ready,
      # for speed and a little more randomness.
      d = d.apply(
          tf.data.experimental.parallel_interleave(
              tf.data.TFRecordDataset,
              sloppy=is_training,
              cycle_length=cycle_length))
      d = d.shuffle(buffer_size=100)
    else:
      d = tf.data.TFRecordDataset(input_files)
      # Quirk of the original: eval runs a fixed number of steps over a
      # repeated input, so it covers exactly max_eval_steps * eval_batch_size
      # records, wrapping around (or stopping short of the end) of the data.
      d = d.repeat()

    # A TPU needs fixed batch shapes, hence the dropped remainder (which the
    # repeat above makes harmless).
    d = d.apply(
        tf.data.experimental.map_and_batch(
            lambda record: script_io.decode_record(record,
                                                   name_to_features),
            batch_size=batch_size,
            num_parallel_batches=num_cpu_threads,
            drop_remainder=True))
    return d

  return input_fn


# The original's name for the decoder, kept for code that imports it.
_decode_record = script_io.decode_record


def check_input_records(input_files, max_seq_length, max_predictions_per_seq):
  """Checks the first record's feature lengths against the flags.

  Data made with another --max_seq_length or --max_predictions_per_seq would
  otherwise fail deep inside the input pipeline once training has started.

  Raises:
    InputError: if no file holds a record, or the first one lacks a feature
      or has one of another length.
  """
  (path, example) = _first_example(input_files)
  features = example.features.feature
  for (name, (length, flag_name)) in sorted(
      feature_lengths(max_seq_length, max_predictions_per_seq).items()):
    if name not in features:
      raise script_io.InputError(
          "--input_file: the first record of %s has no feature %s (is it "
          "pre-training data from create_pretraining_data.py?)" % (path, name))
    feature = features[name]
    kind = feature.WhichOneof("kind")
    found = len(getattr(feature, kind).value) if kind else 0
    if found != length and flag_name is None:
      raise script_io.InputError(
          "--input_file: %s holds %s of length %d, expected %d" %
          (path, name, found, length))
    if found != length:
      raise script_io.InputError(
          "--%s=%d but %s holds %s of length %d (made with --%s=%d?)" %
          (flag_name, length, path, name, found, flag_name, found))


def _first_example(input_files):
  """Returns (file, tf.train.Example) of the first record in `input_files`."""
  for path in input_files:
    try:
      for record in tf.io.tf_record_iterator(path):
        return (path, tf.train.Example.FromString(record))
    except tf.errors.DataLossError:
      raise script_io.InputError(
          "--input_file: %s is not a TFRecord file" % path)
  raise script_io.InputError(
      "--input_file: no record in %s" % ", ".join(input_files))


def validate_flags_or_throw(bert_config):
  """Reads FLAGS; raises InputError for values that cannot work."""
  script_io.check_max_seq_length(FLAGS.max_seq_length,
                                 bert_config.max_position_embeddings,
                                 FLAGS.bert_config_file)


def main(_):
  tf.logging.set_verbosity(tf.logging.INFO)

  if not FLAGS.do_train and not FLAGS.do_eval:
    raise script_io.InputError(
        "At least one of --do_train or --do_eval must be True.")

  bert_config = runner.read_bert_config(FLAGS.bert_config_file)
  validate_flags_or_throw(bert_config)
  (settings, training, train_batch_size,
   init_checkpoint) = runner.setup_from_flags(FLAGS, bert_config)

  input_files = script_io.expand_file_patterns(FLAGS.input_file,
                                               "input_file")
  tf.logging.info("*** Input Files ***")
  for input_file in input_files:
    tf.logging.info("  %s", input_file)
  check_input_records(input_files, FLAGS.max_seq_length,
                      FLAGS.max_predictions_per_seq)

  model_fn = model_fn_builder(
      bert_config=bert_config,
      init_checkpoint=init_checkpoint,
      learning_rate=FLAGS.learning_rate,
      num_train_steps=FLAGS.num_train_steps,
      num_warmup_steps=FLAGS.num_warmup_steps,
      use_tpu=FLAGS.use_tpu,
      use_one_hot_embeddings=FLAGS.use_tpu,
      training=training)

  # Checkpoints go to --output_dir: `train` restores the latest one there and
  # continues to --num_train_steps, so running the same command again after
  # a crash resumes it. TensorFlow's Saver writes a checkpoint's data and
  # index files first (the index through a temporary name) and only then
  # atomically replaces the `checkpoint` state file that names the latest
  # one, so a kill mid-save leaves the previous checkpoint in charge.
  estimator = runner.build_runner(
      model_fn,
      settings,
      model_dir=FLAGS.output_dir,
      save_checkpoints_steps=FLAGS.save_checkpoints_steps,
      iterations_per_loop=FLAGS.iterations_per_loop,
      train_batch_size=train_batch_size,
      eval_batch_size=FLAGS.eval_batch_size,
      training=training)

  def input_fn_over_files(is_training):
    return input_fn_builder(
        input_files=input_files,
        max_seq_length=FLAGS.max_seq_length,
        max_predictions_per_seq=FLAGS.max_predictions_per_seq,
        is_training=is_training)

  with script_io.locked_directory(
      training_options.locked_directory(training, FLAGS.output_dir),
      "output_dir"), \
       script_io.naming_corrupt_records(input_files, "input_file"):
    if FLAGS.do_train:
      tf.logging.info("***** Running training *****")
      tf.logging.info("  Batch size = %d", FLAGS.train_batch_size)
      training_options.log_batch_sizes(training, FLAGS.train_batch_size)
      progress = runner.ProgressHook(
          FLAGS.num_train_steps, FLAGS.train_batch_size,
          FLAGS.iterations_per_loop)
      estimator.train(input_fn=input_fn_over_files(is_training=True),
                      max_steps=FLAGS.num_train_steps, hooks=[progress])

    if FLAGS.do_eval and training_options.is_chief(training):
      tf.logging.info("***** Running evaluation *****")
      tf.logging.info("  Batch size = %d", FLAGS.eval_batch_size)
      result = estimator.evaluate(
          input_fn=input_fn_over_files(is_training=False),
          steps=FLAGS.max_eval_steps)
      script_io.write_eval_results(
          os.path.join(FLAGS.output_dir, "eval_results.txt"), result)


if __name__ == "__main__":
  flags.mark_flag_as_required("input_file")
  flags.mark_flag_as_required("bert_config_file")
  flags.mark_flag_as_required("output_dir")
  script_io.run(main)
