"""Tests of the file and command-line plumbing the scripts share."""

import os
import subprocess
import sys

import pytest

import script_io
from conftest import ROOT


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
  script = tmp_path / "job.py"
  script.write_text(
      "import sys\nsys.path.insert(0, %r)\n"
      "import runner\nimport script_io\n"
      "def main(_):\n"
      "  runner.read_bert_config('/no/such/bert_config.json')\n"
      "script_io.run(main)\n" % ROOT)
  result = subprocess.run([sys.executable, str(script)],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True)
  assert result.returncode == 2
  assert result.stderr.strip().splitlines()[-1] == (
      "error: --bert_config_file=/no/such/bert_config.json: no such file")
  assert "Traceback" not in result.stderr
