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
"""Times one pre-training step of BERT-Base on the CPU.

The step is the one `run_pretraining.py` trains: BertModel, the masked-LM
and next-sentence heads and `optimization.create_optimizer`, on random
inputs. Prints sequences per second and the effective GFLOP/s, counting the
forward pass's matrix multiplications analytically, times 3 for the forward
and backward passes. Figures vary with the machine and its load: compare
variants side by side, in one run or alternating runs. On a machine shared
with other jobs, the CPU seconds per step vary less than the wall time.

  python benchmarks/train_step.py --steps=10 --layers=12
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import argparse
import os
import platform
import sys
import time

import numpy as np
import tensorflow.compat.v1 as tf

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# pylint: disable=g-import-not-at-top,wrong-import-position
import modeling
import optimization
import run_pretraining
# pylint: enable=g-import-not-at-top,wrong-import-position


def parse_args(argv):
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--steps", type=int, default=20,
                      help="timed training steps")
  parser.add_argument("--warmup_steps", type=int, default=3,
                      help="untimed steps first (graph optimization, caches)")
  parser.add_argument("--batch_size", type=int, default=8)
  parser.add_argument("--seq_length", type=int, default=128)
  parser.add_argument("--max_predictions", type=int, default=20,
                      help="masked positions per sequence")
  parser.add_argument("--layers", type=int, default=12,
                      help="Transformer layers (12 in BERT-Base)")
  parser.add_argument("--intra_op_threads", type=int, default=0,
                      help="threads inside one op (0: TensorFlow's choice)")
  parser.add_argument("--inter_op_threads", type=int, default=0,
                      help="ops run at once (0: TensorFlow's choice)")
  return parser.parse_args(argv)


def bert_base_config(num_layers):
  return modeling.BertConfig(
      vocab_size=30522, hidden_size=768, num_hidden_layers=num_layers,
      num_attention_heads=12, intermediate_size=3072, hidden_act="gelu",
      hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1,
      max_position_embeddings=512, type_vocab_size=2,
      initializer_range=0.02)


def forward_matmul_flops(config, batch_size, seq_length, max_predictions):
  """Floating-point operations of the forward pass's matmuls (2 per MAC)."""
  tokens = batch_size * seq_length
  hidden = config.hidden_size
  per_layer = (
      4 * 2 * tokens * hidden * hidden +  # query, key, value, output
      2 * 2 * batch_size * seq_length * seq_length * hidden +  # QK^T, PV
      2 * 2 * tokens * hidden * config.intermediate_size)  # feed-forward
  token_types = 2 * tokens * config.type_vocab_size * hidden  # one-hot matmul
  pooler = 2 * batch_size * hidden * hidden
  predictions = batch_size * max_predictions
  masked_lm = (2 * predictions * hidden * hidden +  # transform
               2 * predictions * hidden * config.vocab_size)  # logits
  next_sentence = 2 * batch_size * hidden * 2
  return (config.num_hidden_layers * per_layer + token_types + pooler +
          masked_lm + next_sentence)


def random_batch(config, batch_size, seq_length, max_predictions, seed=0):
  """A batch shaped like a pre-training batch, with random values."""
  rng = np.random.RandomState(seed)
  positions = np.stack([
      np.sort(rng.choice(seq_length, max_predictions, replace=False))
      for _ in range(batch_size)])
  return {
      "input_ids": rng.randint(0, config.vocab_size,
                               [batch_size, seq_length]),
      "input_mask": np.ones([batch_size, seq_length]),
      "segment_ids": (np.arange(seq_length) >= seq_length // 2) *
                     np.ones([batch_size, 1]),
      "masked_lm_positions": positions,
      "masked_lm_ids": rng.randint(0, config.vocab_size,
                                   [batch_size, max_predictions]),
      "masked_lm_weights": np.ones([batch_size, max_predictions]),
      "next_sentence_labels": rng.randint(0, 2, [batch_size, 1]),
  }


def build_train_step(config, batch):
  """Builds the pre-training loss and train op; returns (placeholders, op)."""
  placeholders = {}
  for (name, value) in batch.items():
    dtype = tf.float32 if name == "masked_lm_weights" else tf.int32
    placeholders[name] = tf.placeholder(dtype, value.shape, name=name)
  model = modeling.BertModel(
      config=config, is_training=True,
      input_ids=placeholders["input_ids"],
      input_mask=placeholders["input_mask"],
      token_type_ids=placeholders["segment_ids"],
      use_one_hot_embeddings=False)
  (masked_lm_loss, _, _) = run_pretraining.get_masked_lm_output(
      config, model.get_sequence_output(), model.get_embedding_table(),
      placeholders["masked_lm_positions"], placeholders["masked_lm_ids"],
      placeholders["masked_lm_weights"])
  (next_sentence_loss, _, _) = run_pretraining.get_next_sentence_output(
      config, model.get_pooled_output(),
      placeholders["next_sentence_labels"])
  total_loss = masked_lm_loss + next_sentence_loss
  train_op = optimization.create_optimizer(
      total_loss, init_lr=1e-4, num_train_steps=100000,
      num_warmup_steps=10000, use_tpu=False)
  return placeholders, total_loss, train_op


def main(argv):
  args = parse_args(argv)
  config = bert_base_config(args.layers)
  batch = random_batch(config, args.batch_size, args.seq_length,
                       args.max_predictions)
  with tf.Graph().as_default():
    (placeholders, loss, train_op) = build_train_step(config, batch)
    feed_dict = {placeholders[name]: value for (name, value) in batch.items()}
    session_config = tf.ConfigProto(
        intra_op_parallelism_threads=args.intra_op_threads,
        inter_op_parallelism_threads=args.inter_op_threads)
    with tf.Session(config=session_config) as sess:
      sess.run(tf.global_variables_initializer())
      for _ in range(args.warmup_steps):
        sess.run(train_op, feed_dict)
      start = time.time()
      start_cpu = time.process_time()
      for _ in range(args.steps):
        sess.run(train_op, feed_dict)
      seconds = time.time() - start
      cpu_seconds = time.process_time() - start_cpu
      final_loss = sess.run(loss, feed_dict)
  flops = 3 * forward_matmul_flops(config, args.batch_size, args.seq_length,
                                   args.max_predictions)
  print("TensorFlow %s, Python %s, TF_ENABLE_ONEDNN_OPTS=%s" %
        (tf.__version__, platform.python_version(),
         os.environ.get("TF_ENABLE_ONEDNN_OPTS", "(unset)")))
  print("BERT-Base, %d layers; batch %d, sequence %d, %d masked positions; "
        "%d timed steps after %d warm-up steps" %
        (args.layers, args.batch_size, args.seq_length, args.max_predictions,
         args.steps, args.warmup_steps))
  print("seconds/step: %.3f (CPU seconds/step, all threads: %.3f)" %
        (seconds / args.steps, cpu_seconds / args.steps))
  print("sequences/s: %.2f" % (args.batch_size * args.steps / seconds))
  print("effective GFLOP/s: %.1f (%.1f GFLOP per step)" %
        (flops * args.steps / seconds / 1e9, flops / 1e9))
  print("loss after the steps: %.4f" % final_loss)


if __name__ == "__main__":
  tf.logging.set_verbosity(tf.logging.ERROR)
  main(sys.argv[1:])
