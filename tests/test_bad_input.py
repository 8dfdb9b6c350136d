"""Bad input ends with one line naming its cause, and loses nothing.

Each case runs a script as a user does, in a process of its own, and checks
the exit status, that the error is one line naming the file or flag at
fault, that no traceback is printed, and that a good output written before
is byte for byte the same afterwards.
"""

import json
import os
import shutil
import signal
import subprocess
import sys

import pytest

import script_io
from conftest import ROOT

SEQ_LENGTH = 32
MAX_PREDICTIONS = 5


def run_script(script, *extra_args, **flags):
  argv = [sys.executable, os.path.join(ROOT, script)] + [
      "--%s=%s" % item for item in sorted(flags.items())] + list(extra_args)
  return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                        universal_newlines=True, cwd=ROOT,
                        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))


def assert_one_line_error(result, *fragments):
  """Exit status 2, last line `error: ...` holding `fragments`, no trace."""
  assert result.returncode == 2, result.stderr[-2000:]
  last_line = result.stderr.strip().splitlines()[-1]
  assert last_line.startswith("error: "), result.stderr[-2000:]
  assert "Traceback" not in result.stderr
  for fragment in fragments:
    assert fragment in last_line
  return last_line


def read_bytes(path):
  with open(path, "rb") as f:
    return f.read()


@pytest.fixture(scope="module")
def records(tiny_bert, tmp_path_factory):
  """Pre-training records of the tiny vocab."""
  folder = tmp_path_factory.mktemp("records")
  text = folder / "text.txt"
  sentences = ["the cat sat on the road .", "a dog ran to the old house .",
               "the sun was warm and bright .", "she said yes to the tea ."]
  # Three documents of four sentences each.
  text.write_text("\n\n".join(["\n".join(sentences)] * 3) + "\n",
                  encoding="utf-8")
  output = str(folder / "records.tfrecord")
  result = run_script(
      "create_pretraining_data.py", input_file=str(text),
      output_file=output, vocab_file=tiny_bert["vocab_file"],
      max_seq_length=SEQ_LENGTH, max_predictions_per_seq=MAX_PREDICTIONS,
      dupe_factor=2)
  assert result.returncode == 0, result.stderr[-2000:]
  return output


def pretraining_flags(tiny_bert, records, output_dir, **flags):
  values = dict(input_file=records, bert_config_file=tiny_bert["config_file"],
                output_dir=output_dir, do_eval=True, eval_batch_size=2,
                max_seq_length=SEQ_LENGTH,
                max_predictions_per_seq=MAX_PREDICTIONS, max_eval_steps=2,
                train_batch_size=2, num_train_steps=2)
  values.update(flags)
  return values


@pytest.fixture(scope="module")
def evaluated(tiny_bert, records, tmp_path_factory):
  """An output_dir where a pre-training evaluation succeeded."""
  output_dir = str(tmp_path_factory.mktemp("evaluated"))
  result = run_script("run_pretraining.py", **pretraining_flags(
      tiny_bert, records, output_dir, init_checkpoint=tiny_bert["checkpoint"]))
  assert result.returncode == 0, result.stderr[-2000:]
  return output_dir


@pytest.fixture
def good_output(evaluated, tmp_path):
  """A copy of `evaluated`, and its eval_results.txt bytes."""
  output_dir = str(tmp_path / "output")
  shutil.copytree(evaluated, output_dir)
  path = os.path.join(output_dir, "eval_results.txt")
  return output_dir, path, read_bytes(path)


@pytest.fixture(scope="module")
def features_output(tiny_bert, tmp_path_factory):
  """A good extract_features.py output, and the flags that made it."""
  folder = tmp_path_factory.mktemp("features")
  input_file = folder / "input.txt"
  input_file.write_text("the cat sat .\na dog ||| the sun\n", encoding="utf-8")
  flags = dict(input_file=str(input_file), vocab_file=tiny_bert["vocab_file"],
               bert_config_file=tiny_bert["config_file"],
               init_checkpoint=tiny_bert["checkpoint"],
               output_file=str(folder / "features.jsonl"),
               max_seq_length=SEQ_LENGTH, layers="-1")
  result = run_script("extract_features.py", **flags)
  assert result.returncode == 0, result.stderr[-2000:]
  return flags


def assert_features_kept(features_output, result, *fragments):
  before = read_bytes(features_output["output_file"])
  assert_one_line_error(result, *fragments)
  assert read_bytes(features_output["output_file"]) == before


def write_config(path, **changes):
  """A copy of the tiny config with keys changed (None: removed)."""
  with open(changes.pop("like")) as f:
    config = json.load(f)
  for (key, value) in changes.items():
    if value is None:
      config.pop(key)
    else:
      config[key] = value
  with open(path, "w") as f:
    json.dump(config, f)
  return str(path)


def copy_checkpoint(tiny_bert, folder):
  prefix = os.path.join(str(folder), "bert_model.ckpt")
  for suffix in (".index", ".data-00000-of-00001"):
    shutil.copy(tiny_bert["checkpoint"] + suffix, prefix + suffix)
  return prefix


# Errors that would hide their cause.


def test_corrupt_record_is_named_by_file_and_number(tiny_bert, records,
                                                    good_output, tmp_path):
  output_dir, results_path, before = good_output
  corrupt = str(tmp_path / "corrupt.tfrecord")
  data = bytearray(read_bytes(records))
  data[3000] ^= 0xFF
  with open(corrupt, "wb") as f:
    f.write(bytes(data))
  result = run_script("run_pretraining.py", **pretraining_flags(
      tiny_bert, "%s,%s" % (records, corrupt), output_dir, max_eval_steps=1000))
  line = assert_one_line_error(result, "--input_file", corrupt, "record ")
  assert "corrupt or truncated" in line
  assert read_bytes(results_path) == before


@pytest.mark.parametrize("damage", ["truncated", "no_data_file"])
def test_incomplete_checkpoint_is_refused_up_front(tiny_bert, records,
                                                   good_output, tmp_path,
                                                   features_output, damage):
  prefix = copy_checkpoint(tiny_bert, tmp_path)
  data_file = prefix + ".data-00000-of-00001"
  if damage == "truncated":
    with open(data_file, "r+b") as f:
      f.truncate(os.path.getsize(data_file) // 2)
  else:
    os.remove(data_file)
  output_dir, results_path, before = good_output
  result = run_script("run_pretraining.py", **pretraining_flags(
      tiny_bert, records, output_dir, init_checkpoint=prefix))
  assert_one_line_error(result, "--init_checkpoint=" + prefix)
  assert read_bytes(results_path) == before
  result = run_script("extract_features.py",
                      **dict(features_output, init_checkpoint=prefix))
  assert_features_kept(features_output, result, "--init_checkpoint=" + prefix)


def test_vocab_beyond_the_config_vocab_size(tiny_bert, features_output,
                                            tmp_path):
  config = write_config(tmp_path / "config.json",
                        like=tiny_bert["config_file"], vocab_size=50)
  result = run_script("extract_features.py",
                      **dict(features_output, bert_config_file=config))
  assert_features_kept(features_output, result,
                       "--vocab_file=" + tiny_bert["vocab_file"], config,
                       "vocab_size 50")


def test_config_without_a_key_says_which_default_was_used(
    tiny_bert, features_output, tmp_path):
  config = write_config(tmp_path / "config.json",
                        like=tiny_bert["config_file"],
                        num_attention_heads=None)
  result = run_script("extract_features.py",
                      **dict(features_output, bert_config_file=config))
  assert_features_kept(features_output, result, "--bert_config_file=" + config,
                       "has no `num_attention_heads`: 12 is the default")


def test_paths_of_the_wrong_kind(tiny_bert, records, good_output, tmp_path,
                                 features_output):
  output_dir, results_path, before = good_output
  folder = str(tmp_path)
  result = run_script("run_pretraining.py", **pretraining_flags(
      tiny_bert, folder, output_dir))
  assert_one_line_error(result, "--input_file", "is a directory")
  result = run_script("extract_features.py",
                      **dict(features_output, vocab_file=folder))
  assert_features_kept(features_output, result, "--vocab_file",
                       "is a directory")
  result = run_script("run_pretraining.py", **pretraining_flags(
      tiny_bert, records, results_path))
  assert_one_line_error(result, "--output_dir=" + results_path, "is a file")
  assert read_bytes(results_path) == before


# A model that is not the one asked for.


def test_checkpoint_that_lacks_layers_of_the_model(tiny_bert, records,
                                                   features_output, tmp_path):
  # Without `num_hidden_layers` the config means 12 layers; the tiny
  # checkpoint has 2.
  config = write_config(tmp_path / "config.json",
                        like=tiny_bert["config_file"],
                        num_hidden_layers=None)
  result = run_script("extract_features.py",
                      **dict(features_output, bert_config_file=config))
  assert_features_kept(features_output, result,
                       "--init_checkpoint=" + tiny_bert["checkpoint"],
                       "lacks 160 of the model's 199 variables", config)

  def pretrain(output_dir, *extra_args):
    return run_script("run_pretraining.py", *extra_args, **pretraining_flags(
        tiny_bert, records, str(tmp_path / output_dir),
        bert_config_file=config, init_checkpoint=tiny_bert["checkpoint"],
        do_train=True, do_eval=False, num_train_steps=1))

  assert_one_line_error(pretrain("refused"), "--allow_partial_checkpoint")
  accepted = pretrain("accepted", "--allow_partial_checkpoint")
  assert accepted.returncode == 0, accepted.stderr[-2000:]
  assert "They start from random values" in accepted.stderr


def test_training_loss_that_turns_nan_names_the_step(tiny_bert, records,
                                                     tmp_path):
  result = run_script("run_pretraining.py", **pretraining_flags(
      tiny_bert, records, str(tmp_path / "output"), do_train=True,
      do_eval=False, learning_rate=1e38, num_train_steps=20,
      num_warmup_steps=0))
  assert_one_line_error(result, "the training loss is ", " at step ")


# Traps left behind.


def test_stale_temporary_files_are_hidden_and_cleaned(tiny_bert, records,
                                                      tmp_path):
  output = tmp_path / "out.tfrecord"
  # A temporary file of a process that is gone, as a killed run leaves it.
  stale = tmp_path / ".out.tfrecord.tmp-999999999-0badcafe"
  stale.write_bytes(b"half written")
  text = tmp_path / "text.txt"
  text.write_text("the cat sat .\nthe dog ran .\n\nthe sun was warm .\n"
                  "a man said yes .\n", encoding="utf-8")
  result = run_script(
      "create_pretraining_data.py", input_file=str(text),
      output_file=str(output), vocab_file=tiny_bert["vocab_file"],
      max_seq_length=SEQ_LENGTH, max_predictions_per_seq=MAX_PREDICTIONS)
  assert result.returncode == 0, result.stderr[-2000:]
  assert sorted(os.listdir(str(tmp_path))) == ["out.tfrecord", "text.txt"]
  # Our own temporary names are hidden from the outputs' pattern.
  name = os.path.basename(script_io.temporary_path(str(output)))
  assert name.startswith(".out.tfrecord.tmp-%d-" % os.getpid())


def test_a_second_run_into_a_busy_output_dir_fails_at_once(
    tiny_bert, records, good_output):
  output_dir, results_path, before = good_output
  with script_io.locked_directory(output_dir, "output_dir"):
    result = run_script("run_pretraining.py", **pretraining_flags(
        tiny_bert, records, output_dir))
  assert_one_line_error(result, "--output_dir=" + output_dir,
                        "in use by another run (process %d)" % os.getpid())
  assert read_bytes(results_path) == before


def test_a_killed_run_leaves_no_lock(tmp_path):
  holder = subprocess.Popen(
      [sys.executable, "-c",
       "import sys, time; sys.path.insert(0, %r); import script_io\n"
       "with script_io.locked_directory(%r, 'output_dir'):\n"
       "  print('locked', flush=True); time.sleep(60)\n" %
       (ROOT, str(tmp_path))], stdout=subprocess.PIPE,
      universal_newlines=True)
  assert holder.stdout.readline().strip() == "locked"
  with pytest.raises(script_io.InputError, match="process %d" % holder.pid):
    with script_io.locked_directory(str(tmp_path), "output_dir"):
      pass
  holder.send_signal(signal.SIGKILL)
  holder.wait()
  with script_io.locked_directory(str(tmp_path), "output_dir"):
    pass


# Logs a person can follow.


def test_each_log_line_is_printed_once(evaluated, tiny_bert, records,
                                       tmp_path):
  result = run_script("run_pretraining.py", **pretraining_flags(
      tiny_bert, records, str(tmp_path / "output")))
  assert result.returncode == 0, result.stderr[-2000:]
  assert result.stderr.count("***** Running evaluation *****") == 1


def test_bytes_that_are_not_utf8_are_counted_once_per_file(tiny_bert,
                                                           tmp_path):
  text = tmp_path / "text.txt"
  text.write_bytes(b"the cat sat .\nthe caf\xc3\xa9 \xff\xfe dog ran .\n\n"
                   b"the sun \xff was warm .\na man said yes .\n")
  result = run_script(
      "create_pretraining_data.py", input_file=str(text),
      output_file=str(tmp_path / "out.tfrecord"),
      vocab_file=tiny_bert["vocab_file"], max_seq_length=SEQ_LENGTH,
      max_predictions_per_seq=MAX_PREDICTIONS)
  assert result.returncode == 0, result.stderr[-2000:]
  warnings = [line for line in result.stderr.splitlines()
              if "not UTF-8" in line]
  assert len(warnings) == 1
  assert warnings[0].endswith(
      "%s: 3 bytes that are not UTF-8 were dropped, the first on line 2." %
      text)

