"""Bad input data: one-line errors, and good outputs kept byte for byte.

Covers run_classifier.py (data sets with no example, missing or misplaced
data files, rows and labels a task cannot read, flags that cannot work),
create_pretraining_data.py (flags that would write nothing or lose
instances, outputs that cannot be written) and create_vocab.py (inputs with
nothing to learn, outputs that cannot be written), and writes that fail
halfway. Each script case runs the script as a user does, in a process of
its own, and checks the exit status 2, a last stderr line `error: ...`
naming the file or flag, no traceback, that a good output written before is
byte for byte the same, and that no temporary file is left. Checks of every
task at once, and of tasks of one's own (classes here), run in this
process, on main or the functions it calls.
"""

import collections
import multiprocessing
import os
import re
import shutil

from absl import flags
import numpy as np
import pytest

import create_pretraining_data
import create_vocab
import fine_tuning
import helpers
import run_classifier
import script_io
import stand_in_workers
import task_data
import tokenization


SEQ_LENGTH = 32

MRPC_HEADER = ["Quality", "#1 ID", "#2 ID", "#1 String", "#2 String"]
MRPC_ROWS = [["1", "1", "2", "the cat saw the dog .", "a dog saw the cat ."],
             ["0", "3", "4", "the sun is warm .", "the river is cold ."],
             ["1", "5", "6", "a man said yes .", "the man said yes ."],
             ["0", "7", "8", "the old ship .", "a new house ."]]


# --------------------------------------------------------------------------
# Helpers.


def temporary_files(folder):
  return [os.path.join(directory, name)
          for (directory, _, names) in os.walk(folder)
          for name in names if ".tmp-" in name]


def assert_kept(folder, before):
  """`folder` holds the same files, byte for byte, and no temporary one."""
  assert not temporary_files(folder)
  assert helpers.snapshot(folder) == before


def file_stamps(folder):
  """{name: (inode, modification time)} of the files in `folder`, but the
  lock."""
  return {name: (os.stat(os.path.join(folder, name)).st_ino,
                 os.stat(os.path.join(folder, name)).st_mtime_ns)
          for name in os.listdir(folder) if name != ".lock"}


# --------------------------------------------------------------------------
# run_classifier.py


def write_mrpc(data_dir):
  for name in ("train", "dev", "test"):
    task_data.write_tsv(os.path.join(data_dir, name + ".tsv"),
                        [MRPC_HEADER] + MRPC_ROWS)
  return data_dir


def classifier_flags(tiny_bert, data_dir, output_dir, init_checkpoint):
  return dict(task_name="mrpc", data_dir=data_dir, output_dir=output_dir,
              vocab_file=tiny_bert["vocab_file"],
              bert_config_file=tiny_bert["config_file"],
              init_checkpoint=init_checkpoint, max_seq_length=SEQ_LENGTH,
              do_eval=True, do_predict=True, train_batch_size=4,
              num_train_epochs=1, eval_batch_size=2, predict_batch_size=2)


@pytest.fixture(scope="module")
def classified(tiny_bert, tmp_path_factory):
  """An output_dir where MRPC fine-tuning (one step of 4 examples),
  evaluation and prediction succeeded."""
  folder = tmp_path_factory.mktemp("classified")
  data_dir = write_mrpc(str(folder / "data"))
  output_dir = str(folder / "output")
  values = classifier_flags(tiny_bert, data_dir, output_dir,
                            tiny_bert["checkpoint"])
  helpers.run_main(run_classifier, dict(values, do_train=True))
  for name in ("train.tf_record", "eval.tf_record", "eval_results.txt",
               "predict.tf_record", "test_results.tsv"):
    assert os.path.getsize(os.path.join(output_dir, name)) > 0
  return output_dir


@pytest.fixture
def classifier_case(tiny_bert, classified, tmp_path):
  """Good MRPC data, a copy of `classified` and a run to change them.

  `case.values(**changes)` are the flags of a run on them, by default with
  --do_eval --do_predict from the fine-tuned checkpoint; `case.run(**changes)`
  runs run_classifier.py with them and returns (exit status, stderr);
  `case.before` is the output folder's snapshot.
  """

  class Case(object):
    data_dir = write_mrpc(str(tmp_path / "data"))
    output_dir = str(tmp_path / "output")

    @classmethod
    def values(cls, **changes):
      return dict(classifier_flags(tiny_bert, cls.data_dir, cls.output_dir,
                                   cls.output_dir), **changes)

    @classmethod
    def run(cls, file_size_limit=None, **changes):
      return helpers.run_script("run_classifier.py", cls.values(**changes),
                                file_size_limit=file_size_limit)

  shutil.copytree(classified, Case.output_dir)
  Case.before = helpers.snapshot(Case.output_dir)
  return Case


@pytest.mark.parametrize("set_file,run_flags", [
    ("dev.tsv", {"do_predict": False}),
    ("test.tsv", {"do_eval": False}),
    ("train.tsv", {"do_train": True})])
def test_header_only_set_is_an_error_before_any_output(classifier_case,
                                                       set_file, run_flags):
  """Not an empty eval_results.txt, nor a missing temporary file."""
  path = task_data.write_tsv(os.path.join(classifier_case.data_dir, set_file),
                             [MRPC_HEADER])
  result = classifier_case.run(**run_flags)
  helpers.assert_one_line_error(
      result, "error: --data_dir: %s holds no examples (only a header?)" %
      path)
  assert_kept(classifier_case.output_dir, classifier_case.before)


class NoExamples(run_classifier.MrpcProcessor):

  def get_dev_examples(self, data_dir):
    return []


class MadeUpLabels(run_classifier.MrpcProcessor):

  def get_dev_examples(self, data_dir):
    return [run_classifier.InputExample("dev-1", "the cat", "a dog", "2")]


@pytest.mark.parametrize("task,message", [
    ("NoExamples", "the dev set of --task_name=test_bad_input_data:"
                   "NoExamples holds no examples"),  # No file: the folder.
    ("MadeUpLabels", "--task_name=test_bad_input_data:MadeUpLabels, dev "
                     "set: example dev-1: unknown label '2' (the labels are "
                     "0, 1)"),
])
def test_custom_processor_without_examples_or_with_unknown_labels(
    classifier_case, task, message):
  """A task of one's own gets the same checks, before any output."""
  stamps = file_stamps(classifier_case.output_dir)
  with pytest.raises(script_io.InputError, match=re.escape(message)):
    helpers.run_main(run_classifier, classifier_case.values(
        task_name="test_bad_input_data:" + task, do_predict=False))
  # Not even rewritten with the same bytes.
  assert file_stamps(classifier_case.output_dir) == stamps
  assert_kept(classifier_case.output_dir, classifier_case.before)


def test_data_dir_and_data_files_of_the_wrong_kind(classifier_case):
  """Were: "<dir>/dev.tsv/dev.tsv; Not a directory", or (a folder named
  dev.tsv) an evaluation of nothing that exits 0."""
  dev_file = os.path.join(classifier_case.data_dir, "dev.tsv")
  helpers.assert_one_line_error(
      classifier_case.run(data_dir=dev_file),
      "error: --data_dir=%s is a file, not a directory" % dev_file)
  os.remove(dev_file)
  os.mkdir(dev_file)
  helpers.assert_one_line_error(
      classifier_case.run(), "error: %s is a directory, not a file" % dev_file)
  assert_kept(classifier_case.output_dir, classifier_case.before)


def test_missing_data_dir_or_data_file(tmp_path):
  processor = run_classifier.MrpcProcessor()
  missing = str(tmp_path / "nothing")
  with helpers.command_line(values=dict(data_dir=missing, do_eval=True)):
    with pytest.raises(script_io.InputError,
                       match="^--data_dir=%s: no such directory$" % missing):
      run_classifier._read_examples(
          processor, "mrpc", fine_tuning.config_from_flags(flags.FLAGS))
  with helpers.command_line(values=dict(data_dir=str(tmp_path),
                                        do_eval=True)):
    with pytest.raises(script_io.InputError,
                       match="^%s: no such file$" % (tmp_path / "dev.tsv")):
      run_classifier._read_examples(
          processor, "mrpc", fine_tuning.config_from_flags(flags.FLAGS))


def test_flag_that_cannot_work(classifier_case):
  """Not a ZeroDivisionError traceback when training starts."""
  result = classifier_case.run(do_train=True, train_batch_size=0)
  helpers.assert_one_line_error(
      result, "error: --train_batch_size=0: must be at least 1")
  assert_kept(classifier_case.output_dir, classifier_case.before)


@pytest.mark.parametrize("change,message", [
    ({"eval_batch_size": -1}, "--eval_batch_size=-1: must be at least 1"),
    ({"predict_batch_size": 0}, "--predict_batch_size=0: must be at least 1"),
    ({"save_checkpoints_steps": 0}, "--save_checkpoints_steps=0: must be"),
    ({"iterations_per_loop": 0}, "--iterations_per_loop=0: must be"),
    ({"num_train_epochs": float("inf")}, "--num_train_epochs=inf: must be a "
                                         "finite number"),
    ({"num_train_epochs": float("nan")}, "--num_train_epochs=nan: must be a "
                                         "finite number"),
])
def test_more_flags_that_cannot_work(tiny_bert, change, message):
  """Were: an OverflowError traceback (inf epochs), or messages that named
  no flag ("batch_size must be greater than zero.")."""
  config = run_classifier.modeling.BertConfig.from_json_file(
      tiny_bert["config_file"])
  values = dict(max_seq_length=SEQ_LENGTH, do_train=True)
  values.update(change)
  with helpers.command_line([], values):
    with pytest.raises(script_io.InputError, match="^" + message):
      run_classifier.validate_flags_or_throw(config)


def test_features_write_failing_halfway_keeps_the_old_file(classifier_case):
  # A file may grow to half the features: their write fails partway.
  size = os.path.getsize(os.path.join(classifier_case.output_dir,
                                      "eval.tf_record"))
  result = classifier_case.run(file_size_limit=size // 2, do_predict=False)
  helpers.assert_one_line_error(result, "File too large")
  assert_kept(classifier_case.output_dir, classifier_case.before)


# In this process: every task at once, and the prediction writer.

TASK_FILES = {
    "cola": {"train": "train.tsv", "dev": "dev.tsv", "test": "test.tsv"},
    "mnli": {"train": "train.tsv", "dev": "dev_matched.tsv",
             "test": "test_matched.tsv"},
    "mnli-mm": {"train": "train.tsv", "dev": "dev_mismatched.tsv",
                "test": "test_mismatched.tsv"},
    "xnli": {"train": os.path.join("multinli", "multinli.train.zh.tsv"),
             "dev": "xnli.dev.tsv"},
}
for _task in ("mrpc", "qnli", "qqp", "rte", "sst-2", "sts-b", "wnli"):
  TASK_FILES[_task] = {"train": "train.tsv", "dev": "dev.tsv",
                       "test": "test.tsv"}
TASK_SETS = [(task, set_name) for task in sorted(TASK_FILES)
             for set_name in sorted(TASK_FILES[task])]


def read_set(tmp_path, task, set_name, rows):
  """Writes `rows` as the set's file and reads it as main does."""
  path = task_data.write_tsv(str(tmp_path / TASK_FILES[task][set_name]), rows)
  return path, run_classifier._read_set(
      run_classifier.get_processor(task), set_name, task, str(tmp_path))


@pytest.mark.parametrize("task,set_name", TASK_SETS)
def test_every_task_and_set_with_no_example_is_an_error(tmp_path, task,
                                                        set_name):
  with pytest.raises(script_io.InputError) as error:
    read_set(tmp_path, task, set_name, [])
  path = str(tmp_path / TASK_FILES[task][set_name])
  assert str(error.value) == (
      "--data_dir: %s holds no examples (it is empty)" % path)


class ForgetsToReturn(run_classifier.MrpcProcessor):

  def get_test_examples(self, data_dir):
    self._examples_from_file(data_dir, "test.tsv", "test")


def test_a_processor_that_returns_none(tmp_path):
  """Not a TypeError traceback (`len(None)`)."""
  task_name = "test_bad_input_data:ForgetsToReturn"
  write_mrpc(str(tmp_path))
  with pytest.raises(script_io.InputError,
                     match="^--task_name=%s: get_test_examples returned "
                           "None, not a list of examples$" % task_name):
    run_classifier._read_set(run_classifier.get_processor(task_name),
                             "test", task_name, str(tmp_path))


def test_rows_that_are_no_example_of_the_task(tmp_path):
  with pytest.raises(script_io.InputError) as error:
    read_set(tmp_path, "xnli", "dev", [["language", "label"], ["de"],
                                       ["en"]])
  assert str(error.value).endswith(
      "xnli.dev.tsv holds no examples (3 rows, none of them an example of "
      "--task_name=xnli)")


@pytest.mark.parametrize("task,set_name", TASK_SETS)
def test_every_task_and_set_with_too_few_columns_names_file_and_line(
    tmp_path, task, set_name):
  # A header (CoLA's train and dev sets have none), then a row of one
  # column: the language XNLI's dev set keeps, or a label.
  header = [] if task == "cola" and set_name != "test" else [["h"]]
  value = "0" if task == "mrpc" else "zh"  # MRPC reads its label first.
  with pytest.raises(script_io.InputError) as error:
    read_set(tmp_path, task, set_name, header + [[value]])
  path = str(tmp_path / TASK_FILES[task][set_name])
  assert str(error.value).startswith(
      "%s, line %d: has 1 column(s), but column " % (path, len(header) + 1))


@pytest.mark.parametrize("score", ["nan", "inf", "high"])
def test_a_score_that_is_no_finite_number_names_file_and_line(tmp_path,
                                                              score):
  """Was ("nan", "inf"): accepted, and a training loss of NaN later."""
  row = ["0", "g", "f", "y", "o", "s1", "s2", "the cat", "a dog", score]
  with pytest.raises(script_io.InputError) as error:
    read_set(tmp_path, "sts-b", "dev", [["index"] * 10, row])
  assert str(error.value) == (
      "%s, line 2: the score %r is not a finite number" %
      (tmp_path / "dev.tsv", score))


def test_a_missing_last_column_is_named_so():
  row = run_classifier.TsvRow([], "dev.tsv", 3)
  with pytest.raises(script_io.InputError,
                     match=r"^dev.tsv, line 3: has 0 column\(s\), but a "
                           r"column is needed$"):
    row[-1]  # pylint: disable=pointless-statement


class ListEstimator(object):
  """Gives `predictions` whatever the input."""

  def __init__(self, predictions):
    self.predictions = predictions

  def predict(self, input_fn):
    del input_fn
    return iter(self.predictions)


def predict_with(tiny_bert, output_dir, examples, predictions):
  tokenizer = tokenization.FullTokenizer(tiny_bert["vocab_file"], True)
  with helpers.command_line([], dict(output_dir=output_dir,
                                     max_seq_length=SEQ_LENGTH,
                                     predict_batch_size=2)):
    run_classifier._predict(ListEstimator(predictions),
                            run_classifier.MrpcProcessor(), tokenizer,
                            examples,
                            fine_tuning.config_from_flags(flags.FLAGS))


def test_too_few_predictions_keep_the_old_results(tiny_bert, tmp_path):
  """Not a RuntimeError with a traceback."""
  output_dir = str(tmp_path)
  with open(str(tmp_path / "test_results.tsv"), "w") as f:
    f.write("0.5\t0.5\n")
  before = helpers.snapshot(output_dir)
  examples = [run_classifier.InputExample("test-%d" % i, "the cat", "a dog",
                                          "0") for i in range(3)]
  probabilities = {"probabilities": np.array([0.25, 0.75])}
  with pytest.raises(script_io.ScriptError,
                     match=r"test_results.tsv: got 2 predictions for 3 test "
                           r"examples; the file is left as it was"):
    predict_with(tiny_bert, output_dir, examples, [probabilities] * 2)
  assert not temporary_files(output_dir)
  after = helpers.snapshot(output_dir)
  del after["predict.tf_record"]  # The features, written before.
  assert after == before


def test_an_empty_output_is_an_empty_file(tmp_path):
  """The writer under case 2: zero lines written must still commit."""
  path = str(tmp_path / "test_results.tsv")
  with script_io.atomic_output(path):
    pass
  with open(path, "rb") as f:
    assert f.read() == b""
  assert not temporary_files(str(tmp_path))


# --------------------------------------------------------------------------
# create_pretraining_data.py


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
  path = tmp_path_factory.mktemp("corpus") / "text.txt"
  sentences = ["the cat sat on the road .", "a dog ran to the old house .",
               "the sun was warm and bright .", "she said yes to the tea ."]
  path.write_text("\n\n".join(["\n".join(sentences)] * 3) + "\n",
                  encoding="utf-8")
  return str(path)


def pretraining_data_flags(tiny_bert, corpus, output_file):
  return dict(input_file=corpus, output_file=output_file,
              vocab_file=tiny_bert["vocab_file"], max_seq_length=SEQ_LENGTH,
              max_predictions_per_seq=5, dupe_factor=2)


RECORD_FILES = ("a.tfrecord", "b.tfrecord")


@pytest.fixture(scope="module")
def made_records(tiny_bert, corpus, tmp_path_factory):
  """A folder with two good record files, made by one run."""
  folder = str(tmp_path_factory.mktemp("records"))
  helpers.run_main(create_pretraining_data, pretraining_data_flags(
      tiny_bert, corpus, ",".join(os.path.join(folder, name)
                                  for name in RECORD_FILES)))
  return folder


@pytest.fixture
def records_case(tiny_bert, corpus, made_records, tmp_path):
  """A copy of `made_records`; `case.run(**flags)` reruns the script.

  It returns (exit status, stderr).
  """
  folder = str(tmp_path / "records")

  class Case(object):
    outputs = [os.path.join(folder, name) for name in RECORD_FILES]

    @classmethod
    def run(cls, file_size_limit=None, **changes):
      values = pretraining_data_flags(tiny_bert, corpus,
                                      ",".join(cls.outputs))
      values.update(changes)
      return helpers.run_script("create_pretraining_data.py", values,
                                file_size_limit=file_size_limit)

  shutil.copytree(made_records, folder)
  Case.folder = folder
  Case.before = helpers.snapshot(folder)
  assert len(Case.before) == 2 and all(Case.before.values())
  return Case


@pytest.mark.parametrize("change,message", [
    ({"dupe_factor": 0}, "error: --dupe_factor=0: must be at least 1"),
    ("same_name_twice", "is named twice"),
    ("no_such_folder", "the directory"),
])
def test_pretraining_data_that_would_write_nothing_or_lose_instances(
    records_case, change, message):
  """Were: an empty file and exit 0 (dupe_factor 0, the output replaced);
  the second of two equal names replacing the first (half the instances
  lost); an error naming a hidden temporary file after all the work. (The
  other flags: tests/test_create_pretraining_data.py.)"""
  folder = records_case.folder
  if change == "same_name_twice":
    change = {"output_file": "%s,%s/../records/a.tfrecord" % (
        records_case.outputs[0], folder)}
  elif change == "no_such_folder":
    change = {"output_file": os.path.join(folder, "no", "c.tfrecord")}
    message = "error: --output_file=%s: the directory %s does not exist" % (
        change["output_file"], os.path.join(folder, "no"))
  helpers.assert_one_line_error(records_case.run(**change), message)
  assert_kept(folder, records_case.before)


def test_pretraining_data_accepts_the_original_edge_values(records_case,
                                                          tmp_path):
  output_file = str(tmp_path / "edge.tfrecord")
  (status, stderr) = records_case.run(
      output_file=output_file, max_predictions_per_seq=0,
      masked_lm_prob=0.0, short_seq_prob=1.0, num_workers=0, dupe_factor=1)
  assert status == 0, stderr[-3000:]
  assert os.path.getsize(output_file) > 0


def test_no_instance_to_write_is_an_error(records_case):
  with pytest.raises(script_io.InputError, match="no instance to write"):
    create_pretraining_data._write_records([], records_case.outputs)
  assert_kept(records_case.folder, records_case.before)


def test_pretraining_data_write_failing_halfway_keeps_the_old_files(
    records_case):
  # A file may grow to half an output: the write fails partway.
  size = min(len(data) for data in records_case.before.values())
  result = records_case.run(file_size_limit=size // 2, random_seed=7)
  helpers.assert_one_line_error(result, "File too large")
  assert_kept(records_case.folder, records_case.before)


def test_a_failed_shard_stops_the_others_and_leaves_no_temporary_file(
    tmp_path, monkeypatch):
  """The stopped shard's half-written temporary file is removed."""
  # Stand-ins for the workers: b.txt's starts its output and hangs; a.txt's
  # fails once it has.
  context = multiprocessing.get_context("spawn")
  started = context.Event()
  workers = {"a.txt": stand_in_workers.fail_once_started,
             "b.txt": stand_in_workers.write_half_and_hang}
  processes = []

  def start_stand_in(context, shard_job):
    (index, shard, output_file, _) = shard_job
    (receiver, sender) = context.Pipe(duplex=False)
    processes.append(context.Process(
        target=workers[os.path.basename(shard)],
        args=(output_file, started, sender)))
    processes[-1].start()
    sender.close()
    return (index, shard, output_file, processes[-1], receiver)

  monkeypatch.setattr(create_pretraining_data, "_start_shard",
                      start_stand_in)
  shards = [str(tmp_path / name) for name in ("a.txt", "b.txt")]
  try:
    with pytest.raises(script_io.InputError,
                       match=r"^shard 0 \(.*a.txt\) failed: the shard is "
                             r"bad$"):
      create_pretraining_data._run_shards(
          shards, [str(tmp_path / "out.tfrecord")],
          collections.namedtuple("Settings", "random_seed")(12345), 2)
    assert started.is_set()
    assert not [p for p in processes if p.is_alive()]
    assert not temporary_files(str(tmp_path))
  finally:
    for process in processes:
      process.kill()


# --------------------------------------------------------------------------
# create_vocab.py


@pytest.fixture(scope="module")
def made_vocab(corpus, tmp_path_factory):
  """A folder with a good vocab.txt."""
  folder = str(tmp_path_factory.mktemp("vocab"))
  helpers.run_main(create_vocab, dict(
      input_file=corpus, output_file=os.path.join(folder, "vocab.txt"),
      vocab_size=150))
  return folder


@pytest.fixture
def vocab_case(corpus, made_vocab, tmp_path):
  """A copy of `made_vocab`; `case.run(**flags)` reruns create_vocab.py."""
  folder = str(tmp_path / "vocab")

  class Case(object):
    output_file = os.path.join(folder, "vocab.txt")

    @classmethod
    def run(cls, **changes):
      values = dict(input_file=corpus, output_file=cls.output_file,
                    vocab_size=150)
      values.update(changes)
      return helpers.run_script("create_vocab.py", values)

  shutil.copytree(made_vocab, folder)
  Case.folder = folder
  Case.before = helpers.snapshot(folder)
  return Case


@pytest.mark.parametrize("change,message", [
    ("long_words", "every word is longer than 200 characters"),
    ("no_such_folder", "the directory"),
])
def test_vocab_input_with_nothing_to_learn_or_output_that_cannot_be(
    vocab_case, tmp_path, change, message):
  """Were: a vocab of the 5 special tokens and exit 0 (words all over 200
  characters), an error naming a hidden temporary file after all the work.
  (The other flags: tests/test_create_vocab.py.)"""
  text = tmp_path / "text.txt"
  if change == "long_words":
    text.write_text(("x" * 201 + " ") * 3 + "\n", encoding="utf-8")
    message = "error: --input_file=%s: %s" % (text, message)
    change = {"input_file": str(text), "add_ascii_characters": "false"}
  elif change == "no_such_folder":
    change = {"output_file": str(tmp_path / "no" / "vocab.txt")}
    message = "error: --output_file=%s: the directory %s does not exist" % (
        change["output_file"], tmp_path / "no")
  helpers.assert_one_line_error(vocab_case.run(**change), message)
  assert_kept(vocab_case.folder, vocab_case.before)
