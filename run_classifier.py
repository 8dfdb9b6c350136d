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
"""BERT fine-tuning for sentence and sentence-pair classification.

The original's four tasks (XNLI, MNLI, MRPC, CoLA) read their files, make
their features and write their outputs exactly as Google's original
`run_classifier.py` does. Beyond the original:

* processors for the rest of GLUE: SST-2, QQP, QNLI, RTE, WNLI, STS-B (a
  regression task: one output, mean squared error) and MNLI mismatched
  (`--task_name=mnli-mm`);
* the metrics GLUE reports, written to `eval_results.txt` next to the
  original keys: `eval_f1` (MRPC, QQP), `eval_matthews_corr` (CoLA),
  `eval_pearson` and `eval_spearman` (STS-B), over the real examples only;
* multi-label classification of your own TSV files, `--task_name=multilabel`
  (see `MultiLabelProcessor`): a sigmoid per label, `--label_separator`,
  `--labels_file`, `--multi_label_threshold`; micro, macro and per-label F1
  and the exact-match ratio in `eval_results.txt`, and one probability per
  label, in the order of the labels, on each line of `test_results.tsv`;
* a task of your own without editing this script, either from the command
  line, `--task_name=my_module:MyProcessor` (a `DataProcessor` subclass in an
  importable module, e.g. on PYTHONPATH, which may `import run_classifier`
  for its base classes), or from Python:

    import run_classifier
    run_classifier.register_processor("my_task", MyProcessor)

  then `--task_name=my_task`;
* one-line errors, before any output is written, for an unknown task, a
  missing data file, a data set with no example (a header-only `dev.tsv`
  would otherwise score 0.0), a TSV row with too few columns or an unknown
  label (naming the file and line), batch sizes below 1, a too long
  `--max_seq_length`, a vocab without [CLS] or [SEP] and a
  `--do_lower_case` that contradicts the checkpoint.
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import collections
import csv
import functools
import importlib
import os
import sys

from absl import flags
import numpy as np
import tensorflow.compat.v1 as tf

import export
import fine_tuning
import modeling
import optimization
import runner
import script_io
import tokenization
import training_loop
import training_options

InputError = script_io.InputError

FLAGS = flags.FLAGS

runner.define_fine_tuning_flags("Examples")

# Required.
flags.DEFINE_string(
    "data_dir", None,
    "Folder holding the task's data files (train.tsv, dev.tsv, ... for "
    "the GLUE tasks).", **script_io.OVERRIDABLE)
flags.DEFINE_string(
    "task_name", None,
    "Which task: cola, mnli, mnli-mm, mrpc, qnli, qqp, rte, sst-2, sts-b, "
    "wnli, xnli, multilabel (any case), a name given to "
    "register_processor(), or "
    "module:ClassName of your own DataProcessor subclass (the module must "
    "be importable, e.g. on PYTHONPATH).", **script_io.OVERRIDABLE)
flags.DEFINE_string(
    "label_separator", ",",
    "--task_name=multilabel: what separates the labels of an example in "
    "its labels column.", **script_io.OVERRIDABLE)
flags.DEFINE_string(
    "labels_file", None,
    "--task_name=multilabel: the labels, one a line; their order is that "
    "of the outputs. Default: the labels of train.tsv, sorted.",
    **script_io.OVERRIDABLE)
flags.DEFINE_float(
    "multi_label_threshold", 0.5,
    "Multi-label tasks: a label is predicted when its probability is at "
    "least this (between 0 and 1).", **script_io.OVERRIDABLE)
flags.DEFINE_string(
    "output_dir", None,
    "Folder for checkpoints, the TFRecord features, eval_results.txt and "
    "test_results.tsv.", **script_io.OVERRIDABLE)

# Optional.
flags.DEFINE_integer(
    "max_seq_length", 128,
    "Length of every input in WordPiece tokens, [CLS] and [SEP] "
    "included: longer inputs are cut, shorter ones padded.",
    **script_io.OVERRIDABLE)
training_options.define_training_flags()
training_loop.define_flags()


class InputExample(object):
  """One example to classify: a sentence or a pair, and its label."""

  def __init__(self, guid, text_a, text_b=None, label=None):
    """Builds an example.

    Args:
      guid: string naming the example, e.g. "train-12".
      text_a: string, the first (or only) sentence, before tokenization.
      text_b: (optional) string, the second sentence of a pair task.
      label: (optional) string, the gold label (a number written as text
        for a regression task); test examples carry a placeholder.
    """
    self.guid = guid
    self.text_a = text_a
    self.text_b = text_b
    self.label = label


class PaddingInputExample(object):
  """A fake example that fills the last batch up to the batch size.

  TPUs need fixed-size batches, so the original drops the remainder of a
  training set (that is fine) but pads the dev and test sets with these
  examples instead, since every real example must be evaluated and
  predicted. They become all-zero features with `is_real_example` 0, which
  the metrics and the prediction writer leave out.
  """


class InputFeatures(object):
  """The model inputs of one example (lists of max_seq_length ints)."""

  def __init__(self,
               input_ids,
               input_mask,
               segment_ids,
               label_id,
               is_real_example=True):
    self.input_ids = input_ids
    self.input_mask = input_mask
    self.segment_ids = segment_ids
    self.label_id = label_id
    self.is_real_example = is_real_example


class TsvRow(list):
  """The columns of one TSV line, which also knows the file and line number.

  Reading a column past the end raises an `InputError` that names the file
  and line, instead of a bare IndexError deep inside a processor.
  """

  def __init__(self, columns, path, line_number):
    super(TsvRow, self).__init__(columns)
    self.path = path
    self.line_number = line_number

  def __getitem__(self, index):
    try:
      return super(TsvRow, self).__getitem__(index)
    except IndexError:
      if isinstance(index, int) and index < 0:
        needed = "a column" if index == -1 else "%d columns" % -index
        raise InputError("%s: has %d column(s), but %s is needed" %
                         (_location(self), len(self), needed))
      raise InputError(
          "%s: has %d column(s), but column %d (counting from 0) is needed" %
          (_location(self), len(self), index))


def _location(line):
  """Returns "<file>, line <n>" for a `TsvRow`, or a generic phrase."""
  if isinstance(line, TsvRow):
    return "%s, line %d" % (line.path, line.line_number)
  return "a TSV row"


# (path, number of rows) of each file `DataProcessor._read_tsv` has read,
# so that a data set with no example can name the files it came from.
_TSV_FILES_READ = []


class DataProcessor(object):
  """Reads a task's data files into `InputExample`s; one subclass a task.

  Beyond the original's interface, class attributes describe the task:
  `is_regression` (True: one float output, labels are numbers written as
  text, `get_labels()` returns `[None]`), `is_multi_label` (True: an
  example's label is a tuple of any number of labels, each scored by a
  sigmoid; see `MultiLabelProcessor`) and `extra_metrics`, the names of
  metrics to report beyond accuracy and loss (see `EXTRA_METRICS`).
  """

  is_regression = False
  is_multi_label = False
  extra_metrics = ()

  def get_train_examples(self, data_dir):
    """Returns the list of `InputExample`s to train on."""
    raise NotImplementedError()

  def get_dev_examples(self, data_dir):
    """Returns the list of `InputExample`s to evaluate on."""
    raise NotImplementedError()

  def get_test_examples(self, data_dir):
    """Returns the list of `InputExample`s to predict."""
    raise NotImplementedError()

  def get_labels(self):
    """Returns the labels; a label's id is its position in the list."""
    raise NotImplementedError()

  @classmethod
  def _read_tsv(cls, input_file, quotechar=None):
    """Returns the rows of a tab-separated file.

    Quirk of the original: with `quotechar=None` the csv module quotes
    nothing, so a `"` is an ordinary character; lines are split on "\\n"
    only (GFile text mode) and a UTF-8 byte-order mark stays at the start
    of the first column.

    Args:
      input_file: path of the file (local or gs://).
      quotechar: the csv quote character; None for none.

    Returns:
      A list with one `TsvRow` (a list of column strings) per line.

    Raises:
      InputError: if the file is missing, a directory, not UTF-8 or has a
        line the csv module cannot read.
    """
    if tf.gfile.IsDirectory(input_file):
      raise InputError("%s is a directory, not a file" % input_file)
    if not tf.gfile.Exists(input_file):
      raise InputError("%s: no such file" % input_file)
    with tf.gfile.Open(input_file, "r") as reader:
      tsv_reader = csv.reader(reader, delimiter="\t", quotechar=quotechar)
      lines = []
      try:
        for columns in tsv_reader:
          lines.append(TsvRow(columns, input_file, tsv_reader.line_num))
      except csv.Error as e:
        raise InputError("%s, line %d: %s" %
                         (input_file, tsv_reader.line_num, e))
      except UnicodeDecodeError as e:
        # The failing line was never handed to the csv reader.
        raise InputError("%s, line %d: not valid UTF-8 (%s)" %
                         (input_file, tsv_reader.line_num + 1, e.reason))
      _TSV_FILES_READ.append((input_file, len(lines)))
      return lines

  def _examples_from_file(self, data_dir, file_name, set_type):
    """Reads `data_dir/file_name` into the examples of set `set_type`."""
    return self._create_examples(
        self._read_tsv(os.path.join(data_dir, file_name)), set_type)

  def _check_label(self, line, label):
    """Returns `label` if this task knows it.

    Args:
      line: the `TsvRow` the label comes from, named in the error.
      label: the label string read from it.

    Raises:
      InputError: naming the file and line, for an unknown label (or, for
        a regression task, one that is not a finite number).
    """
    if self.is_regression:
      if _score(label) is None:
        raise InputError("%s: the score %r is not a finite number" %
                         (_location(line), label))
    elif label not in self.get_labels():
      raise InputError("%s: unknown label %r (the labels of this task are %s)"
                       % (_location(line), label, ", ".join(self.get_labels())))
    return label


class XnliProcessor(DataProcessor):
  """Processor for the XNLI data set (one language, Chinese as shipped)."""

  def __init__(self):
    # Quirk of the original: the language is fixed here, not a flag.
    self.language = "zh"

  def get_train_examples(self, data_dir):
    """See base class."""
    lines = self._read_tsv(
        os.path.join(data_dir, "multinli",
                     "multinli.train.%s.tsv" % self.language))
    examples = []
    for (i, line) in enumerate(lines):
      if i == 0:
        continue
      guid = "train-%d" % (i)
      text_a = tokenization.convert_to_unicode(line[0])
      text_b = tokenization.convert_to_unicode(line[1])
      label = tokenization.convert_to_unicode(line[2])
      # The translated MultiNLI training data spells this label differently.
      if label == tokenization.convert_to_unicode("contradictory"):
        label = tokenization.convert_to_unicode("contradiction")
      examples.append(
          InputExample(guid=guid, text_a=text_a, text_b=text_b,
                       label=self._check_label(line, label)))
    return examples

  def get_dev_examples(self, data_dir):
    """See base class."""
    lines = self._read_tsv(os.path.join(data_dir, "xnli.dev.tsv"))
    examples = []
    for (i, line) in enumerate(lines):
      if i == 0:
        continue
      # Quirk of the original: the guid counts the rows of every language,
      # so the guids of the kept rows are not consecutive.
      guid = "dev-%d" % (i)
      language = tokenization.convert_to_unicode(line[0])
      if language != tokenization.convert_to_unicode(self.language):
        continue
      text_a = tokenization.convert_to_unicode(line[6])
      text_b = tokenization.convert_to_unicode(line[7])
      label = tokenization.convert_to_unicode(line[1])
      examples.append(
          InputExample(guid=guid, text_a=text_a, text_b=text_b,
                       label=self._check_label(line, label)))
    return examples

  def get_labels(self):
    """See base class."""
    return ["contradiction", "entailment", "neutral"]


class MnliProcessor(DataProcessor):
  """Processor for the MultiNLI data set (GLUE version), matched dev/test."""

  def get_train_examples(self, data_dir):
    """See base class."""
    return self._examples_from_file(data_dir, "train.tsv", "train")

  def get_dev_examples(self, data_dir):
    """See base class."""
    return self._examples_from_file(data_dir, "dev_matched.tsv",
                                    "dev_matched")

  def get_test_examples(self, data_dir):
    """See base class."""
    return self._examples_from_file(data_dir, "test_matched.tsv", "test")

  def get_labels(self):
    """See base class."""
    return ["contradiction", "entailment", "neutral"]

  def _create_examples(self, lines, set_type):
    """Creates examples for the training and dev sets."""
    examples = []
    for (i, line) in enumerate(lines):
      if i == 0:
        continue
      guid = "%s-%s" % (set_type, tokenization.convert_to_unicode(line[0]))
      text_a = tokenization.convert_to_unicode(line[8])
      text_b = tokenization.convert_to_unicode(line[9])
      if set_type == "test":
        # Test rows carry no gold label; the original uses the first label.
        label = "contradiction"
      else:
        label = self._check_label(
            line, tokenization.convert_to_unicode(line[-1]))
      examples.append(
          InputExample(guid=guid, text_a=text_a, text_b=text_b, label=label))
    return examples


class MnliMismatchedProcessor(MnliProcessor):
  """MultiNLI with the mismatched dev and test sets (not in the original)."""

  def get_dev_examples(self, data_dir):
    """See base class."""
    return self._examples_from_file(data_dir, "dev_mismatched.tsv",
                                    "dev_mismatched")

  def get_test_examples(self, data_dir):
    """See base class."""
    return self._examples_from_file(data_dir, "test_mismatched.tsv", "test")


class _TsvSetsProcessor(DataProcessor):
  """A task whose sets are train.tsv, dev.tsv and test.tsv in data_dir."""

  def get_train_examples(self, data_dir):
    """See base class."""
    return self._examples_from_file(data_dir, "train.tsv", "train")

  def get_dev_examples(self, data_dir):
    """See base class."""
    return self._examples_from_file(data_dir, "dev.tsv", "dev")

  def get_test_examples(self, data_dir):
    """See base class."""
    return self._examples_from_file(data_dir, "test.tsv", "test")


class _PairProcessor(_TsvSetsProcessor):
  """A GLUE task: train.tsv, dev.tsv, test.tsv, each with a header line.

  The guid is `<set>-<line number>`, the header being line 0, as in the
  original's MRPC processor. Subclasses give the columns (counting from 0)
  of the texts and the label in the train and dev files (`columns`) and of
  the texts in the test file (`test_columns`); a None `text_b` column makes
  a single-sentence task. Test examples get the first label (or "0" for a
  regression task), as the original does.
  """

  columns = None  # (text_a, text_b, label) in train.tsv and dev.tsv.
  test_columns = None  # (text_a, text_b) in test.tsv.

  def _create_examples(self, lines, set_type):
    """Creates examples for the training, dev and test sets."""
    examples = []
    for (i, line) in enumerate(lines):
      if i == 0:
        continue
      guid = "%s-%s" % (set_type, i)
      if set_type == "test":
        text_a_column, text_b_column = self.test_columns
        label = "0" if self.is_regression else self.get_labels()[0]
      else:
        text_a_column, text_b_column, label_column = self.columns
        label = self._check_label(
            line, tokenization.convert_to_unicode(line[label_column]))
      text_a = tokenization.convert_to_unicode(line[text_a_column])
      text_b = None
      if text_b_column is not None:
        text_b = tokenization.convert_to_unicode(line[text_b_column])
      examples.append(
          InputExample(guid=guid, text_a=text_a, text_b=text_b, label=label))
    return examples


class MrpcProcessor(_PairProcessor):
  """Processor for the MRPC data set (GLUE version)."""

  extra_metrics = ("f1",)
  # Quirk of the original: the test file's first column is an index, not a
  # label, and every test example is labelled "0".
  columns = (3, 4, 0)
  test_columns = (3, 4)

  # The original's public class declares its getters itself, as here.
  def get_train_examples(self, data_dir):
    """See base class."""
    return self._examples_from_file(data_dir, "train.tsv", "train")

  def get_dev_examples(self, data_dir):
    """See base class."""
    return self._examples_from_file(data_dir, "dev.tsv", "dev")

  def get_test_examples(self, data_dir):
    """See base class."""
    return self._examples_from_file(data_dir, "test.tsv", "test")

  def get_labels(self):
    """See base class."""
    return ["0", "1"]


class ColaProcessor(_TsvSetsProcessor):
  """Processor for the CoLA data set (GLUE version)."""

  extra_metrics = ("matthews_corr",)

  # The original's public class declares its getters itself, as here.
  def get_train_examples(self, data_dir):
    """See base class."""
    return self._examples_from_file(data_dir, "train.tsv", "train")

  def get_dev_examples(self, data_dir):
    """See base class."""
    return self._examples_from_file(data_dir, "dev.tsv", "dev")

  def get_test_examples(self, data_dir):
    """See base class."""
    return self._examples_from_file(data_dir, "test.tsv", "test")

  def get_labels(self):
    """See base class."""
    return ["0", "1"]

  def _create_examples(self, lines, set_type):
    """Creates examples for the training, dev and test sets."""
    examples = []
    for (i, line) in enumerate(lines):
      # Quirk of the original (and of CoLA): only the test set has a header,
      # so train and dev guids count from line 0.
      if set_type == "test" and i == 0:
        continue
      guid = "%s-%s" % (set_type, i)
      if set_type == "test":
        text_a = tokenization.convert_to_unicode(line[1])
        label = "0"
      else:
        text_a = tokenization.convert_to_unicode(line[3])
        label = self._check_label(
            line, tokenization.convert_to_unicode(line[1]))
      examples.append(
          InputExample(guid=guid, text_a=text_a, text_b=None, label=label))
    return examples


class Sst2Processor(_PairProcessor):
  """Processor for SST-2: single sentences, header `sentence<TAB>label`."""

  columns = (0, None, 1)
  test_columns = (1, None)

  def get_labels(self):
    """See base class."""
    return ["0", "1"]


class QqpProcessor(_PairProcessor):
  """Processor for QQP: `id qid1 qid2 question1 question2 is_duplicate`."""

  extra_metrics = ("f1",)
  columns = (3, 4, 5)
  test_columns = (1, 2)

  def get_labels(self):
    """See base class."""
    return ["0", "1"]


class QnliProcessor(_PairProcessor):
  """Processor for QNLI: `index question sentence label`."""

  columns = (1, 2, 3)
  test_columns = (1, 2)

  def get_labels(self):
    """See base class."""
    return ["entailment", "not_entailment"]


class RteProcessor(QnliProcessor):
  """Processor for RTE: `index sentence1 sentence2 label`."""


class WnliProcessor(_PairProcessor):
  """Processor for WNLI: `index sentence1 sentence2 label`."""

  columns = (1, 2, 3)
  test_columns = (1, 2)

  def get_labels(self):
    """See base class."""
    return ["0", "1"]


class StsbProcessor(_PairProcessor):
  """Processor for STS-B, a regression task (similarity scores 0 to 5).

  Columns: `index genre filename year old_index source1 source2 sentence1
  sentence2 score` (the test file stops after sentence2).
  """

  is_regression = True
  extra_metrics = ("pearson", "spearman")
  columns = (7, 8, 9)
  test_columns = (7, 8)

  def get_labels(self):
    """See base class."""
    return [None]


class MultiLabelProcessor(_TsvSetsProcessor):
  """A multi-label task of your own data (`--task_name=multilabel`).

  `train.tsv`, `dev.tsv` and `test.tsv` each start with a header naming
  the columns: `text_a`, `text_b` (optional: a pair task) and `labels`,
  the example's labels joined by the separator (optional in `test.tsv`);
  other columns are ignored. For instance, with the separator ",":

    text_a<TAB>labels
    a blue sky over the sea<TAB>colour,nature
    the red ship<TAB>colour

  An example needs at least one label (give "no label" a name of its own).
  The labels, whose order is that of the model's outputs, are those of a
  labels file (one a line) or else those of `train.tsv`, sorted.
  """

  is_multi_label = True

  def __init__(self):
    self.data_dir = None
    self.label_separator = ","
    self.labels_file = None
    self._labels = None

  def configure(self, data_dir, label_separator, labels_file=None):
    """Sets where the labels come from and how they are written.

    Args:
      data_dir: the folder of the TSV files.
      label_separator: the non-empty string between two labels.
      labels_file: (optional) the labels, one a line, in order.
    """
    self.data_dir = data_dir
    self.label_separator = label_separator
    self.labels_file = labels_file
    self._labels = None

  def get_labels(self):
    """See base class."""
    if self._labels is None:
      if self.labels_file:
        self._labels = self._read_labels_file(self.labels_file)
      else:
        self._labels = self._labels_of_train_set()
    return self._labels

  def _create_examples(self, lines, set_type):
    """Creates examples for the training, dev and test sets."""
    if not lines:
      return []
    (text_a_column, text_b_column, labels_column) = self._columns(
        lines[0], labels_needed=set_type != "test")
    examples = []
    for (i, line) in enumerate(lines[1:], 1):
      labels = ()
      if labels_column is not None:
        labels = self._split_labels(line, line[labels_column],
                                    required=set_type != "test")
      for label in labels:
        self._check_label(line, label)
      text_b = None
      if text_b_column is not None:
        text_b = tokenization.convert_to_unicode(line[text_b_column])
      examples.append(InputExample(
          guid="%s-%d" % (set_type, i),
          text_a=tokenization.convert_to_unicode(line[text_a_column]),
          text_b=text_b, label=labels))
    return examples

  def _check_label(self, line, label):
    """Returns `label` if it is one of the labels; names the file otherwise."""
    if label not in self.get_labels():
      source = self.labels_file or os.path.join(self.data_dir, "train.tsv")
      raise InputError("%s: unknown label %r (the labels are %s, from %s)" %
                       (_location(line), label, ", ".join(self.get_labels()),
                        source))
    return label

  @staticmethod
  def _columns(header, labels_needed):
    """(text_a, text_b, labels) column numbers from the header; None: absent.

    Raises:
      InputError: naming the file, if `text_a` (or a needed `labels`) is not
        in the header.
    """
    names = [name.strip() for name in header]
    for name in ("text_a", "labels") if labels_needed else ("text_a",):
      if name not in names:
        raise InputError("%s: the header has no %r column (it has %s)" %
                         (_location(header), name,
                          ", ".join(repr(name) for name in names)))
    return tuple(names.index(name) if name in names else None
                 for name in ("text_a", "text_b", "labels"))

  def _split_labels(self, line, text, required):
    """The labels of one row, a tuple in the order written, without repeats.

    Raises:
      InputError: naming the file and line, if `required` and there is none.
    """
    labels = []
    for label in tokenization.convert_to_unicode(text).split(
        self.label_separator):
      label = label.strip()
      if label and label not in labels:
        labels.append(label)
    if required and not labels:
      raise InputError("%s: the labels column is empty; every example needs "
                       "a label" % _location(line))
    return tuple(labels)

  def _labels_of_train_set(self):
    """The labels found in train.tsv, sorted."""
    if self.data_dir is None:
      raise ValueError("configure() names the data folder or labels file "
                       "the labels come from")
    path = os.path.join(self.data_dir, "train.tsv")
    if not tf.gfile.Exists(path):
      raise InputError("%s: no such file, to read the labels from (or give "
                       "--labels_file)" % path)
    lines = self._read_tsv(path)
    labels = set()
    if lines:
      (_, _, labels_column) = self._columns(lines[0], labels_needed=True)
      for line in lines[1:]:
        labels.update(self._split_labels(line, line[labels_column],
                                         required=True))
    if not labels:
      raise InputError("%s holds no labels" % path)
    return sorted(labels)

  def _read_labels_file(self, path):
    """The labels of a labels file, one a line, in order.

    Raises:
      InputError: naming the file (and line), for a missing file, a label
        holding the separator, a repeated label or no label at all.
    """
    script_io.check_file(path, "labels_file")
    labels = []
    for (line_number, line) in enumerate(script_io.read_text_lines(path), 1):
      label = line.strip()
      if not label:
        continue
      if self.label_separator in label:
        raise InputError("%s, line %d: the label %r holds the label "
                         "separator %r" % (path, line_number, label,
                                           self.label_separator))
      if label in labels:
        raise InputError("%s, line %d: the label %r is there twice" %
                         (path, line_number, label))
      labels.append(label)
    if not labels:
      raise InputError("%s holds no labels" % path)
    return labels


_PROCESSORS = {
    "cola": ColaProcessor,
    "mnli": MnliProcessor,
    "mnli-mm": MnliMismatchedProcessor,
    "mrpc": MrpcProcessor,
    "qnli": QnliProcessor,
    "qqp": QqpProcessor,
    "rte": RteProcessor,
    "sst-2": Sst2Processor,
    "sts-b": StsbProcessor,
    "wnli": WnliProcessor,
    "xnli": XnliProcessor,
    "multilabel": MultiLabelProcessor,
}


def register_processor(task_name, processor_class):
  """Makes `--task_name=<task_name>` use `processor_class`.

  Args:
    task_name: string; matched case-insensitively.
    processor_class: a `DataProcessor` subclass, built with no arguments.
  """
  _PROCESSORS[task_name.lower()] = processor_class


def get_processor(task_name):
  """Returns a new processor for `--task_name`.

  Args:
    task_name: a registered task name (case-insensitive), or
      `module:ClassName` naming a `DataProcessor` subclass in an importable
      module.

  Raises:
    InputError: if there is no such task.
  """
  if ":" in task_name:
    return _import_processor(task_name)()
  name = task_name.lower()
  if name not in _PROCESSORS:
    raise InputError(
        "--task_name=%s: unknown task; the known tasks are %s, or give "
        "module:ClassName of your own DataProcessor" %
        (task_name, ", ".join(sorted(_PROCESSORS))))
  return _PROCESSORS[name]()


def _import_processor(task_name):
  module_name, class_name = task_name.split(":", 1)
  try:
    module = importlib.import_module(module_name)
  except ImportError as e:
    raise InputError("--task_name=%s: cannot import %s (%s)" %
                     (task_name, module_name, e))
  processor_class = getattr(module, class_name, None)
  if not (isinstance(processor_class, type) and
          issubclass(processor_class, DataProcessor)):
    raise InputError("--task_name=%s: %s has no DataProcessor class %s" %
                     (task_name, module_name, class_name))
  return processor_class


def convert_single_example(ex_index, example, label_list, max_seq_length,
                           tokenizer, is_regression=False, multi_label=False):
  """Tokenizes, truncates and pads one example into `InputFeatures`.

  Args:
    ex_index: position of the example; the first five are logged.
    example: an `InputExample` or a `PaddingInputExample`.
    label_list: the task's labels; a label's id is its position.
    max_seq_length: length of the features, [CLS] and [SEP]s included.
    tokenizer: a `FullTokenizer`.
    is_regression: (not in the original) True: the label is a number, and
      `label_id` is that float.
    multi_label: (not in the original) True: the label is a tuple of labels,
      and `label_id` a list of len(label_list) ints, 1 for those present.

  Returns:
    An `InputFeatures`.

  Raises:
    InputError: for a label not in `label_list` (or not a number).
  """
  if isinstance(example, PaddingInputExample):
    label_id = 0.0 if is_regression else 0
    if multi_label:
      label_id = [0] * len(label_list)
    return InputFeatures(
        input_ids=[0] * max_seq_length,
        input_mask=[0] * max_seq_length,
        segment_ids=[0] * max_seq_length,
        label_id=label_id,
        is_real_example=False)

  label_id = _label_id(example, label_list, is_regression, multi_label)

  (tokens, input_ids, input_mask,
   segment_ids) = tokenization.pack_sentence_pair(
       tokenizer, example.text_a, example.text_b, max_seq_length)

  if ex_index < 5:
    tf.logging.info("*** Example ***")
    tf.logging.info("guid: %s" % (example.guid))
    tf.logging.info("tokens: %s" % " ".join(
        [tokenization.printable_text(x) for x in tokens]))
    tf.logging.info("input_ids: %s" % " ".join([str(x) for x in input_ids]))
    tf.logging.info("input_mask: %s" % " ".join([str(x) for x in input_mask]))
    tf.logging.info(
        "segment_ids: %s" % " ".join([str(x) for x in segment_ids]))
    tf.logging.info("label: %s (id = %s)" % (example.label, label_id))

  return InputFeatures(
      input_ids=input_ids,
      input_mask=input_mask,
      segment_ids=segment_ids,
      label_id=label_id,
      is_real_example=True)


def _label_id(example, label_list, is_regression, multi_label=False):
  """The feature label of `example` (see `convert_single_example`)."""
  if multi_label:
    return _label_indicators(example, label_list)
  if is_regression:
    score = _score(example.label)
    if score is None:
      raise InputError("example %s: the score %r is not a finite number" %
                       (example.guid, example.label))
    return score
  label_map = {}
  for (i, label) in enumerate(label_list):
    label_map[label] = i
  if example.label not in label_map:
    raise InputError("example %s: unknown label %r (the labels are %s)" %
                     (example.guid, example.label,
                      ", ".join(str(label) for label in label_list)))
  return label_map[example.label]


def _label_indicators(example, label_list):
  """[1 if label in example.label else 0 for label in label_list]."""
  indicators = [0] * len(label_list)
  for label in example.label or ():
    if label not in label_list:
      raise InputError("example %s: unknown label %r (the labels are %s)" %
                       (example.guid, label, ", ".join(label_list)))
    indicators[label_list.index(label)] = 1
  return indicators


def _score(label):
  """`float(label)` if it is a finite number, else None."""
  try:
    score = float(label)
  except (TypeError, ValueError):
    return None
  return score if np.isfinite(score) else None


def file_based_convert_examples_to_features(examples, label_list,
                                            max_seq_length, tokenizer,
                                            output_file, is_regression=False,
                                            multi_label=False):
  """Writes the features of `examples` to the TFRecord file `output_file`.

  Each record holds `input_ids`, `input_mask`, `segment_ids` (int64,
  max_seq_length each), `label_ids` (1 int64, 1 float for a regression
  task, or len(label_list) int64 0/1 for a multi-label task) and
  `is_real_example` (1 int64), serialized in that order. The file appears
  complete or not at all.
  """
  with script_io.atomic_path(output_file) as temp_file:
    with tf.io.TFRecordWriter(temp_file) as writer:
      for (ex_index, example) in enumerate(examples):
        if ex_index % 10000 == 0:
          tf.logging.info("Writing example %d of %d" %
                          (ex_index, len(examples)))
        feature = convert_single_example(ex_index, example, label_list,
                                         max_seq_length, tokenizer,
                                         is_regression, multi_label)
        features = collections.OrderedDict()
        features["input_ids"] = script_io.int64_feature(feature.input_ids)
        features["input_mask"] = script_io.int64_feature(feature.input_mask)
        features["segment_ids"] = script_io.int64_feature(feature.segment_ids)
        if is_regression:
          features["label_ids"] = script_io.float_feature([feature.label_id])
        elif multi_label:
          features["label_ids"] = script_io.int64_feature(feature.label_id)
        else:
          features["label_ids"] = script_io.int64_feature([feature.label_id])
        features["is_real_example"] = script_io.int64_feature(
            [int(feature.is_real_example)])
        writer.write(script_io.serialize_example_in_order(features))


def file_based_input_fn_builder(input_file, seq_length, is_training,
                                drop_remainder, is_regression=False,
                                num_multi_labels=None):
  """Returns the TPUEstimator `input_fn` reading a classifier TFRecord file.

  Args:
    input_file: the TFRecord file of `file_based_convert_examples_to_features`.
    seq_length: its max_seq_length.
    is_training: True: repeat forever and shuffle.
    drop_remainder: True: every batch is full (needed on TPU).
    is_regression: (not in the original) the labels are floats.
    num_multi_labels: (not in the original) for a multi-label task, the
      number of labels; None for the others.

  Returns:
    `input_fn(params)` giving batches of `input_ids`, `input_mask`,
    `segment_ids` [batch_size, seq_length] int32, `label_ids` [batch_size]
    (int32, or float32 for regression; [batch_size, num_multi_labels] int32
    0/1 for a multi-label task) and `is_real_example` [batch_size] int32.
  """
  label_dtype = tf.float32 if is_regression else tf.int64
  label_shape = [] if num_multi_labels is None else [num_multi_labels]
  name_to_features = {
      "input_ids": tf.FixedLenFeature([seq_length], tf.int64),
      "input_mask": tf.FixedLenFeature([seq_length], tf.int64),
      "segment_ids": tf.FixedLenFeature([seq_length], tf.int64),
      "label_ids": tf.FixedLenFeature(label_shape, label_dtype),
      "is_real_example": tf.FixedLenFeature([], tf.int64),
  }

  return script_io.tfrecord_input_fn_builder(
      input_file, name_to_features, is_training, drop_remainder)


def _truncate_seq_pair(tokens_a, tokens_b, max_length):
  """Truncates a pair in place; see `tokenization.truncate_seq_pair`."""
  tokenization.truncate_seq_pair(tokens_a, tokens_b, max_length)


def create_model(bert_config, is_training, input_ids, input_mask, segment_ids,
                 labels, num_labels, use_one_hot_embeddings,
                 is_regression=False, multi_label=False,
                 bert_model_kwargs=None):
  """Creates a classification model: a layer on BERT's pooled output.

  Args:
    bert_config: `BertConfig`.
    is_training: bool; enables dropout (0.1 on the pooled output here).
    input_ids, input_mask, segment_ids: int32 [batch_size, seq_length].
    labels: [batch_size] int32 class ids (float32 scores for regression;
      [batch_size, num_labels] int32 0/1 for a multi-label task).
    num_labels: number of classes (1 for regression).
    use_one_hot_embeddings: bool, one-hot matmul lookup (faster on TPU).
    is_regression: (not in the original) one linear output and a squared
      error loss instead of a softmax and cross-entropy.
    multi_label: (not in the original) a sigmoid per label and their binary
      cross-entropy, averaged over the labels, instead of a softmax.
    bert_model_kwargs: (not in the original) more `BertModel` arguments,
      e.g. `training_options.model_kwargs`.

  Returns:
    (loss, per_example_loss, logits, probabilities): the mean loss [],
    the loss per example [batch_size], and for classification the logits
    and softmax (multi-label: sigmoid) probabilities [batch_size,
    num_labels]; for regression the predicted scores [batch_size] in place
    of both.
  """
  model = modeling.BertModel(
      config=bert_config,
      is_training=is_training,
      input_ids=input_ids,
      input_mask=input_mask,
      token_type_ids=segment_ids,
      use_one_hot_embeddings=use_one_hot_embeddings,
      **(bert_model_kwargs or {}))

  # The whole input is classified from the pooled output, the transformed
  # final hidden state of [CLS]: [batch_size, hidden_size]. For token-level
  # outputs use model.get_sequence_output() instead.
  output_layer = model.get_pooled_output()

  hidden_size = output_layer.shape.as_list()[-1]

  # Quirk of the original: these two variables are created at the top level
  # (no scope) with a fixed 0.02 initializer range, whatever the config says.
  output_weights = tf.get_variable(
      "output_weights", [num_labels, hidden_size],
      initializer=modeling.create_initializer(0.02))

  output_bias = tf.get_variable(
      "output_bias", [num_labels], initializer=tf.zeros_initializer())

  with tf.variable_scope("loss"):
    if is_training:
      output_layer = modeling.dropout(output_layer, 0.1)

    logits = tf.matmul(output_layer, output_weights, transpose_b=True)
    logits = tf.nn.bias_add(logits, output_bias)

    if is_regression:
      return _regression_head(logits, labels)
    if multi_label:
      return _multi_label_head(logits, labels)
    # Quirk of the original: the training loss averages over the whole
    # batch, padding examples included; only the eval metrics weight them
    # out.
    (loss, per_example_loss, probabilities) = fine_tuning.softmax_loss(
        logits, labels, num_labels)
    return (loss, per_example_loss, logits, probabilities)


def _regression_head(logits, labels):
  """One score an example and its squared error.

  Args:
    logits: float32 [batch_size, 1].
    labels: float32 [batch_size] gold scores.

  Returns:
    (loss, per_example_loss, scores, scores), scores [batch_size].
  """
  scores = tf.squeeze(logits, axis=[-1])
  per_example_loss = tf.square(scores - labels)
  loss = tf.reduce_mean(per_example_loss)
  return (loss, per_example_loss, scores, scores)


def _multi_label_head(logits, labels):
  """A sigmoid per label; their binary cross-entropy, averaged.

  Args:
    logits: float32 [batch_size, num_labels].
    labels: int32 [batch_size, num_labels], 1 for the labels present.

  Returns:
    (loss, per_example_loss, logits, probabilities), as `create_model`.
  """
  per_label_loss = tf.nn.sigmoid_cross_entropy_with_logits(
      labels=tf.cast(labels, tf.float32), logits=logits)
  per_example_loss = tf.reduce_mean(per_label_loss, axis=-1)
  loss = tf.reduce_mean(per_example_loss)
  return (loss, per_example_loss, logits, tf.sigmoid(logits))


def _collect_real_values(values, is_real_example, name):
  """A streaming metric that gathers the values of every real example.

  Args:
    values: [batch_size] tensor.
    is_real_example: [batch_size] float32, 1.0 for real examples.
    name: name of the local variable that holds them.

  Returns:
    (all_values, update_op): the values gathered so far (1-D, in input
    order) and the op that appends those of the batch.
  """
  collected = tf.Variable(
      tf.zeros([0], values.dtype),
      trainable=False,
      collections=[tf.GraphKeys.LOCAL_VARIABLES,
                   tf.GraphKeys.METRIC_VARIABLES],
      shape=tf.TensorShape([None]),
      use_resource=True,
      name=name)
  real_values = tf.boolean_mask(values, is_real_example > 0)
  update_op = collected.assign(
      tf.concat([collected.read_value(), real_values], axis=0))
  return collected.read_value(), update_op


def _confusion_counts(labels, predictions):
  """(true pos., false pos., false neg., true neg.), class id 1 positive."""
  is_label = tf.equal(labels, 1.0)
  is_predicted = tf.equal(predictions, 1.0)

  def count(condition):
    return tf.reduce_sum(tf.cast(condition, tf.float64))

  return (count(is_label & is_predicted), count(~is_label & is_predicted),
          count(is_label & ~is_predicted), count(~is_label & ~is_predicted))


def f1_score(labels, predictions):
  """F1 of class id 1 against the rest; 0 when there is no positive at all.

  Args:
    labels, predictions: float64 [num_examples] class ids.

  Returns:
    float64 [].
  """
  (true_pos, false_pos, false_neg, _) = _confusion_counts(labels, predictions)
  return tf.math.divide_no_nan(2.0 * true_pos,
                               2.0 * true_pos + false_pos + false_neg)


def matthews_correlation(labels, predictions):
  """Matthews correlation of class id 1 against the rest.

  0 when a row or column of the confusion matrix is empty (as
  scikit-learn's `matthews_corrcoef`).

  Args:
    labels, predictions: float64 [num_examples] class ids.

  Returns:
    float64 [].
  """
  (true_pos, false_pos, false_neg, true_neg) = _confusion_counts(
      labels, predictions)
  numerator = true_pos * true_neg - false_pos * false_neg
  denominator = tf.sqrt((true_pos + false_pos) * (true_pos + false_neg) *
                        (true_neg + false_pos) * (true_neg + false_neg))
  return tf.math.divide_no_nan(numerator, denominator)


def pearson_correlation(labels, predictions):
  """Pearson correlation; 0 when either side is constant.

  Args:
    labels, predictions: float64 [num_examples].

  Returns:
    float64 [].
  """
  centered_labels = labels - tf.reduce_mean(labels)
  centered_predictions = predictions - tf.reduce_mean(predictions)
  covariance = tf.reduce_sum(centered_labels * centered_predictions)
  scale = tf.sqrt(tf.reduce_sum(tf.square(centered_labels)) *
                  tf.reduce_sum(tf.square(centered_predictions)))
  return tf.math.divide_no_nan(covariance, scale)


def _average_ranks(values):
  """1-based ranks of `values` [n], ties sharing their average rank."""
  sorted_values = tf.sort(values)
  num_below = tf.searchsorted(sorted_values, values, side="left")
  num_up_to = tf.searchsorted(sorted_values, values, side="right")
  # A tie group fills ranks num_below + 1 ... num_up_to.
  return (tf.cast(num_below + num_up_to, tf.float64) + 1.0) / 2.0


def spearman_correlation(labels, predictions):
  """Spearman rank correlation (Pearson of average ranks, as scipy).

  Args:
    labels, predictions: float64 [num_examples].

  Returns:
    float64 [].
  """
  return pearson_correlation(_average_ranks(labels),
                             _average_ranks(predictions))


# Metrics a processor may name in `extra_metrics`; each is reported as
# `eval_<name>` and computed from the labels and predictions of all real
# dev examples at once (float64), so it is exact, not a batch average.
EXTRA_METRICS = {
    "f1": f1_score,
    "matthews_corr": matthews_correlation,
    "pearson": pearson_correlation,
    "spearman": spearman_correlation,
}


def _extra_metric_ops(labels, predictions, is_real_example, metric_names):
  """Returns {eval_<name>: (value, update_op)} for `metric_names`."""
  if not metric_names:
    return {}
  (all_labels, update_labels) = _collect_real_values(
      labels, is_real_example, "collected_labels")
  (all_predictions, update_predictions) = _collect_real_values(
      predictions, is_real_example, "collected_predictions")
  update_op = tf.group(update_labels, update_predictions)
  all_labels = tf.cast(all_labels, tf.float64)
  all_predictions = tf.cast(all_predictions, tf.float64)
  return {
      "eval_" + name: (EXTRA_METRICS[name](all_labels, all_predictions),
                       update_op) for name in metric_names
  }


def multi_label_f1_scores(true_pos, false_pos, false_neg):
  """Micro, macro and per-label F1 from the counts of each label.

  A label neither in the gold labels nor predicted has F1 0 (as with
  scikit-learn's default), which lowers the macro F1.

  Args:
    true_pos, false_pos, false_neg: float64 [num_labels], counted over the
      examples.

  Returns:
    (micro_f1 [], macro_f1 [], per_label_f1 [num_labels]), float64.
  """
  per_label_f1 = tf.math.divide_no_nan(
      2.0 * true_pos, 2.0 * true_pos + false_pos + false_neg)
  (all_true_pos, all_false_pos, all_false_neg) = (
      tf.reduce_sum(true_pos), tf.reduce_sum(false_pos),
      tf.reduce_sum(false_neg))
  micro_f1 = tf.math.divide_no_nan(
      2.0 * all_true_pos, 2.0 * all_true_pos + all_false_pos + all_false_neg)
  return (micro_f1, tf.reduce_mean(per_label_f1), per_label_f1)


def _streaming_sum(values, name):
  """A streaming metric: the column sums of `values` over all batches.

  Args:
    values: [batch_size, n] tensor, n known.
    name: name of the local variable that holds the sums.

  Returns:
    (sums, update_op): the float64 [n] sums so far and the op that adds
    those of the batch.
  """
  sums = tf.Variable(
      tf.zeros(values.shape[1:], tf.float64),
      trainable=False,
      collections=[tf.GraphKeys.LOCAL_VARIABLES,
                   tf.GraphKeys.METRIC_VARIABLES],
      use_resource=True,
      name=name)
  update_op = sums.assign_add(
      tf.reduce_sum(tf.cast(values, tf.float64), axis=0))
  return sums.read_value(), update_op


def _multi_label_metric_fn_builder(label_names, threshold):
  """Returns the eval `metric_fn` of a multi-label task.

  Its keys: `eval_loss`; `eval_exact_match`, the share of examples whose
  predicted labels are exactly their gold ones; `eval_micro_f1`,
  `eval_macro_f1` and `eval_f1_<label>` (see `multi_label_f1_scores`). A
  label is predicted when its probability is at least `threshold`. Padding
  examples count in none.
  """

  def metric_fn(per_example_loss, label_ids, logits, is_real_example):
    """`label_ids` and `logits` are [batch_size, len(label_names)]."""
    is_label = tf.equal(label_ids, 1)
    is_predicted = tf.sigmoid(logits) >= threshold
    weights = is_real_example[:, tf.newaxis]
    counts = []
    updates = []
    for (name, condition) in (("true_pos", is_label & is_predicted),
                              ("false_pos", ~is_label & is_predicted),
                              ("false_neg", is_label & ~is_predicted)):
      (count, update) = _streaming_sum(
          tf.cast(condition, tf.float32) * weights, "label_" + name)
      counts.append(count)
      updates.append(update)
    update_op = tf.group(*updates)
    (micro_f1, macro_f1, per_label_f1) = multi_label_f1_scores(*counts)
    exact_match = tf.reduce_all(tf.equal(is_label, is_predicted), axis=-1)
    metrics = {
        "eval_loss": tf.metrics.mean(values=per_example_loss,
                                     weights=is_real_example),
        "eval_exact_match": tf.metrics.mean(
            values=tf.cast(exact_match, tf.float32), weights=is_real_example),
        "eval_micro_f1": (micro_f1, update_op),
        "eval_macro_f1": (macro_f1, update_op),
    }
    for (i, name) in enumerate(label_names):
      metrics["eval_f1_" + name] = (per_label_f1[i], update_op)
    return metrics

  return metric_fn


def _metric_fn_builder(is_regression, extra_metrics):
  """Returns the eval `metric_fn` (it runs on the CPU host on TPU)."""

  def metric_fn(per_example_loss, label_ids, logits, is_real_example):
    """Original keys eval_accuracy and eval_loss, plus `extra_metrics`."""
    metrics = {
        "eval_loss":
            tf.metrics.mean(values=per_example_loss, weights=is_real_example)
    }
    if is_regression:
      predictions = logits
    else:
      predictions = tf.argmax(logits, axis=-1, output_type=tf.int32)
      metrics["eval_accuracy"] = tf.metrics.accuracy(
          labels=label_ids, predictions=predictions, weights=is_real_example)
    metrics.update(
        _extra_metric_ops(label_ids, predictions, is_real_example,
                          extra_metrics))
    return metrics

  return metric_fn


def _task_metric_fn(num_labels, is_regression, extra_metrics,
                    multi_label_names, multi_label_threshold):
  """The eval `metric_fn` of the task (see `model_fn_builder`).

  Raises:
    ValueError: for an unknown metric name, a regression task with more
      than one label, or multi-label names that are not one per output.
  """
  unknown = [name for name in extra_metrics if name not in EXTRA_METRICS]
  if unknown:
    raise ValueError("unknown metric(s) %s; the known ones are %s" %
                     (", ".join(unknown), ", ".join(sorted(EXTRA_METRICS))))
  if is_regression and num_labels != 1:
    raise ValueError("a regression task has one output, not %d labels" %
                     num_labels)
  if multi_label_names is None:
    return _metric_fn_builder(is_regression, tuple(extra_metrics))
  if is_regression or len(multi_label_names) != num_labels:
    raise ValueError("a multi-label task has one output per label, and no "
                     "regression")
  return _multi_label_metric_fn_builder(list(multi_label_names),
                                        multi_label_threshold)


def _is_real_example(features):
  """float32 [batch_size]: 1.0 but for padding examples.

  Quirk of the original: `input_fn_builder`'s batches have no
  `is_real_example`, so every example counts as real.
  """
  if "is_real_example" in features:
    return tf.cast(features["is_real_example"], dtype=tf.float32)
  return tf.ones(tf.shape(features["label_ids"]), dtype=tf.float32)


def model_fn_builder(bert_config, num_labels, init_checkpoint, learning_rate,
                     num_train_steps, num_warmup_steps, use_tpu,
                     use_one_hot_embeddings, is_regression=False,
                     extra_metrics=(), multi_label_names=None,
                     multi_label_threshold=0.5,
                     training=training_options.DEFAULT_SETTINGS):
  """Returns the `model_fn` closure for TPUEstimator.

  Args:
    bert_config: `BertConfig`.
    num_labels: number of classes (1 for regression).
    init_checkpoint: checkpoint to start from, or None.
    learning_rate, num_train_steps, num_warmup_steps: the optimizer's
      schedule (see `optimization.create_optimizer`).
    use_tpu: bool.
    use_one_hot_embeddings: bool.
    is_regression: (not in the original) see `create_model`.
    extra_metrics: (not in the original) names from `EXTRA_METRICS` to
      report at evaluation, as `eval_<name>`.
    multi_label_names: (not in the original) the labels of a multi-label
      task (see `create_model`), in output order; None for the others.
    multi_label_threshold: the probability from which a label is predicted
      in the metrics of a multi-label task.
    training: (not in the original) `training_options.TrainingSettings`.

  Raises:
    ValueError: for metrics or labels the task cannot have.
  """
  metric_fn = _task_metric_fn(num_labels, is_regression, extra_metrics,
                              multi_label_names, multi_label_threshold)
  multi_label = multi_label_names is not None

  def model_fn(features, labels, mode, params):
    """The `model_fn` for TPUEstimator."""
    del labels, params  # The labels come in `features`.

    tf.logging.info("*** Features ***")
    for name in sorted(features.keys()):
      tf.logging.info("  name = %s, shape = %s" % (name, features[name].shape))

    input_ids = features["input_ids"]
    input_mask = features["input_mask"]
    segment_ids = features["segment_ids"]
    label_ids = features["label_ids"]
    is_real_example = _is_real_example(features)

    is_training = (mode == runner.ModeKeys.TRAIN)

    (total_loss, per_example_loss, logits, probabilities) = create_model(
        bert_config, is_training, input_ids, input_mask, segment_ids,
        label_ids, num_labels, use_one_hot_embeddings, is_regression,
        multi_label, training_options.model_kwargs(training, is_training))

    scaffold_fn = runner.init_from_checkpoint(init_checkpoint, use_tpu)

    if mode == runner.ModeKeys.TRAIN:
      runner.track_training_loss(total_loss, use_tpu)
      train_op = optimization.create_optimizer(
          total_loss, learning_rate, num_train_steps, num_warmup_steps, use_tpu,
          **training_options.optimizer_kwargs(training))
      return runner.TPUEstimatorSpec(
          mode=mode,
          loss=total_loss,
          train_op=train_op,
          scaffold_fn=scaffold_fn)
    if mode == runner.ModeKeys.EVAL:
      eval_metrics = (metric_fn,
                      [per_example_loss, label_ids, logits, is_real_example])
      return runner.TPUEstimatorSpec(
          mode=mode,
          loss=total_loss,
          eval_metrics=eval_metrics,
          scaffold_fn=scaffold_fn)
    output_name = "scores" if is_regression else "probabilities"
    return runner.TPUEstimatorSpec(
        mode=mode,
        predictions={output_name: probabilities},
        scaffold_fn=scaffold_fn)

  return model_fn


def input_fn_builder(features, seq_length, is_training, drop_remainder,
                     is_regression=False):
  """Returns a TPUEstimator `input_fn` over in-memory `InputFeatures`.

  main() does not use it (it goes through TFRecord files); notebooks and
  other code built on the original do. Quirk of the original: the batches
  carry no `is_real_example`, so the model counts every example as real.
  Everything is held as constants in the graph: fine for demos, not for
  large data sets.
  """
  all_input_ids = []
  all_input_mask = []
  all_segment_ids = []
  all_label_ids = []

  for feature in features:
    all_input_ids.append(feature.input_ids)
    all_input_mask.append(feature.input_mask)
    all_segment_ids.append(feature.segment_ids)
    all_label_ids.append(feature.label_id)

  def input_fn(params):
    """Batches of `params["batch_size"]` features."""
    batch_size = params["batch_size"]

    num_examples = len(features)

    def int_matrix(rows):
      return tf.constant(rows, shape=[num_examples, seq_length],
                         dtype=tf.int32)

    d = tf.data.Dataset.from_tensor_slices({
        "input_ids": int_matrix(all_input_ids),
        "input_mask": int_matrix(all_input_mask),
        "segment_ids": int_matrix(all_segment_ids),
        "label_ids": tf.constant(
            all_label_ids, shape=[num_examples],
            dtype=tf.float32 if is_regression else tf.int32),
    })

    if is_training:
      d = d.repeat()
      d = d.shuffle(buffer_size=100)

    d = d.batch(batch_size=batch_size, drop_remainder=drop_remainder)
    return d

  return input_fn


def convert_examples_to_features(examples, label_list, max_seq_length,
                                 tokenizer, is_regression=False):
  """Returns the `InputFeatures` of `examples`, in order."""

  features = []
  for (ex_index, example) in enumerate(examples):
    if ex_index % 10000 == 0:
      tf.logging.info("Writing example %d of %d" % (ex_index, len(examples)))

    feature = convert_single_example(ex_index, example, label_list,
                                     max_seq_length, tokenizer, is_regression)

    features.append(feature)
  return features


def validate_flags_or_throw(bert_config):
  """Reads FLAGS and raises for flag values that cannot work.

  Args:
    bert_config: the model's `BertConfig`.

  Raises:
    InputError: naming the flag, for a value that cannot work or an
      --init_checkpoint that is not there.
  """
  fine_tuning.check_shared_flags(FLAGS, bert_config,
                                 "[CLS] and two [SEP] tokens")
  if not 0.0 < FLAGS.multi_label_threshold < 1.0:
    raise InputError("--multi_label_threshold=%s: must be between 0 and 1, "
                     "both excluded" % FLAGS.multi_label_threshold)
  if not FLAGS.label_separator:
    raise InputError("--label_separator: must not be empty")
  if FLAGS.init_checkpoint:
    runner.resolve_checkpoint(FLAGS.init_checkpoint)


def _make_processor(task_name, data_dir, label_separator, labels_file):
  """The processor of --task_name, configured if it is multi-label."""
  processor = get_processor(task_name)
  if isinstance(processor, MultiLabelProcessor):
    processor.configure(data_dir, label_separator, labels_file)
  return processor


def _read_examples(processor, task_name, config):
  """Reads the data sets the run needs: bad input stops it before any output.

  Args:
    processor: the task's `DataProcessor`.
    task_name: --task_name, for the errors.
    config: `fine_tuning.FineTuningConfig`.

  Returns:
    (train_examples, eval_examples, predict_examples), None when not needed.

  Raises:
    InputError: for a --data_dir that is not a folder, a set with no
      example, or an example whose label the task does not know.
  """
  fine_tuning.check_data_dir(config.data_dir)
  read_set = functools.partial(_read_set, processor, task_name=task_name,
                               data_dir=config.data_dir)
  train_examples = eval_examples = predict_examples = None
  if config.do_train:
    train_examples = read_set("train")
  if config.do_eval:
    eval_examples = read_set("dev")
  if config.do_predict:
    predict_examples = read_set("test")
  return (train_examples, eval_examples, predict_examples)


def _read_set(processor, set_name, task_name, data_dir):
  """Returns the examples of one set (`train`, `dev` or `test`) of any task.

  Raises:
    InputError: if the task has no such set, the set holds no example, or
      an example has a label the task does not know (a test example too:
      its placeholder label becomes a feature).
  """
  del _TSV_FILES_READ[:]
  try:
    examples = getattr(processor, "get_%s_examples" % set_name)(data_dir)
  except NotImplementedError:
    raise InputError("--task_name=%s: this task has no %s set (its "
                     "get_%s_examples is not implemented)" %
                     (task_name, set_name, set_name))
  if examples is None:
    raise InputError("--task_name=%s: get_%s_examples returned None, not a "
                     "list of examples" % (task_name, set_name))
  examples = list(examples)
  if not examples:
    raise InputError(_no_examples_message(set_name, list(_TSV_FILES_READ),
                                          task_name, data_dir))
  label_list = processor.get_labels()
  for example in examples:
    try:
      _label_id(example, label_list, processor.is_regression,
                processor.is_multi_label)
    except InputError as e:
      raise InputError("--task_name=%s, %s set: %s" % (task_name, set_name, e))
  return examples


def _no_examples_message(set_name, files_read, task_name, data_dir):
  """Says which files of a set with no example were read, and what held."""
  if not files_read:
    return ("--data_dir=%s: the %s set of --task_name=%s holds no examples" %
            (data_dir, set_name, task_name))
  num_rows = sum(rows for (_, rows) in files_read)
  paths = ", ".join(path for (path, _) in files_read)
  if num_rows == 0:
    reason = "it is empty"
  elif num_rows == 1:
    reason = "only a header?"
  else:
    reason = "%d rows, none of them an example of --task_name=%s" % (
        num_rows, task_name)
  return "--data_dir: %s holds no examples (%s)" % (paths, reason)


def _write_examples(name, examples, num_actual_examples, batch_size,
                    processor, tokenizer, config):
  """Writes `<name>.tf_record` under --output_dir and returns its path."""
  path = fine_tuning.record_path(config, name)
  file_based_convert_examples_to_features(
      examples, processor.get_labels(), config.max_seq_length, tokenizer,
      path, processor.is_regression, processor.is_multi_label)
  fine_tuning.log_set(len(examples), num_actual_examples, batch_size)
  return path


def _input_fn(path, is_training, processor, config):
  """The `input_fn` of a written set; only training drops a short batch."""
  return file_based_input_fn_builder(
      input_file=path,
      seq_length=config.max_seq_length,
      is_training=is_training,
      drop_remainder=is_training or config.use_tpu,
      is_regression=processor.is_regression,
      num_multi_labels=(len(processor.get_labels())
                        if processor.is_multi_label else None))


def _padded_set(name, examples, batch_size, processor, tokenizer, config):
  """Writes a dev or test set, padded to whole batches on TPU.

  Returns:
    (input_fn, number of real examples, number of examples written).
  """
  examples = list(examples)
  num_actual_examples = fine_tuning.pad_to_batches(
      examples, batch_size, config.use_tpu, PaddingInputExample)
  path = _write_examples(name, examples, num_actual_examples, batch_size,
                         processor, tokenizer, config)
  return (_input_fn(path, False, processor, config), num_actual_examples,
          len(examples))


def _train(estimator, processor, tokenizer, train_examples, num_train_steps,
           config, seed=None, evaluate=None, loop_settings=None):
  """Trains; with `evaluate`, evaluates as it goes (see `training_loop`).

  Returns:
    The metrics of the last evaluation, or None without `evaluate`.
  """
  tf.logging.info("***** Running training *****")
  train_file = _write_examples("train", train_examples, len(train_examples),
                               config.train_batch_size, processor, tokenizer,
                               config)
  train_input_fn = training_loop.seeded_input_fn(
      _input_fn(train_file, True, processor, config), seed)
  if evaluate is None:
    fine_tuning.train(estimator, train_input_fn, num_train_steps, config)
    return None
  tf.logging.info("  Num steps = %d", num_train_steps)
  return training_loop.train_and_evaluate(
      estimator, train_input_fn, num_train_steps,
      [fine_tuning.progress_hook(num_train_steps, config)], evaluate,
      estimator.model_dir, loop_settings)


def _evaluator(estimator, processor, tokenizer, eval_examples, results_dir,
               config):
  """Writes eval.tf_record; returns `evaluate()`, to call once or more.

  `evaluate()` evaluates the latest checkpoint, writes the metrics to
  `results_dir/eval_results.txt` and returns them.
  """
  tf.logging.info("***** Running evaluation *****")
  (eval_input_fn, _, num_eval_examples) = _padded_set(
      "eval", eval_examples, config.eval_batch_size, processor, tokenizer,
      config)
  return functools.partial(fine_tuning.evaluate, estimator, eval_input_fn,
                           num_eval_examples, config, results_dir)


def _predict(estimator, processor, tokenizer, predict_examples, config):
  """Writes test_results.tsv: a line of probabilities (or a score) each."""
  tf.logging.info("***** Running prediction *****")
  (predict_input_fn, num_actual_examples, _) = _padded_set(
      "predict", predict_examples, config.predict_batch_size, processor,
      tokenizer, config)
  output_name = "scores" if processor.is_regression else "probabilities"
  output_predict_file = os.path.join(config.output_dir, "test_results.tsv")
  results = fine_tuning.predictions(estimator, predict_input_fn,
                                    num_actual_examples, output_predict_file,
                                    "examples")
  with script_io.atomic_output(output_predict_file) as writer:
    tf.logging.info("***** Predict results *****")
    for prediction in results:
      values = np.reshape(prediction[output_name], [-1])
      writer.write("\t".join(str(value) for value in values) + "\n")


def _metric_names(processor):
  """The metrics the task's evaluation reports, the main one first."""
  if processor.is_multi_label:
    names = ["eval_micro_f1", "eval_macro_f1", "eval_exact_match"]
    names += ["eval_f1_%s" % label for label in processor.get_labels()]
  elif processor.is_regression:
    names = ["eval_" + name for name in processor.extra_metrics]
  else:
    names = ["eval_accuracy"]
    names += ["eval_" + name for name in processor.extra_metrics]
  return names + ["eval_loss", "loss"]


def _fine_tune(build_estimator, processor, tokenizer, train_examples,
               eval_examples, num_train_steps, loop_settings, config,
               model_dir, seed):
  """Trains and evaluates (each if its examples are given) in `model_dir`.

  Args:
    build_estimator: `build_estimator(model_dir=...)` returns the runner.
    processor, tokenizer: the task's.
    train_examples, eval_examples: lists of `InputExample`, or None.
    num_train_steps: int.
    loop_settings: `training_loop.LoopSettings`.
    config: `fine_tuning.FineTuningConfig`.
    model_dir: the directory of checkpoints and eval_results.txt.
    seed: the graph-level random seed of training, or None.

  Returns:
    The metrics of the last evaluation, or None.
  """
  estimator = build_estimator(model_dir=model_dir)
  result = None
  if train_examples is not None:
    evaluate = None
    if loop_settings.eval_every_n_steps:
      evaluate = _evaluator(estimator, processor, tokenizer, eval_examples,
                            model_dir, config)
    result = _train(estimator, processor, tokenizer, train_examples,
                    num_train_steps, config, seed, evaluate, loop_settings)
  if eval_examples is not None and result is None:
    result = _evaluator(estimator, processor, tokenizer, eval_examples,
                        model_dir, config)()
  return result


def _fine_tune_runs(fine_tune, loop_settings, metric_names, config):
  """Fine-tunes once, or once per restart; returns the model_dir to use.

  Args:
    fine_tune: `fine_tune(model_dir, seed)` trains and evaluates there.
    loop_settings: `training_loop.LoopSettings`.
    metric_names: the task's metrics, the main one first.
    config: `fine_tuning.FineTuningConfig`.

  Returns:
    The directory of the checkpoint to predict with and export.
  """
  if loop_settings.num_restarts > 1:
    return training_loop.run_restarts(
        fine_tune, loop_settings,
        training_loop.restart_metric(loop_settings, metric_names),
        config.output_dir)
  if config.do_train or config.do_eval:
    fine_tune(config.output_dir, loop_settings.seed)
  return config.output_dir


def serving_outputs_fn(model_fn, num_labels, is_regression=False,
                       multi_label=False):
  """The predictions of `model_fn` on inputs alone, to export or serve.

  Args:
    model_fn: what `model_fn_builder` returns.
    num_labels: the number of labels.
    is_regression, multi_label: the task's kind (see `create_model`).

  Returns:
    `outputs_fn(input_ids, input_mask, segment_ids)` giving what
    `--do_predict` writes: {"probabilities": [batch, num_labels]}, or
    {"scores": [batch]} for regression.
  """

  def outputs_fn(input_ids, input_mask, segment_ids):
    # The labels only feed the loss, which serving does not compute.
    label_shape = [tf.shape(input_ids)[0]]
    if multi_label:
      label_shape.append(num_labels)
    labels = tf.zeros(label_shape,
                      tf.float32 if is_regression else tf.int32)
    features = {"input_ids": input_ids, "input_mask": input_mask,
                "segment_ids": segment_ids, "label_ids": labels}
    spec = model_fn(features, None, runner.ModeKeys.PREDICT, {})
    return spec.predictions

  return outputs_fn


def main(_):
  tf.logging.set_verbosity(tf.logging.INFO)

  fine_tuning.check_actions(FLAGS, other_actions=("export_dir",))
  bert_config = runner.read_bert_config(FLAGS.bert_config_file)
  validate_flags_or_throw(bert_config)
  config = fine_tuning.config_from_flags(FLAGS)
  processor = _make_processor(FLAGS.task_name, FLAGS.data_dir,
                              FLAGS.label_separator, FLAGS.labels_file)
  label_list = processor.get_labels()
  loop_settings = training_loop.settings_from_flags(FLAGS)
  training_loop.check_settings(loop_settings, _metric_names(processor),
                               config.do_train,
                               None if config.do_eval else "--do_eval=True")
  export.check_export_dir(FLAGS.export_dir)
  # The original stops at the first example (a KeyError) on a vocab without
  # [CLS] or [SEP]; here that is a one-line error before anything is read.
  tokenizer = fine_tuning.make_tokenizer(FLAGS, bert_config,
                                         required_tokens=("[CLS]", "[SEP]"))
  (train_examples, eval_examples, predict_examples) = _read_examples(
      processor, FLAGS.task_name, config)
  setup = runner.setup_from_flags(FLAGS, bert_config)

  num_train_steps = None
  num_warmup_steps = None
  if config.do_train:
    (num_train_steps, num_warmup_steps) = fine_tuning.training_steps(
        len(train_examples), config)

  model_fn = model_fn_builder(
      bert_config=bert_config,
      num_labels=len(label_list),
      init_checkpoint=setup.init_checkpoint,
      learning_rate=config.learning_rate,
      num_train_steps=num_train_steps,
      num_warmup_steps=num_warmup_steps,
      use_tpu=config.use_tpu,
      use_one_hot_embeddings=config.use_tpu,
      is_regression=processor.is_regression,
      extra_metrics=processor.extra_metrics,
      multi_label_names=label_list if processor.is_multi_label else None,
      multi_label_threshold=FLAGS.multi_label_threshold,
      training=setup.training)

  build_estimator = functools.partial(fine_tuning.build_runner, model_fn,
                                      setup, config)
  fine_tune = functools.partial(_fine_tune, build_estimator, processor,
                                tokenizer, train_examples, eval_examples,
                                num_train_steps, loop_settings, config)

  with fine_tuning.locked_output_dir(setup, config):
    model_dir = _fine_tune_runs(fine_tune, loop_settings,
                                _metric_names(processor), config)
    if config.do_predict:
      _predict(build_estimator(model_dir=model_dir), processor, tokenizer,
               predict_examples, config)
    if FLAGS.export_dir:
      export.export_saved_model(
          FLAGS.export_dir,
          serving_outputs_fn(model_fn, len(label_list),
                             processor.is_regression,
                             processor.is_multi_label),
          export.checkpoint_to_export(model_dir, setup.init_checkpoint),
          config.max_seq_length)


if __name__ == "__main__":
  # A user's module named by --task_name=module:Class imports this script
  # as `run_classifier` for its base classes: make that import give this
  # very module, not a second copy (which would define the flags again,
  # back to their defaults, and have other classes).
  sys.modules.setdefault("run_classifier", sys.modules[__name__])
  flags.mark_flag_as_required("data_dir")
  flags.mark_flag_as_required("task_name")
  flags.mark_flag_as_required("vocab_file")
  flags.mark_flag_as_required("bert_config_file")
  flags.mark_flag_as_required("output_dir")
  script_io.run(main)
