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

import modeling
import optimization
import runner
import script_io
import tokenization

InputError = script_io.InputError

FLAGS = flags.FLAGS


def _define_flags():
  """Defines the flags: run_classifier.py's, where they mean the same.

  `allow_override` lets the other scripts, which define flags of the same
  names, be imported in the same process (as the test suite does).
  """
  override = {"allow_override": True}
  runner.define_fine_tuning_flags("Examples")

  # Required.
  flags.DEFINE_string(
      "data_dir", None,
      "Folder holding train.csv, val.csv and test.csv (SWAG layout).",
      **override)
  flags.DEFINE_string(
      "output_dir", None,
      "Folder for checkpoints, the TFRecord features, eval_results.txt and "
      "test_results.tsv.", **override)

  # Optional.
  flags.DEFINE_integer(
      "max_seq_length", 128,
      "Length of every choice's input in WordPiece tokens, [CLS] and [SEP] "
      "included: longer inputs are cut, shorter ones padded.", **override)


_define_flags()

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
                 labels, use_one_hot_embeddings):
  """Creates a multiple-choice model: one score per choice, a softmax.

  Args:
    bert_config: `BertConfig`.
    is_training: bool; enables dropout.
    input_ids, input_mask, segment_ids: int32 [batch_size, num_choices,
      seq_length], num_choices and seq_length known to the graph.
    labels: int32 [batch_size], the right choice.
    use_one_hot_embeddings: bool, one-hot matmul lookup (faster on TPU).

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
      use_one_hot_embeddings=use_one_hot_embeddings)

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

  probabilities = tf.nn.softmax(logits, axis=-1)
  log_probs = tf.nn.log_softmax(logits, axis=-1)
  one_hot_labels = tf.one_hot(labels, depth=num_choices, dtype=tf.float32)
  per_example_loss = -tf.reduce_sum(one_hot_labels * log_probs, axis=-1)
  loss = tf.reduce_mean(per_example_loss)
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
                     use_one_hot_embeddings):
  """Returns the `model_fn` closure for TPUEstimator.

  Args:
    bert_config: `BertConfig`.
    init_checkpoint: checkpoint to start from, or None.
    learning_rate, num_train_steps, num_warmup_steps: the optimizer's
      schedule (see `optimization.create_optimizer`).
    use_tpu: bool.
    use_one_hot_embeddings: bool.
  """

  def model_fn(features, labels, mode, params):
    """The `model_fn` for TPUEstimator."""
    del labels, params  # The labels come in `features`.

    tf.logging.info("*** Features ***")
    for name in sorted(features.keys()):
      tf.logging.info("  name = %s, shape = %s", name, features[name].shape)

    label_ids = features["label_ids"]
    is_real_example = tf.cast(features["is_real_example"], tf.float32)
    is_training = (mode == runner.ModeKeys.TRAIN)
    (total_loss, per_example_loss, logits, probabilities) = create_model(
        bert_config, is_training, features["input_ids"],
        features["input_mask"], features["segment_ids"], label_ids,
        use_one_hot_embeddings)

    scaffold_fn = runner.init_from_checkpoint(init_checkpoint, use_tpu)

    if mode == runner.ModeKeys.TRAIN:
      runner.track_training_loss(total_loss, use_tpu)
      train_op = optimization.create_optimizer(
          total_loss, learning_rate, num_train_steps, num_warmup_steps, use_tpu)
      return runner.TPUEstimatorSpec(
          mode=mode, loss=total_loss, train_op=train_op,
          scaffold_fn=scaffold_fn)
    if mode == runner.ModeKeys.EVAL:
      eval_metrics = (metric_fn, [per_example_loss, label_ids, logits,
                                  is_real_example])
      return runner.TPUEstimatorSpec(
          mode=mode, loss=total_loss, eval_metrics=eval_metrics,
          scaffold_fn=scaffold_fn)
    return runner.TPUEstimatorSpec(
        mode=mode, predictions={"probabilities": probabilities},
        scaffold_fn=scaffold_fn)

  return model_fn


# --------------------------------------------------------------------------
# The run.


def _validate_flags(bert_config):
  """Raises InputError for flag values that cannot work."""
  if FLAGS.max_seq_length > bert_config.max_position_embeddings:
    raise InputError(
        "--max_seq_length=%d: cannot use this sequence length because the "
        "BERT model was only trained up to sequence length %d "
        "(max_position_embeddings in %s)" %
        (FLAGS.max_seq_length, bert_config.max_position_embeddings,
         FLAGS.bert_config_file))
  if FLAGS.max_seq_length < 3:
    raise InputError("--max_seq_length=%d: it must leave room for [CLS] and "
                     "two [SEP] tokens (at least 3)" % FLAGS.max_seq_length)
  for name in ("train_batch_size", "eval_batch_size", "predict_batch_size",
               "save_checkpoints_steps", "iterations_per_loop"):
    if FLAGS[name].value < 1:
      raise InputError("--%s=%d: must be at least 1" %
                       (name, FLAGS[name].value))
  if FLAGS.do_train and not np.isfinite(FLAGS.num_train_epochs):
    raise InputError("--num_train_epochs=%s: must be a finite number" %
                     FLAGS.num_train_epochs)


def _make_tokenizer(bert_config):
  """The `FullTokenizer` of --vocab_file, checked against the model."""
  script_io.check_file(FLAGS.vocab_file, "vocab_file")
  tokenizer = tokenization.FullTokenizer(
      vocab_file=FLAGS.vocab_file, do_lower_case=FLAGS.do_lower_case,
      **script_io.tokenizer_options(FLAGS))
  missing = [token for token in ("[CLS]", "[SEP]", "[UNK]")
             if token not in tokenizer.vocab]
  if missing:
    raise InputError("--vocab_file=%s: no %s token" %
                     (FLAGS.vocab_file, " or ".join(missing)))
  runner.check_vocab_fits(tokenizer.vocab, bert_config, FLAGS.vocab_file,
                          FLAGS.bert_config_file)
  return tokenizer


DataSets = collections.namedtuple("DataSets", ["train", "dev", "test"])


def read_data_sets():
  """Reads the files the run needs, checking them all.

  Returns:
    `DataSets`: the list of `SwagExample`s (or None) of each set.

  Raises:
    InputError: for a --data_dir that is not a folder, or bad data (see
      `read_swag_file`).
  """
  if not tf.gfile.IsDirectory(FLAGS.data_dir):
    if tf.gfile.Exists(FLAGS.data_dir):
      raise InputError("--data_dir=%s is a file, not a directory" %
                       FLAGS.data_dir)
    raise InputError("--data_dir=%s: no such directory" % FLAGS.data_dir)
  sets = {}
  for (set_name, wanted, require_labels) in (
      ("train", FLAGS.do_train, True), ("dev", FLAGS.do_eval, True),
      ("test", FLAGS.do_predict, False)):
    sets[set_name] = None
    if wanted:
      sets[set_name] = read_swag_file(
          os.path.join(FLAGS.data_dir, DATA_FILES[set_name]), require_labels)
  return DataSets(**sets)


def _num_choices(examples):
  """The number of endings of a file's examples (the same for every row)."""
  return len(examples[0].endings)


def _pad_for_tpu(features, num_choices, batch_size):
  """Appends padding examples up to whole TPU batches (on TPU only).

  Returns:
    The number of real examples.
  """
  num_actual = len(features)
  if FLAGS.use_tpu:
    while len(features) % batch_size:
      features.append(padding_features(num_choices, FLAGS.max_seq_length))
  return num_actual


def _write_set(name, features, num_choices, num_actual, batch_size):
  """Writes `<name>.tf_record` under --output_dir and returns its path."""
  path = os.path.join(FLAGS.output_dir, name + ".tf_record")
  write_features(path, features, num_choices, FLAGS.max_seq_length)
  tf.logging.info("  Num examples = %d (%d actual, %d padding), %d choices "
                  "each", len(features), num_actual,
                  len(features) - num_actual, num_choices)
  tf.logging.info("  Batch size = %d", batch_size)
  return path


def _train(estimator, tokenizer, train_examples, num_train_steps):
  tf.logging.info("***** Running training *****")
  num_choices = _num_choices(train_examples)
  features = convert_examples(train_examples, tokenizer, FLAGS.max_seq_length)
  train_file = _write_set("train", features, num_choices, len(features),
                          FLAGS.train_batch_size)
  tf.logging.info("  Num steps = %d", num_train_steps)
  train_input_fn = input_fn_builder(
      input_file=train_file, num_choices=num_choices,
      seq_length=FLAGS.max_seq_length, is_training=True, drop_remainder=True)
  progress = runner.ProgressHook(
      num_train_steps, FLAGS.train_batch_size, FLAGS.iterations_per_loop)
  estimator.train(
      input_fn=train_input_fn, max_steps=num_train_steps, hooks=[progress])


def _evaluate(estimator, tokenizer, eval_examples):
  tf.logging.info("***** Running evaluation *****")
  num_choices = _num_choices(eval_examples)
  features = convert_examples(eval_examples, tokenizer, FLAGS.max_seq_length)
  num_actual = _pad_for_tpu(features, num_choices, FLAGS.eval_batch_size)
  eval_file = _write_set("eval", features, num_choices, num_actual,
                         FLAGS.eval_batch_size)
  eval_steps = None
  if FLAGS.use_tpu:
    eval_steps = len(features) // FLAGS.eval_batch_size
  eval_input_fn = input_fn_builder(
      input_file=eval_file, num_choices=num_choices,
      seq_length=FLAGS.max_seq_length, is_training=False,
      drop_remainder=FLAGS.use_tpu)
  result = estimator.evaluate(input_fn=eval_input_fn, steps=eval_steps)
  script_io.write_eval_results(
      os.path.join(FLAGS.output_dir, "eval_results.txt"), result)


def _predict(estimator, tokenizer, predict_examples):
  tf.logging.info("***** Running prediction *****")
  num_choices = _num_choices(predict_examples)
  features = convert_examples(predict_examples, tokenizer,
                              FLAGS.max_seq_length)
  num_actual = _pad_for_tpu(features, num_choices, FLAGS.predict_batch_size)
  predict_file = _write_set("predict", features, num_choices, num_actual,
                            FLAGS.predict_batch_size)
  predict_input_fn = input_fn_builder(
      input_file=predict_file, num_choices=num_choices,
      seq_length=FLAGS.max_seq_length, is_training=False,
      drop_remainder=FLAGS.use_tpu)
  output_path = os.path.join(FLAGS.output_dir, "test_results.tsv")
  num_written = num_right = 0
  with script_io.atomic_output(output_path) as writer:
    for (i, prediction) in enumerate(
        estimator.predict(input_fn=predict_input_fn)):
      if i >= num_actual:
        break
      probabilities = np.reshape(prediction["probabilities"], [-1])
      choice = int(np.argmax(probabilities))
      writer.write("\t".join([str(choice)] + [
          str(p) for p in probabilities]) + "\n")
      num_written += 1
      num_right += int(choice == predict_examples[i].label)
    # Inside the `with`: a short file is then not published.
    if num_written != num_actual:
      raise script_io.ScriptError(
          "%s: got %d predictions for %d test examples; the file is left "
          "as it was" % (output_path, num_written, num_actual))
  tf.logging.info("Wrote %s (%d examples)", output_path, num_written)
  if all(example.label is not None for example in predict_examples):
    tf.logging.info("Accuracy on the labels of test.csv (not written): "
                    "%.4f", num_right / float(num_written))


def main(_):
  tf.logging.set_verbosity(tf.logging.INFO)

  tokenization.validate_case_matches_checkpoint(FLAGS.do_lower_case,
                                                FLAGS.init_checkpoint)
  if not FLAGS.do_train and not FLAGS.do_eval and not FLAGS.do_predict:
    raise ValueError(
        "At least one of `do_train`, `do_eval` or `do_predict' must be True.")
  bert_config = runner.read_bert_config(FLAGS.bert_config_file)
  _validate_flags(bert_config)
  tokenizer = _make_tokenizer(bert_config)
  settings = runner.settings_from_flags(FLAGS)
  runner.resolve_engine(settings)
  init_checkpoint = runner.resolve_init_checkpoint(
      FLAGS.init_checkpoint, bert_config, FLAGS.bert_config_file,
      model_dir=FLAGS.output_dir, training=FLAGS.do_train,
      allow_partial=FLAGS.allow_partial_checkpoint)
  data = read_data_sets()

  num_train_steps = num_warmup_steps = None
  if FLAGS.do_train:
    num_train_steps = int(len(data.train) / FLAGS.train_batch_size *
                          FLAGS.num_train_epochs)
    num_warmup_steps = int(num_train_steps * FLAGS.warmup_proportion)
    if num_train_steps < 1:
      raise InputError(
          "--do_train: %d training examples at --train_batch_size=%d for "
          "--num_train_epochs=%s make no training step" %
          (len(data.train), FLAGS.train_batch_size, FLAGS.num_train_epochs))

  model_fn = model_fn_builder(
      bert_config=bert_config,
      init_checkpoint=init_checkpoint,
      learning_rate=FLAGS.learning_rate,
      num_train_steps=num_train_steps,
      num_warmup_steps=num_warmup_steps,
      use_tpu=FLAGS.use_tpu,
      use_one_hot_embeddings=FLAGS.use_tpu)

  estimator = runner.build_runner(
      model_fn,
      settings,
      model_dir=FLAGS.output_dir,
      save_checkpoints_steps=FLAGS.save_checkpoints_steps,
      iterations_per_loop=FLAGS.iterations_per_loop,
      train_batch_size=FLAGS.train_batch_size,
      eval_batch_size=FLAGS.eval_batch_size,
      predict_batch_size=FLAGS.predict_batch_size)

  with script_io.locked_directory(FLAGS.output_dir, "output_dir"):
    if FLAGS.do_train:
      _train(estimator, tokenizer, data.train, num_train_steps)
    if FLAGS.do_eval:
      _evaluate(estimator, tokenizer, data.dev)
    if FLAGS.do_predict:
      _predict(estimator, tokenizer, data.test)


if __name__ == "__main__":
  flags.mark_flag_as_required("data_dir")
  flags.mark_flag_as_required("vocab_file")
  flags.mark_flag_as_required("bert_config_file")
  flags.mark_flag_as_required("output_dir")
  script_io.run(main)
