# coding=utf-8
# Copyright 2026 The BERT re-creation authors.
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.
"""The whole BERT pipeline on the bundled samples, offline, in minutes.

  python demo.py --output_dir=output/demo     (or: make demo)

Runs the real scripts with real flags, one after the other, each as its own
process, and prints every command so that it can be copied:

  1. create_vocab.py learns a WordPiece vocab from sample_text.txt;
  2. create_pretraining_data.py turns the text into pre-training records;
  3. run_pretraining.py pre-trains a tiny BERT from scratch (its masked-LM
     loss is measured before training and after, with --do_eval);
  4. run_classifier.py fine-tunes that checkpoint on a sentiment sample
     (samples/classification, SST-2 layout), with eval and predict, then
     predicts the dev set for a confusion matrix;
  5. run_squad.py fine-tunes it on a question-answering sample
     (samples/squad, SQuAD 1.1 layout) and evaluates its predictions;
  6. extract_features.py embeds the dev sentences of the sentiment sample.

Then prints a summary table (time, key figures and outputs of each stage)
and writes pictures (plots.py): the pre-training and fine-tuning curves read
from the event files, the confusion matrix and a PCA projection of the
sentence embeddings. Everything goes under --output_dir; each stage's log is
in its folder. The model is tiny and the data small, so the figures show
that the pipeline works, not what BERT can do: for that, start from a
released checkpoint (--bert_model_dir).
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import collections
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time

from absl import app
from absl import flags

import plots
import script_io

FLAGS = flags.FLAGS

DEFAULT_OUTPUT_DIR = "output/demo"

flags.DEFINE_string("output_dir", None,
                    "Folder for every output of the demo (default: %s)." %
                    DEFAULT_OUTPUT_DIR, **script_io.OVERRIDABLE)

flags.DEFINE_bool(
    "quick", False,
    "Fewer training steps and a smaller setting (for the test suite): "
    "checks that every stage works, with weaker figures.",
    **script_io.OVERRIDABLE)

flags.DEFINE_list(
    "stages", None,
    "Run only these stages (comma-separated names among vocab, "
    "pretraining_data, pretraining, classifier, squad, features); later "
    "stages read the outputs earlier runs left in --output_dir.",
    **script_io.OVERRIDABLE)

flags.DEFINE_string(
    "bert_model_dir", None,
    "A released BERT model's folder (bert_config.json, vocab.txt, "
    "bert_model.ckpt): the fine-tuning and features stages start from it "
    "instead of the tiny model, and the stages that make the tiny model "
    "are not run.", **script_io.OVERRIDABLE)

flags.DEFINE_bool(
    "do_lower_case", True,
    "Whether to lower-case the text: True for an uncased model, False for "
    "a cased --bert_model_dir.", **script_io.OVERRIDABLE)

ROOT = os.path.dirname(os.path.abspath(__file__))

# The tiny BERT the demo pre-trains; `vocab_size` comes from the vocab.
TINY_BERT_CONFIG = collections.OrderedDict([
    ("attention_probs_dropout_prob", 0.1),
    ("hidden_act", "gelu"),
    ("hidden_dropout_prob", 0.1),
    ("hidden_size", 64),
    ("initializer_range", 0.02),
    ("intermediate_size", 256),
    ("max_position_embeddings", 128),
    ("num_attention_heads", 4),
    ("num_hidden_layers", 2),
    ("type_vocab_size", 2),
])

# Sizes of the full demo and of the quick one.
Settings = collections.namedtuple("Settings", [
    "vocab_size", "dupe_factor", "pretraining_steps", "classifier_epochs",
    "squad_epochs"
])
FULL_SETTINGS = Settings(vocab_size=2000, dupe_factor=5,
                         pretraining_steps=600, classifier_epochs=5.0,
                         squad_epochs=6.0)
QUICK_SETTINGS = Settings(vocab_size=1000, dupe_factor=2,
                          pretraining_steps=150, classifier_epochs=2.0,
                          squad_epochs=1.0)

# The sentiment sample, its labels' names, and the SQuAD sample.
CLASSIFICATION_DIR = "samples/classification"
CLASS_NAMES = collections.OrderedDict([("0", "negative"), ("1", "positive")])
SQUAD_DEV_FILE = "samples/squad/dev.json"

STAGE_NAMES = ("vocab", "pretraining_data", "pretraining", "classifier",
               "squad", "features")
# The stages that make the tiny model, replaced by a released one.
TINY_MODEL_STAGES = ("vocab", "pretraining_data", "pretraining")

# Fine-tuning learning rates: the tiny model, barely pre-trained, needs a
# high one; a released model the original's small ones (2e-5 to 5e-5).
TINY_MODEL_LEARNING_RATE = 5e-4
RELEASED_MODEL_LEARNING_RATE = 3e-5

# Log lines echoed while a stage runs (training progress, results).
_PROGRESS_LINE = re.compile(
    r"(step \d+/\d+:.*|Wrote \d+ .*|  (eval_accuracy|masked_lm_loss|"
    r"exact_match|f1) = .*)$")


class StageError(Exception):
  """A stage's command failed; the message says which and shows its log."""


class Step(object):
  """One command of a stage: the argument list and where its log goes."""

  def __init__(self, script, args, log_file):
    self.argv = [sys.executable, script] + [
        "--%s=%s" % (name, value) for name, value in args]
    self.log_file = log_file

  def display(self):
    """The command as a user would type it from the repository root."""
    python = sys.executable
    if os.path.abspath(python).startswith(ROOT + os.sep):
      python = os.path.relpath(python, ROOT)
    return " ".join(shlex.quote(part) for part in [python] + self.argv[1:])


def run_step(step):
  """Runs `step` from the repository root, echoing its progress lines.

  Raises:
    StageError: if the command exits with a non-zero status.
  """
  print("  $ " + step.display(), flush=True)
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONUNBUFFERED="1")
  last_echoed = None
  with open(step.log_file, "w", encoding="utf-8") as log:
    process = subprocess.Popen(step.argv, cwd=ROOT, env=env,
                               stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT,
                               encoding="utf-8", errors="replace")
    for line in process.stdout:
      log.write(line)
      match = _PROGRESS_LINE.search(line.rstrip("\n"))
      if match and match.group(1) != last_echoed:
        last_echoed = match.group(1)
        print("    " + last_echoed, flush=True)
    status = process.wait()
  if status != 0:
    with open(step.log_file, encoding="utf-8") as log:
      tail = log.readlines()[-25:]
    raise StageError(
        "%s exited with status %d. Last lines of its log %s:\n%s" %
        (os.path.basename(step.argv[1]), status, step.log_file,
         "".join("    " + line for line in tail)))


def count_tfrecords(path):
  """Returns the number of records in a TFRecord file."""
  return sum(1 for _ in plots.iter_records(path))


def read_eval_results(path):
  """Reads `key = value` lines (eval_results.txt) into a dict of floats."""
  results = {}
  with open(path) as reader:
    for line in reader:
      key, _, value = line.partition(" = ")
      results[key.strip()] = float(value)
  return results


def count_lines(path):
  with open(path, "rb") as reader:
    return sum(1 for _ in reader)


class Demo(object):
  """The stages of the demo, in order, and the figures each produces.

  Each stage method returns (figures, outputs): a dict of named numbers for
  the summary and the main output paths.
  """

  def __init__(self, output_dir, settings, bert_model_dir=None,
               do_lower_case=True):
    """Sets the stages' paths.

    Args:
      output_dir: folder for every output, relative to the repository root
        or absolute.
      settings: a `Settings` (sizes).
      bert_model_dir: a released model's folder to fine-tune instead of the
        tiny model the first stages make, or None.
      do_lower_case: whether the scripts lower-case the text.
    """
    self.output_dir = output_dir
    self.settings = settings
    self.bert_model_dir = bert_model_dir
    self.do_lower_case = "true" if do_lower_case else "false"
    self.commands = []
    model_dir = bert_model_dir or output_dir
    self.vocab_file = os.path.join(model_dir, "vocab.txt")
    self.bert_config_file = os.path.join(model_dir, "bert_config.json")
    self.learning_rate = (RELEASED_MODEL_LEARNING_RATE if bert_model_dir
                          else TINY_MODEL_LEARNING_RATE)
    self.pretraining_file = self.path("pretraining_data", "sample.tfrecord")
    self.pretraining_dir = self.path("pretraining")
    self.classifier_dir = self.path("classifier")
    self.dev_predictions_dir = self.path("classifier", "dev")
    self.squad_dir = self.path("squad")
    self.features_file = self.path("features", "features.jsonl")

  def path(self, *parts):
    return os.path.join(self.output_dir, *parts)

  def stage_dir(self, name):
    """Returns the folder `name` of the output dir, emptied.

    A stage starts from an empty folder: otherwise the scripts would resume
    from the checkpoints of an earlier run instead of training again.
    """
    directory = self.path(name)
    if os.path.isdir(os.path.join(ROOT, directory)):
      shutil.rmtree(os.path.join(ROOT, directory))
    os.makedirs(os.path.join(ROOT, directory))
    return directory

  def run(self, script, args, log_name):
    """Runs one script with `args` (a list of (flag, value) pairs)."""
    step = Step(script, args, os.path.join(ROOT, log_name))
    self.commands.append(step.display())
    run_step(step)

  def vocab(self):
    if not os.path.isdir(os.path.join(ROOT, self.output_dir)):
      os.makedirs(os.path.join(ROOT, self.output_dir))
    self.run("create_vocab.py", [
        ("input_file", "sample_text.txt"),
        ("output_file", self.vocab_file),
        ("vocab_size", self.settings.vocab_size),
        ("num_unused", 10),
        ("do_lower_case", self.do_lower_case),
    ], self.path("create_vocab.log"))
    vocab_size = count_lines(os.path.join(ROOT, self.vocab_file))
    config = dict(TINY_BERT_CONFIG, vocab_size=vocab_size)
    with open(os.path.join(ROOT, self.bert_config_file), "w") as writer:
      json.dump(config, writer, indent=2, sort_keys=True)
      writer.write("\n")
    print("  wrote %s (a tiny BERT: %d layers, hidden size %d)" %
          (self.bert_config_file, config["num_hidden_layers"],
           config["hidden_size"]))
    return ({"vocab entries": vocab_size},
            [self.vocab_file, self.bert_config_file])

  def pretraining_data(self):
    directory = self.stage_dir("pretraining_data")
    self.run("create_pretraining_data.py", [
        ("input_file", "sample_text.txt"),
        ("output_file", self.pretraining_file),
        ("vocab_file", self.vocab_file),
        ("do_lower_case", self.do_lower_case),
        ("max_seq_length", 64),
        ("max_predictions_per_seq", 10),
        ("masked_lm_prob", 0.15),
        ("dupe_factor", self.settings.dupe_factor),
        ("random_seed", 12345),
    ], os.path.join(directory, "log.txt"))
    instances = count_tfrecords(os.path.join(ROOT, self.pretraining_file))
    return {"instances": instances}, [self.pretraining_file]

  def _pretraining_args(self, output_dir):
    return [
        ("input_file", self.pretraining_file),
        ("output_dir", output_dir),
        ("bert_config_file", self.bert_config_file),
        ("max_seq_length", 64),
        ("max_predictions_per_seq", 10),
        ("eval_batch_size", 32),
        ("max_eval_steps", 10),
    ]

  def pretraining(self):
    # The loss before training: the same evaluation of the random model.
    initial_dir = self.stage_dir("pretraining_initial")
    self.run("run_pretraining.py",
             self._pretraining_args(initial_dir) + [("do_eval", "true")],
             os.path.join(initial_dir, "log.txt"))
    before = read_eval_results(
        os.path.join(ROOT, initial_dir, "eval_results.txt"))
    steps = self.settings.pretraining_steps
    self.stage_dir("pretraining")
    self.run("run_pretraining.py", self._pretraining_args(
        self.pretraining_dir) + [
            ("do_train", "true"),
            ("do_eval", "true"),
            ("train_batch_size", 32),
            # Higher rates give a lower loss sooner, but a model that
            # fine-tunes badly.
            ("learning_rate", 2e-4),
            ("num_train_steps", steps),
            ("num_warmup_steps", steps // 10),
            ("save_checkpoints_steps", steps),
            ("iterations_per_loop", 50),
        ], os.path.join(self.pretraining_dir, "log.txt"))
    after = read_eval_results(
        os.path.join(ROOT, self.pretraining_dir, "eval_results.txt"))
    figures = collections.OrderedDict([
        ("MLM loss before", before["masked_lm_loss"]),
        ("MLM loss after", after["masked_lm_loss"]),
        ("MLM accuracy after", after["masked_lm_accuracy"]),
    ])
    return figures, [self.checkpoint()]

  def checkpoint(self):
    """The prefix of the checkpoint to fine-tune: released or pre-trained.

    Raises:
      StageError: if it does not exist (the pretraining stage makes ours).
    """
    if self.bert_model_dir:
      prefix = os.path.join(self.bert_model_dir, "bert_model.ckpt")
      if not os.path.exists(os.path.join(ROOT, prefix + ".index")):
        raise StageError("--bert_model_dir: there is no checkpoint %s." %
                         prefix)
      return prefix
    prefix = os.path.join(self.pretraining_dir,
                          "model.ckpt-%d" % self.settings.pretraining_steps)
    if not os.path.exists(os.path.join(ROOT, prefix + ".index")):
      raise StageError(
          "it needs the checkpoint %s, which the pretraining stage makes: "
          "run that stage first (with the same --quick setting)." % prefix)
    return prefix

  def _model_args(self, output_dir, checkpoint):
    return [
        ("vocab_file", self.vocab_file),
        ("bert_config_file", self.bert_config_file),
        ("init_checkpoint", checkpoint),
        ("do_lower_case", self.do_lower_case),
        ("output_dir", output_dir),
    ]

  def _fine_tuning_args(self, output_dir, checkpoint):
    return self._model_args(output_dir, checkpoint) + [
        ("learning_rate", self.learning_rate),
        ("save_checkpoints_steps", 100000),
    ]

  def classifier(self):
    checkpoint = self.checkpoint()
    directory = self.stage_dir("classifier")
    self.run("run_classifier.py", [
        ("task_name", "SST-2"),
        ("data_dir", CLASSIFICATION_DIR),
        ("do_train", "true"),
        ("do_eval", "true"),
        ("do_predict", "true"),
        ("max_seq_length", 64),
        ("train_batch_size", 16),
        ("num_train_epochs", self.settings.classifier_epochs),
    ] + self._fine_tuning_args(directory, checkpoint),
             os.path.join(directory, "log.txt"))
    results = read_eval_results(
        os.path.join(ROOT, directory, "eval_results.txt"))
    test_results = os.path.join(directory, "test_results.tsv")
    dev_results = self._predict_dev_set()
    figures = collections.OrderedDict([
        ("dev accuracy", results["eval_accuracy"]),
        ("test lines", count_lines(os.path.join(ROOT, test_results))),
    ])
    return figures, [os.path.join(directory, "eval_results.txt"),
                     test_results, dev_results]

  def _predict_dev_set(self):
    """Predicts the dev sentences with the fine-tuned classifier.

    --do_predict reads `test.tsv` (index and sentence columns), so the dev
    sentences are written in that layout to a folder of their own.

    Returns:
      The path of the dev set's `test_results.tsv`, in dev.tsv's order.
    """
    directory = self.dev_predictions_dir
    os.makedirs(os.path.join(ROOT, directory))
    sentences, _ = plots.read_classifier_tsv(
        os.path.join(ROOT, CLASSIFICATION_DIR, "dev.tsv"))
    with open(os.path.join(ROOT, directory, "test.tsv"), "w",
              encoding="utf-8") as writer:
      writer.write("index\tsentence\n")
      writer.write("".join("%d\t%s\n" % (index, sentence)
                           for index, sentence in enumerate(sentences)))
    # A folder stands for its latest checkpoint: the fine-tuned one.
    self.run("run_classifier.py", [
        ("task_name", "SST-2"),
        ("data_dir", directory),
        ("do_predict", "true"),
        ("max_seq_length", 64),
    ] + self._model_args(directory, self.classifier_dir),
             os.path.join(directory, "log.txt"))
    return os.path.join(directory, "test_results.tsv")

  def squad(self):
    checkpoint = self.checkpoint()
    directory = self.stage_dir("squad")
    self.run("run_squad.py", [
        ("train_file", "samples/squad/train.json"),
        ("predict_file", SQUAD_DEV_FILE),
        ("do_train", "true"),
        ("do_predict", "true"),
        ("max_seq_length", 128),
        ("doc_stride", 64),
        ("max_query_length", 24),
        ("train_batch_size", 16),
        ("num_train_epochs", self.settings.squad_epochs),
    ] + self._fine_tuning_args(directory, checkpoint),
             os.path.join(directory, "log.txt"))
    eval_file = os.path.join(directory, "eval_results.json")
    with open(os.path.join(ROOT, eval_file)) as reader:
      results = json.load(reader)
    figures = collections.OrderedDict([
        ("exact match", results["exact_match"]),
        ("F1", results["f1"]),
    ])
    return figures, [os.path.join(directory, "predictions.json"), eval_file]

  def features(self):
    """Embeds the dev sentences of the sentiment sample, one per line."""
    checkpoint = self.checkpoint()
    directory = self.stage_dir("features")
    sentences, _ = plots.read_classifier_tsv(
        os.path.join(ROOT, CLASSIFICATION_DIR, "dev.tsv"))
    input_file = os.path.join(directory, "input.txt")
    with open(os.path.join(ROOT, input_file), "w", encoding="utf-8") as writer:
      writer.write("".join(sentence + "\n" for sentence in sentences))
    self.run("extract_features.py", [
        ("input_file", input_file),
        ("output_file", self.features_file),
        ("vocab_file", self.vocab_file),
        ("bert_config_file", self.bert_config_file),
        ("init_checkpoint", checkpoint),
        ("do_lower_case", self.do_lower_case),
        ("layers", "-1,-2"),
        ("max_seq_length", 64),
        ("batch_size", 8),
    ], os.path.join(directory, "log.txt"))
    lines = count_lines(os.path.join(ROOT, self.features_file))
    return {"lines embedded": lines}, [self.features_file]

  def pretraining_figure(self):
    """Pre-training curves: training events, evaluation before and after."""
    eval_scalars = plots.merge_scalars(
        plots.read_scalars(os.path.join(ROOT, self.path(
            "pretraining_initial", "eval"))),
        plots.read_scalars(os.path.join(ROOT, self.pretraining_dir, "eval")))
    return plots.pretraining_figure(
        plots.read_scalars(os.path.join(ROOT, self.pretraining_dir)),
        eval_scalars)

  def fine_tuning_figure(self, stages):
    """Training (and evaluation) loss of the fine-tuning stages in `stages`."""
    runs = []
    for stage, title, directory in [
        ("classifier", "Classifier (SST-2 sample)", self.classifier_dir),
        ("squad", "SQuAD sample", self.squad_dir)]:
      if stage in stages:
        directory = os.path.join(ROOT, directory)
        runs.append((title, plots.read_scalars(directory),
                     plots.read_scalars(os.path.join(directory, "eval"))))
    return plots.fine_tuning_figure(runs)

  def dev_confusion_matrix(self):
    """Returns the classifier's confusion matrix on the dev set.

    Returns:
      An int array [2, 2], rows gold labels, columns predicted ones, in the
      order of `CLASS_NAMES`.
    """
    _, gold = plots.read_classifier_tsv(
        os.path.join(ROOT, CLASSIFICATION_DIR, "dev.tsv"))
    predicted = plots.read_predicted_classes(
        os.path.join(ROOT, self.dev_predictions_dir, "test_results.tsv"),
        list(CLASS_NAMES))
    return plots.confusion_matrix(gold, predicted, list(CLASS_NAMES))

  def confusion_figure(self):
    return plots.confusion_matrix_figure(
        self.dev_confusion_matrix(), list(CLASS_NAMES.values()),
        "Classifier on the dev set")

  def embeddings_figure(self):
    """PCA of the dev sentences' mean last-layer vectors, by gold class."""
    _, labels = plots.read_classifier_tsv(
        os.path.join(ROOT, CLASSIFICATION_DIR, "dev.tsv"))
    vectors = plots.read_sentence_embeddings(
        os.path.join(ROOT, self.features_file), layer_index=-1,
        pooling="mean")
    projection, explained = plots.pca_2d(vectors)
    return plots.projection_figure(
        projection, labels, CLASS_NAMES, explained,
        "Sentence embeddings (PCA)")

  def draw_pictures(self, stages):
    """Writes the pictures of the stages in `stages` as PNG files.

    Returns:
      The paths written, under the output dir.
    """
    pictures = []
    if "pretraining" in stages:
      pictures.append(("pretraining_curves.png", self.pretraining_figure()))
    if "classifier" in stages or "squad" in stages:
      pictures.append(("fine_tuning_curves.png",
                       self.fine_tuning_figure(stages)))
    if "classifier" in stages:
      pictures.append(("confusion_matrix.png", self.confusion_figure()))
    if "features" in stages:
      pictures.append(("embeddings_pca.png", self.embeddings_figure()))
    paths = []
    for name, figure in pictures:
      plots.save_figure(figure, os.path.join(ROOT, self.path(name)))
      paths.append(self.path(name))
    return paths


def format_figure(value):
  if isinstance(value, float):
    return "%.3f" % value
  return str(value)


def summary_table(rows):
  """Formats (stage, seconds, figures, outputs) rows as a text table."""
  lines = ["%-17s %8s  %s" % ("stage", "time", "figures")]
  for stage, seconds, figures, _ in rows:
    lines.append("%-17s %7.1fs  %s" % (stage, seconds, ", ".join(
        "%s %s" % (name, format_figure(value))
        for name, value in figures.items())))
  lines.append("\noutputs:")
  for stage, _, _, outputs in rows:
    lines.append("%-17s %s" % (stage, " ".join(outputs)))
  return "\n".join(lines)


def relative_output_dir(output_dir):
  """`output_dir` relative to the repository root when it lies inside it."""
  path = os.path.abspath(output_dir)
  if path == ROOT or path.startswith(ROOT + os.sep):
    return os.path.relpath(path, ROOT)
  return path


def main(argv):
  del argv  # Unused.
  stages = FLAGS.stages or [
      stage for stage in STAGE_NAMES
      if not (FLAGS.bert_model_dir and stage in TINY_MODEL_STAGES)]
  unknown = [stage for stage in stages if stage not in STAGE_NAMES]
  if unknown:
    sys.exit("error: --stages: unknown stage(s) %s (expected some of %s)" %
             (",".join(unknown), ",".join(STAGE_NAMES)))
  if FLAGS.bert_model_dir and set(stages) & set(TINY_MODEL_STAGES):
    sys.exit("error: --stages: %s make the tiny model, which "
             "--bert_model_dir replaces" % ",".join(TINY_MODEL_STAGES))
  settings = QUICK_SETTINGS if FLAGS.quick else FULL_SETTINGS
  output_dir = relative_output_dir(FLAGS.output_dir or DEFAULT_OUTPUT_DIR)
  demo = Demo(output_dir, settings,
              bert_model_dir=(FLAGS.bert_model_dir and
                              relative_output_dir(FLAGS.bert_model_dir)),
              do_lower_case=FLAGS.do_lower_case)
  print("BERT demo: %d stage(s), outputs under %s (commands run from %s)" %
        (len(stages), demo.output_dir, ROOT), flush=True)
  rows = []
  start = time.time()
  for number, stage in enumerate(stages, 1):
    print("\n[%d/%d] %s" % (number, len(stages), stage), flush=True)
    stage_start = time.time()
    try:
      figures, outputs = getattr(demo, stage)()
    except StageError as e:
      sys.exit("\nerror: stage %s failed: %s" % (stage, e))
    seconds = time.time() - stage_start
    print("  done in %.1fs: %s" % (seconds, ", ".join(
        "%s %s" % (k, format_figure(v)) for k, v in figures.items())),
          flush=True)
    rows.append((stage, seconds, figures, outputs))

  table = summary_table(rows)
  total = time.time() - start
  print("\n===== Summary (%.0fs in all) =====\n%s" % (total, table))
  print("\nCommands (run from %s):\n%s" %
        (ROOT, "\n".join(demo.commands)))
  pictures = demo.draw_pictures(stages)
  if pictures:
    print("\nPictures:\n%s" % "\n".join(pictures))
  write_summary(demo, rows, table, total, pictures)


def write_summary(demo, rows, table, total_seconds, pictures):
  """Writes summary.txt, summary.json and commands.sh in the output dir."""
  directory = os.path.join(ROOT, demo.output_dir)
  with open(os.path.join(directory, "summary.txt"), "w") as writer:
    writer.write(table + "\n")
  with open(os.path.join(directory, "commands.sh"), "w") as writer:
    writer.write("# The demo's commands; run them from %s\n" % ROOT)
    writer.write("\n".join(demo.commands) + "\n")
  summary = {
      "total_seconds": total_seconds,
      "stages": [{"stage": stage, "seconds": seconds, "figures": figures,
                  "outputs": outputs}
                 for stage, seconds, figures, outputs in rows],
      "pictures": pictures,
  }
  with open(os.path.join(directory, "summary.json"), "w") as writer:
    json.dump(summary, writer, indent=2)
    writer.write("\n")


if __name__ == "__main__":
  app.run(main)
