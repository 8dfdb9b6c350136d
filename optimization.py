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
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import re

import tensorflow.compat.v1 as tf


def create_optimizer(loss, init_lr, num_train_steps, num_warmup_steps, use_tpu):
  """Builds BERT's training op: clipped gradients, AdamW, a warm-up/decay.

  Args:
    loss: scalar float Tensor to minimize.
    init_lr: float, the peak learning rate (reached after the warm-up).
    num_train_steps: int, the step at which the learning rate reaches 0.
    num_warmup_steps: int, steps of linear warm-up from 0 (0 or None: none).
    use_tpu: bool, whether gradients are summed across TPU shards (the
      gradients come from `tf.gradients`, so `CrossShardOptimizer` does not
      scale the loss: the shards' gradients add up, then get clipped).

  Returns:
    The training op: one update of every trainable variable and one
    increment of the global step.
  """
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

  # Fine-tuning uses the optimizer of pre-training. The adam_m/adam_v slots
  # start from zero: scripts restore only the model's own variables.
  optimizer = AdamWeightDecayOptimizer(
      learning_rate=learning_rate,
      weight_decay_rate=0.01,
      beta_1=0.9,
      beta_2=0.999,
      epsilon=1e-6,
      exclude_from_weight_decay=["LayerNorm", "layer_norm", "bias"])

  if use_tpu:
    optimizer = tf.tpu.CrossShardOptimizer(optimizer)

  tvars = tf.trainable_variables()
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

      m = tf.get_variable(
          name=param_name + "/adam_m",
          shape=param.shape.as_list(),
          dtype=tf.float32,
          trainable=False,
          initializer=tf.zeros_initializer())
      v = tf.get_variable(
          name=param_name + "/adam_v",
          shape=param.shape.as_list(),
          dtype=tf.float32,
          trainable=False,
          initializer=tf.zeros_initializer())

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
