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
"""Functions and classes related to optimization (weight updates).

The original's optimizer: Adam without bias correction, with weight decay
decoupled from the gradient (AdamW), linear warm-up then linear decay to 0,
and gradients clipped to a global norm of 1.0. Slot variables are named
`<variable>/adam_m` and `<variable>/adam_v`, as in released checkpoints.

Options the original lacked, off by default: LAMB instead of AdamW,
gradients accumulated over several micro-batches per update, and dynamic
loss scaling for float16 training.
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import re

import tensorflow.compat.v1 as tf


# Names of the optimizers `create_optimizer` builds.
OPTIMIZERS = ("adamw", "lamb")

# Dynamic loss scaling (float16): the first scale, and how many finite
# updates in a row double it.
INITIAL_LOSS_SCALE = 2.0**15
LOSS_SCALE_GROWTH_STEPS = 2000


def learning_rate_schedule(init_lr, num_train_steps, num_warmup_steps,
                           global_step=None):
  """BERT's learning rate at `global_step`: a warm-up, then a linear decay.

  Linear decay from `init_lr` at step 0 to 0 at `num_train_steps`; below
  `num_warmup_steps` a linear ramp `init_lr * step / num_warmup_steps`
  replaces it.

  Args:
    init_lr: float, the peak learning rate (reached after the warm-up).
    num_train_steps: int, the step at which the learning rate reaches 0.
    num_warmup_steps: int, steps of linear warm-up from 0 (0 or None: none).
    global_step: (optional) the step Tensor; the graph's global step when
      None.

  Returns:
    A float32 scalar Tensor.
  """
  if global_step is None:
    global_step = tf.train.get_or_create_global_step()

  learning_rate = tf.constant(value=init_lr, shape=[], dtype=tf.float32)

  # Linear decay from init_lr at step 0 to 0 at num_train_steps.
  learning_rate = tf.train.polynomial_decay(
      learning_rate,
      global_step,
      num_train_steps,
      end_learning_rate=0.0,
      power=1.0,
      cycle=False)

  # Linear warm-up: below num_warmup_steps the rate is
  # init_lr * global_step / num_warmup_steps instead.
  if num_warmup_steps:
    global_steps_int = tf.cast(global_step, tf.int32)
    warmup_steps_int = tf.constant(num_warmup_steps, dtype=tf.int32)

    global_steps_float = tf.cast(global_steps_int, tf.float32)
    warmup_steps_float = tf.cast(warmup_steps_int, tf.float32)

    warmup_percent_done = global_steps_float / warmup_steps_float
    warmup_learning_rate = init_lr * warmup_percent_done

    is_warmup = tf.cast(global_steps_int < warmup_steps_int, tf.float32)
    learning_rate = (
        (1.0 - is_warmup) * learning_rate + is_warmup * warmup_learning_rate)
  return learning_rate


def create_optimizer(loss, init_lr, num_train_steps, num_warmup_steps, use_tpu,
                     optimizer_name="adamw", num_accumulation_steps=1,
                     loss_scaling=False):
  """Builds BERT's training op: clipped gradients, AdamW, a warm-up/decay.

  Args:
    loss: scalar float Tensor to minimize.
    init_lr: float, the peak learning rate (reached after the warm-up).
    num_train_steps: int, the step at which the learning rate reaches 0.
    num_warmup_steps: int, steps of linear warm-up from 0 (0 or None: none).
    use_tpu: bool, whether gradients are summed across TPU shards (the
      gradients come from `tf.gradients`, so `CrossShardOptimizer` does not
      scale the loss: the shards' gradients add up, then get clipped).
    optimizer_name: "adamw" (the original's `AdamWeightDecayOptimizer`) or
      "lamb" (`LAMBOptimizer`).
    num_accumulation_steps: int; each run of the op adds the gradients of
      `loss` (the mean over one micro-batch) to accumulators, and every
      `num_accumulation_steps`-th run updates the variables with their
      mean, clipped as the full batch's gradient would be. The global step
      and the learning rate count updates.
    loss_scaling: bool; dynamic loss scaling, for float16 computations: the
      gradients come from `loss * scale`, an update with inf/NaN gradients
      is skipped (global step unchanged) and halves the scale,
      `LOSS_SCALE_GROWTH_STEPS` finite updates double it.

  Inside the replica function of a `tf.distribute` strategy, the replicas'
  gradients are averaged, clipped and applied once (see
  `_replicated_train_op`).

  Returns:
    The training op: with the defaults, one update of every trainable
    variable and one increment of the global step.

  Raises:
    ValueError: for an unknown `optimizer_name`, a `num_accumulation_steps`
      below 1, or accumulation or loss scaling under a strategy.
  """
  if optimizer_name not in OPTIMIZERS:
    raise ValueError("optimizer_name is %r, not one of %s" %
                     (optimizer_name, ", ".join(OPTIMIZERS)))
  if num_accumulation_steps < 1:
    raise ValueError("num_accumulation_steps is %d, not 1 or more" %
                     num_accumulation_steps)
  global_step = tf.train.get_or_create_global_step()

  learning_rate = learning_rate_schedule(init_lr, num_train_steps,
                                         num_warmup_steps, global_step)
  optimizer = _make_optimizer(optimizer_name, learning_rate, use_tpu)

  tvars = tf.trainable_variables()
  if tf.distribute.has_strategy():
    if num_accumulation_steps > 1 or loss_scaling:
      raise ValueError("accumulation and loss scaling work on one device, "
                       "not under a tf.distribute strategy")
    return _replicated_train_op(loss, tvars, optimizer, global_step)
  if num_accumulation_steps > 1 or loss_scaling:
    return _gated_train_op(loss, tvars, optimizer, global_step,
                           num_accumulation_steps, loss_scaling)
  return _plain_train_op(loss, tvars, optimizer, global_step)


def _make_optimizer(optimizer_name, learning_rate, use_tpu):
  """The original's optimizer settings, for `optimizer_name`'s class."""
  # Fine-tuning uses the optimizer of pre-training. The adam_m/adam_v slots
  # start from zero: scripts restore only the model's own variables.
  optimizer_class = (LAMBOptimizer if optimizer_name == "lamb" else
                     AdamWeightDecayOptimizer)
  optimizer = optimizer_class(
      learning_rate=learning_rate,
      weight_decay_rate=0.01,
      beta_1=0.9,
      beta_2=0.999,
      epsilon=1e-6,
      exclude_from_weight_decay=["LayerNorm", "layer_norm", "bias"])

  if use_tpu:
    optimizer = tf.tpu.CrossShardOptimizer(optimizer)
  return optimizer


def _plain_train_op(loss, tvars, optimizer, global_step):
  """The original's training op: clip, apply, increment the global step."""
  grads = tf.gradients(loss, tvars)

  # Pre-training clipped the global norm at 1.0; so does fine-tuning.
  (grads, _) = tf.clip_by_global_norm(grads, clip_norm=1.0)

  train_op = optimizer.apply_gradients(
      zip(grads, tvars), global_step=global_step)

  # `AdamWeightDecayOptimizer.apply_gradients` leaves the global step alone,
  # so it is incremented here, once per step. (Another optimizer that
  # increments it itself would need this removed.)
  # Quirk of the original: it runs this increment alongside the update with
  # no ordering between them, so on TF 1.15 (CPU) a step's learning rate is
  # computed, unpredictably, from the step before or after the increment
  # (both show up within a few steps). Here the increment waits for the
  # update, so each step always uses its own step's rate: the schedule as
  # written, and what the original's graph gives on TF 2.15.
  new_global_step = global_step + 1
  with tf.control_dependencies([train_op]):
    train_op = tf.group(train_op, [global_step.assign(new_global_step)])
  return train_op


def _gated_train_op(loss, tvars, optimizer, global_step,
                    num_accumulation_steps, loss_scaling):
  """The training op with accumulation and/or dynamic loss scaling.

  Each run computes the gradients of one micro-batch; the update (clip,
  apply, increment the global step) runs inside a `tf.cond` only on the
  last micro-batch of an accumulation, and only when the gradients are
  finite. Variables and slots keep their names; the accumulators
  (`<variable>/accum_grad`, `accum_sparse_norm`, `accum_micro_step`),
  `loss_scale` and `loss_scale_good_steps` are extra non-trainable
  variables.
  """
  loss_scale = good_steps = None
  if loss_scaling:
    loss_scale = _scalar_variable("loss_scale", tf.float32,
                                  INITIAL_LOSS_SCALE)
    good_steps = _scalar_variable("loss_scale_good_steps", tf.int32, 0)
    grads = [_scaled(g, 1.0 / loss_scale)
             for g in tf.gradients(loss * loss_scale, tvars)]
  else:
    grads = tf.gradients(loss, tvars)
  pairs = [(g, v) for (g, v) in zip(grads, tvars) if g is not None]

  norm = None
  if num_accumulation_steps > 1:
    (pairs, norm, is_last, reset) = _accumulate(pairs, num_accumulation_steps)
  else:
    (is_last, reset) = (tf.constant(True), tf.no_op)
  # Without loss scaling a NaN goes through, as in the original, for the
  # training loop to report.
  all_finite = tf.constant(True)
  if loss_scaling:
    all_finite = tf.reduce_all([
        tf.reduce_all(tf.is_finite(_values(g))) for (g, _) in pairs])

  def update():
    (clipped, _) = tf.clip_by_global_norm([g for (g, _) in pairs],
                                          clip_norm=1.0, use_norm=norm)
    train_op = optimizer.apply_gradients(
        zip(clipped, [v for (_, v) in pairs]), global_step=global_step)
    with tf.control_dependencies([train_op]):
      return tf.group(train_op, global_step.assign_add(1))

  train_op = tf.cond(tf.logical_and(is_last, all_finite), update, tf.no_op)
  with tf.control_dependencies([train_op]):
    after_update = [tf.cond(is_last, reset, tf.no_op)]
    if loss_scaling:
      after_update.append(
          tf.cond(is_last,
                  lambda: _update_loss_scale(loss_scale, good_steps,
                                             all_finite, global_step),
                  tf.no_op))
  return tf.group(train_op, *after_update)


def _replicated_train_op(loss, tvars, optimizer, global_step):
  """The training op inside a `tf.distribute` strategy's replica function.

  Each replica computes the gradients of its part of the batch; they are
  averaged across replicas (an all-reduce), clipped by their global norm
  and applied once, in cross-replica context, to variables and slots that
  keep the original's names.
  """
  # Embedding gradients stay `IndexedSlices`, whose all-reduce concatenates
  # the replicas' rows: the global norm then counts a repeated id's rows
  # one by one, as the original's clipping of a full batch does.
  grads_and_vars = [(g, v) for (g, v) in zip(tf.gradients(loss, tvars), tvars)
                    if g is not None]

  def update(strategy, grads_and_vars):
    # A sum, then a division: some lines cannot average IndexedSlices.
    reduced = strategy.extended.batch_reduce_to(tf.distribute.ReduceOp.SUM,
                                                grads_and_vars)
    grads = [_scaled(strategy.experimental_local_results(g)[0],
                     1.0 / strategy.num_replicas_in_sync) for g in reduced]
    (grads, _) = tf.clip_by_global_norm(grads, clip_norm=1.0)
    train_op = optimizer.apply_gradients(
        zip(grads, [v for (_, v) in grads_and_vars]), global_step=global_step)
    with tf.control_dependencies([train_op]):
      return tf.group(train_op, global_step.assign_add(1))

  return tf.distribute.get_replica_context().merge_call(
      update, args=(grads_and_vars,))


def _accumulate(grads_and_vars, num_accumulation_steps):
  """Adds one micro-batch's gradients to per-variable accumulators.

  Also returns the global norm the original would clip the full batch's
  gradients by. An embedding's gradient is `IndexedSlices` there, one row
  per token, whose norm counts a repeated id's rows one by one: that part
  of the norm is accumulated separately.

  Returns:
    (pairs, norm, is_last, reset): (mean accumulated gradient, variable)
    pairs and their global norm, valid after this run's addition; a bool
    Tensor, whether this run completes an accumulation; and a function
    building the op that zeroes the accumulators.
  """
  k = float(num_accumulation_steps)
  accumulators = [
      tf.get_variable(
          name=v.op.name + "/accum_grad",
          shape=v.shape.as_list(),
          dtype=tf.float32,
          trainable=False,
          initializer=tf.zeros_initializer()) for (_, v) in grads_and_vars
  ]
  sparse_norm = _scalar_variable("accum_sparse_norm", tf.float32, 0.0)
  micro_step = _scalar_variable("accum_micro_step", tf.int64, 0)
  sums = [a.assign_add(tf.convert_to_tensor(g))
          for (a, (g, _)) in zip(accumulators, grads_and_vars)]
  sparse = [g for (g, _) in grads_and_vars if isinstance(g, tf.IndexedSlices)]
  sparse_sum = sparse_norm.assign_add(
      tf.add_n([tf.reduce_sum(tf.square(g.values)) for g in sparse] +
               [tf.constant(0.0)]))
  with tf.control_dependencies(sums + [sparse_sum]):
    is_last = tf.equal(micro_step.assign_add(1) % num_accumulation_steps, 0)
  means = [total / k for total in sums]
  squares = [
      tf.reduce_sum(tf.square(mean))
      for (mean, (g, _)) in zip(means, grads_and_vars)
      if not isinstance(g, tf.IndexedSlices)
  ]
  norm = tf.sqrt(tf.add_n(squares + [sparse_sum / (k * k)]))
  pairs = [(mean, v) for (mean, (_, v)) in zip(means, grads_and_vars)]

  def reset():
    return tf.group(*[a.assign(tf.zeros_like(a))
                      for a in accumulators + [sparse_norm]])

  return (pairs, norm, is_last, reset)


def _values(grad):
  """The numbers of a gradient: a Tensor, or the values of IndexedSlices."""
  return grad.values if isinstance(grad, tf.IndexedSlices) else grad


def _scaled(grad, factor):
  """`grad * factor`, keeping IndexedSlices as such (None stays None)."""
  if isinstance(grad, tf.IndexedSlices):
    return tf.IndexedSlices(grad.values * factor, grad.indices,
                            grad.dense_shape)
  return None if grad is None else grad * factor


def _update_loss_scale(loss_scale, good_steps, all_finite, global_step):
  """Doubles the scale after enough finite updates; halves it on overflow."""

  def grow_or_count():
    grow = good_steps + 1 >= LOSS_SCALE_GROWTH_STEPS
    return tf.group(
        loss_scale.assign(tf.where(grow, loss_scale * 2.0, loss_scale)),
        good_steps.assign(tf.where(grow, 0, good_steps + 1)))

  def shrink():
    new_scale = tf.maximum(loss_scale / 2.0, 1.0)
    log = tf.print("float16 gradients not finite at step", global_step,
                   "- update skipped, loss scale lowered to", new_scale)
    with tf.control_dependencies([log]):
      return tf.group(loss_scale.assign(new_scale), good_steps.assign(0))

  return tf.cond(all_finite, grow_or_count, shrink)


def _scalar_variable(name, dtype, value):
  """A non-trainable scalar variable of the optimizer's own state."""
  return tf.get_variable(
      name, shape=[], dtype=dtype, trainable=False,
      initializer=tf.constant_initializer(value))


class AdamWeightDecayOptimizer(tf.train.Optimizer):
  """Adam with decoupled weight decay (AdamW), without bias correction.

  The decay is added to the Adam step itself rather than to the loss, so it
  does not go through the moment estimates (Loshchilov & Hutter,
  https://arxiv.org/abs/1711.05101). Only `apply_gradients` is implemented:
  it updates the variables and their `adam_m`/`adam_v` slots, nothing else.
  """

  def __init__(self,
               learning_rate,
               weight_decay_rate=0.0,
               beta_1=0.9,
               beta_2=0.999,
               epsilon=1e-6,
               exclude_from_weight_decay=None,
               name="AdamWeightDecayOptimizer"):
    """Stores the hyperparameters.

    Args:
      learning_rate: float or scalar float Tensor.
      weight_decay_rate: float, decay per unit of learning rate (0: none).
      beta_1: float, decay rate of the first moment estimate.
      beta_2: float, decay rate of the second moment estimate.
      epsilon: float, added to the root of the second moment.
      exclude_from_weight_decay: (optional) list of regular expressions;
        variables whose name matches one are not decayed.
      name: name of the optimizer.
    """
    super(AdamWeightDecayOptimizer, self).__init__(False, name)

    self.learning_rate = learning_rate
    self.weight_decay_rate = weight_decay_rate
    self.beta_1 = beta_1
    self.beta_2 = beta_2
    self.epsilon = epsilon
    self.exclude_from_weight_decay = exclude_from_weight_decay

  def apply_gradients(self, grads_and_vars, global_step=None, name=None):
    """Returns an op applying one update to every (gradient, variable).

    `global_step` is accepted for the `Optimizer` interface but not
    incremented: `create_optimizer` does that, as in the original.
    """
    assignments = []
    for (grad, param) in grads_and_vars:
      if grad is None or param is None:
        continue

      param_name = self._get_variable_name(param.name)
      (m, v) = self._moments(param_name, param)

      # The Adam moments, used as they are: the paper's bias correction (a
      # division by 1 - beta^t) is left out, as in the original.
      next_m = (
          tf.multiply(self.beta_1, m) + tf.multiply(1.0 - self.beta_1, grad))
      next_v = (
          tf.multiply(self.beta_2, v) + tf.multiply(1.0 - self.beta_2,
                                                    tf.square(grad)))

      update = next_m / (tf.sqrt(next_v) + self.epsilon)

      # Decoupled weight decay (AdamW): the decay term joins the update after
      # the moments, so it does not pass through m and v as an L2 loss would.
      if self._do_use_weight_decay(param_name):
        update += self.weight_decay_rate * param

      update_with_lr = self.learning_rate * update

      next_param = param - update_with_lr

      assignments.extend(
          [param.assign(next_param),
           m.assign(next_m),
           v.assign(next_v)])
    return tf.group(*assignments, name=name)

  def _moments(self, param_name, param):
    """The slot variables `<param_name>/adam_m` and `/adam_v`, from zeros."""
    return [
        tf.get_variable(
            name=param_name + slot,
            shape=param.shape.as_list(),
            dtype=tf.float32,
            trainable=False,
            initializer=tf.zeros_initializer())
        for slot in ("/adam_m", "/adam_v")
    ]

  def _do_use_weight_decay(self, param_name):
    """True unless decay is off or `param_name` matches an exclusion."""
    if not self.weight_decay_rate:
      return False
    if self.exclude_from_weight_decay:
      for r in self.exclude_from_weight_decay:
        if re.search(r, param_name) is not None:
          return False
    return True

  def _get_variable_name(self, param_name):
    """Drops the output index: "dense/kernel:0" -> "dense/kernel"."""
    m = re.match("^(.*):\\d+$", param_name)
    if m is not None:
      param_name = m.group(1)
    return param_name


class LAMBOptimizer(AdamWeightDecayOptimizer):
  """LAMB: Adam with a layer-wise trust ratio, for large batches.

  You et al. 2019, "Large Batch Optimization for Deep Learning: Training
  BERT in 76 minutes" (https://arxiv.org/abs/1904.00962). Per variable:
  bias-corrected Adam moments, the decoupled weight decay of AdamW, then the
  update scaled by ||variable|| / ||update|| (1 when either norm is 0, and
  for the variables excluded from layer adaptation). Slots have AdamW's
  names, `<variable>/adam_m` and `<variable>/adam_v`, so a checkpoint loads
  into the original's graph. Only `apply_gradients` is implemented; it reads
  `global_step` (the bias correction's step is `global_step + 1`) but does
  not increment it.
  """

  def __init__(self,
               learning_rate,
               weight_decay_rate=0.0,
               beta_1=0.9,
               beta_2=0.999,
               epsilon=1e-6,
               exclude_from_weight_decay=None,
               exclude_from_layer_adaptation=None,
               name="LAMBOptimizer"):
    """Stores the hyperparameters: `AdamWeightDecayOptimizer`'s, and one more.

    Args:
      learning_rate, weight_decay_rate, beta_1, beta_2, epsilon,
        exclude_from_weight_decay: as for `AdamWeightDecayOptimizer`.
      exclude_from_layer_adaptation: (optional) list of regular expressions;
        variables whose name matches one get no trust ratio. When None,
        `exclude_from_weight_decay` (as TF Model Garden's LAMB does).
      name: name of the optimizer.
    """
    super(LAMBOptimizer, self).__init__(
        learning_rate, weight_decay_rate=weight_decay_rate, beta_1=beta_1,
        beta_2=beta_2, epsilon=epsilon,
        exclude_from_weight_decay=exclude_from_weight_decay, name=name)
    if exclude_from_layer_adaptation is None:
      exclude_from_layer_adaptation = exclude_from_weight_decay
    self.exclude_from_layer_adaptation = exclude_from_layer_adaptation

  def apply_gradients(self, grads_and_vars, global_step=None, name=None):
    """Returns an op applying one update to every (gradient, variable)."""
    if global_step is None:
      global_step = tf.train.get_or_create_global_step()
    step = tf.cast(global_step, tf.float32) + 1.0
    beta_1_correction = 1.0 - tf.pow(self.beta_1, step)
    beta_2_correction = 1.0 - tf.pow(self.beta_2, step)
    assignments = []
    for (grad, param) in grads_and_vars:
      if grad is None or param is None:
        continue
      # An embedding's IndexedSlices gradient, summed per row.
      grad = tf.convert_to_tensor(grad)
      param_name = self._get_variable_name(param.name)
      (m, v) = self._moments(param_name, param)
      next_m = self.beta_1 * m + (1.0 - self.beta_1) * grad
      next_v = self.beta_2 * v + (1.0 - self.beta_2) * tf.square(grad)
      update = ((next_m / beta_1_correction) /
                (tf.sqrt(next_v / beta_2_correction) + self.epsilon))
      if self._do_use_weight_decay(param_name):
        update += self.weight_decay_rate * param
      ratio = 1.0
      if not any(re.search(r, param_name)
                 for r in self.exclude_from_layer_adaptation or []):
        param_norm = tf.norm(param)
        update_norm = tf.norm(update)
        ratio = tf.where(
            tf.logical_and(param_norm > 0.0, update_norm > 0.0),
            param_norm / update_norm, 1.0)
      next_param = param - self.learning_rate * ratio * update
      assignments.extend(
          [param.assign(next_param),
           m.assign(next_m),
           v.assign(next_v)])
    return tf.group(*assignments, name=name)
