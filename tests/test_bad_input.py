"""Bad input ends with one line naming its cause, and loses nothing.

Each case runs a script as a user does, in a process of its own, and checks
the exit status, that the error is one line naming the file or flag at
fault, that no traceback is printed, and that a good output written before
is byte for byte the same afterwards.
"""

import json
import multiprocessing
import os
import shutil

import pytest

import create_pretraining_data
import extract_features
import helpers
import run_pretraining
import script_io
import stand_in_workers

SEQ_LENGTH = 32
MAX_PREDICTIONS = 5


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
  helpers.run_main(create_pretraining_data, dict(
      input_file=str(text), output_file=output,
      vocab_file=tiny_bert["vocab_file"], max_seq_length=SEQ_LENGTH,
      max_predictions_per_seq=MAX_PREDICTIONS, dupe_factor=2))
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
  helpers.run_main(run_pretraining, pretraining_flags(
      tiny_bert, records, output_dir, init_checkpoint=tiny_bert["checkpoint"]))
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
  helpers.run_main(extract_features, flags)
  return flags


def assert_features_kept(features_output, result, *fragments):
  before = read_bytes(features_output["output_file"])
  helpers.assert_one_line_error(result, *fragments)
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
  result = helpers.run_script("run_pretraining.py", pretraining_flags(
      tiny_bert, "%s,%s" % (records, corrupt), output_dir, max_eval_steps=1000))
  line = helpers.assert_one_line_error(result, "--input_file", corrupt,
                                       "record ")
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
  result = helpers.run_script("run_pretraining.py", pretraining_flags(
      tiny_bert, records, output_dir, init_checkpoint=prefix))
  helpers.assert_one_line_error(result, "--init_checkpoint=" + prefix)
  assert read_bytes(results_path) == before
  result = helpers.run_script("extract_features.py",
                              dict(features_output, init_checkpoint=prefix))
  assert_features_kept(features_output, result, "--init_checkpoint=" + prefix)


def test_vocab_beyond_the_config_vocab_size(tiny_bert, features_output,
                                            tmp_path):
  config = write_config(tmp_path / "config.json",
                        like=tiny_bert["config_file"], vocab_size=50)
  result = helpers.run_script("extract_features.py",
                              dict(features_output, bert_config_file=config))
  assert_features_kept(features_output, result,
                       "--vocab_file=" + tiny_bert["vocab_file"], config,
                       "vocab_size 50")


def test_verbose_prints_the_traceback_before_the_one_line_error(
    tiny_bert, features_output, tmp_path):
  config = write_config(tmp_path / "config.json",
                        like=tiny_bert["config_file"], vocab_size=50)
  (status, stderr) = helpers.run_script(
      "extract_features.py", dict(features_output, bert_config_file=config),
      "--verbose")
  assert status == 2
  assert "Traceback (most recent call last)" in stderr
  assert stderr.rstrip("\n").splitlines()[-1].startswith(
      "error: --vocab_file=")


def test_config_without_a_key_says_which_default_was_used(
    tiny_bert, features_output, tmp_path):
  config = write_config(tmp_path / "config.json",
                        like=tiny_bert["config_file"],
                        num_attention_heads=None)
  result = helpers.run_script("extract_features.py",
                              dict(features_output, bert_config_file=config))
  assert_features_kept(features_output, result, "--bert_config_file=" + config,
                       "has no `num_attention_heads`: 12 is the default")


def test_paths_of_the_wrong_kind(tiny_bert, records, good_output, tmp_path,
                                 features_output):
  output_dir, results_path, before = good_output
  folder = str(tmp_path)
  result = helpers.run_script("run_pretraining.py", pretraining_flags(
      tiny_bert, folder, output_dir))
  helpers.assert_one_line_error(result, "--input_file", "is a directory")
  result = helpers.run_script("extract_features.py",
                              dict(features_output, vocab_file=folder))
  assert_features_kept(features_output, result, "--vocab_file",
                       "is a directory")
  result = helpers.run_script("run_pretraining.py", pretraining_flags(
      tiny_bert, records, results_path))
  helpers.assert_one_line_error(result, "--output_dir=" + results_path,
                                "is a file")
  assert read_bytes(results_path) == before


# A model that is not the one asked for.


def test_checkpoint_that_lacks_layers_of_the_model(tiny_bert, records,
                                                   features_output, tmp_path):
  # Without `num_hidden_layers` the config means 12 layers; the tiny
  # checkpoint has 2.
  config = write_config(tmp_path / "config.json",
                        like=tiny_bert["config_file"],
                        num_hidden_layers=None)
  result = helpers.run_script("extract_features.py",
                              dict(features_output, bert_config_file=config))
  assert_features_kept(features_output, result,
                       "--init_checkpoint=" + tiny_bert["checkpoint"],
                       "lacks 160 of the model's 199 variables", config)

  def pretrain(output_dir, *extra_args):
    return helpers.run_script("run_pretraining.py", pretraining_flags(
        tiny_bert, records, str(tmp_path / output_dir),
        bert_config_file=config, init_checkpoint=tiny_bert["checkpoint"],
        do_train=True, do_eval=False, num_train_steps=1), *extra_args)

  helpers.assert_one_line_error(pretrain("refused"),
                                "--allow_partial_checkpoint")
  (status, stderr) = pretrain("accepted", "--allow_partial_checkpoint")
  assert status == 0, stderr[-2000:]
  assert "They start from random values" in stderr


def test_training_loss_that_turns_nan_names_the_step(tiny_bert, records,
                                                     tmp_path):
  result = helpers.run_script("run_pretraining.py", pretraining_flags(
      tiny_bert, records, str(tmp_path / "output"), do_train=True,
      do_eval=False, learning_rate=1e38, num_train_steps=20,
      num_warmup_steps=0))
  helpers.assert_one_line_error(result, "the training loss is ",
                                " at step ")


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
  helpers.run_main(create_pretraining_data, dict(
      input_file=str(text), output_file=str(output),
      vocab_file=tiny_bert["vocab_file"], max_seq_length=SEQ_LENGTH,
      max_predictions_per_seq=MAX_PREDICTIONS))
  assert sorted(os.listdir(str(tmp_path))) == ["out.tfrecord", "text.txt"]
  # Our own temporary names are hidden from the outputs' pattern.
  name = os.path.basename(script_io.temporary_path(str(output)))
  assert name.startswith(".out.tfrecord.tmp-%d-" % os.getpid())


def test_a_second_run_into_a_busy_output_dir_fails_at_once(
    tiny_bert, records, good_output):
  output_dir, results_path, before = good_output
  with script_io.locked_directory(output_dir, "output_dir"):
    result = helpers.run_script("run_pretraining.py", pretraining_flags(
        tiny_bert, records, output_dir))
  helpers.assert_one_line_error(
      result, "--output_dir=" + output_dir,
      "in use by another run (process %d)" % os.getpid())
  assert read_bytes(results_path) == before


def test_a_killed_run_leaves_no_lock(tmp_path):
  context = multiprocessing.get_context("spawn")
  locked = context.Event()
  holder = context.Process(target=stand_in_workers.hold_lock,
                           args=(str(tmp_path), locked))
  holder.start()
  assert locked.wait(120)
  with pytest.raises(script_io.InputError, match="process %d" % holder.pid):
    with script_io.locked_directory(str(tmp_path), "output_dir"):
      pass
  holder.kill()
  holder.join()
  with script_io.locked_directory(str(tmp_path), "output_dir"):
    pass


# Logs a person can follow.


def test_each_log_line_is_printed_once(evaluated, tiny_bert, records,
                                       tmp_path):
  (status, stderr) = helpers.run_script("run_pretraining.py", pretraining_flags(
      tiny_bert, records, str(tmp_path / "output")))
  assert status == 0, stderr[-2000:]
  assert stderr.count("***** Running evaluation *****") == 1


def test_bytes_that_are_not_utf8_are_counted_once_per_file(tiny_bert,
                                                           tmp_path):
  text = tmp_path / "text.txt"
  text.write_bytes(b"the cat sat .\nthe caf\xc3\xa9 \xff\xfe dog ran .\n\n"
                   b"the sun \xff was warm .\na man said yes .\n")
  (status, stderr) = helpers.run_script("create_pretraining_data.py", dict(
      input_file=str(text), output_file=str(tmp_path / "out.tfrecord"),
      vocab_file=tiny_bert["vocab_file"], max_seq_length=SEQ_LENGTH,
      max_predictions_per_seq=MAX_PREDICTIONS))
  assert status == 0, stderr[-2000:]
  warnings = [line for line in stderr.splitlines()
              if "not UTF-8" in line]
  assert len(warnings) == 1
  assert warnings[0].endswith(
      "%s: 3 bytes that are not UTF-8 were dropped, the first on line 2." %
      text)

