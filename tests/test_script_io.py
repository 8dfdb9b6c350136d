"""Tests of the file and command-line plumbing the scripts share."""

import collections
import os

import pytest
import tensorflow.compat.v1 as tf

import helpers
import script_io


def test_lines_split_on_newline_only_and_carriage_returns_dropped(tmp_path):
  path = tmp_path / "text.txt"
  # GFile.readline, which the original reads with, drops every "\r".
  path.write_bytes(b"ab\rcd\r\nx\xe2\x80\xa8y\x0bz\n\n\xff last")
  assert script_io.read_text_lines(str(path)) == [
      "abcd", "x\u2028y\x0bz", "", " last"]


def test_lines_across_read_blocks(tmp_path, monkeypatch):
  monkeypatch.setattr(script_io, "_READ_BLOCK_BYTES", 3)
  path = tmp_path / "text.txt"
  path.write_text("first line\nsecond\r\n\nthird", encoding="utf-8")
  assert list(script_io.iter_text_lines(str(path))) == [
      "first line", "second", "", "third"]


def test_patterns_expand_in_given_order_and_missing_ones_are_named(tmp_path):
  for name in ("b.txt", "a.txt"):
    (tmp_path / name).write_text("x")
  files = script_io.expand_file_patterns(
      "%s,%s" % (tmp_path / "b.txt", tmp_path / "a.txt"), "input_file")
  assert [os.path.basename(f) for f in files] == ["b.txt", "a.txt"]
  for pattern in (tmp_path / "none*.txt", tmp_path / "no_dir" / "*.txt"):
    with pytest.raises(script_io.InputError,
                       match="--input_file: no file matches"):
      script_io.expand_file_patterns(str(pattern), "input_file")


def test_atomic_output_leaves_nothing_on_failure(tmp_path):
  path = str(tmp_path / "out.txt")
  with pytest.raises(RuntimeError):
    with script_io.atomic_output(path) as writer:
      writer.write("partial")
      raise RuntimeError("killed")
  assert os.listdir(str(tmp_path)) == []
  with script_io.atomic_output(path) as writer:
    writer.write("complete")
  assert os.listdir(str(tmp_path)) == ["out.txt"]
  assert open(path).read() == "complete"


def test_eval_results_are_sorted_key_value_lines(tmp_path):
  path = str(tmp_path / "eval_results.txt")
  script_io.write_eval_results(path, {"loss": 0.5, "global_step": 7,
                                            "eval_accuracy": 0.25})
  assert open(path).read() == (
      "eval_accuracy = 0.25\nglobal_step = 7\nloss = 0.5\n")


def test_bad_input_is_one_line_and_exit_status_2(tmp_path):
  result = helpers.run_script("run_pretraining.py", dict(
      bert_config_file="/no/such/bert_config.json", input_file="x",
      output_dir=str(tmp_path / "output"), do_train=True))
  assert helpers.one_line_error(*result) == (
      "error: --bert_config_file=/no/such/bert_config.json: no such file")


# Ints whose varints take 1, 2, 3, 5, 9 and (negative) 10 bytes.
_INTS = [0, 1, 127, 128, 300, 16383, 16384, 2**31, 2**63 - 1, -1, -2**63]


def test_varint_is_protobufs():
  assert script_io.varint(300) == b"\xac\x02"
  for value in _INTS:
    encoded = script_io.varint(value)
    assert tf.train.Int64List(value=[value]).SerializeToString() == (
        b"\x0a" + bytes([len(encoded)]) + encoded)


def test_example_in_order_is_protobufs_own_bytes():
  # Protobuf's deterministic serialization writes map entries in key order:
  # given in that order, ours must be the same bytes.
  features = [
      ("a_floats", script_io.float_feature([0.5, -2.25, 1e30, 0.0])),
      ("b_no_ints", script_io.int64_feature([])),
      ("c_no_floats", script_io.float_feature([])),
      ("d_ids", script_io.int64_feature(value for value in _INTS)),
      ("e_long", script_io.int64_feature(range(1000, 1200))),
  ]
  example = tf.train.Example(features=tf.train.Features(
      feature=dict(features)))
  expected = example.SerializeToString(deterministic=True)
  assert script_io.serialize_example_in_order(features) == expected
  assert script_io.serialize_example_in_order(
      collections.OrderedDict(features)) == expected
  # Another order: the same Example, its entries in that order.
  shuffled = [features[i] for i in (3, 0, 4, 2, 1)]
  serialized = script_io.serialize_example_in_order(shuffled)
  assert tf.train.Example.FromString(serialized) == example
  offsets = [serialized.index(name.encode()) for (name, _) in shuffled]
  assert offsets == sorted(offsets)


def test_int64_and_float_features_take_any_iterable():
  assert list(script_io.int64_feature(
      i * i for i in range(4)).int64_list.value) == [0, 1, 4, 9]
  assert list(script_io.float_feature((0.5,)).float_list.value) == [0.5]


class _Clock(object):
  """A clock that moves only when told."""
  now = 0.0

  def time(self):
    return self.now


@pytest.fixture
def clock_and_lines(monkeypatch):
  clock = _Clock()
  lines = []
  monkeypatch.setattr(script_io, "time", clock)
  monkeypatch.setattr(tf.logging, "info",
                      lambda msg, *args: lines.append(msg % args))
  return clock, lines


def _update_at(clock, progress, now, *args):
  clock.now = now
  progress.update(*args)


def test_progress_rate_and_time_left_mid_run(clock_and_lines):
  clock, lines = clock_and_lines
  progress = script_io.ProgressLog("Wrote %d of 20 records", "records",
                                   total=20, every_seconds=5.0)
  # The rate counts from the first update (3 records at 2 s), not from the
  # start; a line is due 5 s after the last one.
  _update_at(clock, progress, 2.0, 3)
  _update_at(clock, progress, 6.0, 5)
  _update_at(clock, progress, 8.0, 6)
  _update_at(clock, progress, 14.0, 9)
  assert lines == ["Wrote 5 of 20 records, 0.5 records/s, 30s left",
                   "Wrote 9 of 20 records, 0.5 records/s, 22s left"]
  _update_at(clock, progress, 202.0, 20)
  progress.finish("Wrote %d records to %s", "out.tfrecord")
  assert lines[2:] == ["Wrote 20 of 20 records, 0.1 records/s, 0s left",
                       "Wrote 20 records to out.tfrecord, 0.1 records/s"]


def test_progress_without_total_or_rate_yet(clock_and_lines):
  clock, lines = clock_and_lines
  progress = script_io.ProgressLog("Read %d documents (%d sentences)",
                                   "documents", every_seconds=0.0)
  _update_at(clock, progress, 1.0, 1, 4)
  _update_at(clock, progress, 3.0, 5, 20)
  _update_at(clock, progress, 3.0, 5, 20)
  assert lines == ["Read 1 documents (4 sentences)",
                   "Read 5 documents (20 sentences), 2.0 documents/s",
                   "Read 5 documents (20 sentences), 2.0 documents/s"]


def test_durations_read_as_hours_minutes_or_seconds():
  assert [script_io.format_duration(s) for s in (3725, 185, 12.4, 0)] == [
      "1h02m", "3m05s", "12s", "0s"]
  assert script_io.format_rate(2.25, "lines") == "2.2 lines/s"
  assert script_io.format_rate(40.0, "examples", 65) == (
      "40.0 examples/s, 1m05s left")
