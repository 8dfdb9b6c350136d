"""Shared fixtures: paths to ../shared, and a tiny BERT built from nothing."""

import json
import os
import sys

import pytest

import helpers

sys.path.insert(0, helpers.ROOT)
SHARED = helpers.SHARED
GOLDEN = os.path.join(SHARED, "golden")
DATA = os.path.join(SHARED, "data")

def pytest_configure(config):
  """Under CI=true a missing ../shared fails the run: its tests must run."""
  del config  # Unused.
  if os.environ.get("CI") == "true" and not os.path.isdir(SHARED):
    raise pytest.UsageError(
        "%s is absent; with CI=true the tests that need its golden fixtures "
        "and data must run" % SHARED)


def pytest_terminal_summary(terminalreporter):
  """Says how many tests skipped for want of ../shared, and why."""
  if os.path.isdir(SHARED):
    return
  skipped = [report for report in terminalreporter.stats.get("skipped", [])
             if "absent" in str(report.longrepr)]
  if skipped:
    terminalreporter.write_line(
        "%d tests skipped: %s is absent (golden fixtures of the original and "
        "real data); the other tests build their own tiny vocab and model" %
        (len(skipped), SHARED))


@pytest.fixture(scope="session")
def golden():
  """The golden fixtures folder; skips when ../shared is absent."""
  if not os.path.isdir(GOLDEN):
    pytest.skip("../shared/golden is absent")
  return GOLDEN


@pytest.fixture(scope="session")
def shared_data():
  """The real public data folder; skips when ../shared is absent."""
  if not os.path.isdir(DATA):
    pytest.skip("../shared/data is absent")
  return DATA


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory):
  """A tiny model directory like a released one, made from nothing.

  Holds `vocab.txt`, `bert_config.json` and `bert_model.ckpt` (random
  weights for BertModel and the pre-training heads, Google's names).
  Returns a dict with the paths and the vocab list.
  """
  import tensorflow.compat.v1 as tf  # pylint: disable=g-import-not-at-top
  import modeling  # pylint: disable=g-import-not-at-top

  model_dir = str(tmp_path_factory.mktemp("tiny_bert"))
  vocab_file = os.path.join(model_dir, "vocab.txt")
  tokens = helpers.write_tiny_vocab(vocab_file)
  config_file = os.path.join(model_dir, "bert_config.json")
  with open(config_file, "w") as f:
    json.dump(helpers.tiny_config_dict(len(tokens)), f, indent=2)
  config = modeling.BertConfig.from_json_file(config_file)
  checkpoint = os.path.join(model_dir, "bert_model.ckpt")
  with tf.Graph().as_default():
    tf.set_random_seed(1)
    input_ids = tf.zeros([1, 8], tf.int32)
    model = modeling.BertModel(config, False, input_ids)
    with tf.variable_scope("cls/predictions"):
      with tf.variable_scope("transform"):
        modeling.layer_norm(modeling.dense_layer(
            model.get_sequence_output(), config.hidden_size))
      tf.get_variable("output_bias", [config.vocab_size],
                      initializer=tf.zeros_initializer())
    with tf.variable_scope("cls/seq_relationship"):
      tf.get_variable("output_weights", [2, config.hidden_size],
                      initializer=modeling.create_initializer(0.02))
      tf.get_variable("output_bias", [2], initializer=tf.zeros_initializer())
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      tf.train.Saver().save(sess, checkpoint, write_meta_graph=False)
  return {"dir": model_dir, "vocab_file": vocab_file,
          "config_file": config_file, "checkpoint": checkpoint,
          "tokens": tokens}
