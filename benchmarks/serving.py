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
"""A predictor that loads once versus a fresh predict per request.

Side by side in one process, for a BERT-Base classifier (random weights
built from the config, saved as a checkpoint) on the CPU:

- latency of one request at batch 1: `predictor.ClassifierPredictor`
  (graph built and checkpoint restored once, before timing) versus what
  run_classifier.py's `--do_predict` does per call: build the runner
  (`runner.build_runner`, the Estimator where TensorFlow has it), build
  the graph, restore the checkpoint, predict the one example ("fresh
  predict", in this process), and versus a whole
  `python run_classifier.py --do_predict` run on a one-line test.tsv
  (which also starts Python, imports TensorFlow and writes its files).
- throughput at batch 8 and 32: the predictor versus one Estimator
  `predict` call over the same examples, end to end (as each call costs)
  and in its steady state (after its first batch).

  .venv/tf2/bin/python benchmarks/serving.py                # BERT-Base
  .venv/tf3/bin/python benchmarks/serving.py --layers=2     # a smoke run
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO_DIR)

import numpy as np  # pylint: disable=g-import-not-at-top
import tensorflow.compat.v1 as tf  # pylint: disable=g-import-not-at-top

import export  # pylint: disable=g-import-not-at-top
import modeling  # pylint: disable=g-import-not-at-top
import predictor  # pylint: disable=g-import-not-at-top
import run_classifier  # pylint: disable=g-import-not-at-top
import runner  # pylint: disable=g-import-not-at-top
import tokenization  # pylint: disable=g-import-not-at-top

VOCAB_FILE = os.path.join(os.path.dirname(REPO_DIR), "shared", "data",
                          "vocab", "uncased", "vocab.txt")
LABELS = ["0", "1"]


def parse_args(argv):
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--layers", type=int, default=12,
                      help="encoder layers (12: BERT-Base)")
  parser.add_argument("--seq_length", type=int, default=128)
  parser.add_argument("--requests", type=int, default=10,
                      help="timed batch-1 requests to the predictor")
  parser.add_argument("--fresh_requests", type=int, default=3,
                      help="timed batch-1 requests by a fresh predict")
  parser.add_argument("--script_requests", type=int, default=2,
                      help="timed batch-1 requests by a run of the script")
  parser.add_argument("--batch_sizes", default="8,32")
  parser.add_argument("--batches", type=int, default=4,
                      help="batches per throughput measurement")
  parser.add_argument("--vocab_file", default=VOCAB_FILE)
  return parser.parse_args(argv)


def bert_base_config(num_layers, vocab_size):
  return modeling.BertConfig(
      vocab_size=vocab_size, hidden_size=768, num_hidden_layers=num_layers,
      num_attention_heads=12, intermediate_size=3072,
      max_position_embeddings=512, type_vocab_size=2)


def write_vocab(path):
  """A made-up vocab of BERT's size, for machines without ../shared."""
  words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
  words += ["word%d" % i for i in range(30522 - len(words))]
  with open(path, "w") as f:
    f.write("\n".join(words) + "\n")


def save_random_classifier(config, model_dir, seq_length):
  """Saves a classifier of random weights as `model_dir/model.ckpt-0`."""
  model_fn = run_classifier.model_fn_builder(
      bert_config=config, num_labels=len(LABELS), init_checkpoint=None,
      learning_rate=0.0, num_train_steps=None, num_warmup_steps=None,
      use_tpu=False, use_one_hot_embeddings=False)
  with tf.Graph().as_default():
    inputs = export.serving_inputs(seq_length)
    run_classifier.serving_outputs_fn(model_fn, len(LABELS))(
        *[inputs[name] for name in export.INPUT_NAMES])
    tf.train.get_or_create_global_step()
    with tf.Session() as session:
      session.run(tf.global_variables_initializer())
      tf.train.Saver().save(session, os.path.join(model_dir, "model.ckpt"),
                            global_step=0)
  return model_fn


def make_pairs(vocab_file, count, rng):
  """Sentence pairs of vocab words, long enough to fill the sequence."""
  words = [w for w in tokenization.load_vocab(vocab_file)
           if w.isalpha() and len(w) > 2][:5000]
  return [(" ".join(rng.choice(words, 60)), " ".join(rng.choice(words, 60)))
          for _ in range(count)]


def fresh_predict(model_fn, model_dir, features, seq_length, batch_size):
  """One `--do_predict`-style call; returns (total s, s after 1st batch)."""
  start = time.time()
  estimator = runner.build_runner(
      model_fn, runner.RunnerSettings("auto", False, None, None, None, None,
                                      8),
      model_dir=model_dir, predict_batch_size=batch_size)
  input_fn = run_classifier.input_fn_builder(features, seq_length, False,
                                             False)
  first_batch_time = None
  for (i, _) in enumerate(estimator.predict(input_fn)):
    if i == batch_size - 1:
      first_batch_time = time.time()
  end = time.time()
  return end - start, end - (first_batch_time or end)


def script_predict(config, vocab_file, model_dir, pair, seq_length, index):
  """Seconds of a `run_classifier.py --do_predict` run on one MRPC pair."""
  data_dir = os.path.join(model_dir, "data_%d" % index)
  os.makedirs(data_dir)
  with open(os.path.join(data_dir, "test.tsv"), "w") as f:
    f.write("index\t#1 ID\t#2 ID\t#1 String\t#2 String\n")
    f.write("0\t1\t2\t%s\t%s\n" % pair)
  config_file = os.path.join(model_dir, "bert_config.json")
  with open(config_file, "w") as f:
    f.write(config.to_json_string())
  start = time.time()
  subprocess.run(
      [sys.executable, os.path.join(REPO_DIR, "run_classifier.py"),
       "--task_name=MRPC", "--do_predict=true", "--data_dir=" + data_dir,
       "--vocab_file=" + vocab_file, "--bert_config_file=" + config_file,
       "--init_checkpoint=" + model_dir,
       "--max_seq_length=%d" % seq_length,
       "--output_dir=" + os.path.join(model_dir, "output_%d" % index)],
      check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
  return time.time() - start


def main(argv):
  args = parse_args(argv)
  tf.logging.set_verbosity(tf.logging.ERROR)
  work_dir = tempfile.mkdtemp(prefix="bench_serving_")
  try:
    vocab_file = args.vocab_file
    if not os.path.exists(vocab_file):
      vocab_file = os.path.join(work_dir, "vocab.txt")
      write_vocab(vocab_file)
    tokenizer = tokenization.FullTokenizer(vocab_file, True)
    config = bert_base_config(args.layers, len(tokenizer.vocab))
    model_fn = save_random_classifier(config, work_dir, args.seq_length)
    batch_sizes = [int(b) for b in args.batch_sizes.split(",")]
    pairs = make_pairs(vocab_file, max(batch_sizes) * args.batches + 1,
                       np.random.RandomState(0))
    features = run_classifier.convert_examples_to_features(
        [run_classifier.InputExample(str(i), a, b, "0")
         for (i, (a, b)) in enumerate(pairs)], LABELS, args.seq_length,
        tokenizer)

    print("TensorFlow %s, engine %s, %d layers, sequence %d" %
          (tf.__version__,
           runner.resolve_engine(runner.RunnerSettings(
               "auto", False, None, None, None, None, 8)),
           args.layers, args.seq_length))
    start = time.time()
    classifier = predictor.ClassifierPredictor(
        config, vocab_file, LABELS, checkpoint=work_dir,
        max_seq_length=args.seq_length, batch_size=max(batch_sizes))
    print("predictor load: %.2f s" % (time.time() - start))
    report_latency(args, classifier, model_fn, work_dir, pairs, features,
                   config, vocab_file)
    for batch_size in batch_sizes:
      report_throughput(args, classifier, model_fn, work_dir, pairs,
                        features, batch_size)
    classifier.close()
  finally:
    shutil.rmtree(work_dir)


def report_latency(args, classifier, model_fn, model_dir, pairs, features,
                   config, vocab_file):
  classifier.predict(*pairs[0])  # warm-up
  latencies = []
  for i in range(args.requests):
    start = time.time()
    classifier.predict(*pairs[i % len(pairs)])
    latencies.append(time.time() - start)
  fresh = [fresh_predict(model_fn, model_dir, features[i:i + 1],
                         args.seq_length, 1)[0]
           for i in range(args.fresh_requests)]
  (ours, theirs) = (statistics.median(latencies), statistics.median(fresh))
  print("batch 1 latency (median): predictor %.3f s, fresh predict %.3f s: "
        "%.1fx faster" % (ours, theirs, theirs / ours))
  if args.script_requests:
    runs = [script_predict(config, vocab_file, model_dir, pairs[i],
                           args.seq_length, i)
            for i in range(args.script_requests)]
    print("batch 1 latency (median): run_classifier.py --do_predict %.3f s: "
          "%.1fx the predictor's" % (statistics.median(runs),
                                     statistics.median(runs) / ours))


def report_throughput(args, classifier, model_fn, model_dir, pairs, features,
                      batch_size):
  count = batch_size * args.batches
  classifier.predict_batch(pairs[:batch_size])  # warm-up at this size
  start = time.time()
  classifier.predict_batch(pairs[:count], batch_size)
  ours = count / (time.time() - start)
  (total, steady) = fresh_predict(model_fn, model_dir, features[:count],
                                  args.seq_length, batch_size)
  print("batch %d throughput: predictor %.2f examples/s; fresh predict "
        "%.2f examples/s end to end, %.2f after its first batch" %
        (batch_size, ours, count / total,
         (count - batch_size) / steady if steady else float("nan")))


if __name__ == "__main__":
  main(sys.argv[1:])
