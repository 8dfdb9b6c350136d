"""Tests of fine_tuning.py: the checks and steps the fine-tuning scripts share.

The checks run through each script's `validate_flags_or_throw`, so that
they also prove the script passes its own flags and wording; the steps run
on a stand-in for the runner that records what it is asked.
"""

import os

from absl import flags
import pytest

import fine_tuning
import helpers
import modeling
import run_multiple_choice
import run_ner
import script_io

config = helpers.fine_tuning_config

BERT_CONFIG = modeling.BertConfig(vocab_size=10, max_position_embeddings=16)


def flag_values(**values):
  """Valid flags of the fine-tuning scripts, `values` over them."""
  defaults = dict(
      bert_config_file="bert_config.json", init_checkpoint=None,
      do_lower_case=True, do_train=True, do_eval=False, do_predict=False,
      max_seq_length=16, doc_stride=4, train_batch_size=4, eval_batch_size=4,
      predict_batch_size=4, save_checkpoints_steps=10, iterations_per_loop=10,
      num_train_epochs=1.0)
  defaults.update(values)
  return defaults


@pytest.mark.parametrize("script", [run_ner, run_multiple_choice])
def test_valid_flags_pass(script):
  with helpers.command_line(values=flag_values()):
    script.validate_flags_or_throw(BERT_CONFIG)


@pytest.mark.parametrize("script,values,message", [
    (run_ner, {"max_seq_length": 17},
     "--max_seq_length=17: cannot use this sequence length because the BERT "
     "model was only trained up to sequence length 16 (max_position_embeddings"
     " in bert_config.json)"),
    (run_ner, {"max_seq_length": 2},
     "--max_seq_length=2: it must leave room for [CLS], [SEP] and a word "
     "piece (at least 3)"),
    (run_multiple_choice, {"max_seq_length": 2},
     "--max_seq_length=2: it must leave room for [CLS] and two [SEP] tokens "
     "(at least 3)"),
    (run_ner, {"doc_stride": 0}, "--doc_stride=0: must be at least 1"),
    (run_multiple_choice, {"predict_batch_size": 0},
     "--predict_batch_size=0: must be at least 1"),
    (run_ner, {"iterations_per_loop": -1},
     "--iterations_per_loop=-1: must be at least 1"),
    (run_multiple_choice, {"num_train_epochs": float("inf")},
     "--num_train_epochs=inf: must be a finite number"),
])
def test_flags_that_cannot_work_are_one_line_errors(script, values, message):
  with helpers.command_line(values=flag_values(**values)):
    with pytest.raises(script_io.InputError) as error:
      script.validate_flags_or_throw(BERT_CONFIG)
  assert str(error.value) == message


@pytest.mark.parametrize("script", [run_ner, run_multiple_choice])
def test_nothing_to_do_is_the_originals_error(script):
  with pytest.raises(ValueError, match="At least one of `do_train`, "
                     "`do_eval` or `do_predict' must be True."):
    helpers.run_main(script, flag_values(do_train=False))


def test_a_vocab_without_unk_is_refused(tmp_path):
  vocab_file = str(tmp_path / "vocab.txt")
  with open(vocab_file, "w") as f:
    f.write("[CLS]\n[SEP]\nthe\n")
  with helpers.command_line(values={"vocab_file": vocab_file,
                                    "do_lower_case": True}):
    with pytest.raises(script_io.InputError) as error:
      fine_tuning.make_tokenizer(flags.FLAGS, BERT_CONFIG)
  assert str(error.value) == "--vocab_file=%s: no [UNK] token" % vocab_file


def test_data_dir_must_be_a_folder(tmp_path):
  path = str(tmp_path / "file")
  with pytest.raises(script_io.InputError, match="no such directory"):
    fine_tuning.check_data_dir(path)
  open(path, "w").close()
  with pytest.raises(script_io.InputError,
                     match="is a file, not a directory"):
    fine_tuning.check_data_dir(path)
  fine_tuning.check_data_dir(str(tmp_path))


def test_training_steps_are_the_originals():
  # int(10 / 4 * 2.0) steps, the first int(5 * 0.1) of them warming up.
  assert fine_tuning.training_steps(10, config()) == (5, 0)
  assert fine_tuning.training_steps(
      100, config(warmup_proportion=0.25)) == (50, 12)
  with pytest.raises(script_io.InputError) as error:
    fine_tuning.training_steps(1, config(), unit="windows")
  assert str(error.value) == (
      "--do_train: 1 training windows at --train_batch_size=4 for "
      "--num_train_epochs=2.0 make no training step")


def test_padding_fills_whole_batches_on_tpu_only():
  items = [1, 2, 3, 4, 5]
  assert fine_tuning.pad_to_batches(items, 4, False, lambda: 0) == 5
  assert items == [1, 2, 3, 4, 5]
  assert fine_tuning.pad_to_batches(items, 4, True, lambda: 0) == 5
  assert items == [1, 2, 3, 4, 5, 0, 0, 0]


class FakeRunner(object):
  """Records the calls of the steps; predicts `num_predictions` results."""

  def __init__(self, num_predictions=0):
    self.calls = []
    self.num_predictions = num_predictions

  def train(self, input_fn, max_steps, hooks):
    self.calls.append(("train", input_fn, max_steps, hooks))

  def evaluate(self, input_fn, steps):
    self.calls.append(("evaluate", input_fn, steps))
    return {"eval_accuracy": 0.5, "global_step": 7}

  def predict(self, input_fn):
    for i in range(self.num_predictions):
      yield {"index": i}


def test_train_runs_to_the_step_count_with_progress():
  runner = FakeRunner()
  fine_tuning.train(runner, "input_fn", 12, config())
  [(_, input_fn, max_steps, [hook])] = runner.calls
  assert (input_fn, max_steps) == ("input_fn", 12)
  assert type(hook).__name__ == "ProgressHook"


@pytest.mark.parametrize("use_tpu,steps", [(False, None), (True, 3)])
def test_evaluate_writes_the_results(tmp_path, use_tpu, steps):
  runner = FakeRunner()
  result = fine_tuning.evaluate(
      runner, "input_fn", 9, config(output_dir=str(tmp_path), use_tpu=use_tpu))
  assert runner.calls == [("evaluate", "input_fn", steps)]
  assert result["global_step"] == 7
  with open(os.path.join(str(tmp_path), "eval_results.txt")) as f:
    assert f.read() == "eval_accuracy = 0.5\nglobal_step = 7\n"


def test_predictions_of_the_real_examples_or_an_error():
  results = fine_tuning.predictions(FakeRunner(5), "input_fn", 3, "out.txt",
                                    "examples")
  assert results == [{"index": 0}, {"index": 1}, {"index": 2}]
  with pytest.raises(script_io.ScriptError) as error:
    fine_tuning.predictions(FakeRunner(2), "input_fn", 3, "out.txt",
                            "windows")
  assert str(error.value) == ("out.txt: got 2 predictions for 3 test windows;"
                              " the file is left as it was")
