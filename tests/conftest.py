"""Shared fixtures: paths to ../shared, and a tiny BERT built from nothing."""

import json
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
SHARED = os.path.join(os.path.dirname(ROOT), "shared")
GOLDEN = os.path.join(SHARED, "golden")
DATA = os.path.join(SHARED, "data")

# A small vocabulary that covers the tiny test corpora; specials first.
TINY_WORDS = (
    "the a an of to and in is was it that he she they we you i on for with "
    "as at by from this his her their be have has had not but or are were "
    "one two three day night water tea bread cat dog house garden sky sun "
    "moon rain river tree stone road city ship sea man woman child old new "
    "good small big long short first last red green blue white black cold "
    "warm bright dark quick slow said went came saw made took gave found "
    "ran walked looked yes no what who where when why how . , ! ? ' \" - : ;"
).split()


def write_tiny_vocab(path, extra_words=()):
  """Writes a vocab of specials, words, letters and ## letters; returns it."""
  tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
  letters = [chr(c) for c in range(ord("a"), ord("z") + 1)]
  digits = [str(d) for d in range(10)]
  for token in (list(TINY_WORDS) + list(extra_words) + letters + digits +
                ["##" + c for c in letters + digits] + ["##s", "##ed",
                                                        "##ing"]):
    if token not in tokens:
      tokens.append(token)
  with open(path, "w", encoding="utf-8") as f:
    f.write("\n".join(tokens) + "\n")
  return tokens


def tiny_config_dict(vocab_size):
  return {
      "vocab_size": vocab_size,
      "hidden_size": 32,
      "num_hidden_layers": 2,
      "num_attention_heads": 4,
      "intermediate_size": 37,
      "hidden_act": "gelu",
      "hidden_dropout_prob": 0.1,
      "attention_probs_dropout_prob": 0.1,
      "max_position_embeddings": 128,
      "type_vocab_size": 2,
      "initializer_range": 0.02,
  }


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
  tokens = write_tiny_vocab(vocab_file)
  config_file = os.path.join(model_dir, "bert_config.json")
  with open(config_file, "w") as f:
    json.dump(tiny_config_dict(len(tokens)), f, indent=2)
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
