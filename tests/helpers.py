"""Helpers the test modules share."""

import collections
import contextlib
import functools
import os
import resource
import subprocess
import sys

from absl import flags
from absl.testing import flagsaver

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Golden fixtures, data and the reference spec, beside the repository.
SHARED = os.path.join(os.path.dirname(ROOT), "shared")


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
  """The bert_config.json dict of a 2-layer, 32-wide BERT."""
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

def run_scripts(script, argvs, python_path=(), file_size_limit=None):
  """Runs `script` once per argv, as many at a time as there are cores.

  Args:
    script: a script of the repository, e.g. "run_ner.py".
    argvs: a list of argument lists.
    python_path: more folders to import from (PYTHONPATH), e.g. a user's.
    file_size_limit: the most bytes a run may write to one file (a write
      past it fails, as on a full disk), or None.

  Returns:
    (exit status, stderr) of each run, in order.
  """
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
  if python_path:
    env["PYTHONPATH"] = os.pathsep.join(
        list(python_path) + [env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
  limit_file_size = None
  if file_size_limit is not None:
    limit_file_size = functools.partial(
        resource.setrlimit, resource.RLIMIT_FSIZE,
        (file_size_limit, file_size_limit))
  results = [None] * len(argvs)
  running = collections.deque()

  def finish():
    (index, process) = running.popleft()
    (_, stderr) = process.communicate()
    results[index] = (process.returncode, stderr)

  for (index, argv) in enumerate(argvs):
    if len(running) >= (os.cpu_count() or 1):
      finish()
    running.append((index, subprocess.Popen(
        [sys.executable, os.path.join(ROOT, script)] + argv,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        universal_newlines=True, cwd=ROOT,
        env=env, preexec_fn=limit_file_size)))
  while running:
    finish()
  return results


def one_line_error(status, stderr):
  """Checks a run failed with status 2 and one line "error: ...", its last.

  Args:
    status, stderr: of the run, as `run_scripts` gives them.

  Returns:
    That last line of stderr.
  """
  assert status == 2, stderr[-3000:]
  assert "Traceback" not in stderr, stderr[-3000:]
  last_line = stderr.rstrip("\n").splitlines()[-1]
  error_lines = [line for line in stderr.splitlines()
                 if line.startswith("error: ")]
  assert error_lines == [last_line], stderr[-3000:]
  return last_line


def run_script(script, flag_values, *args, file_size_limit=None):
  """Runs `script` once, with --name=value of `flag_values`, then `args`.

  Returns:
    (exit status, stderr), as `run_scripts` gives them.
  """
  argv = ["--%s=%s" % item for item in sorted(flag_values.items())]
  (result,) = run_scripts(script, [argv + list(args)],
                          file_size_limit=file_size_limit)
  return result


def assert_one_line_error(result, *fragments):
  """Checks `one_line_error` of `result` holds each of `fragments`.

  Args:
    result: (exit status, stderr) of a run.
    *fragments: strings the error line must hold.

  Returns:
    The error line.
  """
  line = one_line_error(*result)
  for fragment in fragments:
    assert fragment in line, line
  return line


def snapshot(folder):
  """{relative path: bytes} of every file under `folder`.

  The output_dir's `.lock` is left out: it names the last run's process.
  """
  files = {}
  for (directory, _, names) in os.walk(folder):
    for name in names:
      if name != ".lock":
        path = os.path.join(directory, name)
        with open(path, "rb") as f:
          files[os.path.relpath(path, folder)] = f.read()
  return files


def ensure_flags_parsed():
  """Lets tests read FLAGS without parsing a command line."""
  if not flags.FLAGS.is_parsed():
    flags.FLAGS.mark_as_parsed()


@contextlib.contextmanager
def command_line(argv=None, values=None):
  """Sets FLAGS as a command line would, and restores every flag after.

  Args:
    argv: arguments after the program name, parsed from the flags'
      defaults; None to keep the flags as they are.
    values: {flag name: value} set after parsing `argv`.

  Yields:
    The arguments the flags left, program name first, as `main` gets them.
  """
  ensure_flags_parsed()
  with flagsaver.flagsaver():
    try:
      remaining = ["script.py"]
      if argv is not None:
        flags.FLAGS.unparse_flags()
        remaining = flags.FLAGS(["script.py"] + list(argv))
      for (name, value) in (values or {}).items():
        setattr(flags.FLAGS, name, value)
      yield remaining
    finally:
      # A command line that failed to parse leaves FLAGS unparsed.
      ensure_flags_parsed()


def run_main(script_module, values=None, argv=None):
  """Runs `script_module.main` with flags, every flag restored after.

  Args:
    script_module: the script's module.
    values: {flag name: value} to set.
    argv: arguments after the program name, parsed as the command line
      (before `values`), for tests that are about command-line parsing.
  """
  with command_line(argv, values) as remaining:
    script_module.main(remaining)


def tiny_squad_flags(tiny_bert, out_dir):
  """run_squad.py's flags for the `tiny_bert` model, {flag name: value}.

  Its windows are small (48 tokens, stride 16), so that a paragraph of a
  few sentences takes several.

  Args:
    tiny_bert: the conftest fixture's model.
    out_dir: the --output_dir.
  """
  return dict(
      vocab_file=tiny_bert["vocab_file"],
      bert_config_file=tiny_bert["config_file"],
      init_checkpoint=tiny_bert["checkpoint"], output_dir=str(out_dir),
      max_seq_length=48, doc_stride=16, max_query_length=12, n_best_size=4,
      max_answer_length=8, predict_batch_size=8, iterations_per_loop=2)


def run_tiny_squad(tiny_bert, out_dir, values):
  """Runs run_squad.py's main on the `tiny_bert` model; returns `out_dir`.

  Args:
    tiny_bert: the conftest fixture's model.
    out_dir: the --output_dir.
    values: {flag name: value} of the test, over `tiny_squad_flags`.
  """
  import run_squad  # pylint: disable=g-import-not-at-top
  settings = tiny_squad_flags(tiny_bert, out_dir)
  settings.update(values)
  run_main(run_squad, settings)
  return str(out_dir)


def read_one_squad_feature(input_file, tokenizer, max_seq_length):
  """Reads a SQuAD file of one short example, as run_squad predicts it.

  Args:
    input_file: the SQuAD JSON file; its example must fit one window.
    tokenizer: the `FullTokenizer` to make the feature with.
    max_seq_length: the window length; the doc stride is half of it, the
      longest question a quarter.

  Returns:
    (the examples, the one feature).
  """
  import run_squad  # pylint: disable=g-import-not-at-top
  ensure_flags_parsed()
  examples = run_squad.read_squad_examples(str(input_file), False)
  features = []
  run_squad.convert_examples_to_features(
      examples, tokenizer, max_seq_length, max_seq_length // 2,
      max_seq_length // 4, False, features.append)
  (feature,) = features
  return (examples, feature)


def squad_raw_result(feature, start_logits, end_logits):
  """The model's output for `feature`: the logits named, 0 elsewhere.

  Args:
    feature: a run_squad `InputFeatures`.
    start_logits, end_logits: {token of the feature: logit}; a token that
      occurs several times gets the logit at its first occurrence.

  Returns:
    A run_squad `RawResult`.
  """
  import run_squad  # pylint: disable=g-import-not-at-top
  logits = []
  for named in (start_logits, end_logits):
    logits.append([0.0] * len(feature.input_ids))
    for (token, logit) in named.items():
      logits[-1][feature.tokens.index(token)] = logit
  return run_squad.RawResult(feature.unique_id, *logits)


def read_eval_results(path):
  """The `key = value` lines of an eval_results.txt, checked to be sorted."""
  with open(path) as f:
    lines = f.read().splitlines()
  keys = [line.split(" = ")[0] for line in lines]
  assert keys == sorted(keys)
  return {line.split(" = ")[0]: float(line.split(" = ")[1]) for line in lines}


def run_metric_fn(metric_fn, batches):
  """Runs an eval `metric_fn` over batches of its inputs (numpy arrays).

  Returns:
    {metric name: its value after the last batch}.
  """
  import tensorflow.compat.v1 as tf  # pylint: disable=g-import-not-at-top
  with tf.Graph().as_default():
    placeholders = [
        tf.placeholder(tf.as_dtype(value.dtype), [None] + list(value.shape[1:]))
        for value in batches[0]]
    metrics = metric_fn(*placeholders)
    with tf.Session() as sess:
      sess.run(tf.local_variables_initializer())
      for batch in batches:
        sess.run([update for (_, update) in metrics.values()],
                 dict(zip(placeholders, batch)))
      return sess.run({name: value for (name, (value, _)) in metrics.items()})


def write_data(data_dir, files, write_file):
  """Writes {file name: content} into `data_dir`, each by `write_file`.

  Args:
    data_dir: the folder (made if missing).
    files: {file name: content}.
    write_file: `write_file(path, content)`, e.g. a test's CSV writer.
  """
  os.makedirs(data_dir, exist_ok=True)
  for (file_name, content) in files.items():
    write_file(os.path.join(data_dir, file_name), content)


def run_bad_data(script, cases, write_file, values, tmp_path_factory):
  """Runs `script` on each case's data, in processes of their own.

  Args:
    script: a script of the repository, e.g. "run_ner.py".
    cases: {case name: {file name: content}}, see `write_data`.
    write_file: `write_file(path, content)`.
    values: the flags of every run (None values left out); `data_dir` and
      `output_dir` are each case's own.
    tmp_path_factory: pytest's, for a folder per case.

  Returns:
    {case name: (exit status, stderr, data_dir, output_dir)}.
  """
  names = sorted(cases)
  folders = []
  argvs = []
  for name in names:
    folder = tmp_path_factory.mktemp(name)
    (data_dir, output_dir) = (str(folder / "data"), str(folder / "output"))
    write_data(data_dir, cases[name], write_file)
    folders.append((data_dir, output_dir))
    case_values = dict(values, data_dir=data_dir, output_dir=output_dir)
    argvs.append(["--%s=%s" % item for item in sorted(case_values.items())
                  if item[1] is not None])
  results = run_scripts(script, argvs)
  return {name: result + folder
          for (name, result, folder) in zip(names, results, folders)}


def input_error(script_module, values):
  """The message of the `InputError` that `script_module.main` raises.

  Raises:
    AssertionError: if main raises none, or writes to --output_dir.
  """
  import script_io  # pylint: disable=g-import-not-at-top
  try:
    run_main(script_module, values)
  except script_io.InputError as error:
    assert not os.path.exists(values["output_dir"])
    return str(error)
  raise AssertionError("no InputError")


def check_one_line_error(status, stderr, error, output_dir):
  """Checks that a run stopped on bad input as a user should see it.

  `one_line_error` is "error: `error`", and no `output_dir` was made.
  """
  assert one_line_error(status, stderr) == "error: " + error
  assert not os.path.exists(output_dir)


def pretraining_example(rng, first_id, vocab_size, seq_length,
                        max_predictions):
  """A random record shaped like create_pretraining_data.py's.

  Args:
    rng: a `np.random.RandomState`.
    first_id: the token id after [CLS], so that tests can tell records
      apart.
    vocab_size: ids are drawn below it.
    seq_length, max_predictions: the lengths of the features; 3 of the
      `max_predictions` slots are real predictions.

  Returns:
    A `tf.train.Example`.
  """
  import numpy as np  # pylint: disable=g-import-not-at-top
  import tensorflow.compat.v1 as tf  # pylint: disable=g-import-not-at-top
  from script_io import float_feature  # pylint: disable=g-import-not-at-top
  from script_io import int64_feature  # pylint: disable=g-import-not-at-top
  length = rng.randint(max_predictions + 3, seq_length + 1)
  input_ids = [2, first_id] + list(rng.randint(5, vocab_size, length - 2))
  padding = [0] * (seq_length - length)
  positions = sorted(rng.choice(np.arange(2, length), 3, replace=False))
  unused = max_predictions - len(positions)
  features = {
      "input_ids": int64_feature(input_ids + padding),
      "input_mask": int64_feature([1] * length + padding),
      "segment_ids": int64_feature([0] * (length // 2) +
                                   [1] * (length - length // 2) + padding),
      "masked_lm_positions": int64_feature(list(positions) + [0] * unused),
      "masked_lm_ids": int64_feature([input_ids[p] for p in positions] +
                                     [0] * unused),
      "masked_lm_weights": float_feature([1.0] * len(positions) +
                                         [0.0] * unused),
      "next_sentence_labels": int64_feature([rng.randint(2)]),
  }
  return tf.train.Example(features=tf.train.Features(feature=features))


def write_pretraining_records(path, first_ids, vocab_size, seq_length=32,
                              max_predictions=5, seed=0):
  """Writes one `pretraining_example` per entry of `first_ids` to `path`."""
  import numpy as np  # pylint: disable=g-import-not-at-top
  import tensorflow.compat.v1 as tf  # pylint: disable=g-import-not-at-top
  rng = np.random.RandomState(seed)
  with tf.io.TFRecordWriter(path) as writer:
    for first_id in first_ids:
      writer.write(pretraining_example(rng, first_id, vocab_size, seq_length,
                                       max_predictions).SerializeToString())
  return path


def pretraining_argv(tiny_bert, input_file, output_dir, *extra_flags):
  """The run_pretraining.py arguments of a run of the `tiny_bert` model.

  On records of `write_pretraining_records`' default lengths.
  """
  return [
      "--input_file=%s" % input_file,
      "--bert_config_file=%s" % tiny_bert["config_file"],
      "--init_checkpoint=%s" % tiny_bert["checkpoint"],
      "--output_dir=%s" % output_dir,
      "--max_seq_length=32",
      "--max_predictions_per_seq=5",
  ] + list(extra_flags)


def tiny_model_inputs():
  """A one-layer `BertConfig` and a batch of two inputs, in the graph.

  Returns:
    (config, input_ids, input_mask, segment_ids): int32 [2, 4] tensors; the
    second input has 3 real tokens.
  """
  import modeling  # pylint: disable=g-import-not-at-top
  import tensorflow.compat.v1 as tf  # pylint: disable=g-import-not-at-top
  config = modeling.BertConfig(
      vocab_size=30, hidden_size=8, num_hidden_layers=1,
      num_attention_heads=2, intermediate_size=16)
  return (config, tf.constant([[2, 5, 6, 3], [2, 7, 3, 0]]),
          tf.constant([[1, 1, 1, 1], [1, 1, 1, 0]]), tf.zeros([2, 4], tf.int32))


def fine_tuning_flags(tiny_bert, data_dir, output_dir, **values):
  """The flags the fine-tuning scripts share, for a run of `tiny_bert`.

  Each is given, so that no value another test set leaks in.

  Args:
    tiny_bert: the conftest fixture's model.
    data_dir, output_dir: the --data_dir and --output_dir.
    **values: the script's own flags, and values that differ from these.

  Returns:
    {flag name: value}, for `run_main`.
  """
  flag_values = {
      "data_dir": data_dir, "output_dir": output_dir,
      "bert_config_file": tiny_bert["config_file"],
      "vocab_file": tiny_bert["vocab_file"],
      "init_checkpoint": tiny_bert["checkpoint"], "do_lower_case": True,
      "do_train": True, "do_eval": True, "do_predict": True,
      "warmup_proportion": 0.1, "save_checkpoints_steps": 1000,
      "iterations_per_loop": 1000, "use_tpu": False, "tpu_name": None,
      "tpu_zone": None, "gcp_project": None, "master": None,
      "num_tpu_cores": 8, "runner": "auto",
      "allow_partial_checkpoint": False,
  }
  flag_values.update(values)
  return flag_values


def fine_tuning_config(**values):
  """A `fine_tuning.FineTuningConfig` of small batches, `values` over them."""
  import fine_tuning  # pylint: disable=g-import-not-at-top
  defaults = dict(
      data_dir="data", output_dir="out", max_seq_length=8, do_train=True,
      do_eval=True, do_predict=True, train_batch_size=4, eval_batch_size=3,
      predict_batch_size=2, learning_rate=1e-4, num_train_epochs=2.0,
      warmup_proportion=0.1, save_checkpoints_steps=10, iterations_per_loop=5,
      use_tpu=False)
  defaults.update(values)
  return fine_tuning.FineTuningConfig(**defaults)
