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


def test_learning_rate_schedule_warms_up_then_decays():
  with tf.Graph().as_default():
    step = tf.placeholder(tf.int64, [])
    rate = optimization.learning_rate_schedule(
        INIT_LR, NUM_TRAIN_STEPS, NUM_WARMUP_STEPS, global_step=step)
    with tf.Session() as session:
      for value in (0, 5, 10, 40, 100, 150):
        np.testing.assert_allclose(session.run(rate, {step: value}),
                                   expected_learning_rate(value), rtol=1e-6)


def numpy_lamb_step(params, grads, step, learning_rate):
  """One LAMB update from zero slots, in float64 numpy (You et al. 2019)."""
  norm = np.sqrt(sum(np.sum(g.astype(np.float64) ** 2)
                     for g in grads.values()))
  scale = 1.0 / max(norm, 1.0)
  new_params = {}
  for (name, param) in params.items():
    param = param.astype(np.float64)
    grad = grads[name].astype(np.float64) * scale
    m_hat = 0.1 * grad / (1.0 - 0.9 ** (step + 1))
    v_hat = 0.001 * grad ** 2 / (1.0 - 0.999 ** (step + 1))
    update = m_hat / (np.sqrt(v_hat) + 1e-6)
    ratio = 1.0
    if VARIABLES[name][1]:  # Decayed, hence also layer-adapted.
      update += 0.01 * param
      ratio = np.linalg.norm(param) / np.linalg.norm(update)
    new_params[name] = param - learning_rate * ratio * update
  return new_params


@pytest.mark.parametrize("step", [10, 40])
def test_lamb_step_matches_a_float64_numpy_reference(step):
  values = initial_values()
  targets = initial_values(scale=2.0, seed=1)
  with tf.Graph().as_default():
    variables = build_variables(values)
    loss = quadratic_loss(variables, targets)
    train_op = optimization.create_optimizer(
        loss, INIT_LR, NUM_TRAIN_STEPS, NUM_WARMUP_STEPS, use_tpu=False,
        optimizer_name="lamb")
    global_step = tf.train.get_global_step()
    slot_names = sorted(v.op.name for v in tf.global_variables()
                        if v.op.name.endswith(("/adam_m", "/adam_v")))
    with tf.Session() as session:
      session.run(tf.global_variables_initializer())
      session.run(global_step.assign(step))
      session.run(train_op)
      (got, got_step) = session.run([variables, global_step])
  grads = {name: values[name] - targets[name] for name in values}
  expected = numpy_lamb_step(values, grads, step,
                             expected_learning_rate(step))
  for name in values:
    np.testing.assert_allclose(got[name], expected[name], atol=1e-6,
                               rtol=0, err_msg=name)
  assert got_step == step + 1
  assert slot_names == sorted(n + s for n in values
                              for s in ("/adam_m", "/adam_v"))


def embedding_problem(num_accumulation_steps, micro_batches,
                      optimizer_name="adamw"):
  """A loss over an embedding gather, trained on `micro_batches` in turn.

  Ids repeat within a batch, so the original's clipping norm (the rows of
  the embedding's IndexedSlices gradient, one per id) differs from the
  norm of the dense gradient. Returns the final values and global step.
  """
  table0 = np.random.RandomState(4).normal(size=[5, 3]).astype(np.float32)
  with tf.Graph().as_default():
    ids = tf.placeholder(tf.int32, [None])
    targets = tf.placeholder(tf.float32, [None, 3])
    table = tf.get_variable("bert/embeddings/word_embeddings",
                            initializer=table0)
    kernel = tf.get_variable(
        "cls/dense/kernel", initializer=np.eye(3, dtype=np.float32))
    outputs = tf.matmul(tf.gather(table, ids), kernel)
    loss = tf.reduce_mean(tf.reduce_sum(tf.square(outputs - targets), -1))
    train_op = optimization.create_optimizer(
        loss, 0.1, NUM_TRAIN_STEPS, 0, use_tpu=False,
        optimizer_name=optimizer_name,
        num_accumulation_steps=num_accumulation_steps)
    with tf.Session() as session:
      session.run(tf.global_variables_initializer())
      for (batch_ids, batch_targets) in micro_batches:
        session.run(train_op, {ids: batch_ids, targets: batch_targets})
      return session.run([table, kernel, tf.train.get_global_step()])


def test_accumulating_four_micro_batches_equals_one_batch_four_times_larger():
  rng = np.random.RandomState(5)
  batches = [(rng.randint(0, 5, size=8), 4.0 * rng.normal(size=[8, 3]))
             for _ in range(2)]
  (table, kernel, step) = embedding_problem(1, batches)
  micro_batches = [(ids[i:i + 2], targets[i:i + 2])
                   for (ids, targets) in batches for i in range(0, 8, 2)]
  (acc_table, acc_kernel, acc_step) = embedding_problem(4, micro_batches)
  assert (step, acc_step) == (2, 2)
  np.testing.assert_allclose(acc_table, table, atol=1e-5)
  np.testing.assert_allclose(acc_kernel, kernel, atol=1e-5)
  # Three micro-batches in, nothing has moved yet.
  (part_table, _, part_step) = embedding_problem(4, micro_batches[:3])
  assert part_step == 0
  np.testing.assert_array_equal(
      part_table, np.random.RandomState(4).normal(size=[5, 3]).astype(
          np.float32))


def test_accumulation_adds_only_non_trainable_variables_of_new_names():
  with tf.Graph().as_default():
    variables = build_variables(initial_values())
    loss = quadratic_loss(variables, initial_values(seed=1))
    optimization.create_optimizer(loss, INIT_LR, NUM_TRAIN_STEPS,
                                  NUM_WARMUP_STEPS, use_tpu=False,
                                  num_accumulation_steps=2,
                                  loss_scaling=True)
    names = set(v.op.name for v in tf.global_variables())
    assert set(v.op.name for v in tf.trainable_variables()) == set(VARIABLES)
  expected = set(VARIABLES) | {"global_step", "accum_micro_step",
                               "accum_sparse_norm", "loss_scale",
                               "loss_scale_good_steps"}
  for name in VARIABLES:
    expected |= {name + "/adam_m", name + "/adam_v", name + "/accum_grad"}
  assert names == expected


def test_float16_loss_scaling_skips_exactly_the_overflowing_step():
  values = initial_values()
  with tf.Graph().as_default():
    variables = build_variables(values)
    factor = tf.placeholder(tf.float32, [])
    # A float16 loss: the scaled gradient of a large factor overflows.
    loss = tf.cast(
        tf.cast(factor, tf.float16) *
        tf.cast(quadratic_loss(variables, initial_values(seed=1)),
                tf.float16), tf.float32)
    train_op = optimization.create_optimizer(
        loss, INIT_LR, NUM_TRAIN_STEPS, 0, use_tpu=False, loss_scaling=True)
    with tf.variable_scope("", reuse=True):
      scale = tf.get_variable("loss_scale")
    read = [variables, scale, tf.train.get_global_step()]
    with tf.Session() as session:
      session.run(tf.global_variables_initializer())
      session.run(train_op, {factor: 1.0})
      (before, scale_before, step_before) = session.run(read)
      session.run(train_op, {factor: 1000.0})
      (after, scale_after, step_after) = session.run(read)
      session.run(train_op, {factor: 1.0})
      (_, scale_last, step_last) = session.run(read)
  assert (step_before, step_after, step_last) == (1, 1, 2)
  assert scale_before == optimization.INITIAL_LOSS_SCALE
  assert scale_after == scale_before / 2 == scale_last
  for name in values:
    np.testing.assert_array_equal(after[name], before[name])
    assert np.abs(before[name] - values[name]).max() > 1e-4


def test_loss_scaling_without_overflow_matches_the_unscaled_update():
  values = initial_values()
  targets = initial_values(scale=3.0, seed=1)
  results = []
  for loss_scaling in (False, True):
    with tf.Graph().as_default():
      variables = build_variables(values)
      train_op = optimization.create_optimizer(
          quadratic_loss(variables, targets), INIT_LR, NUM_TRAIN_STEPS, 0,
          use_tpu=False, loss_scaling=loss_scaling)
      with tf.Session() as session:
        session.run(tf.global_variables_initializer())
        session.run(train_op)
        results.append(session.run(variables))
  assert_close(results[1], results[0])


def test_lamb_takes_the_indexed_slices_gradient_of_an_embedding():
  rng = np.random.RandomState(6)
  batches = [(rng.randint(0, 5, size=8), rng.normal(size=[8, 3]))]
  (table, _, step) = embedding_problem(1, batches, optimizer_name="lamb")
  (accumulated, _, _) = embedding_problem(
      2, [(ids[i:i + 4], targets[i:i + 4])
          for (ids, targets) in batches for i in (0, 4)],
      optimizer_name="lamb")
  assert step == 1
  initial = np.random.RandomState(4).normal(size=[5, 3])
  assert np.abs(table - initial).max() > 1e-3
  np.testing.assert_allclose(accumulated, table, atol=1e-5)
