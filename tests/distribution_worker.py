"""A tiny BERT classifier trained by `runner.GraphRunner`, for the tests.

tests/test_distribution.py trains it in process (one device, or mirrored
on two logical CPUs) and, run as a script, as one worker of a cluster:

  TF_CONFIG=... python tests/distribution_worker.py MODEL_DIR INIT_CKPT STEPS

which prints the losses of its steps as one JSON line. Dropout is off and
the input is in order, so every way of splitting the batch trains the same.
"""

import json
import os
import sys

import numpy as np
import tensorflow.compat.v1 as tf

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))
# pylint: disable=g-import-not-at-top,wrong-import-position
import modeling
import optimization
import runner
import training_options
# pylint: enable=g-import-not-at-top,wrong-import-position

CONFIG = modeling.BertConfig(
    vocab_size=30, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
    intermediate_size=24, hidden_dropout_prob=0.0,
    attention_probs_dropout_prob=0.0, max_position_embeddings=16)
GLOBAL_BATCH_SIZE = 8
SEQ_LENGTH = 8
_RNG = np.random.RandomState(3)
INPUT_IDS = _RNG.randint(0, CONFIG.vocab_size, size=(64, SEQ_LENGTH)).astype(
    np.int32)
LABELS = (INPUT_IDS[:, 1] % 2).astype(np.int32)


def input_fn(params):
  """The examples in order, repeated, in batches of `batch_size`."""
  dataset = tf.data.Dataset.from_tensor_slices({
      "input_ids": INPUT_IDS,
      "label": LABELS
  })
  return dataset.repeat().batch(params["batch_size"], drop_remainder=True)


def model_fn_builder(init_checkpoint, training):
  """A classifier on BERT's pooled output, trained as the scripts do."""

  def model_fn(features, mode):
    model = modeling.BertModel(
        CONFIG, is_training=True, input_ids=features["input_ids"],
        **training_options.model_kwargs(training, is_training=True))
    logits = modeling.dense_layer(model.get_pooled_output(), 2,
                                  name="classifier")
    one_hot = tf.one_hot(features["label"], depth=2)
    loss = -tf.reduce_mean(
        tf.reduce_sum(one_hot * tf.nn.log_softmax(logits), axis=-1))
    if init_checkpoint:
      runner.init_from_checkpoint(init_checkpoint, use_tpu=False)
    runner.track_training_loss(loss)
    train_op = optimization.create_optimizer(
        loss, 0.05, 10, 2, False,
        **training_options.optimizer_kwargs(training))
    return runner.TPUEstimatorSpec(mode=mode, loss=loss, train_op=train_op)

  return model_fn


def write_initial_checkpoint(path):
  """Saves random weights of the classifier, for every run to start from."""
  with tf.Graph().as_default():
    model_fn_builder(None, training_options.DEFAULT_SETTINGS)(
        tf.data.make_one_shot_iterator(input_fn({"batch_size": 2})).get_next(),
        runner.ModeKeys.TRAIN)
    with tf.Session() as session:
      session.run(tf.global_variables_initializer())
      tf.train.Saver(tf.trainable_variables()).save(session, path)


class LossRecorder(tf.train.SessionRunHook):
  """Records the training loss of every step."""

  def __init__(self):
    self.losses = []

  def begin(self):
    self._loss = tf.get_collection(runner.TRAINING_LOSS_COLLECTION)[0]

  def before_run(self, run_context):
    return tf.train.SessionRunArgs(self._loss)

  def after_run(self, run_context, run_values):
    self.losses.append(float(run_values.results))


def train(model_dir, init_checkpoint, training, steps):
  """Trains `steps` optimizer steps; returns the loss of each run."""
  graph_runner = runner.GraphRunner(
      model_fn_builder(init_checkpoint, training), model_dir=model_dir,
      save_checkpoints_steps=steps,
      train_batch_size=training_options.micro_batch_size(
          training, GLOBAL_BATCH_SIZE), training=training)
  recorder = LossRecorder()
  graph_runner.train(input_fn, max_steps=steps, hooks=[recorder])
  return recorder.losses


def main(argv):
  (model_dir, init_checkpoint, steps) = argv[1:]
  cluster = training_options.parse_tf_config(os.environ.get("TF_CONFIG"))
  training = training_options.DEFAULT_SETTINGS._replace(
      distribution_strategy="multi_worker_mirrored", devices=["/cpu:0"],
      cluster=cluster)
  losses = train(model_dir, init_checkpoint, training, int(steps))
  print(json.dumps({"losses": losses}))


if __name__ == "__main__":
  tf.logging.set_verbosity(tf.logging.ERROR)
  main(sys.argv)
