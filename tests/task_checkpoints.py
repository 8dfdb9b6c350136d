"""Checkpoints of tiny fine-tuned models, made without training.

The tiny BERT's weights plus a task layer of standard normal values, far
larger than its initializer's (stddev 0.02 and zero biases), so that the
outputs differ from one input to the next by more than the tests'
tolerances: a wrong feature then shows.
"""

import os

import numpy as np
import tensorflow.compat.v1 as tf

import export
import modeling
import run_classifier
import run_squad
import runner


def write_task_checkpoint(tiny_bert, path, outputs_fn):
  """Saves the tiny BERT and the new variables of `outputs_fn` at `path`."""
  with tf.Graph().as_default():
    tf.set_random_seed(1)
    inputs = export.serving_inputs(8)
    outputs_fn(*[inputs[name] for name in export.INPUT_NAMES])
    variables = tf.global_variables()
    (assignment_map, _) = modeling.get_assignment_map_from_checkpoint(
        variables, tiny_bert["checkpoint"])
    tf.train.init_from_checkpoint(tiny_bert["checkpoint"], assignment_map)
    rng = np.random.RandomState(2)
    with tf.Session() as session:
      session.run(tf.global_variables_initializer())
      for variable in variables:
        if variable.op.name not in assignment_map:
          shape = variable.shape.as_list()
          variable.load(rng.normal(size=shape).astype(np.float32), session)
      tf.train.Saver().save(session, path, write_meta_graph=False)
  return path


def classifier_checkpoint(tiny_bert, directory, num_labels=2):
  config = runner.read_bert_config(tiny_bert["config_file"])
  model_fn = run_classifier.model_fn_builder(
      bert_config=config, num_labels=num_labels, init_checkpoint=None,
      learning_rate=0.0, num_train_steps=None, num_warmup_steps=None,
      use_tpu=False, use_one_hot_embeddings=False)
  return write_task_checkpoint(
      tiny_bert, os.path.join(directory, "classifier.ckpt"),
      run_classifier.serving_outputs_fn(model_fn, num_labels))


def squad_checkpoint(tiny_bert, directory):
  config = runner.read_bert_config(tiny_bert["config_file"])
  return write_task_checkpoint(
      tiny_bert, os.path.join(directory, "squad.ckpt"),
      run_squad.serving_outputs_fn(config))
