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
"""Run BERT on SQuAD 1.1 and SQuAD 2.0.

Same examples, features, TFRecords and prediction files as the original
`run_squad.py`, quirks included. Beyond the original: after `--do_predict`
on a file that carries gold answers, the official SQuAD metrics (see
`evaluate_squad.py`) are logged and written to `eval_results.json`; the
prediction run reports its progress and keeps only a compact form of each
feature in memory (see `_PredictionFeature`). The prediction files and
`eval_results.json` are replaced together or not at all; bad input (a SQuAD
file of the wrong layout or without questions) stops the run before
anything is written, with one line such as `error: --predict_file=dev.json:
question "q7" has question null, expected a string`.
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import array
import collections
import collections.abc
import contextlib
import functools
import json
import math
import os
import random

from absl import flags
import six
import tensorflow.compat.v1 as tf

import evaluate_squad
import export
import fine_tuning
import modeling
import optimization
import runner
import script_io
import tokenization
import training_loop
import training_options

FLAGS = flags.FLAGS

# Required.
flags.DEFINE_string(
    "bert_config_file", None,
    "bert_config.json of the pre-trained model: its architecture.",
    **script_io.OVERRIDABLE)
flags.DEFINE_string(
    "vocab_file", None,
    "vocab.txt of the pre-trained model (WordPiece tokens, one per line).",
    **script_io.OVERRIDABLE)
flags.DEFINE_string(
    "output_dir", None,
    "Folder for checkpoints, the TFRecord files and the prediction files.",
    **script_io.OVERRIDABLE)

# Data.
flags.DEFINE_string(
    "train_file", None,
    "SQuAD JSON file to fine-tune on, e.g. train-v1.1.json.",
    **script_io.OVERRIDABLE)
flags.DEFINE_string(
    "predict_file", None,
    "SQuAD JSON file to answer, e.g. dev-v1.1.json. When every question "
    "carries gold answers, the official metrics go to eval_results.json.",
    **script_io.OVERRIDABLE)
flags.DEFINE_string(
    "init_checkpoint", None,
    "Checkpoint to start from, usually the pre-trained model's "
    "bert_model.ckpt.", **script_io.OVERRIDABLE)
flags.DEFINE_bool(
    "do_lower_case", True,
    "Lower-case and strip accents before tokenizing: True for uncased "
    "models, False for cased ones.", **script_io.OVERRIDABLE)
script_io.define_tokenizer_flags()

# Windows and answers.
flags.DEFINE_integer(
    "max_seq_length", 384,
    "Wordpieces per window ([CLS] question [SEP] context [SEP]); shorter "
    "windows are padded.", **script_io.OVERRIDABLE)
flags.DEFINE_integer(
    "doc_stride", 128,
    "Wordpieces between the starts of two consecutive windows over a "
    "context too long for one.", **script_io.OVERRIDABLE)
flags.DEFINE_integer(
    "max_query_length", 64,
    "Questions are cut to this many wordpieces.", **script_io.OVERRIDABLE)
flags.DEFINE_integer(
    "n_best_size", 20,
    "Candidate answers kept per question in nbest_predictions.json.",
    **script_io.OVERRIDABLE)
flags.DEFINE_integer(
    "max_answer_length", 30,
    "Longest answer in wordpieces (start and end are predicted "
    "independently, so their distance needs a bound).",
    **script_io.OVERRIDABLE)
flags.DEFINE_bool(
    "verbose_logging", False,
    "Log each predicted answer that cannot be aligned with the context's "
    "characters (some are expected on SQuAD).", **script_io.OVERRIDABLE)
flags.DEFINE_bool(
    "version_2_with_negative", False,
    "SQuAD 2.0: some questions have no answer in their context.",
    **script_io.OVERRIDABLE)
flags.DEFINE_float(
    "null_score_diff_threshold", 0.0,
    "SQuAD 2.0: answer nothing when the null answer's score exceeds the "
    "best non-null answer's by more than this.", **script_io.OVERRIDABLE)

# Running.
flags.DEFINE_bool("do_train", False, "Fine-tune on --train_file.",
                  **script_io.OVERRIDABLE)
flags.DEFINE_bool("do_predict", False, "Answer the questions of "
                  "--predict_file.", **script_io.OVERRIDABLE)
flags.DEFINE_integer("train_batch_size", 32,
                     "Training batch size (over all TPU cores).",
                     **script_io.OVERRIDABLE)
flags.DEFINE_integer("predict_batch_size", 8,
                     "Prediction batch size (over all TPU cores).",
                     **script_io.OVERRIDABLE)
flags.DEFINE_float("learning_rate", 5e-5, "Peak learning rate of Adam.",
                   **script_io.OVERRIDABLE)
flags.DEFINE_float("num_train_epochs", 3.0,
                   "Passes over the training questions.",
                   **script_io.OVERRIDABLE)
flags.DEFINE_float(
    "warmup_proportion", 0.1,
    "Fraction of the training steps over which the learning rate rises "
    "linearly from 0 (0.1 = the first 10%).", **script_io.OVERRIDABLE)
flags.DEFINE_integer("save_checkpoints_steps", 1000,
                     "Training steps between checkpoints.",
                     **script_io.OVERRIDABLE)
flags.DEFINE_integer("iterations_per_loop", 1000,
                     "Steps per TPU loop, and between progress logs.",
                     **script_io.OVERRIDABLE)

runner.define_runner_flags()
training_options.define_training_flags()
training_loop.define_flags()

# Feature `unique_id`s count up from here, as in the original.
_FIRST_UNIQUE_ID = 1000000000

# The original logs every feature of this many first examples.
_NUM_EXAMPLES_LOGGED = 20

# Least seconds between two progress lines, making and predicting features.
_PROGRESS_EVERY_SECONDS = 10.0


class SquadExample(object):
  """One SQuAD question with its context split into words.

  `start_position` / `end_position` index the answer's first and last word
  in `doc_tokens` (training only; -1 for an unanswerable question).
  """

  def __init__(self,
               qas_id,
               question_text,
               doc_tokens,
               orig_answer_text=None,
               start_position=None,
               end_position=None,
               is_impossible=False):
    self.qas_id = qas_id
    self.question_text = question_text
    self.doc_tokens = doc_tokens
    self.orig_answer_text = orig_answer_text
    self.start_position = start_position
    self.end_position = end_position
    self.is_impossible = is_impossible

  def __str__(self):
    return self.__repr__()

  def __repr__(self):
    s = "qas_id: %s" % (tokenization.printable_text(self.qas_id))
    s += ", question_text: %s" % (
        tokenization.printable_text(self.question_text))
    s += ", doc_tokens: [%s]" % (" ".join(self.doc_tokens))
    # Quirk of the original: a start position of 0 hides all three fields.
    if self.start_position:
      s += ", start_position: %d" % (self.start_position)
      s += ", end_position: %d" % (self.end_position)
      s += ", is_impossible: %r" % (self.is_impossible)
    return s


class InputFeatures(object):
  """A single set of features of data (one window of one example)."""

  def __init__(self,
               unique_id,
               example_index,
               doc_span_index,
               tokens,
               token_to_orig_map,
               token_is_max_context,
               input_ids,
               input_mask,
               segment_ids,
               start_position=None,
               end_position=None,
               is_impossible=None):
    self.unique_id = unique_id
    self.example_index = example_index
    self.doc_span_index = doc_span_index
    self.tokens = tokens
    self.token_to_orig_map = token_to_orig_map
    self.token_is_max_context = token_is_max_context
    self.input_ids = input_ids
    self.input_mask = input_mask
    self.segment_ids = segment_ids
    self.start_position = start_position
    self.end_position = end_position
    self.is_impossible = is_impossible


def _is_squad_whitespace(c):
  # Quirk of the original: only these five characters separate context
  # words; U+00A0 and other Unicode spaces stay inside a word.
  return c in (" ", "\t", "\r", "\n", u"\u202f")


def _split_context(paragraph_text):
  """Splits a context into whitespace-separated words.

  Returns:
    (doc_tokens, char_to_word_offset): the words, and for each character of
    the context the index of the word it belongs to (for whitespace, the
    word before it; -1 before the first word).
  """
  doc_tokens = []
  char_to_word_offset = []
  prev_is_whitespace = True
  for c in paragraph_text:
    if _is_squad_whitespace(c):
      prev_is_whitespace = True
    else:
      if prev_is_whitespace:
        doc_tokens.append(c)
      else:
        doc_tokens[-1] += c
      prev_is_whitespace = False
    char_to_word_offset.append(len(doc_tokens) - 1)
  return doc_tokens, char_to_word_offset


def _squad_file_name(input_file, flag_name):
  """How errors name a SQuAD file: "--predict_file=dev.json" or the path."""
  if flag_name:
    return "--%s=%s" % (flag_name, input_file)
  return input_file


def read_squad_json(input_file, is_training, flag_name=None,
                    version_2=False):
  """Reads a SQuAD JSON file and checks that it holds what is read of it.

  Every question needs an "id", a "question" and its paragraph's "context";
  in training mode also "answers" with "answer_start" (and with `version_2`,
  SQuAD 2.0, "is_impossible"). See `evaluate_squad.check_dataset`.

  Raises:
    InputError: naming the file (as --`flag_name`=`input_file` when
      `flag_name` is given) and the question, or article and paragraph, if
      the file is missing, not JSON, not SQuAD JSON or without questions.
  """
  required = ["context", "question"]
  if is_training:
    required.extend(["answers", "answer_start"])
    if version_2:
      required.append("is_impossible")
  return evaluate_squad.read_dataset(
      input_file, _squad_file_name(input_file, flag_name), required)


def read_squad_examples(input_file, is_training, flag_name=None,
                        version_2=None):
  """Reads the questions of a SQuAD JSON file as SquadExamples.

  In training mode, `version_2` (default: `FLAGS.version_2_with_negative`,
  as the original reads it) decides whether `is_impossible` is read.
  Examples of the same paragraph share one `doc_tokens` list.

  Raises:
    InputError: if the file is not SQuAD JSON (see `read_squad_json`), or,
      in training mode, if an answerable question does not have exactly one
      answer (every SQuAD 1.1 dev question has several).
  """
  if version_2 is None:
    # Reads FLAGS, as the original does.
    version_2 = FLAGS.version_2_with_negative
  return squad_examples(
      read_squad_json(input_file, is_training, flag_name, version_2),
      is_training, _squad_file_name(input_file, flag_name), version_2)


def squad_examples(dataset_json, is_training, name, version_2=False):
  """The SquadExamples of a file checked by `read_squad_json`.

  `name` names the file in errors; `version_2` (SQuAD 2.0) reads
  `is_impossible` in training mode.
  """
  examples = []
  for entry in dataset_json["data"]:
    for paragraph in entry["paragraphs"]:
      doc_tokens, char_to_word_offset = _split_context(paragraph["context"])
      for qa in paragraph["qas"]:
        example = _read_question(qa, doc_tokens, char_to_word_offset,
                                 is_training, version_2, name)
        if example is not None:
          examples.append(example)
  return examples


def _read_question(qa, doc_tokens, char_to_word_offset, is_training,
                   version_2, name):
  """Makes the SquadExample of one question (None if skipped)."""
  qas_id = qa["id"]
  question_text = qa["question"]
  start_position = None
  end_position = None
  orig_answer_text = None
  is_impossible = False
  if is_training:
    if version_2:
      is_impossible = qa["is_impossible"]
    answers = qa["answers"]
    if (len(answers) != 1) and (not is_impossible):
      raise script_io.InputError(
          "%s: question %s has %d answers, expected exactly 1 for training"
          % (name, json.dumps(qas_id), len(answers)))
    if not is_impossible:
      answer = answers[0]
      orig_answer_text = answer["text"]
      answer_offset = answer["answer_start"]
      positions = _answer_word_positions(
          qas_id, doc_tokens, char_to_word_offset, orig_answer_text,
          answer_offset)
      if positions is None:
        return None
      start_position, end_position = positions
    else:
      start_position = -1
      end_position = -1
      orig_answer_text = ""
  return SquadExample(
      qas_id=qas_id,
      question_text=question_text,
      doc_tokens=doc_tokens,
      orig_answer_text=orig_answer_text,
      start_position=start_position,
      end_position=end_position,
      is_impossible=is_impossible)


def _answer_word_positions(qas_id, doc_tokens, char_to_word_offset,
                           orig_answer_text, answer_offset):
  """Returns the first and last word of an answer, or None to skip it.

  Only answers whose text is found again in the words at `answer_start` are
  kept (the original skips the others, so in training mode not every
  question becomes an example); a warning names the question.
  """
  answer_end = answer_offset + len(orig_answer_text) - 1
  # The original fails with an IndexError past the context's end (and reads
  # from the end for a negative answer_start).
  if not (0 <= answer_offset < len(char_to_word_offset) and
          answer_end < len(char_to_word_offset)):
    tf.logging.warning(
        "Could not find answer of question %s: answer_start %s and the "
        "answer's length do not fit in the context", qas_id, answer_offset)
    return None
  start_position = char_to_word_offset[answer_offset]
  end_position = char_to_word_offset[answer_end]
  actual_text = " ".join(doc_tokens[start_position:(end_position + 1)])
  cleaned_answer_text = " ".join(
      tokenization.whitespace_tokenize(orig_answer_text))
  if actual_text.find(cleaned_answer_text) == -1:
    tf.logging.warning("Could not find answer of question %s: '%s' vs. '%s'",
                       qas_id, actual_text, cleaned_answer_text)
    return None
  return start_position, end_position


_DocSpan = collections.namedtuple("DocSpan", ["start", "length"])

# A context's wordpieces, with the index of the word each comes from and the
# index of the first piece of each word.
_Document = collections.namedtuple(
    "Document", ["tokens", "tok_to_orig_index", "orig_to_tok_index"])


class _DocumentTokenizer(object):
  """Tokenizes the words of a context once for all its questions.

  Examples of one paragraph share their `doc_tokens` list, so the last
  result is kept and reused while the same list comes back.
  """

  def __init__(self, tokenizer):
    self._tokenizer = tokenizer
    self._doc_tokens = None
    self._result = None

  def tokenize(self, doc_tokens):
    """Returns the `_Document` of a list of context words."""
    if doc_tokens is not self._doc_tokens:
      tok_to_orig_index = []
      orig_to_tok_index = []
      all_doc_tokens = []
      for (i, token) in enumerate(doc_tokens):
        orig_to_tok_index.append(len(all_doc_tokens))
        sub_tokens = self._tokenizer.tokenize(token)
        tok_to_orig_index.extend([i] * len(sub_tokens))
        all_doc_tokens.extend(sub_tokens)
      self._doc_tokens = doc_tokens
      self._result = _Document(all_doc_tokens, tok_to_orig_index,
                               orig_to_tok_index)
    return self._result


def _answer_token_span(example, document, tokenizer):
  """Returns the answer's first and last wordpiece in the document."""
  if example.is_impossible:
    return -1, -1
  tok_start_position = document.orig_to_tok_index[example.start_position]
  if example.end_position < len(example.doc_tokens) - 1:
    tok_end_position = document.orig_to_tok_index[example.end_position + 1] - 1
  else:
    tok_end_position = len(document.tokens) - 1
  return _improve_answer_span(document.tokens, tok_start_position,
                              tok_end_position, tokenizer,
                              example.orig_answer_text)


def _make_doc_spans(num_doc_tokens, max_tokens_for_doc, doc_stride):
  """Cuts a document into overlapping windows.

  Quirk of the original: a window starts `min(length, doc_stride)` after the
  previous one, and the last window ends at the end of the document.
  """
  doc_spans = []
  start_offset = 0
  while start_offset < num_doc_tokens:
    length = min(num_doc_tokens - start_offset, max_tokens_for_doc)
    doc_spans.append(_DocSpan(start=start_offset, length=length))
    if start_offset + length == num_doc_tokens:
      break
    start_offset += min(length, doc_stride)
  return doc_spans


def _window_answer_positions(example, answer_span, doc_span, doc_offset):
  """Returns the answer's (start, end) in a window's tokens.

  `answer_span` is the answer's first and last wordpiece in the document,
  None when predicting, which gives (None, None). (0, 0), pointing at
  [CLS], stands for an unanswerable question or an answer not wholly inside
  the window (such windows are kept, not dropped).
  """
  if answer_span is None:
    return None, None
  (tok_start_position, tok_end_position) = answer_span
  doc_start = doc_span.start
  doc_end = doc_span.start + doc_span.length - 1
  if example.is_impossible or not (tok_start_position >= doc_start and
                                   tok_end_position <= doc_end):
    return 0, 0
  return (tok_start_position - doc_start + doc_offset,
          tok_end_position - doc_start + doc_offset)


def convert_examples_to_features(examples, tokenizer, max_seq_length,
                                 doc_stride, max_query_length, is_training,
                                 output_fn):
  """Cuts examples into windows and turns each into an InputFeatures.

  Calls `output_fn` with each feature (one per window of each example), in
  order, so that callers can stream them to a file; features are numbered
  from 1000000000 on.

  Raises:
    ValueError: if max_seq_length leaves no room for the document after a
      question, or doc_stride is not positive.
  """
  if doc_stride <= 0:
    raise ValueError("doc_stride (%d) must be positive" % doc_stride)
  document_tokenizer = _DocumentTokenizer(tokenizer)
  unique_id = _FIRST_UNIQUE_ID
  progress = script_io.ProgressLog(
      "Converted %d features from %d/%d examples", "features",
      every_seconds=_PROGRESS_EVERY_SECONDS)
  for (example_index, example) in enumerate(examples):
    query_tokens = tokenizer.tokenize(example.question_text)
    query_tokens = query_tokens[0:max_query_length]

    document = document_tokenizer.tokenize(example.doc_tokens)
    answer_span = None
    if is_training:
      answer_span = _answer_token_span(example, document, tokenizer)

    # Room left in a window after [CLS], the question and two [SEP].
    max_tokens_for_doc = max_seq_length - len(query_tokens) - 3
    if max_tokens_for_doc <= 0:
      raise ValueError(
          "max_seq_length (%d) leaves no room for the document after the "
          "%d tokens of question %s" %
          (max_seq_length, len(query_tokens), example.qas_id))

    doc_spans = _make_doc_spans(len(document.tokens), max_tokens_for_doc,
                                doc_stride)
    max_context_flags = _max_context_flags(doc_spans)
    for (doc_span_index, doc_span) in enumerate(doc_spans):
      feature = _make_feature(
          unique_id, example_index, example, query_tokens, document,
          doc_span_index, doc_span, max_context_flags[doc_span_index],
          tokenizer, max_seq_length, answer_span)
      if example_index < _NUM_EXAMPLES_LOGGED:
        _log_feature(feature, is_training, example.is_impossible)

      output_fn(feature)
      unique_id += 1
      progress.update(unique_id - _FIRST_UNIQUE_ID, example_index + 1,
                      len(examples))


def _make_feature(unique_id, example_index, example, query_tokens, document,
                  doc_span_index, doc_span, is_max_context, tokenizer,
                  max_seq_length, answer_span):
  """Builds the InputFeatures of one window: [CLS] query [SEP] doc [SEP].

  `is_max_context` holds one bool per document token of the window.
  """
  doc_start = doc_span.start
  doc_end = doc_span.start + doc_span.length
  doc_offset = len(query_tokens) + 2
  tokens = (["[CLS]"] + query_tokens + ["[SEP]"] +
            document.tokens[doc_start:doc_end] + ["[SEP]"])
  segment_ids = [0] * doc_offset + [1] * (doc_span.length + 1)
  # Both maps are keyed by position in `tokens`, in increasing order.
  positions = range(doc_offset, doc_offset + doc_span.length)
  token_to_orig_map = dict(
      zip(positions, document.tok_to_orig_index[doc_start:doc_end]))
  token_is_max_context = dict(zip(positions, is_max_context))

  input_ids = tokenizer.convert_tokens_to_ids(tokens)
  # Attention sees the real tokens (mask 1), not the padding (mask 0).
  input_mask = [1] * len(input_ids)
  padding = [0] * (max_seq_length - len(input_ids))
  input_ids.extend(padding)
  input_mask.extend(padding)
  segment_ids.extend(padding)

  start_position, end_position = _window_answer_positions(
      example, answer_span, doc_span, doc_offset)
  return InputFeatures(
      unique_id=unique_id,
      example_index=example_index,
      doc_span_index=doc_span_index,
      tokens=tokens,
      token_to_orig_map=token_to_orig_map,
      token_is_max_context=token_is_max_context,
      input_ids=input_ids,
      input_mask=input_mask,
      segment_ids=segment_ids,
      start_position=start_position,
      end_position=end_position,
      is_impossible=example.is_impossible)


def _log_feature(feature, is_training, is_impossible):
  """Logs one feature in detail, as the original does for the first ones."""
  tf.logging.info("*** Example ***")
  tf.logging.info("unique_id: %s" % (feature.unique_id))
  tf.logging.info("example_index: %s" % (feature.example_index))
  tf.logging.info("doc_span_index: %s" % (feature.doc_span_index))
  tf.logging.info("tokens: %s" % " ".join(
      [tokenization.printable_text(x) for x in feature.tokens]))
  tf.logging.info("token_to_orig_map: %s" % " ".join([
      "%d:%d" % (x, y) for (x, y) in six.iteritems(feature.token_to_orig_map)
  ]))
  tf.logging.info("token_is_max_context: %s" % " ".join([
      "%d:%s" % (x, y)
      for (x, y) in six.iteritems(feature.token_is_max_context)
  ]))
  tf.logging.info("input_ids: %s" % " ".join([str(x) for x in
                                              feature.input_ids]))
  tf.logging.info("input_mask: %s" % " ".join([str(x) for x in
                                               feature.input_mask]))
  tf.logging.info("segment_ids: %s" % " ".join([str(x) for x in
                                                feature.segment_ids]))
  if is_training and is_impossible:
    tf.logging.info("impossible example")
  if is_training and not is_impossible:
    answer_text = " ".join(
        feature.tokens[feature.start_position:(feature.end_position + 1)])
    tf.logging.info("start_position: %d" % (feature.start_position))
    tf.logging.info("end_position: %d" % (feature.end_position))
    tf.logging.info("answer: %s" % (tokenization.printable_text(answer_text)))


def _improve_answer_span(doc_tokens, input_start, input_end, tokenizer,
                         orig_answer_text):
  """Narrows a wordpiece answer span to the pieces of the answer itself.

  The annotation is at word level; after WordPiece tokenization an answer
  such as "1895" inside "(1895-1943)." is better spanned by the pieces of
  the answer alone, which this finds (the shortest span, searched from the
  left, whose pieces join to the answer's pieces).
  """
  tok_answer_text = " ".join(tokenizer.tokenize(orig_answer_text))

  for new_start in range(input_start, input_end + 1):
    for new_end in range(input_end, new_start - 1, -1):
      text_span = " ".join(doc_tokens[new_start:(new_end + 1)])
      if text_span == tok_answer_text:
        return (new_start, new_end)

  return (input_start, input_end)


def _max_context_flags(doc_spans):
  """`_check_is_max_context` for every token of every window, in one pass.

  Returns:
    For each window, a list of bools, one per document token it holds.
  """
  if len(doc_spans) <= 1:
    return [[True] * doc_span.length for doc_span in doc_spans]
  num_doc_tokens = doc_spans[-1].start + doc_spans[-1].length
  best_scores = [None] * num_doc_tokens
  best_span_indexes = [None] * num_doc_tokens
  # Same scores, compared in the same window order, as _check_is_max_context.
  for (span_index, doc_span) in enumerate(doc_spans):
    end = doc_span.start + doc_span.length - 1
    for position in range(doc_span.start, end + 1):
      score = (min(position - doc_span.start, end - position) +
               0.01 * doc_span.length)
      best_score = best_scores[position]
      if best_score is None or score > best_score:
        best_scores[position] = score
        best_span_indexes[position] = span_index
  return [[best_span_indexes[position] == span_index
           for position in range(doc_span.start,
                                 doc_span.start + doc_span.length)]
          for (span_index, doc_span) in enumerate(doc_spans)]


def _check_is_max_context(doc_spans, cur_span_index, position):
  """Whether window `cur_span_index` is the token's max-context window.

  A token can be in several windows; its "max context" window is the one
  where it has the most context on its shorter side, scored as
  `min(left, right) + 0.01 * window length`; the first window wins ties.
  """
  best_score = None
  best_span_index = None
  for (span_index, doc_span) in enumerate(doc_spans):
    end = doc_span.start + doc_span.length - 1
    if position < doc_span.start:
      continue
    if position > end:
      continue
    num_left_context = position - doc_span.start
    num_right_context = end - position
    score = min(num_left_context, num_right_context) + 0.01 * doc_span.length
    if best_score is None or score > best_score:
      best_score = score
      best_span_index = span_index

  return cur_span_index == best_span_index


def create_model(bert_config, is_training, input_ids, input_mask, segment_ids,
                 use_one_hot_embeddings, bert_model_kwargs=None):
  """Creates a span-prediction model on top of BERT.

  Args:
    bert_config: `BertConfig`.
    is_training: bool, whether dropout is on.
    input_ids, input_mask, segment_ids: int32 [batch_size, seq_length].
    use_one_hot_embeddings: bool, one-hot matmul embeddings (TPU).
    bert_model_kwargs: (not in the original) more `BertModel` arguments,
      e.g. `training_options.model_kwargs`.

  Returns:
    (start_logits, end_logits), float32 [batch_size, seq_length] each.
  """
  model = modeling.BertModel(
      config=bert_config,
      is_training=is_training,
      input_ids=input_ids,
      input_mask=input_mask,
      token_type_ids=segment_ids,
      use_one_hot_embeddings=use_one_hot_embeddings,
      **(bert_model_kwargs or {}))

  final_hidden = model.get_sequence_output()

  final_hidden_shape = modeling.get_shape_list(final_hidden, expected_rank=3)
  batch_size = final_hidden_shape[0]
  seq_length = final_hidden_shape[1]
  hidden_size = final_hidden_shape[2]

  output_weights = tf.get_variable(
      "cls/squad/output_weights", [2, hidden_size],
      initializer=tf.truncated_normal_initializer(stddev=0.02))

  output_bias = tf.get_variable(
      "cls/squad/output_bias", [2], initializer=tf.zeros_initializer())

  final_hidden_matrix = tf.reshape(final_hidden,
                                   [batch_size * seq_length, hidden_size])
  logits = tf.matmul(final_hidden_matrix, output_weights, transpose_b=True)
  logits = tf.nn.bias_add(logits, output_bias)

  # [batch_size, seq_length, 2] -> two [batch_size, seq_length] tensors.
  logits = tf.reshape(logits, [batch_size, seq_length, 2])
  logits = tf.transpose(logits, [2, 0, 1])

  unstacked_logits = tf.unstack(logits, axis=0)

  (start_logits, end_logits) = (unstacked_logits[0], unstacked_logits[1])

  return (start_logits, end_logits)


def _position_loss(logits, positions, seq_length):
  """Mean cross-entropy of `logits` [batch, seq] against `positions`."""
  one_hot_positions = tf.one_hot(positions, depth=seq_length,
                                 dtype=tf.float32)
  log_probs = tf.nn.log_softmax(logits, axis=-1)
  return -tf.reduce_mean(tf.reduce_sum(one_hot_positions * log_probs,
                                       axis=-1))


def model_fn_builder(bert_config, init_checkpoint, learning_rate,
                     num_train_steps, num_warmup_steps, use_tpu,
                     use_one_hot_embeddings,
                     training=training_options.DEFAULT_SETTINGS):
  """Returns the TPUEstimator `model_fn` of span prediction.

  `training` (not in the original) is a `training_options.TrainingSettings`.
  """

  def model_fn(features, labels, mode, params):  # pylint: disable=unused-argument
    """Trains on start/end positions, or predicts start/end logits."""

    tf.logging.info("*** Features ***")
    for name in sorted(features.keys()):
      tf.logging.info("  name = %s, shape = %s" % (name, features[name].shape))

    unique_ids = features["unique_ids"]
    input_ids = features["input_ids"]
    input_mask = features["input_mask"]
    segment_ids = features["segment_ids"]

    is_training = (mode == runner.ModeKeys.TRAIN)

    (start_logits, end_logits) = create_model(
        bert_config=bert_config,
        is_training=is_training,
        input_ids=input_ids,
        input_mask=input_mask,
        segment_ids=segment_ids,
        use_one_hot_embeddings=use_one_hot_embeddings,
        bert_model_kwargs=training_options.model_kwargs(training,
                                                        is_training))

    scaffold_fn = runner.init_from_checkpoint(init_checkpoint,
                                                       use_tpu)

    if mode == runner.ModeKeys.TRAIN:
      seq_length = modeling.get_shape_list(input_ids)[1]
      start_loss = _position_loss(start_logits, features["start_positions"],
                                  seq_length)
      end_loss = _position_loss(end_logits, features["end_positions"],
                                seq_length)
      total_loss = (start_loss + end_loss) / 2.0
      runner.track_training_loss(total_loss, use_tpu)

      train_op = optimization.create_optimizer(
          total_loss, learning_rate, num_train_steps, num_warmup_steps, use_tpu,
          **training_options.optimizer_kwargs(training))

      return runner.TPUEstimatorSpec(
          mode=mode,
          loss=total_loss,
          train_op=train_op,
          scaffold_fn=scaffold_fn)
    if mode == runner.ModeKeys.PREDICT:
      predictions = {
          "unique_ids": unique_ids,
          "start_logits": start_logits,
          "end_logits": end_logits,
      }
      return runner.TPUEstimatorSpec(
          mode=mode, predictions=predictions, scaffold_fn=scaffold_fn)
    raise ValueError(
        "Only TRAIN and PREDICT modes are supported: %s" % (mode))

  return model_fn


def input_fn_builder(input_file, seq_length, is_training, drop_remainder):
  """Returns the TPUEstimator `input_fn` reading a FeatureWriter file.

  Training records also give `start_positions` and `end_positions`.
  """

  name_to_features = {
      "unique_ids": tf.FixedLenFeature([], tf.int64),
      "input_ids": tf.FixedLenFeature([seq_length], tf.int64),
      "input_mask": tf.FixedLenFeature([seq_length], tf.int64),
      "segment_ids": tf.FixedLenFeature([seq_length], tf.int64),
  }

  if is_training:
    name_to_features["start_positions"] = tf.FixedLenFeature([], tf.int64)
    name_to_features["end_positions"] = tf.FixedLenFeature([], tf.int64)

  return script_io.tfrecord_input_fn_builder(
      input_file, name_to_features, is_training, drop_remainder)


RawResult = collections.namedtuple("RawResult",
                                   ["unique_id", "start_logits", "end_logits"])

_PrelimPrediction = collections.namedtuple(
    "PrelimPrediction",
    ["feature_index", "start_index", "end_index", "start_logit", "end_logit"])

_NbestPrediction = collections.namedtuple(
    "NbestPrediction", ["text", "start_logit", "end_logit"])


def write_predictions(all_examples, all_features, all_results, n_best_size,
                      max_answer_length, do_lower_case, output_prediction_file,
                      output_nbest_file, output_null_log_odds_file,
                      strip_accents=None, never_split=None):
  """Writes predictions.json, nbest_predictions.json and null_odds.json.

  For each example, candidate spans from all its windows are ranked by
  start + end logit and projected back to the context's text;
  null_odds.json (SQuAD 2.0 only) holds the null score minus the best
  non-null score.

  Quirk of the original: `FLAGS.version_2_with_negative`,
  `FLAGS.null_score_diff_threshold` and `FLAGS.verbose_logging` are read
  here, at call time; callers set the flags. The files are one
  `script_io.OutputSet`: all are replaced, or none, and without version 2
  an older null_odds.json is removed. `strip_accents` and `never_split`
  are the tokenizer's options (None: the original's).
  """
  # Reads FLAGS, as the original does.
  texts = prediction_texts(
      all_examples, all_features, all_results, n_best_size,
      max_answer_length, do_lower_case, strip_accents, never_split,
      version_2=FLAGS.version_2_with_negative,
      null_score_diff_threshold=FLAGS.null_score_diff_threshold,
      verbose_logging=FLAGS.verbose_logging)
  _write_output_set(zip(
      [output_prediction_file, output_nbest_file, output_null_log_odds_file],
      texts))


def prediction_texts(all_examples, all_features, all_results, n_best_size,
                     max_answer_length, do_lower_case, strip_accents=None,
                     never_split=None, version_2=False,
                     null_score_diff_threshold=0.0, verbose_logging=False):
  """The contents `write_predictions` writes, computed in memory.

  `version_2` (SQuAD 2.0), `null_score_diff_threshold` and
  `verbose_logging` are the values of the flags `write_predictions` reads
  (`--version_2_with_negative` for the first).

  Returns:
    (predictions.json, nbest_predictions.json, null_odds.json) as strings;
    null_odds.json is None without version 2.
  """
  # `get_final_text`'s options: it re-tokenizes the context as the
  # tokenizer did.
  case = dict(do_lower_case=do_lower_case, strip_accents=strip_accents,
              never_split=never_split, verbose_logging=verbose_logging)

  example_index_to_features = collections.defaultdict(list)
  for feature in all_features:
    example_index_to_features[feature.example_index].append(feature)

  unique_id_to_result = {}
  for result in all_results:
    unique_id_to_result[result.unique_id] = result

  all_predictions = collections.OrderedDict()
  all_nbest_json = collections.OrderedDict()
  scores_diff_json = collections.OrderedDict()

  for (example_index, example) in enumerate(all_examples):
    features = example_index_to_features[example_index]
    prelim_predictions, null_prediction, score_null = _prelim_predictions(
        features, unique_id_to_result, n_best_size, max_answer_length,
        version_2)
    nbest = _nbest_predictions(example, features, prelim_predictions,
                               n_best_size, case)
    if version_2 and all(entry.text for entry in nbest):
      # Quirk of the original: the null answer is appended when it did not
      # make the n-best, so the list can hold n_best_size + 1 entries.
      nbest.append(
          _NbestPrediction(
              text="",
              start_logit=null_prediction.start_logit,
              end_logit=null_prediction.end_logit))
    # Quirk of the original: without any valid span, the answer is the
    # word "empty" with zero logits.
    if not nbest:
      nbest.append(
          _NbestPrediction(text="empty", start_logit=0.0, end_logit=0.0))

    all_nbest_json[example.qas_id] = _nbest_json(nbest)

    if not version_2:
      all_predictions[example.qas_id] = nbest[0].text
    else:
      best_non_null_entry = _best_non_null_entry(
          example, features, nbest, prelim_predictions, case)
      # No answer when the null answer beats the best span by more than
      # the threshold.
      score_diff = score_null - best_non_null_entry.start_logit - (
          best_non_null_entry.end_logit)
      scores_diff_json[example.qas_id] = score_diff
      if score_diff > null_score_diff_threshold:
        all_predictions[example.qas_id] = ""
      else:
        all_predictions[example.qas_id] = best_non_null_entry.text

  return (_json_text(all_predictions), _json_text(all_nbest_json),
          _json_text(scores_diff_json) if version_2 else None)


def _prelim_predictions(features, unique_id_to_result, n_best_size,
                        max_answer_length, version_2):
  """Collects the candidate answers of one example over all its windows.

  Returns:
    (candidates sorted by start_logit + end_logit, best first, the null
    answer included with version 2; the null answer: the window whose
    start_logits[0] + end_logits[0] is the smallest; its score).
  """
  prelim_predictions = []
  # Quirk of the original: without any window, the null answer has logits
  # 0 and 0 but scores 1000000.
  null_prediction = _PrelimPrediction(
      feature_index=0, start_index=0, end_index=0, start_logit=0,
      end_logit=0)
  score_null = 1000000  # large and positive
  for (feature_index, feature) in enumerate(features):
    if feature.unique_id not in unique_id_to_result:
      raise ValueError("write_predictions: no result for feature %d" %
                       feature.unique_id)
    result = unique_id_to_result[feature.unique_id]
    if version_2:
      feature_null_score = result.start_logits[0] + result.end_logits[0]
      if feature_null_score < score_null:
        score_null = feature_null_score
        null_prediction = _PrelimPrediction(
            feature_index=feature_index,
            start_index=0,
            end_index=0,
            start_logit=result.start_logits[0],
            end_logit=result.end_logits[0])
    prelim_predictions.extend(
        _valid_spans(feature, feature_index, result, n_best_size,
                     max_answer_length))
  if version_2:
    prelim_predictions.append(null_prediction)
  prelim_predictions.sort(
      key=lambda x: (x.start_logit + x.end_logit), reverse=True)
  return prelim_predictions, null_prediction, score_null


def _valid_spans(feature, feature_index, result, n_best_size,
                 max_answer_length):
  """Yields the candidate spans of one window.

  Quirk of the original: the n-best starts and ends are taken over all
  positions (question and padding included) before invalid spans are
  dropped, so fewer than n_best_size candidates may remain.
  """
  start_indexes = _get_best_indexes(result.start_logits, n_best_size)
  end_indexes = _get_best_indexes(result.end_logits, n_best_size)
  for start_index in start_indexes:
    for end_index in end_indexes:
      # Spans starting or ending in the question, in padding, or outside
      # the window's max-context part are invalid.
      if start_index >= len(feature.tokens):
        continue
      if end_index >= len(feature.tokens):
        continue
      if start_index not in feature.token_to_orig_map:
        continue
      if end_index not in feature.token_to_orig_map:
        continue
      if not feature.token_is_max_context.get(start_index, False):
        continue
      if end_index < start_index:
        continue
      length = end_index - start_index + 1
      if length > max_answer_length:
        continue
      yield _PrelimPrediction(
          feature_index=feature_index,
          start_index=start_index,
          end_index=end_index,
          start_logit=result.start_logits[start_index],
          end_logit=result.end_logits[end_index])


def _nbest_predictions(example, features, prelim_predictions, n_best_size,
                       case):
  """The first n_best_size candidates with distinct answer texts."""
  seen_predictions = set()
  nbest = []
  for pred in prelim_predictions:
    if len(nbest) >= n_best_size:
      break
    final_text = _prediction_text(example, features, pred, case)
    if final_text in seen_predictions:
      continue
    seen_predictions.add(final_text)
    nbest.append(
        _NbestPrediction(
            text=final_text,
            start_logit=pred.start_logit,
            end_logit=pred.end_logit))
  return nbest


def _prediction_text(example, features, pred, case):
  """The answer text of a candidate: "" for the null answer.

  `case` holds `get_final_text`'s options as keywords.
  """
  if pred.start_index == 0:
    return ""
  feature = features[pred.feature_index]
  tok_tokens = feature.tokens[pred.start_index:(pred.end_index + 1)]
  orig_doc_start = feature.token_to_orig_map[pred.start_index]
  orig_doc_end = feature.token_to_orig_map[pred.end_index]
  orig_tokens = example.doc_tokens[orig_doc_start:(orig_doc_end + 1)]
  tok_text = " ".join(tok_tokens)

  # Glue "##" continuation pieces back to the piece before them.
  tok_text = tok_text.replace(" ##", "")
  tok_text = tok_text.replace("##", "")

  # One space between words, none at the ends.
  tok_text = tok_text.strip()
  tok_text = " ".join(tok_text.split())
  orig_text = " ".join(orig_tokens)

  return get_final_text(tok_text, orig_text, **case)


def _best_non_null_entry(example, features, nbest, prelim_predictions, case):
  """The best candidate with a non-empty text.

  The original takes it from the n-best list and crashes when that holds
  only the null answer (e.g. with n_best_size=1); here the search goes on
  through the other candidates, and without any a zero-scored "" stands in,
  so the prediction is "" and the null odds are the null score itself.
  """
  for entry in nbest:
    if entry.text:
      return entry
  for pred in prelim_predictions:
    text = _prediction_text(example, features, pred, case)
    if text:
      return _NbestPrediction(text=text, start_logit=pred.start_logit,
                              end_logit=pred.end_logit)
  return _NbestPrediction(text="", start_logit=0.0, end_logit=0.0)


def _nbest_json(nbest):
  """The n-best list as written to nbest_predictions.json."""
  probs = _compute_softmax(
      [entry.start_logit + entry.end_logit for entry in nbest])
  nbest_json = []
  for (i, entry) in enumerate(nbest):
    output = collections.OrderedDict()
    output["text"] = entry.text
    output["probability"] = probs[i]
    output["start_logit"] = entry.start_logit
    output["end_logit"] = entry.end_logit
    nbest_json.append(output)
  return nbest_json


def _json_text(obj):
  """`obj` as the original writes it: indent 4, ASCII, then a newline."""
  return json.dumps(obj, indent=4) + "\n"


def _write_output_set(contents):
  """Writes (path, text) pairs as one `script_io.OutputSet`.

  All files are replaced when every one is written, else none is; a path
  whose text is None is removed (so no older file of the set is left
  beside the new ones).
  """
  contents = list(contents)
  with script_io.OutputSet([path for (path, _) in contents]) as outputs:
    for (path, text) in contents:
      if text is not None:
        tf.logging.info("Writing %s", path)
        with _writing(path), outputs.open(path) as writer:
          writer.write(text)


def _strip_spaces(text):
  """Returns (`text` without spaces, {its positions: those in `text`})."""
  ns_chars = []
  ns_to_s_map = collections.OrderedDict()
  for (i, c) in enumerate(text):
    if c == " ":
      continue
    ns_to_s_map[len(ns_chars)] = i
    ns_chars.append(c)
  ns_text = "".join(ns_chars)
  return (ns_text, ns_to_s_map)


def get_final_text(pred_text, orig_text, do_lower_case, strip_accents=None,
                   never_split=None, verbose_logging=None):
  """Maps a predicted answer back onto the context's original characters.

  `pred_text` is the prediction re-joined from wordpieces (lower-cased and
  without accents when `do_lower_case`); `orig_text` the words of the
  context it came from. The characters of `pred_text` are aligned with
  those of `orig_text` ignoring spaces, and the matching part of
  `orig_text` is returned. `strip_accents` and `never_split` are the
  tokenizer's options, so that `orig_text` is tokenized the same way.
  `verbose_logging` (default: `FLAGS.verbose_logging`, as the original
  reads it) logs why an alignment fails.

  Quirk of the original: when the alignment fails (e.g. the words hold
  U+00A0 or characters the tokenizer changes in length), the whole of
  `orig_text` is returned.
  """

  if verbose_logging is None:
    # Reads FLAGS, as the original does.
    verbose_logging = FLAGS.verbose_logging

  tokenizer = tokenization.BasicTokenizer(
      do_lower_case=do_lower_case, strip_accents=strip_accents,
      never_split=never_split)

  tok_text = " ".join(tokenizer.tokenize(orig_text))

  start_position = tok_text.find(pred_text)
  if start_position == -1:
    if verbose_logging:
      tf.logging.info(
          "Unable to find text: '%s' in '%s'" % (pred_text, orig_text))
    return orig_text
  end_position = start_position + len(pred_text) - 1

  (orig_ns_text, orig_ns_to_s_map) = _strip_spaces(orig_text)
  (tok_ns_text, tok_ns_to_s_map) = _strip_spaces(tok_text)

  if len(orig_ns_text) != len(tok_ns_text):
    if verbose_logging:
      tf.logging.info("Length not equal after stripping spaces: '%s' vs '%s'",
                      orig_ns_text, tok_ns_text)
    return orig_text

  # Outside spaces, the two texts now have the same characters one to one:
  # map pred_text's first and last characters through that alignment.
  tok_s_to_ns_map = {}
  for (i, tok_index) in six.iteritems(tok_ns_to_s_map):
    tok_s_to_ns_map[tok_index] = i

  def _to_orig_position(tok_position):
    ns_position = tok_s_to_ns_map.get(tok_position)
    if ns_position is None:
      return None
    return orig_ns_to_s_map.get(ns_position)

  orig_start_position = _to_orig_position(start_position)
  if orig_start_position is None:
    if verbose_logging:
      tf.logging.info("Couldn't map start position")
    return orig_text

  orig_end_position = _to_orig_position(end_position)
  if orig_end_position is None:
    if verbose_logging:
      tf.logging.info("Couldn't map end position")
    return orig_text

  output_text = orig_text[orig_start_position:(orig_end_position + 1)]
  return output_text


def _get_best_indexes(logits, n_best_size):
  """Indexes of the n_best_size largest logits, best first.

  The sort is stable, so of equal logits the lower index comes first.
  """
  index_and_score = sorted(enumerate(logits), key=lambda x: x[1], reverse=True)
  return [index for (index, _) in index_and_score[:n_best_size]]


def _compute_softmax(scores):
  """Softmax of a list of Python floats, computed in Python doubles."""
  if not scores:
    return []

  max_score = None
  for score in scores:
    if max_score is None or score > max_score:
      max_score = score

  exp_scores = []
  total_sum = 0.0
  for score in scores:
    x = math.exp(score - max_score)
    exp_scores.append(x)
    total_sum += x

  probs = []
  for score in exp_scores:
    probs.append(score / total_sum)
  return probs


@contextlib.contextmanager
def _writing(path):
  """Reports a failed write of the output `path` (a full disk) naming it."""
  try:
    yield
  except (EnvironmentError, tf.errors.OpError) as e:
    raise script_io.ScriptError("%s: cannot write it: %s" %
                                (path, script_io.one_line_message(e)))


class FeatureWriter(object):
  """Streams InputFeatures to a TFRecord file of tf.train.Examples.

  Features are written in the order `unique_ids, input_ids, input_mask,
  segment_ids` (+ `start_positions, end_positions, is_impossible` for
  training), to a hidden temporary file that becomes `filename` on
  `close()`; `discard()` removes it instead, leaving an older `filename` as
  it was. As a context manager, it closes when its block ends without an
  error and discards otherwise.
  """

  def __init__(self, filename, is_training):
    self.filename = filename
    self.is_training = is_training
    self.num_features = 0
    with _writing(filename):
      self._temp_path = script_io.temporary_path(filename)
      self._writer = tf.io.TFRecordWriter(self._temp_path)

  def process_feature(self, feature):
    """Appends one feature as a tf.train.Example."""
    self.num_features += 1

    named_features = [
        ("unique_ids", script_io.int64_feature([feature.unique_id])),
        ("input_ids", script_io.int64_feature(feature.input_ids)),
        ("input_mask", script_io.int64_feature(feature.input_mask)),
        ("segment_ids", script_io.int64_feature(feature.segment_ids)),
    ]
    if self.is_training:
      named_features.extend([
          ("start_positions",
           script_io.int64_feature([feature.start_position])),
          ("end_positions", script_io.int64_feature([feature.end_position])),
          ("is_impossible",
           script_io.int64_feature([int(bool(feature.is_impossible))])),
      ])
    with _writing(self.filename):
      self._writer.write(
          script_io.serialize_example_in_order(named_features))

  def close(self):
    """Completes the file: it appears under `filename`."""
    try:
      with _writing(self.filename):
        self._writer.close()
        script_io.commit_path(self._temp_path, self.filename)
    finally:
      script_io.discard_path(self._temp_path)

  def discard(self):
    """Removes what was written; `filename` stays as it was."""
    try:
      self._writer.close()
    except tf.errors.OpError:
      pass  # The error that led here is the one to report.
    finally:
      script_io.discard_path(self._temp_path)

  def __enter__(self):
    return self

  def __exit__(self, exc_type, exc_value, tb):
    if exc_type is None:
      self.close()
    else:
      self.discard()


class _PositionMap(collections.abc.Mapping):
  """A read-only dict from consecutive token positions to values, compact.

  Stands for a feature's `token_to_orig_map` / `token_is_max_context`,
  whose keys are the consecutive positions of the window's document part.
  """

  __slots__ = ("_first", "_values", "_cast")

  def __init__(self, position_map, typecode, cast):
    positions = list(position_map)
    self._first = positions[0] if positions else 0
    if positions != list(range(self._first, self._first + len(positions))):
      raise ValueError("positions are not consecutive: %s" % positions)
    self._values = array.array(typecode, position_map.values())
    self._cast = cast

  def __getitem__(self, position):
    index = position - self._first
    if 0 <= index < len(self._values):
      return self._cast(self._values[index])
    raise KeyError(position)

  def __len__(self):
    return len(self._values)

  def __iter__(self):
    return iter(range(self._first, self._first + len(self._values)))


class _PredictionFeature(object):
  """What write_predictions reads of a prediction feature, in little memory.

  While predicting, each window's ids, mask and segment ids go to
  eval.tf_record only; what write_predictions needs afterwards stays in
  memory in this form: the tokens as a tuple (the strings are shared with
  the tokenizer) and the two position maps as arrays. On the SQuAD 1.1 dev
  set at max_seq_length 384 (10833 windows) that is 36 MB instead of the
  271 MB the InputFeatures would hold.
  """

  __slots__ = ("unique_id", "example_index", "doc_span_index", "tokens",
               "token_to_orig_map", "token_is_max_context")

  def __init__(self, feature):
    self.unique_id = feature.unique_id
    self.example_index = feature.example_index
    self.doc_span_index = feature.doc_span_index
    self.tokens = tuple(feature.tokens)
    self.token_to_orig_map = _PositionMap(feature.token_to_orig_map, "i", int)
    self.token_is_max_context = _PositionMap(feature.token_is_max_context,
                                             "b", bool)


def validate_flags_or_throw(bert_config):
  """Reads FLAGS; raises ValueError for contradictory or unusable ones.

  The original's checks and messages, plus a positive --doc_stride.
  """
  tokenization.validate_case_matches_checkpoint(FLAGS.do_lower_case,
                                                FLAGS.init_checkpoint)

  if not FLAGS.do_train and not FLAGS.do_predict and not FLAGS.export_dir:
    raise ValueError("At least one of `do_train` or `do_predict` must be True.")

  if FLAGS.do_train:
    if not FLAGS.train_file:
      raise ValueError(
          "If `do_train` is True, then `train_file` must be specified.")
  if FLAGS.do_predict:
    if not FLAGS.predict_file:
      raise ValueError(
          "If `do_predict` is True, then `predict_file` must be specified.")

  if FLAGS.max_seq_length > bert_config.max_position_embeddings:
    raise ValueError(
        "Cannot use sequence length %d because the BERT model "
        "was only trained up to sequence length %d" %
        (FLAGS.max_seq_length, bert_config.max_position_embeddings))

  if FLAGS.max_seq_length <= FLAGS.max_query_length + 3:
    raise ValueError(
        "The max_seq_length (%d) must be greater than max_query_length "
        "(%d) + 3" % (FLAGS.max_seq_length, FLAGS.max_query_length))

  if FLAGS.doc_stride <= 0:
    raise ValueError("The doc_stride (%d) must be positive" % FLAGS.doc_stride)


# The values of the run's flags that the steps below `main` read
# (`tokenizer_options`: see `script_io.tokenizer_options`).
SquadSettings = collections.namedtuple("SquadSettings", [
    "output_dir", "train_file", "predict_file", "max_seq_length",
    "doc_stride", "max_query_length", "train_batch_size",
    "predict_batch_size", "num_train_epochs", "warmup_proportion",
    "iterations_per_loop", "n_best_size", "max_answer_length",
    "do_lower_case", "tokenizer_options", "version_2_with_negative",
    "null_score_diff_threshold", "verbose_logging"
])


def _settings_from_flags(flag_values):
  """The `SquadSettings` of the parsed flags."""
  values = {name: flag_values[name].value
            for name in SquadSettings._fields if name != "tokenizer_options"}
  return SquadSettings(
      tokenizer_options=script_io.tokenizer_options(flag_values), **values)


def _read_train_examples(settings):
  """Reads and shuffles --train_file.

  Returns:
    (examples, num_train_steps, num_warmup_steps).
  """
  train_examples = read_squad_examples(
      settings.train_file, True, "train_file",
      settings.version_2_with_negative)
  (num_train_steps, num_warmup_steps) = fine_tuning.training_steps(
      len(train_examples), settings, unit="questions")
  # Shuffled here, with the original's seed, so that the input_fn's small
  # shuffle buffer is enough.
  rng = random.Random(12345)
  rng.shuffle(train_examples)
  return train_examples, num_train_steps, num_warmup_steps


def _read_predict_examples(settings, needs_gold_answers):
  """Reads --predict_file; returns (examples, what evaluation needs of it).

  The second is the file cut down to its version, question ids and answer
  texts (see `_gold_dataset`).

  Raises:
    InputError: if `needs_gold_answers` (the run evaluates while training)
      and a question lacks them.
  """
  predict_file = settings.predict_file
  version_2 = settings.version_2_with_negative
  dataset_json = read_squad_json(predict_file, False, "predict_file")
  gold_dataset = _gold_dataset(dataset_json)
  if needs_gold_answers and not evaluate_squad.has_gold_answers(
      gold_dataset, version_2):
    raise script_io.InputError(
        "--predict_file=%s has questions without gold answers: "
        "--eval_every_n_steps and --num_restarts evaluate on it" %
        predict_file)
  name = _squad_file_name(predict_file, "predict_file")
  return (squad_examples(dataset_json, False, name, version_2), gold_dataset)


def _gold_dataset(dataset_json):
  """The part of a SQuAD file that `evaluate_squad.evaluate` reads."""
  qas = []
  for article in dataset_json["data"]:
    for paragraph in article["paragraphs"]:
      for qa in paragraph["qas"]:
        gold = {"id": qa["id"]}
        if "answers" in qa:
          gold["answers"] = [{"text": answer["text"]}
                             for answer in qa["answers"]]
        qas.append(gold)
  gold_dataset = {"data": [{"paragraphs": [{"qas": qas}]}]}
  if "version" in dataset_json:
    gold_dataset["version"] = dataset_json["version"]
  return gold_dataset


def _convert(examples, tokenizer, settings, is_training, output_fn):
  """`convert_examples_to_features` with the run's window settings."""
  convert_examples_to_features(
      examples=examples,
      tokenizer=tokenizer,
      max_seq_length=settings.max_seq_length,
      doc_stride=settings.doc_stride,
      max_query_length=settings.max_query_length,
      is_training=is_training,
      output_fn=output_fn)


def _train(estimator, tokenizer, train_examples, num_train_steps, settings,
           seed=None, evaluate=None, loop_settings=None):
  """Streams the training features to train.tf_record, then trains.

  With `evaluate`, evaluates as training goes (see `training_loop`).

  Returns:
    The metrics of the last evaluation, or None without `evaluate`.
  """
  with FeatureWriter(
      filename=os.path.join(settings.output_dir, "train.tf_record"),
      is_training=True) as train_writer:
    _convert(train_examples, tokenizer, settings, True,
             train_writer.process_feature)

  tf.logging.info("***** Running training *****")
  tf.logging.info("  Num orig examples = %d", len(train_examples))
  tf.logging.info("  Num split examples = %d", train_writer.num_features)
  tf.logging.info("  Batch size = %d", settings.train_batch_size)
  tf.logging.info("  Num steps = %d", num_train_steps)

  train_input_fn = training_loop.seeded_input_fn(
      input_fn_builder(
          input_file=train_writer.filename,
          seq_length=settings.max_seq_length,
          is_training=True,
          drop_remainder=True), seed)
  hooks = [runner.ProgressHook(num_train_steps, settings.train_batch_size,
                               settings.iterations_per_loop)]
  if evaluate is None:
    estimator.train(
        input_fn=train_input_fn, max_steps=num_train_steps, hooks=hooks)
    return None
  return training_loop.train_and_evaluate(
      estimator, train_input_fn, num_train_steps, hooks, evaluate,
      estimator.model_dir, loop_settings)


def _predict(estimator, tokenizer, eval_examples, gold_dataset, settings):
  """Writes the prediction files and, given gold answers, the metrics.

  predictions.json, nbest_predictions.json, null_odds.json (SQuAD 2.0) and
  eval_results.json (given gold answers) are one `script_io.OutputSet`:
  replaced all together or not at all, an older member not written this
  time removed.

  Returns:
    The metrics, or None without gold answers.
  """
  return _prediction_writer(estimator, tokenizer, eval_examples,
                            gold_dataset, settings, settings.output_dir)()


def _prediction_writer(estimator, tokenizer, eval_examples, gold_dataset,
                       settings, results_dir):
  """Writes eval.tf_record; returns `predict()`, to call once or more.

  `predict()` predicts with the latest checkpoint, writes the files
  `_predict` writes to `results_dir` and returns the metrics (None without
  gold answers).
  """
  eval_features = []
  with FeatureWriter(
      filename=os.path.join(settings.output_dir, "eval.tf_record"),
      is_training=False) as eval_writer:

    def append_feature(feature):
      eval_features.append(_PredictionFeature(feature))
      eval_writer.process_feature(feature)

    _convert(eval_examples, tokenizer, settings, False, append_feature)

  tf.logging.info("***** Running predictions *****")
  tf.logging.info("  Num orig examples = %d", len(eval_examples))
  tf.logging.info("  Num split examples = %d", len(eval_features))
  tf.logging.info("  Batch size = %d", settings.predict_batch_size)

  predict_input_fn = input_fn_builder(
      input_file=eval_writer.filename,
      seq_length=settings.max_seq_length,
      is_training=False,
      drop_remainder=False)

  def predict():
    all_results = _run_predictions(estimator, predict_input_fn,
                                   len(eval_features))
    texts = prediction_texts(
        eval_examples, eval_features, all_results, settings.n_best_size,
        settings.max_answer_length, settings.do_lower_case,
        version_2=settings.version_2_with_negative,
        null_score_diff_threshold=settings.null_score_diff_threshold,
        verbose_logging=settings.verbose_logging,
        **settings.tokenizer_options)
    del all_results
    (predictions_text, _, null_odds_text) = texts
    metrics = _evaluation(gold_dataset, predictions_text, null_odds_text,
                          settings.version_2_with_negative,
                          settings.null_score_diff_threshold)
    eval_text = None
    if metrics is not None:
      eval_text = json.dumps(metrics, indent=2) + "\n"
    names = ("predictions.json", "nbest_predictions.json", "null_odds.json",
             "eval_results.json")
    _write_output_set(zip([os.path.join(results_dir, name)
                           for name in names], texts + (eval_text,)))
    return metrics

  return predict


def _run_predictions(estimator, predict_input_fn, num_features):
  """Runs the model on every feature; returns their RawResults.

  The logits are kept as arrays of doubles (the same values as the
  original's lists of Python floats, in a quarter of the memory).
  """
  all_results = []
  progress = script_io.ProgressLog(
      "Processing example: %d/%d", "features", total=num_features,
      every_seconds=_PROGRESS_EVERY_SECONDS)
  for result in estimator.predict(
      predict_input_fn, yield_single_examples=True):
    all_results.append(
        RawResult(
            unique_id=int(result["unique_ids"]),
            start_logits=array.array("d", result["start_logits"].flat),
            end_logits=array.array("d", result["end_logits"].flat)))
    progress.update(len(all_results), num_features)
  return all_results


def _evaluation(gold_dataset, predictions_text, null_odds_text, version_2,
                null_score_diff_threshold):
  """The official metrics (an ordered dict), or None.

  None when --predict_file lacks the gold answers of an evaluation. For
  SQuAD 2.0 (`version_2`) the no-answer threshold of the metrics is
  `null_score_diff_threshold`, so they describe predictions.json as
  written (with the default 0.0, the same figures as the official script
  run with its default threshold on these files). The predictions are read
  back from the texts of their files.
  """
  if not evaluate_squad.has_gold_answers(gold_dataset, version_2):
    tf.logging.info(
        "--predict_file has questions without gold answers for a SQuAD %s "
        "evaluation: no metrics.", "v2.0" if version_2 else "v1.1")
    return None
  predictions = json.loads(predictions_text)
  na_probs = None
  if version_2:
    na_probs = json.loads(null_odds_text)
  result = evaluate_squad.evaluate(
      gold_dataset, predictions, na_probs,
      na_prob_thresh=null_score_diff_threshold, version_2=version_2)
  tf.logging.info("***** Eval results (official SQuAD %s metrics) *****",
                  "v2.0" if version_2 else "v1.1")
  for key, value in result.items():
    tf.logging.info("  %s = %s", key, value)
  return result


def _metric_names(version_2):
  """The metrics of evaluate_squad.py for the version, the main one first."""
  if version_2:
    return ["f1", "exact", "best_f1", "best_exact"]
  return ["f1", "exact_match"]


def _evaluates_while_training(loop_settings):
  """Whether training evaluates on --predict_file (see `training_loop`)."""
  return bool(loop_settings.eval_every_n_steps or
              loop_settings.num_restarts > 1)


def _fine_tune(build_estimator, tokenizer, train_examples, num_train_steps,
               eval_examples, gold_dataset, settings, loop_settings,
               model_dir, seed):
  """Trains in `model_dir`, evaluating on the dev file if the settings ask.

  Args:
    build_estimator: `build_estimator(model_dir=...)` returns the runner.
    tokenizer: the `FullTokenizer`.
    train_examples: the training `SquadExample`s.
    num_train_steps: int.
    eval_examples, gold_dataset: of --predict_file (see
      `_read_predict_examples`), or None.
    settings: `SquadSettings`.
    loop_settings: `training_loop.LoopSettings`.
    model_dir: the directory of checkpoints and prediction files.
    seed: the graph-level random seed of training, or None.

  Returns:
    The metrics of the last evaluation, or None.
  """
  estimator = build_estimator(model_dir=model_dir)
  evaluate = None
  if _evaluates_while_training(loop_settings):
    evaluate = _prediction_writer(estimator, tokenizer, eval_examples,
                                  gold_dataset, settings, model_dir)
  result = _train(estimator, tokenizer, train_examples, num_train_steps,
                  settings, seed,
                  evaluate if loop_settings.eval_every_n_steps else None,
                  loop_settings)
  if result is None and evaluate is not None:
    result = evaluate()
  return result


def _run_training(fine_tune, settings, loop_settings):
  """Fine-tunes once, or with restarts, as the loop settings ask.

  Args:
    fine_tune: `fine_tune(model_dir, seed)`, a bound `_fine_tune`.
    settings: `SquadSettings`.
    loop_settings: `training_loop.LoopSettings`.

  Returns:
    (the directory of the checkpoint to predict with, whether the
    prediction files are written already).
  """
  if loop_settings.num_restarts > 1:
    metric = training_loop.restart_metric(
        loop_settings, _metric_names(settings.version_2_with_negative))
    return (training_loop.run_restarts(fine_tune, loop_settings, metric,
                                       settings.output_dir), False)
  # Evaluating as training goes leaves the final predictions written.
  predicted = fine_tune(settings.output_dir, loop_settings.seed) is not None
  return (settings.output_dir, predicted)


def serving_outputs_fn(bert_config):
  """The `outputs_fn` of `export.export_saved_model`.

  Returns:
    `outputs_fn(input_ids, input_mask, segment_ids)` giving what
    `--do_predict` computes: {"start_logits", "end_logits"}, float32
    [batch, max_seq_length] each.
  """

  def outputs_fn(input_ids, input_mask, segment_ids):
    (start_logits, end_logits) = create_model(
        bert_config=bert_config, is_training=False, input_ids=input_ids,
        input_mask=input_mask, segment_ids=segment_ids,
        use_one_hot_embeddings=False)
    return {"start_logits": start_logits, "end_logits": end_logits}

  return outputs_fn


def main(_):
  tf.logging.set_verbosity(tf.logging.INFO)

  bert_config = runner.read_bert_config(FLAGS.bert_config_file)

  validate_flags_or_throw(bert_config)
  settings = _settings_from_flags(FLAGS)
  loop_settings = training_loop.settings_from_flags(FLAGS)
  training_loop.check_settings(
      loop_settings, _metric_names(settings.version_2_with_negative),
      FLAGS.do_train, None if FLAGS.do_predict else
      "--do_predict=True and a --predict_file with gold answers")
  export.check_export_dir(FLAGS.export_dir)
  tokenizer = fine_tuning.make_tokenizer(FLAGS, bert_config)
  (runner_settings, training, train_batch_size,
   init_checkpoint) = runner.setup_from_flags(FLAGS, bert_config)

  # Both files are read, and checked, before anything is written.
  train_examples = num_train_steps = num_warmup_steps = None
  eval_examples = gold_dataset = None
  if FLAGS.do_train:
    (train_examples, num_train_steps,
     num_warmup_steps) = _read_train_examples(settings)
  if FLAGS.do_predict:
    # Read before training (the original reads it after), so that a bad
    # --predict_file stops the run before hours of training, not after.
    (eval_examples, gold_dataset) = _read_predict_examples(
        settings, _evaluates_while_training(loop_settings))

  model_fn = model_fn_builder(
      bert_config=bert_config,
      init_checkpoint=init_checkpoint,
      learning_rate=FLAGS.learning_rate,
      num_train_steps=num_train_steps,
      num_warmup_steps=num_warmup_steps,
      use_tpu=FLAGS.use_tpu,
      use_one_hot_embeddings=FLAGS.use_tpu,
      training=training)

  # With --use_tpu=False this runs on the CPU or a GPU.
  build_estimator = functools.partial(
      runner.build_runner,
      model_fn,
      runner_settings,
      save_checkpoints_steps=FLAGS.save_checkpoints_steps,
      iterations_per_loop=FLAGS.iterations_per_loop,
      train_batch_size=train_batch_size,
      predict_batch_size=FLAGS.predict_batch_size,
      training=training)

  with script_io.locked_directory(
      training_options.locked_directory(training, FLAGS.output_dir),
      "output_dir"):
    (model_dir, predicted) = (FLAGS.output_dir, False)
    if FLAGS.do_train or loop_settings.num_restarts > 1:
      (model_dir, predicted) = _run_training(
          functools.partial(_fine_tune, build_estimator, tokenizer,
                            train_examples, num_train_steps, eval_examples,
                            gold_dataset, settings, loop_settings),
          settings, loop_settings)
    del train_examples

    if FLAGS.do_predict and not predicted:
      _predict(build_estimator(model_dir=model_dir), tokenizer,
               eval_examples, gold_dataset, settings)
    if FLAGS.export_dir:
      export.export_saved_model(
          FLAGS.export_dir, serving_outputs_fn(bert_config),
          export.checkpoint_to_export(model_dir, init_checkpoint),
          FLAGS.max_seq_length)


if __name__ == "__main__":
  flags.mark_flag_as_required("vocab_file")
  flags.mark_flag_as_required("bert_config_file")
  flags.mark_flag_as_required("output_dir")
  script_io.run(main)
