"""Tests of the plumbing the scripts share (estimator_utils.py)."""

import os
import subprocess
import sys

import pytest
import tensorflow.compat.v1 as tf

import estimator_utils
import tokenization
from conftest import ROOT
from conftest import write_tiny_vocab


def test_lines_split_on_newline_only_and_carriage_returns_dropped(tmp_path):
  path = tmp_path / "text.txt"
  # GFile.readline, which the original reads with, drops every "\r".
  path.write_bytes(b"ab\rcd\r\nx\xe2\x80\xa8y\x0bz\n\n\xff last")
  assert estimator_utils.read_text_lines(str(path)) == [
      "abcd", "x\u2028y\x0bz", "", " last"]


def test_lines_across_read_blocks(tmp_path, monkeypatch):
  monkeypatch.setattr(estimator_utils, "_READ_BLOCK_BYTES", 3)
  path = tmp_path / "text.txt"
  path.write_text("first line\nsecond\r\n\nthird", encoding="utf-8")
  assert list(estimator_utils.iter_text_lines(str(path))) == [
      "first line", "second", "", "third"]


def test_patterns_expand_in_given_order_and_missing_ones_are_named(tmp_path):
  for name in ("b.txt", "a.txt"):
    (tmp_path / name).write_text("x")
  files = estimator_utils.expand_file_patterns(
      "%s,%s" % (tmp_path / "b.txt", tmp_path / "a.txt"), "input_file")
  assert [os.path.basename(f) for f in files] == ["b.txt", "a.txt"]
  for pattern in (tmp_path / "none*.txt", tmp_path / "no_dir" / "*.txt"):
    with pytest.raises(estimator_utils.InputError,
                       match="--input_file: no file matches"):
      estimator_utils.expand_file_patterns(str(pattern), "input_file")


def test_atomic_output_leaves_nothing_on_failure(tmp_path):
  path = str(tmp_path / "out.txt")
  with pytest.raises(RuntimeError):
    with estimator_utils.atomic_output(path) as writer:
      writer.write("partial")
      raise RuntimeError("killed")
  assert os.listdir(str(tmp_path)) == []
  with estimator_utils.atomic_output(path) as writer:
    writer.write("complete")
  assert os.listdir(str(tmp_path)) == ["out.txt"]
  assert open(path).read() == "complete"


def test_eval_results_are_sorted_key_value_lines(tmp_path):
  path = str(tmp_path / "eval_results.txt")
  estimator_utils.write_eval_results(path, {"loss": 0.5, "global_step": 7,
                                            "eval_accuracy": 0.25})
  assert open(path).read() == (
      "eval_accuracy = 0.25\nglobal_step = 7\nloss = 0.5\n")


def test_missing_config_names_the_flag(tmp_path):
  with pytest.raises(estimator_utils.InputError,
                     match="--bert_config_file=.*: no such file"):
    estimator_utils.read_bert_config(str(tmp_path / "bert_config.json"))


def test_missing_checkpoint_names_the_flag(tmp_path):
  with pytest.raises(estimator_utils.InputError,
                     match="--init_checkpoint=.*no such checkpoint"):
    estimator_utils.resolve_checkpoint(str(tmp_path / "bert_model.ckpt"))
  with pytest.raises(estimator_utils.InputError, match="holds no checkpoint"):
    estimator_utils.resolve_checkpoint(str(tmp_path))


def test_pair_packing_truncates_the_longer_side_and_pads(tmp_path):
  vocab_file = str(tmp_path / "vocab.txt")
  write_tiny_vocab(vocab_file)
  tokenizer = tokenization.FullTokenizer(vocab_file)
  tokens, input_ids, input_mask, segment_ids = (
      estimator_utils.pack_sentence_pair(
          tokenizer, "the cat ran on the road", "a dog", 9))
  assert tokens == ["[CLS]", "the", "cat", "ran", "on", "[SEP]", "a", "dog",
                    "[SEP]"]
  assert segment_ids == [0] * 6 + [1] * 3
  assert input_mask == [1] * 9
  assert input_ids == tokenizer.convert_tokens_to_ids(tokens)
  # A second text that tokenizes to nothing gives a single sentence.
  tokens, input_ids, input_mask, segment_ids = (
      estimator_utils.pack_sentence_pair(tokenizer, "the cat", "   ", 6))
  assert tokens == ["[CLS]", "the", "cat", "[SEP]"]
  assert input_mask == [1, 1, 1, 1, 0, 0]
  assert input_ids[4:] == [0, 0] and segment_ids == [0] * 6


def test_truncation_cuts_one_token_at_a_time_from_the_longer_list():
  tokens_a, tokens_b = list("abcdef"), list("xyz")
  estimator_utils.truncate_seq_pair(tokens_a, tokens_b, 5)
  assert (tokens_a, tokens_b) == (list("abc"), list("xy"))


def test_bad_input_is_one_line_and_exit_status_2(tmp_path):
  script = tmp_path / "job.py"
  script.write_text(
      "import sys\nsys.path.insert(0, %r)\n"
      "import estimator_utils\n"
      "def main(_):\n"
      "  estimator_utils.read_bert_config('/no/such/bert_config.json')\n"
      "estimator_utils.run(main)\n" % ROOT)
  result = subprocess.run([sys.executable, str(script)],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True)
  assert result.returncode == 2
  assert result.stderr.strip().splitlines()[-1] == (
      "error: --bert_config_file=/no/such/bert_config.json: no such file")
  assert "Traceback" not in result.stderr


def test_progress_hook_reports_step_loss_rate_and_time_left(caplog):
  with tf.Graph().as_default():
    global_step = tf.train.get_or_create_global_step()
    loss = tf.constant(1.5)
    estimator_utils.track_training_loss(loss)
    step = tf.assign_add(global_step, 1)
    hook = estimator_utils.ProgressHook(num_train_steps=6, batch_size=4,
                                        every_n_steps=2)
    messages = []
    original_info = tf.logging.info
    try:
      tf.logging.info = lambda msg, *args: messages.append(msg % args)
      with tf.train.MonitoredSession(hooks=[hook]) as sess:
        for _ in range(6):
          sess.run(step)
    finally:
      tf.logging.info = original_info
  assert len(messages) >= 2
  assert messages[-1].startswith("step 6/6: loss = 1.5000, ")
  assert "examples/s" in messages[-1] and messages[-1].endswith("0s left")


def test_no_loss_is_tracked_on_tpu():
  with tf.Graph().as_default():
    loss = tf.constant(2.0)
    estimator_utils.track_training_loss(loss, use_tpu=True)
    assert not tf.get_collection(estimator_utils.TRAINING_LOSS_COLLECTION)
    estimator_utils.track_training_loss(loss, use_tpu=False)
    assert tf.get_collection(estimator_utils.TRAINING_LOSS_COLLECTION) == [
        loss]
