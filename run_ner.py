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
"""BERT fine-tuning for named-entity recognition (token classification).

Not in Google's original, which shipped no tagging task; built the way the
BERT paper describes its CoNLL-2003 experiment and in the style of
`run_classifier.py` (same flags where they mean the same thing, same runner,
same outputs).

Data: `--data_dir` holds `train.txt`, `dev.txt` and `test.txt` in the
CoNLL-2003 layout: one word a line, its tag in the last column (`token POS
chunk TAG`, or plain `token TAG`), a blank line between sentences,
`-DOCSTART-` lines between documents. Columns are separated by spaces or
tabs. `test.txt` may hold the tokens only (one column). The labels are the
tags of `train.txt`, sorted, or those of `--labels_file` (one a line, in
that order); a training run writes them to `<output_dir>/labels.txt`, and a
later run refuses labels that differ from the model's.

Model: each word's label is predicted from its first word piece (a softmax
layer over BERT's final hidden states, variables `cls/ner/output_weights`
and `cls/ner/output_bias`); its other pieces are left out of the loss and
the metrics. A sentence longer than `--max_seq_length` pieces is cut into
windows that overlap (`--doc_stride` pieces between their starts); training
uses every window, and evaluation and prediction take each word's label from
the window where it has the most context, so every word is predicted once.

Outputs: `--do_eval` writes `eval_results.txt`: the entity-level
precision, recall and F1 of the CoNLL `conlleval` script (an entity counts
only when its type and both boundaries match; IOB1, IOB2, IOE and IOBES tags
all work) overall (`eval_f1`, `eval_precision`, `eval_recall`) and per
entity type (`eval_PER_f1`, ...), the tagging accuracy over words
(`eval_accuracy`), `eval_loss`, `global_step` and `loss`. `--do_predict`
writes `test_predictions.txt`: `test.txt` line for line with the predicted
tag appended as a last column (`O` on `-DOCSTART-` lines, blank lines
kept), ready for `conlleval`.

Example, with Google's cased BERT-Base (cased models suit NER):

  python run_ner.py \\
    --data_dir=$CONLL_DIR \\
    --vocab_file=$BERT_CASED_DIR/vocab.txt \\
    --bert_config_file=$BERT_CASED_DIR/bert_config.json \\
    --init_checkpoint=$BERT_CASED_DIR/bert_model.ckpt \\
    --do_lower_case=False \\
    --do_train=True \\
    --do_eval=True \\
    --do_predict=True \\
    --max_seq_length=128 \\
    --doc_stride=64 \\
    --train_batch_size=32 \\
    --learning_rate=5e-5 \\
    --num_train_epochs=3.0 \\
    --output_dir=/tmp/ner_output/

The training options of `run_classifier.py` (`--num_accumulation_steps`,
`--precision`, `--optimizer`, `--distribution_strategy`, ...; see
README.md) work here too, all off by default.

Bad input stops the run before anything is written, with one line such as
`error: /data/conll/dev.txt, line 17: tag 'B-MISC' is not one of the
labels (B-LOC, B-PER, I-LOC, I-PER, O, from /data/conll/train.txt)`.
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import collections
import functools
import os
import random
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

runner.define_fine_tuning_flags("Windows")
training_options.define_training_flags()

# Required.
flags.DEFINE_string(
    "data_dir", None,
    "Folder holding train.txt, dev.txt and test.txt (CoNLL-2003 layout).",
    **script_io.OVERRIDABLE)
flags.DEFINE_string(
    "output_dir", None,
    "Folder for checkpoints, the TFRecord features, labels.txt, "
    "eval_results.txt and test_predictions.txt.", **script_io.OVERRIDABLE)

# Optional.
flags.DEFINE_string(
    "labels_file", None,
    "The tags, one a line (their order gives the label ids). Default: the "
    "tags of train.txt, sorted. Needed to evaluate or predict without a "
    "train.txt: give the labels.txt a training run wrote.",
    **script_io.OVERRIDABLE)
flags.DEFINE_integer(
    "max_seq_length", 128,
    "Length of every window in WordPiece tokens, [CLS] and [SEP] "
    "included: longer sentences are cut into overlapping windows, "
    "shorter ones padded.", **script_io.OVERRIDABLE)
flags.DEFINE_integer(
    "doc_stride", 64,
    "Word pieces between the starts of two consecutive windows over a "
    "sentence too long for one.", **script_io.OVERRIDABLE)

# The file names in --data_dir, by set.
DATA_FILES = {"train": "train.txt", "dev": "dev.txt", "test": "test.txt"}

# A line whose first column is this separates documents; it holds no word.
DOCSTART = "-DOCSTART-"

# The file a training run writes its label list to, in --output_dir.
LABELS_FILE_NAME = "labels.txt"

# The scores eval_results.txt reports (after "eval_"): these overall, then
# "<TYPE>_<name>" of these for each entity type.
OVERALL_SCORES = ("accuracy", "f1", "precision", "recall")
TYPE_SCORES = ("f1", "precision", "recall")

# --------------------------------------------------------------------------
# Reading CoNLL files.

Sentence = collections.namedtuple("Sentence",
                                  ["words", "tags", "line_numbers"])
Sentence.__doc__ = """One sentence of a CoNLL file.

words: the tokens (first column), strings.
tags: their tags (last column), or None for a file of tokens only.
line_numbers: the line of each word in its file, counting from 1.
"""


class ConllFile(object):
  """The sentences of a CoNLL file, and its lines to write them back."""

  def __init__(self, path, lines, sentences, num_columns, delimiter):
    """Builds a file's record.

    Args:
      path: the file's path.
      lines: its lines (strings without line ends), in order.
      sentences: its `Sentence`s, in order.
      num_columns: the column count of its word lines.
      delimiter: what separates its columns: "\\t" or " ".
    """
    self.path = path
    self.lines = lines
    self.sentences = sentences
    self.num_columns = num_columns
    self.delimiter = delimiter

  @property
  def has_tags(self):
    """Whether the file gives each word a tag (a last column)."""
    return self.num_columns > 1


_COLUMN_SEPARATOR = re.compile(r"[ \t]+")


def _split_columns(line):
  """The columns of a CoNLL line, split on spaces and tabs only.

  Other Unicode spaces (a no-break space, say) stay inside their token.
  """
  stripped = line.strip(" \t")
  return _COLUMN_SEPARATOR.split(stripped) if stripped else []


def read_conll_file(path, label_list=None, labels_source=None,
                    require_tags=True):
  """Reads a CoNLL file into sentences.

  Args:
    path: the file (local or gs://).
    label_list: the known tags, or None to accept every tag.
    labels_source: where `label_list` came from, named in errors.
    require_tags: False lets the file hold tokens only (one column).

  Returns:
    A `ConllFile`.

  Raises:
    InputError: naming the file (and line) for a missing file, a word line
      with another column count than the file's first, a missing tag, a tag
      not in `label_list`, or a file with no sentence.
  """
  if tf.gfile.IsDirectory(path):
    raise InputError("%s is a directory, not a file" % path)
  if not tf.gfile.Exists(path):
    raise InputError("%s: no such file" % path)
  lines = script_io.read_text_lines(path)
  known = set(label_list) if label_list is not None else None
  sentences = []
  current = Sentence([], [], [])
  num_columns = first_line = delimiter = None
  for (line_number, line) in enumerate(lines, 1):
    columns = _split_columns(line)
    if not columns or columns[0] == DOCSTART:
      if current.words:
        sentences.append(current)
        current = Sentence([], [], [])
      continue
    if num_columns is None:
      (num_columns, first_line) = (len(columns), line_number)
      delimiter = "\t" if "\t" in line else " "
      if require_tags and num_columns < 2:
        raise InputError(
            "%s, line %d: one column, the token: the tag (last column) is "
            "missing" % (path, line_number))
    elif len(columns) != num_columns:
      raise InputError(
          "%s, line %d: has %d column(s), but the file's first word line "
          "(line %d) has %d" % (path, line_number, len(columns), first_line,
                                num_columns))
    tag = columns[-1] if num_columns > 1 else None
    if known is not None and tag is not None and tag not in known:
      raise InputError(
          "%s, line %d: tag %r is not one of the labels (%s, from %s)" %
          (path, line_number, tag, ", ".join(label_list), labels_source))
    current.words.append(columns[0])
    current.tags.append(tag)
    current.line_numbers.append(line_number)
  if current.words:
    sentences.append(current)
  if not sentences:
    raise InputError("%s holds no sentences (%s)" %
                     (path, "it is empty" if not lines else
                      "no word line outside -DOCSTART- lines"))
  if num_columns == 1:
    sentences = [Sentence(s.words, None, s.line_numbers) for s in sentences]
  return ConllFile(path, lines, sentences, num_columns, delimiter)


def read_labels_file(path):
  """Returns the tags of a labels file, one a line, in order.

  Raises:
    InputError: for a missing file, a tag with a space, a repeated tag or
      a file without tags.
  """
  labels = []
  for (line_number, line) in enumerate(script_io.read_text_lines(path), 1):
    label = line.strip()
    if not label:
      continue
    if len(_split_columns(label)) > 1:
      raise InputError("%s, line %d: %r: a tag has no spaces" %
                       (path, line_number, label))
    if label in labels:
      raise InputError("%s, line %d: %r is there twice" %
                       (path, line_number, label))
    labels.append(label)
  if not labels:
    raise InputError("%s holds no tags" % path)
  return labels


def labels_of(conll_file):
  """The sorted tags found in a `ConllFile`."""
  return sorted(set(tag for sentence in conll_file.sentences
                    for tag in sentence.tags))


def prediction_lines(conll_file, predicted_tags):
  """Yields the lines of `conll_file` with a predicted tag appended.

  Args:
    conll_file: a `ConllFile`.
    predicted_tags: for each of its sentences, the list of its words' tags.

  Yields:
    Each line of the file without its line end: a word line with the
    file's delimiter and the predicted tag after its last column, a
    -DOCSTART- line with "O" (as `conlleval` expects), a blank line empty.
  """
  tag_of_line = {}
  for (sentence, tags) in zip(conll_file.sentences, predicted_tags):
    for (line_number, tag) in zip(sentence.line_numbers, tags):
      tag_of_line[line_number] = tag
  for (line_number, line) in enumerate(conll_file.lines, 1):
    text = line.rstrip(" \t")
    if line_number in tag_of_line:
      yield text + conll_file.delimiter + tag_of_line[line_number]
    elif _split_columns(text):
      yield text + conll_file.delimiter + "O"  # A -DOCSTART- line.
    else:
      yield ""


# --------------------------------------------------------------------------
# Windows and features.


class InputFeatures(object):
  """The model inputs of one window (lists of max_seq_length ints).

  label_ids and label_weights hold a word's label id and 1 at its first
  word piece, 0 elsewhere; word_ids the word's index in its sentence there,
  -1 elsewhere. example_index is the sentence's index in its file.
  """

  def __init__(self, input_ids, input_mask, segment_ids, label_ids,
               label_weights, word_ids, example_index):
    self.input_ids = input_ids
    self.input_mask = input_mask
    self.segment_ids = segment_ids
    self.label_ids = label_ids
    self.label_weights = label_weights
    self.word_ids = word_ids
    self.example_index = example_index


FeatureSpec = collections.namedtuple("FeatureSpec", ["name", "shape"])


def feature_specs(seq_length):
  """The int64 features of a window's record, in the order written.

  One list for the writer (`write_features`) and the parser
  (`input_fn_builder`), so the two cannot disagree.

  Args:
    seq_length: max_seq_length.

  Returns:
    A list of `FeatureSpec(name, shape)`; every name is an attribute of
    `InputFeatures`.
  """
  return [
      FeatureSpec("input_ids", [seq_length]),
      FeatureSpec("input_mask", [seq_length]),
      FeatureSpec("segment_ids", [seq_length]),
      FeatureSpec("label_ids", [seq_length]),
      FeatureSpec("label_weights", [seq_length]),
      FeatureSpec("word_ids", [seq_length]),
      FeatureSpec("example_index", []),
  ]


def padding_features(seq_length):
  """A window of zeros with no word scored, to fill a TPU batch."""
  values = {spec.name: [0] * int(np.prod(spec.shape, dtype=np.int64))
            for spec in feature_specs(seq_length)}
  values["example_index"] = 0
  return InputFeatures(**values)


def word_pieces(words, tokenizer):
  """Tokenizes a sentence word by word.

  A word that tokenizes to nothing (only characters the tokenizer drops)
  becomes [UNK], so that every word has a first piece for its label.

  Args:
    words: the sentence's words.
    tokenizer: a `FullTokenizer`.

  Returns:
    (pieces, word_starts): the word pieces of the sentence, and the index
    in `pieces` of each word's first piece.
  """
  pieces = []
  word_starts = []
  for word in words:
    word_starts.append(len(pieces))
    pieces.extend(tokenizer.tokenize(word) or ["[UNK]"])
  return pieces, word_starts


def window_spans(num_pieces, max_pieces, doc_stride):
  """Cuts `num_pieces` word pieces into overlapping windows.

  As run_squad.py's windows: each starts `min(length, doc_stride)` pieces
  after the previous one (so none is skipped), the last one ends at the
  end.

  Returns:
    A list of (start, length).
  """
  spans = []
  start = 0
  while True:
    length = min(num_pieces - start, max_pieces)
    spans.append((start, length))
    if start + length >= num_pieces:
      return spans
    start += min(length, doc_stride)


def max_context_windows(spans, num_pieces):
  """The window in which each piece has the most context.

  The score of a piece in a window is `min(left, right) + 0.01 * length`
  (pieces on its shorter side, a longer window winning a tie), as in
  run_squad.py; the first window wins an equal score.

  Args:
    spans: the windows' (start, length).
    num_pieces: the number of pieces they cover.

  Returns:
    A list giving, for each piece, the index of its window in `spans`.
  """
  best_scores = [None] * num_pieces
  best_windows = [None] * num_pieces
  for (window, (start, length)) in enumerate(spans):
    for position in range(start, start + length):
      score = (min(position - start, start + length - 1 - position) +
               0.01 * length)
      if best_scores[position] is None or score > best_scores[position]:
        best_scores[position] = score
        best_windows[position] = window
  return best_windows


def convert_sentence(example_index, sentence, label_map, max_seq_length,
                     doc_stride, tokenizer, is_training):
  """Returns the `InputFeatures` of the windows over one sentence.

  Args:
    example_index: the sentence's index in its file.
    sentence: a `Sentence` (tags None: the labels are 0).
    label_map: dict of tag to label id.
    max_seq_length: length of each window, [CLS] and [SEP] included.
    doc_stride: pieces between the starts of consecutive windows.
    tokenizer: a `FullTokenizer`.
    is_training: True: every window scores each word whose first piece it
      holds; False: a word is scored in its max-context window only.

  Returns:
    A list of `InputFeatures`, one per window.
  """
  (pieces, word_starts) = word_pieces(sentence.words, tokenizer)
  spans = window_spans(len(pieces), max_seq_length - 2, doc_stride)
  best_windows = max_context_windows(spans, len(pieces))
  label_of_piece = {}
  for (word_index, start) in enumerate(word_starts):
    tag = sentence.tags[word_index] if sentence.tags else None
    label_of_piece[start] = (word_index, label_map.get(tag, 0))
  features = []
  for (window, (start, length)) in enumerate(spans):
    tokens = ["[CLS]"] + pieces[start:start + length] + ["[SEP]"]
    padding = [0] * (max_seq_length - len(tokens))
    label_ids = [0] * max_seq_length
    label_weights = [0] * max_seq_length
    word_ids = [-1] * max_seq_length
    for piece in range(start, start + length):
      if piece in label_of_piece and (is_training or
                                      best_windows[piece] == window):
        position = piece - start + 1  # After [CLS].
        (word_ids[position], label_ids[position]) = label_of_piece[piece]
        label_weights[position] = 1
    features.append(InputFeatures(
        input_ids=tokenizer.convert_tokens_to_ids(tokens) + padding,
        input_mask=[1] * len(tokens) + padding,
        segment_ids=[0] * max_seq_length,
        label_ids=label_ids,
        label_weights=label_weights,
        word_ids=word_ids,
        example_index=example_index))
    if example_index < 3 and window == 0:
      _log_window(tokens, label_ids, label_weights, label_map)
  return features


def _log_window(tokens, label_ids, label_weights, label_map):
  """Logs a window's tokens, each scored one with its tag."""
  tag_of_id = {label_id: tag for (tag, label_id) in label_map.items()}
  tf.logging.info("*** Example ***")
  tf.logging.info("tokens: %s", " ".join(
      tokenization.printable_text(token) + (
          "/" + tag_of_id[label_ids[i]] if label_weights[i] else "")
      for (i, token) in enumerate(tokens)))


def convert_sentences(sentences, label_list, max_seq_length, doc_stride,
                      tokenizer, is_training):
  """Returns the `InputFeatures` of the windows of every sentence, in order."""
  label_map = {tag: i for (i, tag) in enumerate(label_list)}
  features = []
  for (example_index, sentence) in enumerate(sentences):
    features.extend(convert_sentence(example_index, sentence, label_map,
                                     max_seq_length, doc_stride, tokenizer,
                                     is_training))
  return features


def write_features(path, features, seq_length):
  """Writes `features` to the TFRecord file `path`, complete or not at all.

  Each record holds the features of `feature_specs(seq_length)`, in that
  order.
  """
  specs = feature_specs(seq_length)
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


def input_fn_builder(input_file, seq_length, is_training, drop_remainder):
  """Returns the TPUEstimator `input_fn` reading a `write_features` file.

  Returns:
    `input_fn(params)` giving batches of the `feature_specs` features as
    int32: [batch_size, seq_length] each, `example_index` [batch_size].
  """
  name_to_features = {spec.name: tf.FixedLenFeature(spec.shape, tf.int64)
                      for spec in feature_specs(seq_length)}
  return script_io.tfrecord_input_fn_builder(
      input_file, name_to_features, is_training, drop_remainder)


# --------------------------------------------------------------------------
# The entity-level metrics of conlleval.


def split_tag(tag):
  """Splits a tag into its chunk prefix and entity type, as conlleval does.

  At the first hyphen: "B-PER" -> ("B", "PER"), "I-SUB-TYPE" -> ("I",
  "SUB-TYPE"); a tag without one is a prefix alone: "O" -> ("O", "").
  """
  (prefix, hyphen, entity_type) = tag.partition("-")
  if not hyphen:
    return (tag, "")
  return (prefix, entity_type)


def _ends_chunk(prev_prefix, prefix, prev_type, entity_type):
  """Whether a chunk ends with the previous word (conlleval's endOfChunk).

  conlleval.pl's rules (IOB1, IOB2, IOE1, IOE2 and bracket tags), plus two
  for IOBES, which change nothing for those schemes: a chunk ends after an
  E- or S- word whatever follows.
  """
  if prev_prefix in ("B", "I") and prefix in ("B", "O"):
    return True
  if prev_prefix in ("E", "S", "[", "]"):
    return True
  return prev_prefix not in ("O", ".") and prev_type != entity_type


def _starts_chunk(prev_prefix, prefix, prev_type, entity_type):
  """Whether a chunk starts at this word (conlleval's startOfChunk).

  conlleval.pl's rules, plus two for IOBES, which change nothing for the
  other schemes: a B- or S- word always starts a chunk.
  """
  if prefix in ("B", "S", "[", "]"):
    return True
  if prefix in ("I", "E") and prev_prefix in ("E", "S", "O"):
    return True
  return prefix not in ("O", ".") and prev_type != entity_type


def get_entities(tags):
  """The chunks of one sentence's tags, by conlleval's rules.

  A sentence boundary ends every chunk; so in IOB1 an I- tag after O (or
  after another type) starts an entity, and a type change inside a run of
  I- tags ends one and starts another.

  Args:
    tags: the sentence's tags, strings.

  Returns:
    A list of (entity type, first word, word after the last) triples.
  """
  entities = []
  start = None
  (prev_prefix, prev_type) = ("O", "")
  for (index, tag) in enumerate(list(tags) + ["O"]):
    (prefix, entity_type) = split_tag(tag)
    starts = index < len(tags) and _starts_chunk(prev_prefix, prefix,
                                                 prev_type, entity_type)
    # A chunk that starts ends the one before (conlleval.pl's rules never
    # start one inside another; IOBES's S- after I- would).
    if start is not None and (starts or _ends_chunk(
        prev_prefix, prefix, prev_type, entity_type)):
      entities.append((prev_type, start, index))
      start = None
    if starts:
      start = index
    (prev_prefix, prev_type) = (prefix, entity_type)
  return entities


def _ratio(numerator, denominator):
  return float(numerator) / denominator if denominator else 0.0


def _f1(precision, recall):
  if precision + recall == 0:
    return 0.0
  return 2.0 * precision * recall / (precision + recall)


def entity_scores(gold_sentences, predicted_sentences, entity_types=()):
  """conlleval's figures, as fractions (conlleval prints percentages).

  Args:
    gold_sentences: for each sentence, its gold tags.
    predicted_sentences: for each sentence, its predicted tags (as many).
    entity_types: types to report even when no entity of theirs occurs.

  Returns:
    An ordered dict with "accuracy" (the words whose tag is right),
    "precision" (the predicted entities that are right), "recall" (the
    gold entities found), "f1" (their harmonic mean), and
    "<TYPE>_precision", "<TYPE>_recall", "<TYPE>_f1" for each type among
    `entity_types` and the entities seen. A quotient over zero is 0.
  """
  counts = collections.defaultdict(lambda: [0, 0, 0])  # gold, found, right
  num_words = num_right_words = 0
  for (gold_tags, predicted_tags) in zip(gold_sentences,
                                         predicted_sentences):
    if len(gold_tags) != len(predicted_tags):
      raise ValueError("a sentence of %d words has %d predicted tags" %
                       (len(gold_tags), len(predicted_tags)))
    num_words += len(gold_tags)
    num_right_words += sum(
        1 for (gold, predicted) in zip(gold_tags, predicted_tags)
        if gold == predicted)
    gold = set(get_entities(gold_tags))
    found = set(get_entities(predicted_tags))
    for (index, entities) in enumerate((gold, found, gold & found)):
      for entity in entities:
        counts[entity[0]][index] += 1
  scores = collections.OrderedDict()
  scores["accuracy"] = _ratio(num_right_words, num_words)
  totals = [sum(type_counts[i] for type_counts in counts.values())
            for i in range(3)]
  _add_scores(scores, "", totals)
  for entity_type in sorted(set(entity_types) | set(counts)):
    _add_scores(scores, entity_type + "_", counts[entity_type])
  return scores


def _add_scores(scores, prefix, counts):
  """Adds precision, recall and F1 of (gold, found, right) counts."""
  (gold, found, right) = counts
  precision = _ratio(right, found)
  recall = _ratio(right, gold)
  scores[prefix + "precision"] = precision
  scores[prefix + "recall"] = recall
  scores[prefix + "f1"] = _f1(precision, recall)


def entity_types_of(label_list):
  """The entity types of a label list, sorted: B-PER, I-PER -> PER."""
  return sorted(set(split_tag(tag)[1] for tag in label_list) - {""})


def score_names(label_list):
  """The names of the scores `eval_results.txt` reports, without `eval_`."""
  return list(OVERALL_SCORES) + [
      "%s_%s" % (entity_type, name)
      for entity_type in entity_types_of(label_list) for name in TYPE_SCORES]


def scores_of_rows(rows, label_list, names):
  """The `entity_scores` of words given as rows of ids.

  Args:
    rows: int [num_words, 4] array of (sentence index, word index, gold
      label id, predicted label id), in any order.
    label_list: the tags, by label id.
    names: the scores to return, from `score_names`.

  Returns:
    float64 [len(names)] array.
  """
  rows = np.asarray(rows).reshape([-1, 4])
  rows = rows[np.lexsort((rows[:, 1], rows[:, 0]))]
  sentence_starts = np.flatnonzero(np.diff(rows[:, 0])) + 1
  gold = []
  predicted = []
  for sentence in np.split(rows, sentence_starts):
    if len(sentence):
      gold.append([label_list[i] for i in sentence[:, 2]])
      predicted.append([label_list[i] for i in sentence[:, 3]])
  scores = entity_scores(gold, predicted, entity_types_of(label_list))
  return np.array([scores[name] for name in names], np.float64)


# --------------------------------------------------------------------------
# The model.


def create_model(bert_config, is_training, input_ids, input_mask, segment_ids,
                 label_ids, label_weights, num_labels, use_one_hot_embeddings,
                 model_kwargs=None):
  """Creates a token-classification model: a layer on every final state.

  Args:
    bert_config: `BertConfig`.
    is_training: bool; enables dropout.
    input_ids, input_mask, segment_ids: int32 [batch_size, seq_length].
    label_ids: int32 [batch_size, seq_length], the gold label ids.
    label_weights: int32 [batch_size, seq_length], 1 where a word is scored.
    num_labels: number of tags.
    use_one_hot_embeddings: bool, one-hot matmul lookup (faster on TPU).
    model_kwargs: more `modeling.BertModel` arguments, e.g.
      `training_options.model_kwargs`.

  Returns:
    (loss, per_token_loss, logits, predictions): the mean loss over the
    scored words [], the loss of every position [batch_size, seq_length],
    the logits [batch_size, seq_length, num_labels] and the predicted label
    ids, int32 [batch_size, seq_length].
  """
  model = modeling.BertModel(
      config=bert_config,
      is_training=is_training,
      input_ids=input_ids,
      input_mask=input_mask,
      token_type_ids=segment_ids,
      use_one_hot_embeddings=use_one_hot_embeddings,
      **(model_kwargs or {}))

  sequence_output = model.get_sequence_output()
  (batch_size, seq_length, hidden_size) = modeling.get_shape_list(
      sequence_output, expected_rank=3)

  output_weights = tf.get_variable(
      "cls/ner/output_weights", [num_labels, hidden_size],
      initializer=modeling.create_initializer(bert_config.initializer_range))
  output_bias = tf.get_variable(
      "cls/ner/output_bias", [num_labels], initializer=tf.zeros_initializer())

  if is_training:
    sequence_output = modeling.dropout(sequence_output,
                                       bert_config.hidden_dropout_prob)
  matrix = tf.reshape(sequence_output, [-1, hidden_size])
  logits = tf.nn.bias_add(
      tf.matmul(matrix, output_weights, transpose_b=True), output_bias)
  logits = tf.reshape(logits, [batch_size, seq_length, num_labels])

  log_probs = tf.nn.log_softmax(logits, axis=-1)
  one_hot_labels = tf.one_hot(label_ids, depth=num_labels, dtype=tf.float32)
  per_token_loss = -tf.reduce_sum(one_hot_labels * log_probs, axis=-1)
  weights = tf.cast(label_weights, tf.float32)
  # A batch of padding windows scores nothing: its loss is 0, not NaN.
  loss = (tf.reduce_sum(per_token_loss * weights) /
          tf.maximum(tf.reduce_sum(weights), 1.0))
  predictions = tf.argmax(logits, axis=-1, output_type=tf.int32)
  return (loss, per_token_loss, logits, predictions)


def _collect_rows(rows, weights):
  """A streaming metric gathering the rows whose weight is positive.

  Args:
    rows: int32 [batch_size, seq_length, 4].
    weights: float32 [batch_size, seq_length].

  Returns:
    (all_rows, update_op): the rows gathered so far, int32 [n, 4], and the
    op that appends those of the batch.
  """
  collected = tf.Variable(
      tf.zeros([0, 4], tf.int32),
      trainable=False,
      collections=[tf.GraphKeys.LOCAL_VARIABLES,
                   tf.GraphKeys.METRIC_VARIABLES],
      shape=tf.TensorShape([None, 4]),
      use_resource=True,
      name="collected_words")
  new_rows = tf.boolean_mask(rows, weights > 0)
  update_op = collected.assign(
      tf.concat([collected.read_value(), new_rows], axis=0))
  return collected.read_value(), update_op


def metric_fn_builder(label_list):
  """Returns the eval `metric_fn` (it runs on the CPU host on TPU).

  The entity scores need whole sentences: the scored words of every batch
  are gathered, and `scores_of_rows` runs once on all of them when the
  values are read.
  """
  names = score_names(label_list)

  def metric_fn(per_token_loss, label_weights, example_index, word_ids,
                label_ids, predictions):
    """eval_loss over the scored words, and the conlleval scores."""
    weights = tf.cast(label_weights, tf.float32)
    metrics = {"eval_loss": tf.metrics.mean(values=per_token_loss,
                                            weights=weights)}
    sentence_ids = tf.expand_dims(example_index, 1) + tf.zeros_like(word_ids)
    rows = tf.stack([sentence_ids, word_ids, label_ids, predictions],
                    axis=-1)
    (all_rows, update_op) = _collect_rows(rows, weights)
    values = tf.py_func(
        functools.partial(scores_of_rows, label_list=list(label_list),
                          names=names), [all_rows], tf.float64)
    values.set_shape([len(names)])
    for (i, name) in enumerate(names):
      metrics["eval_" + name] = (values[i], update_op)
    return metrics

  return metric_fn


def model_fn_builder(bert_config, label_list, init_checkpoint, learning_rate,
                     num_train_steps, num_warmup_steps, use_tpu,
                     use_one_hot_embeddings,
                     training=training_options.DEFAULT_SETTINGS):
  """Returns the `model_fn` closure for TPUEstimator.

  Args:
    bert_config: `BertConfig`.
    label_list: the tags, by label id.
    init_checkpoint: checkpoint to start from, or None.
    learning_rate, num_train_steps, num_warmup_steps: the optimizer's
      schedule (see `optimization.create_optimizer`).
    use_tpu: bool.
    use_one_hot_embeddings: bool.
    training: `training_options.TrainingSettings`.
  """
  metric_fn = metric_fn_builder(label_list)

  def model_fn(features, labels, mode, params):
    """The `model_fn` for TPUEstimator."""
    del labels, params  # The labels come in `features`.
    fine_tuning.log_features(features)

    is_training = (mode == runner.ModeKeys.TRAIN)
    (total_loss, per_token_loss, _, predictions) = create_model(
        bert_config, is_training, features["input_ids"],
        features["input_mask"], features["segment_ids"],
        features["label_ids"], features["label_weights"], len(label_list),
        use_one_hot_embeddings,
        training_options.model_kwargs(training, is_training))
    eval_metrics = (metric_fn, [
        per_token_loss, features["label_weights"], features["example_index"],
        features["word_ids"], features["label_ids"], predictions
    ])
    return fine_tuning.model_spec(
        mode, total_loss, eval_metrics, {"predictions": predictions},
        init_checkpoint, (learning_rate, num_train_steps, num_warmup_steps),
        use_tpu, training)

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
                                 "[CLS], [SEP] and a word piece",
                                 positive_flags=("doc_stride",))


DataSets = collections.namedtuple("DataSets",
                                  ["label_list", "train", "dev", "test"])


def _data_path(data_dir, set_name):
  return os.path.join(data_dir, DATA_FILES[set_name])


def read_data_sets(config, labels_file=None, init_checkpoint=None):
  """Reads the label list and the files the run needs, checking them all.

  The labels are those of `labels_file`, else the tags of train.txt, else
  (to evaluate or predict without a train.txt) the labels.txt of the model
  in --output_dir or beside `init_checkpoint`.

  Args:
    config: `fine_tuning.FineTuningConfig`.
    labels_file: --labels_file, or None.
    init_checkpoint: the resolved --init_checkpoint prefix, or None.

  Returns:
    `DataSets`: the label list and a `ConllFile` (or None) per set.

  Raises:
    InputError: for a --data_dir that is not a folder, no way to know the
      labels, or bad data (see `read_conll_file`).
  """
  fine_tuning.check_data_dir(config.data_dir)
  train_path = _data_path(config.data_dir, "train")
  train = None
  if labels_file:
    script_io.check_file(labels_file, "labels_file")
    label_list = read_labels_file(labels_file)
    labels_source = "--labels_file=" + labels_file
  elif config.do_train or tf.gfile.Exists(train_path):
    train = read_conll_file(train_path)
    label_list = labels_of(train)
    labels_source = train.path
  else:
    labels_source = _trained_labels_file(config, init_checkpoint)
    label_list = read_labels_file(labels_source)
  if config.do_train and train is None:
    train = read_conll_file(train_path, label_list, labels_source)
  dev = test = None
  if config.do_eval:
    dev = read_conll_file(_data_path(config.data_dir, "dev"), label_list,
                          labels_source)
  if config.do_predict:
    test = read_conll_file(_data_path(config.data_dir, "test"), label_list,
                           labels_source, require_tags=False)
  return DataSets(label_list, train if config.do_train else None, dev, test)


def _trained_labels_file(config, init_checkpoint):
  """The labels.txt of --output_dir, or of the checkpoint's folder.

  Raises:
    InputError: if neither has one.
  """
  folders = [config.output_dir]
  if init_checkpoint:
    folders.append(os.path.dirname(init_checkpoint))
  for folder in folders:
    path = os.path.join(folder, LABELS_FILE_NAME)
    if tf.gfile.Exists(path):
      return path
  raise InputError(
      "--labels_file is needed: --data_dir=%s has no %s to read the labels "
      "from, and no %s of a training run is in %s" %
      (config.data_dir, DATA_FILES["train"], LABELS_FILE_NAME,
       " or ".join(folders)))


def check_labels_match(label_list, folder, flag_name):
  """Checks `label_list` against the labels.txt a training left in `folder`.

  Raises:
    InputError: if `folder` holds a labels.txt with other labels (or the
      same ones in another order): the model's label ids would mean other
      tags.
  """
  path = os.path.join(folder, LABELS_FILE_NAME)
  if not tf.gfile.Exists(path):
    return
  trained = read_labels_file(path)
  if trained != list(label_list):
    raise InputError(
        "the labels (%s) are not those the model in --%s=%s was trained "
        "with (%s, in %s): pass --labels_file=%s" %
        (", ".join(label_list), flag_name, folder, ", ".join(trained), path,
         path))


def _write_labels(output_dir, label_list):
  """Writes `<output_dir>/labels.txt`, unless a training left one there."""
  path = os.path.join(output_dir, LABELS_FILE_NAME)
  if not tf.gfile.Exists(path):
    with script_io.atomic_output(path) as writer:
      writer.write("".join(label + "\n" for label in label_list))


def _shuffled(sentences):
  """The training sentences in a fixed random order.

  Shuffled once with a fixed seed (as run_squad.py), so that the input
  pipeline's small shuffle buffer mixes the documents.
  """
  sentences = list(sentences)
  random.Random(12345).shuffle(sentences)
  return sentences


def _write_set(name, features, batch_size, config):
  """Writes `features` to `<name>.tf_record`.

  Sets other than "train" are padded to whole batches on TPU.

  Args:
    name: "train", "eval" or "predict".
    features: the set's `InputFeatures` (padding is appended to the list).
    batch_size: the set's batch size.
    config: `fine_tuning.FineTuningConfig`.

  Returns:
    (input_fn, num_items, num_actual): the `input_fn` reading the file, and
    its number of windows with and without the padding.
  """
  seq_length = config.max_seq_length
  is_training = (name == "train")
  num_actual = len(features)
  if not is_training:
    fine_tuning.pad_to_batches(features, batch_size, config.use_tpu,
                               lambda: padding_features(seq_length))
  path = fine_tuning.record_path(config, name)
  write_features(path, features, seq_length)
  fine_tuning.log_set(len(features), num_actual, batch_size, unit="windows")
  input_fn = input_fn_builder(
      input_file=path, seq_length=seq_length, is_training=is_training,
      drop_remainder=is_training or config.use_tpu)
  return (input_fn, len(features), num_actual)


def predicted_tags(features, predictions, conll_file, label_list):
  """Puts the windows' predictions back together, one tag a word.

  Args:
    features: the prediction `InputFeatures`.
    predictions: for each of them, the predicted label ids [seq_length].
    conll_file: the `ConllFile` whose sentences they came from.
    label_list: the tags, by label id.

  Returns:
    For each sentence, the list of its words' predicted tags.

  Raises:
    ScriptError: if a word got no prediction.
  """
  sentences = conll_file.sentences
  tags = [[None] * len(sentence.words) for sentence in sentences]
  for (feature, prediction) in zip(features, predictions):
    for position in np.flatnonzero(feature.label_weights):
      label_id = int(prediction[position])
      tags[feature.example_index][feature.word_ids[position]] = (
          label_list[label_id])
  for (sentence, sentence_tags) in zip(sentences, tags):
    if None in sentence_tags:
      raise script_io.ScriptError(
          "%s, line %d: the word got no prediction" %
          (conll_file.path, sentence.line_numbers[sentence_tags.index(None)]))
  return tags


def _predict(estimator, test, label_list, predict_features, config):
  """Writes test_predictions.txt: test.txt with a predicted tag a line."""
  tf.logging.info("***** Running prediction *****")
  (input_fn, _, num_actual) = _write_set("predict", predict_features,
                                         config.predict_batch_size, config)
  output_path = os.path.join(config.output_dir, "test_predictions.txt")
  results = fine_tuning.predictions(estimator, input_fn, num_actual,
                                    output_path, "windows")
  tags = predicted_tags(predict_features[:num_actual],
                        [result["predictions"] for result in results], test,
                        label_list)
  with script_io.atomic_output(output_path) as writer:
    for line in prediction_lines(test, tags):
      writer.write(line + "\n")
  tf.logging.info("Wrote %s (%d sentences)", output_path, len(tags))
  if test.has_tags:
    scores = entity_scores([s.tags for s in test.sentences], tags)
    tf.logging.info("Scores on %s (not written): %s", test.path, ", ".join(
        "%s = %.4f" % item for item in scores.items()))


def main(_):
  tf.logging.set_verbosity(tf.logging.INFO)

  fine_tuning.check_actions(FLAGS)
  bert_config = runner.read_bert_config(FLAGS.bert_config_file)
  validate_flags_or_throw(bert_config)
  config = fine_tuning.config_from_flags(FLAGS)
  tokenizer = fine_tuning.make_tokenizer(FLAGS, bert_config)
  setup = runner.setup_from_flags(FLAGS, bert_config)
  data = read_data_sets(config, FLAGS.labels_file, setup.init_checkpoint)
  check_labels_match(data.label_list, config.output_dir, "output_dir")
  if setup.init_checkpoint:
    check_labels_match(data.label_list, os.path.dirname(setup.init_checkpoint),
                       "init_checkpoint")
  tf.logging.info("Labels: %s", ", ".join(data.label_list))
  features_of = functools.partial(
      convert_sentences, label_list=data.label_list,
      max_seq_length=config.max_seq_length, doc_stride=FLAGS.doc_stride,
      tokenizer=tokenizer)

  num_train_steps = num_warmup_steps = None
  if config.do_train:
    train_features = features_of(_shuffled(data.train.sentences),
                                 is_training=True)
    (num_train_steps, num_warmup_steps) = fine_tuning.training_steps(
        len(train_features), config, unit="windows")

  model_fn = model_fn_builder(
      bert_config=bert_config,
      label_list=data.label_list,
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
      _write_labels(config.output_dir, data.label_list)
      tf.logging.info("***** Running training *****")
      (train_input_fn, _, _) = _write_set("train", train_features,
                                          config.train_batch_size, config)
      fine_tuning.train(estimator, train_input_fn, num_train_steps, config)
    if config.do_eval:
      eval_features = features_of(data.dev.sentences, is_training=False)
      tf.logging.info("***** Running evaluation *****")
      (eval_input_fn, num_eval, _) = _write_set(
          "eval", eval_features, config.eval_batch_size, config)
      fine_tuning.evaluate(estimator, eval_input_fn, num_eval, config)
    if config.do_predict:
      _predict(estimator, data.test, data.label_list,
               features_of(data.test.sentences, is_training=False), config)


if __name__ == "__main__":
  flags.mark_flag_as_required("data_dir")
  flags.mark_flag_as_required("vocab_file")
  flags.mark_flag_as_required("bert_config_file")
  flags.mark_flag_as_required("output_dir")
  script_io.run(main)
