"""Tests of optimization.py, checked against a numpy version of the update.

The update of the original: gradients clipped to a global norm of 1.0; a
learning rate that rises linearly from 0 during the warm-up, then falls
linearly to 0 at `num_train_steps`; Adam moments without bias correction;
weight decay 0.01 added to the update (not the gradient), except for
variables whose name contains LayerNorm, layer_norm or bias.
"""

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

import optimization

INIT_LR = 0.1
NUM_TRAIN_STEPS = 100
NUM_WARMUP_STEPS = 10

# name -> (shape, whether weight decay applies).
VARIABLES = {
    "bert/encoder/layer_0/output/dense/kernel": ([3, 2], True),
    "bert/encoder/layer_0/output/dense/bias": ([2], False),
    "bert/encoder/layer_0/output/LayerNorm/gamma": ([2], False),
    "bert/embeddings/word_embeddings": ([4, 2], True),
    "cls/predictions/output_bias": ([4], False),
    "cls/seq_relationship/output_weights": ([2, 2], True),
    "other/layer_norm/scale": ([2], False),
}


def initial_values(scale=1.0, seed=0):
  """Float32 values (as the variables hold them) for every variable."""
  rng = np.random.RandomState(seed)
  return {name: (scale * rng.normal(size=shape)).astype(np.float32)
          for (name, (shape, _)) in sorted(VARIABLES.items())}


def build_variables(values):
  """Creates one float32 variable per entry of `values`, by name."""
  variables = {}
  for (name, value) in sorted(values.items()):
    variables[name] = tf.get_variable(
        name, initializer=tf.constant(value, tf.float32))
  return variables


def quadratic_loss(variables, targets):
  """sum(0.5 * (p - t)^2): the gradient of each variable is p - t."""
  return tf.add_n([
      0.5 * tf.reduce_sum(tf.square(variables[name] - targets[name]))
      for name in sorted(variables)])


def expected_learning_rate(step, num_warmup_steps=NUM_WARMUP_STEPS):
  if num_warmup_steps and step < num_warmup_steps:
    return INIT_LR * step / num_warmup_steps
  return INIT_LR * (1.0 - min(step, NUM_TRAIN_STEPS) / NUM_TRAIN_STEPS)


def numpy_step(params, slots, targets, step,
               num_warmup_steps=NUM_WARMUP_STEPS):
  """One update of the original's optimizer, in float64 numpy."""
  params = {name: value.astype(np.float64) for (name, value) in params.items()}
  grads = {name: params[name] - targets[name] for name in params}
  global_norm = np.sqrt(sum(np.sum(g ** 2) for g in grads.values()))
  clip_scale = 1.0 / max(global_norm, 1.0)
  learning_rate = expected_learning_rate(step, num_warmup_steps)
  new_params, new_slots = {}, {}
  for (name, param) in params.items():
    grad = grads[name] * clip_scale
    (m, v) = slots[name]
    m = 0.9 * m + 0.1 * grad
    v = 0.999 * v + 0.001 * grad ** 2
    update = m / (np.sqrt(v) + 1e-6)
    if VARIABLES[name][1]:
      update += 0.01 * param
    new_params[name] = param - learning_rate * update
    new_slots[name] = (m, v)
  return new_params, new_slots


class TrainingProblem(object):
  """A graph with VARIABLES, a quadratic loss and `create_optimizer`."""

  def __init__(self, values, targets, num_warmup_steps=NUM_WARMUP_STEPS):
    self.graph = tf.Graph()
    with self.graph.as_default():
      self.variables = build_variables(values)
      loss = quadratic_loss(self.variables, targets)
      self.train_op = optimization.create_optimizer(
          loss, INIT_LR, NUM_TRAIN_STEPS, num_warmup_steps, use_tpu=False)
      self.global_step = tf.train.get_global_step()
      self.new_step = tf.placeholder(tf.int64, [])
      self.set_step = self.global_step.assign(self.new_step)
      self.slots = {}
      for name in self.variables:
        with tf.variable_scope("", reuse=True):
          self.slots[name] = (tf.get_variable(name + "/adam_m"),
                              tf.get_variable(name + "/adam_v"))
      self.session = tf.Session()
      self.session.run(tf.global_variables_initializer())

  def run_step(self, step=None):
    if step is not None:
      self.session.run(self.set_step, {self.new_step: step})
    self.session.run(self.train_op)
    return self.session.run([self.variables, self.slots, self.global_step])

  def close(self):
    self.session.close()


def assert_close(got, expected):
  for name in expected:
    np.testing.assert_allclose(got[name], expected[name], rtol=1e-5,
                               atol=1e-6, err_msg=name)


# A gradient norm far above 1 (clipped) and one below 1 (left alone).
@pytest.mark.parametrize("target_scale", [10.0, 0.01])
@pytest.mark.parametrize("step", [0, 5, 10, 40, 100, 150])
def test_one_step_matches_numpy(step, target_scale):
  values = initial_values(scale=0.01 if target_scale < 1 else 1.0)
  targets = initial_values(scale=target_scale, seed=1)
  problem = TrainingProblem(values, targets)
  (params, slots, global_step) = problem.run_step(step)
  problem.close()
  zeros = {name: (0.0, 0.0) for name in values}
  (expected_params, expected_slots) = numpy_step(values, zeros, targets, step)
  assert_close(params, expected_params)
  assert_close({n: s[0] for (n, s) in slots.items()},
               {n: s[0] for (n, s) in expected_slots.items()})
  assert_close({n: s[1] for (n, s) in slots.items()},
               {n: s[1] for (n, s) in expected_slots.items()})
  assert global_step == step + 1
  moved = max(np.abs(params[n] - values[n]).max() for n in values)
  if expected_learning_rate(step) == 0.0:
    assert moved == 0.0
  else:
    assert moved > 1e-4


def test_consecutive_steps_match_numpy_and_count_global_step():
  values = initial_values()
  targets = initial_values(scale=3.0, seed=1)
  problem = TrainingProblem(values, targets)
  (params, slots) = (values, {name: (0.0, 0.0) for name in values})
  problem.run_step(7)  # Sets global_step to 7 then takes a step.
  (params, slots) = numpy_step(params, slots, targets, 7)
  for step in range(8, 13):  # Crosses the end of the warm-up.
    (got_params, got_slots, global_step) = problem.run_step()
    assert global_step == step + 1
    (params, slots) = numpy_step(params, slots, targets, step)
    assert_close(got_params, params)
    assert_close({n: s[1] for (n, s) in got_slots.items()},
                 {n: s[1] for (n, s) in slots.items()})
  problem.close()


@pytest.mark.parametrize("num_warmup_steps", [0, None])
def test_no_warmup_starts_at_the_full_learning_rate(num_warmup_steps):
  values = initial_values()
  targets = initial_values(scale=2.0, seed=1)
  problem = TrainingProblem(values, targets, num_warmup_steps)
  (params, _, _) = problem.run_step(0)
  problem.close()
  zeros = {name: (0.0, 0.0) for name in values}
  (expected, _) = numpy_step(values, zeros, targets, 0, num_warmup_steps)
  assert_close(params, expected)
  assert expected_learning_rate(0, num_warmup_steps) == INIT_LR


def test_weight_decay_skips_layer_norm_and_bias_variables():
  """With zero gradients only the weight decay moves a variable."""
  values = initial_values()
  problem = TrainingProblem(values, targets=values)
  (params, _, _) = problem.run_step(NUM_WARMUP_STEPS)
  problem.close()
  learning_rate = expected_learning_rate(NUM_WARMUP_STEPS)
  for (name, (_, decayed)) in VARIABLES.items():
    factor = 1.0 - learning_rate * 0.01 if decayed else 1.0
    np.testing.assert_allclose(params[name], values[name] * factor,
                               rtol=1e-6, err_msg=name)


def test_do_use_weight_decay_by_name():
  optimizer = optimization.AdamWeightDecayOptimizer(
      0.1, weight_decay_rate=0.01,
      exclude_from_weight_decay=["LayerNorm", "layer_norm", "bias"])
  for (name, (_, decayed)) in VARIABLES.items():
    assert optimizer._do_use_weight_decay(name) == decayed, name
  no_decay = optimization.AdamWeightDecayOptimizer(0.1)
  assert not no_decay._do_use_weight_decay("dense/kernel")
  no_exclusions = optimization.AdamWeightDecayOptimizer(
      0.1, weight_decay_rate=0.01)
  assert no_exclusions._do_use_weight_decay("dense/bias")


def test_get_variable_name_strips_the_output_index():
  optimizer = optimization.AdamWeightDecayOptimizer(0.1)
  assert optimizer._get_variable_name("a/b/kernel:0") == "a/b/kernel"
  assert optimizer._get_variable_name("a/b/kernel") == "a/b/kernel"


def test_slot_variables_and_global_step_are_the_only_new_variables():
  with tf.Graph().as_default():
    variables = build_variables(initial_values())
    loss = quadratic_loss(variables, initial_values(seed=1))
    optimization.create_optimizer(loss, INIT_LR, NUM_TRAIN_STEPS,
                                  NUM_WARMUP_STEPS, use_tpu=False)
    got = {v.op.name: v.shape.as_list() for v in tf.global_variables()}
    trainable = {v.op.name for v in tf.trainable_variables()}
  expected = {"global_step": []}
  for (name, (shape, _)) in VARIABLES.items():
    expected[name] = shape
    expected[name + "/adam_m"] = shape
    expected[name + "/adam_v"] = shape
  assert got == expected
  assert trainable == set(VARIABLES)


def test_variables_without_gradient_are_left_alone():
  with tf.Graph().as_default():
    used = tf.get_variable("used", initializer=tf.constant([1.0, 2.0]))
    unused = tf.get_variable("unused", initializer=tf.constant([3.0]))
    train_op = optimization.create_optimizer(
        tf.reduce_sum(used), INIT_LR, NUM_TRAIN_STEPS, 0, use_tpu=False)
    names = {v.op.name for v in tf.global_variables()}
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      sess.run(train_op)
      (used_value, unused_value) = sess.run([used, unused])
  assert "used/adam_m" in names and "unused/adam_m" not in names
  assert np.all(used_value < [1.0, 2.0])
  np.testing.assert_array_equal(unused_value, [3.0])


def test_existing_global_step_is_reused():
  with tf.Graph().as_default():
    global_step = tf.train.get_or_create_global_step()
    weight = tf.get_variable("w", initializer=tf.constant([1.0]))
    train_op = optimization.create_optimizer(
        tf.reduce_sum(weight), INIT_LR, NUM_TRAIN_STEPS, 0, use_tpu=False)
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      for _ in range(3):
        sess.run(train_op)
      assert sess.run(global_step) == 3
