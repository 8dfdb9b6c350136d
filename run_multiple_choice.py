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
"""BERT fine-tuning for multiple choice (SWAG).

Not in Google's original, which shipped no multiple-choice task; built the
way the BERT paper describes its SWAG experiment and in the style of
`run_classifier.py` (same flags where they mean the same thing, same runner,
same outputs).

Data: `--data_dir` holds `train.csv`, `val.csv` and `test.csv` as the SWAG
release has them: a header naming the columns (`video-id`, `fold-ind`,
`startphrase`, `sent1`, `sent2`, `gold-source`, `ending0` ... `ending3`,
`label`, in any order, a leading unnamed index column allowed), then one
example a row. `test.csv` may lack `label`. Every `ending<i>` column is a
choice, so four (or any number of) endings work.

Model: each choice is the sentence pair (`sent1`, `sent2 + " " +
ending<i>`), encoded as `[CLS] sent1 [SEP] sent2 ending<i> [SEP]`; one
shared layer turns the pooled output of each into a score (variables
`cls/multiple_choice/output_weights` and `output_bias`), and a softmax over
an example's choices gives their probabilities. A batch of N examples runs
N * choices sequences through BERT.

Outputs: `--do_eval` writes `eval_results.txt` on `val.csv`
(`eval_accuracy`, `eval_loss`, `global_step`, `loss`); `--do_predict`
writes `test_results.tsv`, one line per row of `test.csv`: the index of the
chosen ending, then the probability of each ending, tab-separated.

Example:

  python run_multiple_choice.py \\
    --data_dir=$SWAG_DIR \\
    --vocab_file=$BERT_BASE_DIR/vocab.txt \\
    --bert_config_file=$BERT_BASE_DIR/bert_config.json \\
    --init_checkpoint=$BERT_BASE_DIR/bert_model.ckpt \\
    --do_train=True \\
    --do_eval=True \\
    --do_predict=True \\
    --max_seq_length=80 \\
    --train_batch_size=16 \\
    --learning_rate=2e-5 \\
    --num_train_epochs=3.0 \\
    --output_dir=/tmp/swag_output/

The training options of `run_classifier.py` (`--num_accumulation_steps`,
`--precision`, `--optimizer`, `--distribution_strategy`, ...; see
README.md) work here too, all off by default.

Bad input stops the run before anything is written, with one line such as
`error: /data/swag/val.csv, line 8: label '4' is out of range: the file
has endings 0 to 3`.
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import collections
import csv
import os
import re

from absl import flags
import numpy as np
import tensorflow.compat.v1 as tf

import fine_tuning
import modeling
import runner
import script_io
import tokenization
import training_options

InputError = script_io.InputError

FLAGS = flags.FLAGS

runner.define_fine_tuning_flags("Examples")
training_options.define_training_flags()

# Required.
flags.DEFINE_string(
    "data_dir", None,
    "Folder holding train.csv, val.csv and test.csv (SWAG layout).",
    **script_io.OVERRIDABLE)
flags.DEFINE_string(
    "output_dir", None,
    "Folder for checkpoints, the TFRecord features, eval_results.txt and "
    "test_results.tsv.", **script_io.OVERRIDABLE)

# Optional.
flags.DEFINE_integer(
    "max_seq_length", 128,
    "Length of every choice's input in WordPiece tokens, [CLS] and [SEP] "
    "included: longer inputs are cut, shorter ones padded.",
    **script_io.OVERRIDABLE)

# The file names in --data_dir, by set.
DATA_FILES = {"train": "train.csv", "dev": "val.csv", "test": "test.csv"}

# --------------------------------------------------------------------------
# Reading SWAG files.

SwagExample = collections.namedtuple(
    "SwagExample", ["guid", "context", "start_ending", "endings", "label"])
SwagExample.__doc__ = """One example: a context and its candidate endings.

guid: "<file>, line <n>", where the row starts.
context: `sent1`, the first sentence.
start_ending: `sent2`, the start of the second sentence.
endings: the `ending<i>` texts, in order.
label: the index of the right ending, or None when the file has none.
"""

_ENDING_COLUMN = re.compile(r"^ending(\d+)$")


class _Columns(object):
  """Where a SWAG file's columns are, from its header."""

  def __init__(self, header, path):
    """Finds the columns.

    Args:
      header: the first row, a list of column names.
      path: the file, named in errors.

    Raises:
      InputError: if `sent1`, `sent2` or `ending0` and `ending1` are
        missing, or the ending numbers have a gap.
    """
    names = [name.strip() for name in header]
    position = {name: i for (i, name) in enumerate(names)}
    for name in ("sent1", "sent2", "ending0", "ending1"):
      if name not in position:
        raise InputError(
            "%s, line 1: the header has no %r column (it has %s)" %
            (path, name, ", ".join(repr(name) for name in names)))
    numbers = sorted(int(_ENDING_COLUMN.match(name).group(1))
                     for name in names if _ENDING_COLUMN.match(name))
    if numbers != list(range(len(numbers))):
      raise InputError("%s, line 1: the ending columns are numbered %s; "
                       "they must be ending0, ending1, ... without a gap" %
                       (path, ", ".join(str(n) for n in numbers)))
    self.count = len(names)
    self.context = position["sent1"]
    self.start_ending = position["sent2"]
    self.endings = [position["ending%d" % i] for i in numbers]
    self.label = position.get("label")


def _parse_label(text, num_endings, location, required):
  """The label of a row as an int, or None when absent and not required.

  Raises:
    InputError: for a label that is missing (when required), not an
      integer, or not the index of an ending.
  """
  text = text.strip()
  if not text:
    if required:
      raise InputError("%s: the label is missing" % location)
    return None
  try:
    label = int(text)
  except ValueError:
    raise InputError("%s: label %r is not an ending's index (0 to %d)" %
                     (location, text, num_endings - 1))
  if not 0 <= label < num_endings:
    raise InputError("%s: label %r is out of range: the file has endings 0 "
                     "to %d" % (location, text, num_endings - 1))
  return label


def _example_of_row(row, columns, location, require_labels):
  """Returns the `SwagExample` of one row.

  Raises:
    InputError: for a row whose column count is not the header's, an empty
      ending, or a bad label.
  """
  if len(row) != columns.count:
    raise InputError("%s: has %d column(s), but the header has %d" %
                     (location, len(row), columns.count))
  endings = [row[i] for i in columns.endings]
  for (i, ending) in enumerate(endings):
    if not ending.strip():
      raise InputError("%s: ending%d is empty" % (location, i))
  label = None
  if columns.label is not None:
    label = _parse_label(row[columns.label], len(endings), location,
                         require_labels)
  return SwagExample(guid=location, context=row[columns.context],
                     start_ending=row[columns.start_ending], endings=endings,
                     label=label)


def read_swag_file(path, require_labels):
  """Reads the examples of a SWAG CSV file.

  Args:
    path: the file (local or gs://).
    require_labels: True: every row needs a label (training and dev sets).

  Returns:
    A list of `SwagExample`s, one per row after the header (blank lines are
    skipped).

  Raises:
    InputError: naming the file and line, for a missing file, a header
      without the needed columns, a bad row, or a file without examples.
  """
  if tf.gfile.IsDirectory(path):
    raise InputError("%s is a directory, not a file" % path)
  if not tf.gfile.Exists(path):
    raise InputError("%s: no such file" % path)
  examples = []
  with tf.gfile.GFile(path, "r") as f:
    reader = csv.reader(f)
    columns = None
    line_number = 1
    try:
      for row in reader:
        location = "%s, line %d" % (path, line_number)
        line_number = reader.line_num + 1
        if not row:
          continue
        if columns is None:
          columns = _Columns(row, path)
          if require_labels and columns.label is None:
            raise InputError("%s: the header has no 'label' column" %
                             location)
          continue
        examples.append(_example_of_row(row, columns, location,
                                        require_labels))
    except csv.Error as e:
      raise InputError("%s, line %d: %s" % (path, reader.line_num, e))
    except UnicodeDecodeError as e:
      raise InputError("%s, line %d: not valid UTF-8 (%s)" %
                       (path, reader.line_num + 1, e.reason))
  if not examples:
    raise InputError("%s holds no examples (%s)" % (
        path, "it is empty" if columns is None else "only a header"))
  return examples


# --------------------------------------------------------------------------
# Features.


class InputFeatures(object):
  """The model inputs of one example: a row of max_seq_length ints a choice.

  input_ids, input_mask, segment_ids: [num_choices][max_seq_length] ints.
  label_ids: the right ending's index (0 when unknown).
  is_real_example: 0 for the padding examples that fill a TPU batch.
  """

  def __init__(self, input_ids, input_mask, segment_ids, label_ids,
               is_real_example=1):
    self.input_ids = input_ids
    self.input_mask = input_mask
    self.segment_ids = segment_ids
    self.label_ids = label_ids
    self.is_real_example = is_real_example


FeatureSpec = collections.namedtuple("FeatureSpec", ["name", "shape"])


def feature_specs(num_choices, seq_length):
  """The int64 features of an example's record, in the order written.

  One list for the writer (`write_features`) and the parser
  (`input_fn_builder`), so the two cannot disagree.

  Args:
    num_choices: the endings of each example.
    seq_length: max_seq_length.

  Returns:
    A list of `FeatureSpec(name, shape)`; every name is an attribute of
    `InputFeatures`.
  """
  return [
      FeatureSpec("input_ids", [num_choices, seq_length]),
      FeatureSpec("input_mask", [num_choices, seq_length]),
      FeatureSpec("segment_ids", [num_choices, seq_length]),
      FeatureSpec("label_ids", []),
      FeatureSpec("is_real_example", []),
  ]


def padding_features(num_choices, seq_length):
  """An example of zeros, to fill a TPU batch."""
  zeros = [[0] * seq_length for _ in range(num_choices)]
  return InputFeatures(zeros, zeros, zeros, label_ids=0, is_real_example=0)


def convert_example(example, tokenizer, max_seq_length):
  """Encodes each choice of an example as a BERT sentence pair.

  Choice i is `tokenization.pack_sentence_pair` of (context, start_ending
  + " " + ending i): `[CLS] context [SEP] start ending [SEP]`, the longer
  side cut first.

  Args:
    example: a `SwagExample`.
    tokenizer: a `FullTokenizer`.
    max_seq_length: length of each choice's input.

  Returns:
    An `InputFeatures`.
  """
  input_ids = []
  input_mask = []
  segment_ids = []
  for ending in example.endings:
    (_, ids, mask, segments) = tokenization.pack_sentence_pair(
        tokenizer, example.context,
        (example.start_ending + " " + ending).strip(), max_seq_length)
    input_ids.append(ids)
    input_mask.append(mask)
    segment_ids.append(segments)
  label = example.label if example.label is not None else 0
  return InputFeatures(input_ids, input_mask, segment_ids, label)


def _log_example(example, feature, tokenizer):
  tf.logging.info("*** Example ***")
  tf.logging.info("guid: %s", example.guid)
  for (i, ids) in enumerate(feature.input_ids):
    tokens = tokenizer.convert_ids_to_tokens(
        ids[:sum(feature.input_mask[i])])
    tf.logging.info("choice %d: %s", i, " ".join(
        tokenization.printable_text(token) for token in tokens))
  tf.logging.info("label: %s", example.label)


def convert_examples(examples, tokenizer, max_seq_length):
  """Returns the `InputFeatures` of `examples`, in order."""
  features = []
  for (index, example) in enumerate(examples):
    feature = convert_example(example, tokenizer, max_seq_length)
    if index < 3:
      _log_example(example, feature, tokenizer)
    features.append(feature)
  return features


def write_features(path, features, num_choices, seq_length):
  """Writes `features` to the TFRecord file `path`, complete or not at all.

  Each record holds the features of `feature_specs(num_choices,
  seq_length)`, in that order, flattened.
  """
  specs = feature_specs(num_choices, seq_length)
  with script_io.atomic_path(path) as temp_path:
    with tf.io.TFRecordWriter(temp_path) as writer:
      for feature in features:
        named = collections.OrderedDict()
        for spec in specs:
          values = np.reshape(getattr(feature, spec.name), [-1])
          assert len(values) == np.prod(spec.shape, dtype=np.int64), spec
          named[spec.name] = script_io.int64_feature(
              int(value) for value in values)
        writer.write(script_io.serialize_example_in_order(named))


def input_fn_builder(input_file, num_choices, seq_length, is_training,
                     drop_remainder):
  """Returns the TPUEstimator `input_fn` reading a `write_features` file.

  Returns:
    `input_fn(params)` giving batches of int32 `input_ids`, `input_mask`,
    `segment_ids` [batch_size, num_choices, seq_length], `label_ids` and
    `is_real_example` [batch_size].
  """
  name_to_features = {spec.name: tf.FixedLenFeature(spec.shape, tf.int64)
                      for spec in feature_specs(num_choices, seq_length)}
  return script_io.tfrecord_input_fn_builder(
      input_file, name_to_features, is_training, drop_remainder)


# --------------------------------------------------------------------------
# The model.


def create_model(bert_config, is_training, input_ids, input_mask, segment_ids,
                 labels, use_one_hot_embeddings, model_kwargs=None):
  """Creates a multiple-choice model: one score per choice, a softmax.

  Args:
    bert_config: `BertConfig`.
    is_training: bool; enables dropout.
    input_ids, input_mask, segment_ids: int32 [batch_size, num_choices,
      seq_length], num_choices and seq_length known to the graph.
    labels: int32 [batch_size], the right choice.
    use_one_hot_embeddings: bool, one-hot matmul lookup (faster on TPU).
    model_kwargs: more `modeling.BertModel` arguments, e.g.
      `training_options.model_kwargs`.

  Returns:
    (loss, per_example_loss, logits, probabilities): the mean loss [], the
    loss per example [batch_size], and the choices' scores and softmax
    probabilities [batch_size, num_choices].
  """
  (_, num_choices, seq_length) = input_ids.shape.as_list()

  def choices_as_rows(tensor):
    return tf.reshape(tensor, [-1, seq_length])

  model = modeling.BertModel(
      config=bert_config,
      is_training=is_training,
      input_ids=choices_as_rows(input_ids),
      input_mask=choices_as_rows(input_mask),
      token_type_ids=choices_as_rows(segment_ids),
      use_one_hot_embeddings=use_one_hot_embeddings,
      **(model_kwargs or {}))

  # [batch_size * num_choices, hidden_size]: each choice's [CLS] state.
  pooled_output = model.get_pooled_output()
  hidden_size = pooled_output.shape.as_list()[-1]

  output_weights = tf.get_variable(
      "cls/multiple_choice/output_weights", [1, hidden_size],
      initializer=modeling.create_initializer(bert_config.initializer_range))
  output_bias = tf.get_variable(
      "cls/multiple_choice/output_bias", [1],
      initializer=tf.zeros_initializer())

  if is_training:
    pooled_output = modeling.dropout(pooled_output,
                                     bert_config.hidden_dropout_prob)
  scores = tf.nn.bias_add(
      tf.matmul(pooled_output, output_weights, transpose_b=True), output_bias)
  logits = tf.reshape(scores, [-1, num_choices])

  (loss, per_example_loss, probabilities) = fine_tuning.softmax_loss(
      logits, labels, num_choices)
  return (loss, per_example_loss, logits, probabilities)


def metric_fn(per_example_loss, label_ids, logits, is_real_example):
  """eval_accuracy and eval_loss over the real examples."""
  predictions = tf.argmax(logits, axis=-1, output_type=tf.int32)
  return {
      "eval_accuracy": tf.metrics.accuracy(
          labels=label_ids, predictions=predictions,
          weights=is_real_example),
      "eval_loss": tf.metrics.mean(values=per_example_loss,
                                   weights=is_real_example),
  }


def model_fn_builder(bert_config, init_checkpoint, learning_rate,
                     num_train_steps, num_warmup_steps, use_tpu,
                     use_one_hot_embeddings,
                     training=training_options.DEFAULT_SETTINGS):
  """Returns the `model_fn` closure for TPUEstimator.

  Args:
    bert_config: `BertConfig`.
    init_checkpoint: checkpoint to start from, or None.
    learning_rate, num_train_steps, num_warmup_steps: the optimizer's
      schedule (see `optimization.create_optimizer`).
    use_tpu: bool.
    use_one_hot_embeddings: bool.
    training: `training_options.TrainingSettings`.
  """

  def model_fn(features, labels, mode, params):
    """The `model_fn` for TPUEstimator."""
    del labels, params  # The labels come in `features`.
    fine_tuning.log_features(features)

    label_ids = features["label_ids"]
    is_real_example = tf.cast(features["is_real_example"], tf.float32)
    is_training = (mode == runner.ModeKeys.TRAIN)
    (total_loss, per_example_loss, logits, probabilities) = create_model(
        bert_config, is_training, features["input_ids"],
        features["input_mask"], features["segment_ids"], label_ids,
        use_one_hot_embeddings,
        training_options.model_kwargs(training, is_training))
    return fine_tuning.model_spec(
        mode, total_loss,
        (metric_fn, [per_example_loss, label_ids, logits, is_real_example]),
        {"probabilities": probabilities}, init_checkpoint,
        (learning_rate, num_train_steps, num_warmup_steps), use_tpu, training)

  return model_fn


# --------------------------------------------------------------------------
# The run.


def validate_flags_or_throw(bert_config):
  """Validate the input FLAGS or throw an exception.

  Reads FLAGS, as the original's run_squad.py validator does.

  Raises:
    InputError: for a flag value that cannot work with `bert_config`.
  """
  fine_tuning.check_shared_flags(FLAGS, bert_config,
                                 "[CLS] and two [SEP] tokens")


DataSets = collections.namedtuple("DataSets", ["train", "dev", "test"])


def read_data_sets(config):
  """Reads the files the run needs, checking them all.

  Args:
    config: `fine_tuning.FineTuningConfig`.

  Returns:
    `DataSets`: the list of `SwagExample`s (or None) of each set.

  Raises:
    InputError: for a --data_dir that is not a folder, or bad data (see
      `read_swag_file`).
  """
  fine_tuning.check_data_dir(config.data_dir)
  sets = {}
  for (set_name, wanted, require_labels) in (
      ("train", config.do_train, True), ("dev", config.do_eval, True),
      ("test", config.do_predict, False)):
    sets[set_name] = None
    if wanted:
      sets[set_name] = read_swag_file(
          os.path.join(config.data_dir, DATA_FILES[set_name]), require_labels)
  return DataSets(**sets)


def _write_set(name, examples, tokenizer, batch_size, config):
  """Writes the features of `examples` to `<name>.tf_record`.

  Sets other than "train" are padded to whole batches on TPU.

  Args:
    name: "train", "eval" or "predict".
    examples: the set's `SwagExample`s.
    tokenizer: a `FullTokenizer`.
    batch_size: the set's batch size.
    config: `fine_tuning.FineTuningConfig`.

  Returns:
    (input_fn, num_items, num_actual): the `input_fn` reading the file, and
    its number of examples with and without the padding.
  """
  num_choices = len(examples[0].endings)  # The same for every row.
  seq_length = config.max_seq_length
  features = convert_examples(examples, tokenizer, seq_length)
  is_training = (name == "train")
  num_actual = len(features)
  if not is_training:
    fine_tuning.pad_to_batches(
        features, batch_size, config.use_tpu,
        lambda: padding_features(num_choices, seq_length))
  path = fine_tuning.record_path(config, name)
  write_features(path, features, num_choices, seq_length)
  fine_tuning.log_set(len(features), num_actual, batch_size,
                      detail=", %d choices each" % num_choices)
  input_fn = input_fn_builder(
      input_file=path, num_choices=num_choices, seq_length=seq_length,
      is_training=is_training,
      drop_remainder=is_training or config.use_tpu)
  return (input_fn, len(features), num_actual)


def _predict(estimator, tokenizer, predict_examples, config):
  """Writes test_results.tsv: each example's choice and probabilities."""
  tf.logging.info("***** Running prediction *****")
  (input_fn, _, num_actual) = _write_set("predict", predict_examples,
                                         tokenizer, config.predict_batch_size,
                                         config)
  output_path = os.path.join(config.output_dir, "test_results.tsv")
  results = fine_tuning.predictions(estimator, input_fn, num_actual,
                                    output_path, "examples")
  num_right = 0
  with script_io.atomic_output(output_path) as writer:
    for (result, example) in zip(results, predict_examples):
      probabilities = np.reshape(result["probabilities"], [-1])
      choice = int(np.argmax(probabilities))
      writer.write("\t".join([str(choice)] + [
          str(p) for p in probabilities]) + "\n")
      num_right += int(choice == example.label)
  tf.logging.info("Wrote %s (%d examples)", output_path, len(results))
  if all(example.label is not None for example in predict_examples):
    tf.logging.info("Accuracy on the labels of test.csv (not written): "
                    "%.4f", num_right / float(len(results)))


def main(_):
  tf.logging.set_verbosity(tf.logging.INFO)

  fine_tuning.check_actions(FLAGS)
  bert_config = runner.read_bert_config(FLAGS.bert_config_file)
  validate_flags_or_throw(bert_config)
  config = fine_tuning.config_from_flags(FLAGS)
  tokenizer = fine_tuning.make_tokenizer(FLAGS, bert_config)
  setup = runner.setup_from_flags(FLAGS, bert_config)
  data = read_data_sets(config)

  num_train_steps = num_warmup_steps = None
  if config.do_train:
    (num_train_steps, num_warmup_steps) = fine_tuning.training_steps(
        len(data.train), config)

  model_fn = model_fn_builder(
      bert_config=bert_config,
      init_checkpoint=setup.init_checkpoint,
      learning_rate=config.learning_rate,
      num_train_steps=num_train_steps,
      num_warmup_steps=num_warmup_steps,
      use_tpu=config.use_tpu,
      use_one_hot_embeddings=config.use_tpu,
      training=setup.training)

  estimator = fine_tuning.build_runner(model_fn, setup, config)

  with fine_tuning.locked_output_dir(setup, config):
    if config.do_train:
      tf.logging.info("***** Running training *****")
      (train_input_fn, _, _) = _write_set("train", data.train, tokenizer,
                                          config.train_batch_size, config)
      fine_tuning.train(estimator, train_input_fn, num_train_steps, config)
    if config.do_eval:
      tf.logging.info("***** Running evaluation *****")
      (eval_input_fn, num_eval, _) = _write_set(
          "eval", data.dev, tokenizer, config.eval_batch_size, config)
      fine_tuning.evaluate(estimator, eval_input_fn, num_eval, config)
    if config.do_predict:
      _predict(estimator, tokenizer, data.test, config)


if __name__ == "__main__":
  flags.mark_flag_as_required("data_dir")
  flags.mark_flag_as_required("vocab_file")
  flags.mark_flag_as_required("bert_config_file")
  flags.mark_flag_as_required("output_dir")
  script_io.run(main)
