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
"""Creates masked-LM and next-sentence pre-training data as TFRecords.

The input is plain text, one sentence per line, with an empty line between
documents. For the same input files, vocab, flags and `--random_seed` the
output holds the same `tf.train.Example`s as Google's original script, in the
same order: every random draw the original makes is made here too, with the
same arguments and in the same order (the random stream is part of the
contract). Each Example's features are written in the order `input_ids,
input_mask, segment_ids, masked_lm_positions, masked_lm_ids,
masked_lm_weights, next_sentence_labels`, so our files are byte-for-byte
reproducible.

What differs is the cost. Documents are held as arrays of token ids rather
than lists of strings, each instance is serialized as soon as it is made
(about 0.9 KB, bytes built by hand), and `_FastDraws` makes the original's
`shuffle` and `randint` draws from `random.Random`'s 32-bit words fetched in
bulk, the same numbers at a fraction of the cost. Progress (documents read,
instances made and written, per second) is logged every few seconds.
Outputs are written under a temporary name and renamed when complete.

Corpora larger than memory: shard them. The original holds every document
and every instance of a run in memory, and so does this script (in compact
form), so a corpus that does not fit is cut into input shards (say, files of
a few hundred MB, cut at document boundaries) and each shard is run on its
own, with its own seed and its own output:

  python create_pretraining_data.py --input_file=shard-00007.txt \\
      --output_file=shard-00007.tfrecord --random_seed=$((12345 + 7)) ...

`--num_workers=N` does this for you on N processes: every file matched by
`--input_file` (sorted by name) is one shard; shard i of n is run with
`--random_seed` + i and written to the i-th name of `--output_file`, or to
`<output_file>-0000i-of-0000n` when a single name is given. Each shard's
output equals, byte for byte, a single run of this script on that shard
alone with that seed and output name. Documents never cross shards, and
random next sentences come from the same shard. `--num_workers=0` (the
default) makes one run over all inputs, as the original.
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import array
import collections
import contextlib
import gc
import multiprocessing
import os
import random
import struct
import sys
import time

from absl import flags
import tensorflow.compat.v1 as tf

import script_io
import tokenization

flags.DEFINE_string(
    "input_file", None,
    "Input raw text file (or comma-separated list of files).",
    **script_io.OVERRIDABLE)

flags.DEFINE_string(
    "output_file", None,
    "Output TF example file (or comma-separated list of files).",
    **script_io.OVERRIDABLE)

script_io.define_vocab_flags()

flags.DEFINE_bool(
    "do_whole_word_mask", False,
    "Whether to use whole word masking rather than per-WordPiece masking.",
    **script_io.OVERRIDABLE)

flags.DEFINE_integer("max_seq_length", 128, "Maximum sequence length.",
                     **script_io.OVERRIDABLE)

flags.DEFINE_integer("max_predictions_per_seq", 20,
                     "Maximum number of masked LM predictions per sequence.",
                     **script_io.OVERRIDABLE)

flags.DEFINE_integer("random_seed", 12345, "Random seed for data generation.",
                     **script_io.OVERRIDABLE)

flags.DEFINE_integer(
    "dupe_factor", 10,
    "Number of times to duplicate the input data (with different masks).",
    **script_io.OVERRIDABLE)

flags.DEFINE_float("masked_lm_prob", 0.15, "Masked LM probability.",
                   **script_io.OVERRIDABLE)

flags.DEFINE_float(
    "short_seq_prob", 0.1,
    "Probability of creating sequences which are shorter than the "
    "maximum length.", **script_io.OVERRIDABLE)

flags.DEFINE_integer(
    "num_workers", 0,
    "0: one run over all input files, as the original. N >= 1: every input "
    "file is a shard run on its own (seed --random_seed + shard index, its "
    "own output file), N shards at a time in parallel processes.",
    **script_io.OVERRIDABLE)

FLAGS = flags.FLAGS

# Special tokens the instances are built from ([UNK] for unknown words).
_SPECIAL_TOKENS = ("[UNK]", "[CLS]", "[SEP]", "[MASK]")

# How many instances the end of a run logs in full, as the original.
_NUM_LOGGED_EXAMPLES = 20

# Seconds between progress lines.
_PROGRESS_EVERY_SECONDS = 10.0

# Below this many draws left, a shuffle takes its words one at a time: a
# bulk fetch costs about as much as several single ones.
_MIN_WORDS_IN_BULK = 8

# A float32 1.0 as protobuf stores it (little-endian).
_FLOAT_ONE = struct.pack("<f", 1.0)

# The order of the features in every Example.
_FEATURE_NAMES = ("input_ids", "input_mask", "segment_ids",
                  "masked_lm_positions", "masked_lm_ids", "masked_lm_weights",
                  "next_sentence_labels")


# ----------------------------------------------------------------------------
# The path `main` runs, on token ids.


# The settings of a run over one shard (or all inputs): the flags of the same
# names and the tokenizer's keyword arguments, plain values that pickle into
# a worker process.
DataSettings = collections.namedtuple("DataSettings", [
    "vocab_file", "do_lower_case", "tokenizer_options", "do_whole_word_mask",
    "max_seq_length", "max_predictions_per_seq", "random_seed",
    "dupe_factor", "masked_lm_prob", "short_seq_prob"
])


def main(_):
  tf.logging.set_verbosity(tf.logging.INFO)
  validate_flags_or_throw()
  input_files = script_io.expand_file_patterns(FLAGS.input_file,
                                               "input_file")
  settings = DataSettings(
      vocab_file=FLAGS.vocab_file, do_lower_case=FLAGS.do_lower_case,
      tokenizer_options=script_io.tokenizer_options(FLAGS),
      do_whole_word_mask=FLAGS.do_whole_word_mask,
      max_seq_length=FLAGS.max_seq_length,
      max_predictions_per_seq=FLAGS.max_predictions_per_seq,
      random_seed=FLAGS.random_seed, dupe_factor=FLAGS.dupe_factor,
      masked_lm_prob=FLAGS.masked_lm_prob,
      short_seq_prob=FLAGS.short_seq_prob)
  tokenizer = _make_tokenizer(settings)
  output_files = [f for f in FLAGS.output_file.split(",") if f]
  if FLAGS.num_workers:
    _run_shards(input_files, output_files, settings, FLAGS.num_workers)
  else:
    _run_one(FLAGS.input_file, input_files, output_files, tokenizer,
             settings)


def validate_flags_or_throw():
  """Reads FLAGS; raises InputError naming a value that cannot work.

  The original's other values stay accepted: `--max_predictions_per_seq=0`
  (instances without masked-LM targets) and `--num_workers=0` (one run).
  """
  # [CLS] A [SEP] B [SEP] with A and B of one token each.
  if FLAGS.max_seq_length < 5:
    raise script_io.InputError(
        "--max_seq_length=%d: must be at least 5 to hold "
        "[CLS] A [SEP] B [SEP]" % FLAGS.max_seq_length)
  for name in ("masked_lm_prob", "short_seq_prob"):
    if not 0.0 <= FLAGS[name].value <= 1.0:
      raise script_io.InputError(
          "--%s=%s: must be between 0 and 1" % (name, FLAGS[name].value))
  if FLAGS.dupe_factor < 1:
    raise script_io.InputError(
        "--dupe_factor=%d: must be at least 1 (the number of passes over "
        "the input)" % FLAGS.dupe_factor)
  for name in ("max_predictions_per_seq", "num_workers"):
    if FLAGS[name].value < 0:
      raise script_io.InputError("--%s=%d: must not be negative" %
                                 (name, FLAGS[name].value))
  _check_output_files([f for f in FLAGS.output_file.split(",") if f])


def _check_output_files(output_files):
  """Raises InputError unless each of `output_files` can be written once."""
  if not output_files:
    raise script_io.InputError("--output_file: no file name given")
  seen = set()
  for output_file in output_files:
    script_io.check_output_file(output_file, "output_file")
    key = output_file if "://" in output_file else os.path.abspath(
        output_file)
    if key in seen:
      # The second file would replace the first, losing its instances.
      raise script_io.InputError(
          "--output_file: %s is named twice" % output_file)
    seen.add(key)


def _make_tokenizer(settings):
  """The `FullTokenizer` of `settings`, checked to hold the special tokens."""
  tokenizer = tokenization.FullTokenizer(
      vocab_file=settings.vocab_file, do_lower_case=settings.do_lower_case,
      **settings.tokenizer_options)
  missing = [t for t in _SPECIAL_TOKENS if t not in tokenizer.vocab]
  if missing:
    raise script_io.InputError(
        "--vocab_file=%s: the vocab lacks %s" %
        (settings.vocab_file, ", ".join(missing)))
  return tokenizer


def _run_one(input_flag, input_files, output_files, tokenizer, settings):
  """The original's main: one run over `input_files`.

  Args:
    input_flag: the --input_file value `input_files` come from, for errors.
    input_files: the text files to read, in order.
    output_files: the TFRecord files to write, round-robin.
    tokenizer: the `FullTokenizer` of `settings`.
    settings: `DataSettings` of the run.
  """
  tf.logging.info("*** Reading from input files ***")
  for input_file in input_files:
    tf.logging.info("  %s", input_file)
  start = time.time()
  all_documents = _read_documents(input_files, tokenizer)
  if not all_documents:
    raise script_io.InputError(
        "--input_file=%s: no document (every line is empty or tokenizes to "
        "nothing)" % input_flag)
  tf.logging.info("Read %d documents (%d sentences) in %.1f s",
                  len(all_documents), sum(len(d) for d in all_documents),
                  time.time() - start)

  rng = _draws_of(random.Random(settings.random_seed))
  masking = _MaskingVocab.of_ids(tokenizer.vocab,
                                 settings.do_whole_word_mask)
  serializer = _ExampleSerializer(settings.max_seq_length,
                                  settings.max_predictions_per_seq,
                                  max(tokenizer.inv_vocab) + 1)
  with _garbage_collection_paused():
    records = [serializer.serialize(*instance) for instance in
               _create_instances(all_documents, settings.max_seq_length,
                                 settings.dupe_factor,
                                 settings.short_seq_prob,
                                 settings.masked_lm_prob,
                                 settings.max_predictions_per_seq, masking,
                                 rng)]
  del all_documents
  rng.shuffle(records)
  tf.logging.info("Created %d instances in %.1f s (%.0f/s)", len(records),
                  time.time() - start,
                  len(records) / max(time.time() - start, 1e-9))

  tf.logging.info("*** Writing to output files ***")
  for output_file in output_files:
    tf.logging.info("  %s", output_file)
  _write_records(records, output_files)
  _log_examples(records[:_NUM_LOGGED_EXAMPLES], tokenizer.inv_vocab)
  tf.logging.info("Wrote %d total instances", len(records))


@contextlib.contextmanager
def _garbage_collection_paused():
  """Pauses the cycle collector, which would rescan the tokenizer's caches.

  Making instances creates and frees many lists but no reference cycles, so
  nothing is left for the collector to find.
  """
  was_enabled = gc.isenabled()
  gc.disable()
  try:
    yield
  finally:
    if was_enabled:
      gc.enable()


def _read_documents(input_files, tokenizer):
  """Reads and tokenizes the documents of `input_files`.

  Returns:
    A list of documents, each a list of sentences, each an `array` of token
    ids; documents with no sentence are dropped.
  """
  vocab = tokenizer.vocab
  typecode = "H" if max(vocab.values()) < (1 << 16) else "i"
  # Quirk of the original: documents are not reset between files, so a file
  # that does not end with an empty line continues into the next file.
  all_documents = [[]]
  progress = script_io.ProgressLog("Read %d documents (%d sentences)",
                                   "documents",
                                   every_seconds=_PROGRESS_EVERY_SECONDS)
  num_sentences = 0
  for input_file in input_files:
    # Lines as GFile.readline gives them: split on "\n" only, "\r" dropped.
    for line in script_io.iter_text_lines(input_file):
      # Quirk of the original: a line that strips to nothing (`str.strip`)
      # ends a document; a non-empty line that tokenizes to nothing (say,
      # only U+200B) is skipped without ending it.
      line = line.strip()
      if not line:
        all_documents.append([])
        progress.update(len(all_documents), num_sentences)
        continue
      tokens = tokenizer.tokenize(line)
      if tokens:
        all_documents[-1].append(
            array.array(typecode, map(vocab.__getitem__, tokens)))
        num_sentences += 1
  return [document for document in all_documents if document]


def _create_instances(all_documents, max_seq_length, dupe_factor,
                      short_seq_prob, masked_lm_prob, max_predictions_per_seq,
                      masking, rng):
  """Yields the compact instances of the documents, before the final shuffle.

  Shuffles `all_documents` in place first, as the original.

  Yields:
    Tuples (token_ids, num_segment_a, masked_lm_positions, masked_lm_ids,
    is_random_next).
  """
  rng.shuffle(all_documents)
  progress = script_io.ProgressLog(
      "Created %d instances, document %d of %d, dupe %d", "instances",
      every_seconds=_PROGRESS_EVERY_SECONDS)
  count = 0
  for dupe in range(dupe_factor):
    for document_index in range(len(all_documents)):
      for instance in _instances_from_document(
          all_documents, document_index, max_seq_length, short_seq_prob,
          masked_lm_prob, max_predictions_per_seq, masking, rng):
        count += 1
        yield instance
      progress.update(count, document_index + 1, len(all_documents),
                      dupe + 1)


def _instances_from_document(all_documents, document_index, max_seq_length,
                             short_seq_prob, masked_lm_prob,
                             max_predictions_per_seq, masking, rng):
  """The original's instances of one document, in compact form.

  Works on tokens as strings or as ids (`masking` says which).

  Returns:
    A list of tuples (tokens, num_segment_a, masked_lm_positions,
    masked_lm_labels, is_random_next).
  """
  document = all_documents[document_index]
  # Account for [CLS], [SEP], [SEP].
  max_num_tokens = max_seq_length - 3

  # Sometimes shorter, as fine-tuning inputs often are. Quirk of the
  # original: the target length is drawn once per document, not per sequence.
  target_seq_length = max_num_tokens
  if rng.random() < short_seq_prob:
    target_seq_length = rng.randint(2, max_num_tokens)

  instances = []
  current_chunk = []
  current_length = 0
  i = 0
  while i < len(document):
    segment = document[i]
    current_chunk.append(segment)
    current_length += len(segment)
    if i == len(document) - 1 or current_length >= target_seq_length:
      # `a_end` is how many sentences of the chunk go into segment A.
      a_end = 1
      if len(current_chunk) >= 2:
        a_end = rng.randint(1, len(current_chunk) - 1)
      tokens_a = []
      for j in range(a_end):
        tokens_a.extend(current_chunk[j])

      tokens_b = []
      # Quirk of the original: a one-sentence chunk always gets a random
      # next segment, and the coin is not drawn for it.
      is_random_next = len(current_chunk) == 1 or rng.random() < 0.5
      if is_random_next:
        target_b_length = target_seq_length - len(tokens_a)
        # Up to 10 tries for another document (with one document in the
        # corpus, it ends up being this one).
        for _ in range(10):
          random_document_index = rng.randint(0, len(all_documents) - 1)
          if random_document_index != document_index:
            break
        random_document = all_documents[random_document_index]
        random_start = rng.randint(0, len(random_document) - 1)
        for j in range(random_start, len(random_document)):
          tokens_b.extend(random_document[j])
          if len(tokens_b) >= target_b_length:
            break
        # The chunk's sentences after A were not used: put them back so the
        # next chunk starts with them.
        i -= len(current_chunk) - a_end
      else:
        for j in range(a_end, len(current_chunk)):
          tokens_b.extend(current_chunk[j])
      _truncate_seq_pair(tokens_a, tokens_b, max_num_tokens, rng)

      tokens = [masking.cls] + tokens_a + [masking.sep] + tokens_b + [
          masking.sep]
      (tokens, masked_lm_positions,
       masked_lm_labels) = _mask_tokens(tokens, masked_lm_prob,
                                        max_predictions_per_seq, masking, rng)
      instances.append((tokens, len(tokens_a) + 2, masked_lm_positions,
                        masked_lm_labels, is_random_next))
      current_chunk = []
      current_length = 0
    i += 1
  return instances


def _candidate_indexes(tokens, masking):
  """The positions masking may pick: lists of a word's pieces, or ints."""
  cls, sep = masking.cls, masking.sep
  if masking.do_whole_word_mask:
    # A word is a token and the `##` pieces after it: its pieces are masked
    # together or not at all.
    starts_word = masking.starts_word
    cand_indexes = []
    for (i, token) in enumerate(tokens):
      if token == cls or token == sep:
        continue
      if cand_indexes and not starts_word(token):
        cand_indexes[-1].append(i)
      else:
        cand_indexes.append([i])
    return cand_indexes
  # Single positions as ints: `shuffle` draws the same numbers for them as
  # for the original's one-element lists.
  if (tokens[0] == cls and tokens[-1] == sep and
      tokens.count(cls) + tokens.count(sep) == 3):
    # The usual [CLS] A [SEP] B [SEP], without special tokens inside A or B.
    middle = tokens.index(sep)
    return list(range(1, middle)) + list(range(middle + 1, len(tokens) - 1))
  return [i for (i, token) in enumerate(tokens)
          if token != cls and token != sep]


def _mask_tokens(tokens, masked_lm_prob, max_predictions_per_seq, masking,
                 rng):
  """Masks `tokens` (strings or ids) as the original.

  Returns:
    (output_tokens, masked_lm_positions, masked_lm_labels), the positions
    ascending.
  """
  cand_indexes = _candidate_indexes(tokens, masking)
  rng.shuffle(cand_indexes)
  # Quirk of the original: Python 3's `round` rounds halves to even.
  num_to_predict = min(max_predictions_per_seq,
                       max(1, int(round(len(tokens) * masked_lm_prob))))

  # Which positions are masked does not depend on the draws below, so they
  # are chosen first; the draws are then made in the original's order.
  if masking.do_whole_word_mask:
    chosen = []
    for index_set in cand_indexes:
      if len(chosen) >= num_to_predict:
        break
      # Quirk of the original: a word that would overshoot the budget is
      # skipped and a later, shorter one may still fit. (The original also
      # skips words already covered; the words here never overlap.)
      if len(chosen) + len(index_set) <= num_to_predict:
        chosen.extend(index_set)
  else:
    chosen = cand_indexes[:num_to_predict]

  output_tokens = list(tokens)
  random_draw = rng.random
  replacements = masking.replacements
  for index in chosen:
    # 80% of the time, replace with [MASK]; 10% keep the original token;
    # 10% replace with a random vocab token (specials included).
    if random_draw() < 0.8:
      output_tokens[index] = masking.mask
    elif random_draw() >= 0.5:
      output_tokens[index] = replacements[rng.randint(
          0, len(replacements) - 1)]
  masked_lm_positions = sorted(chosen)
  masked_lm_labels = [tokens[index] for index in masked_lm_positions]
  return (output_tokens, masked_lm_positions, masked_lm_labels)


def _truncate_seq_pair(tokens_a, tokens_b, max_num_tokens, rng):
  """Cuts the longer list (B on a tie), from the front or back at random.

  Cutting at the front adds noise (so segment B can begin with a `##`
  piece). One draw per token removed, as the original; the cuts are counted
  first and made at the end, instead of one `del` at a time.
  """
  random_draw = rng.random
  length_a, length_b = len(tokens_a), len(tokens_b)
  front_a = back_a = front_b = back_b = 0
  while length_a + length_b > max_num_tokens:
    if length_a > length_b:
      length_a -= 1
      if random_draw() < 0.5:
        front_a += 1
      else:
        back_a += 1
    else:
      length_b -= 1
      if random_draw() < 0.5:
        front_b += 1
      else:
        back_b += 1
  del tokens_a[len(tokens_a) - back_a:]
  del tokens_a[:front_a]
  del tokens_b[len(tokens_b) - back_b:]
  del tokens_b[:front_b]


class _FastDraws(object):
  """The draws of a `random.Random`, with quicker `randint` and `shuffle`.

  `random.Random` is a Mersenne Twister of 32-bit words. `randint` and
  `shuffle` draw below a bound n by rejection: `getrandbits(k)` (the top k
  bits of one word, k = n.bit_length()) until the result is below n
  (CPython 3.7 to 3.13 alike). Here that loop is inlined, and `shuffle`
  takes its words from `getrandbits(32 * count)` (the next `count` words,
  the first one lowest), fetching only as many words as draws remain, so
  the generator never runs ahead: the generator and this object can be used
  in turn, as the original uses the generator.
  """

  # Typecode of a 32-bit unsigned array item.
  _WORD_TYPECODE = "I" if array.array("I").itemsize == 4 else "L"

  def __init__(self, rng):
    self.random = rng.random
    self._getrandbits = rng.getrandbits
    # Per bound n = i + 1 of a shuffle step i: the shift taking a word to
    # getrandbits(n.bit_length()), and the first word whose draw is >= n.
    self._shifts = [0]
    self._limits = [0]

  def randint(self, a, b):
    """Returns the next `random.Random.randint(a, b)`."""
    return a + self._below(b - a + 1)

  def _below(self, bound):
    """Returns the next `random.Random._randbelow(bound)`."""
    bits = bound.bit_length()
    value = self._getrandbits(bits)
    while value >= bound:
      value = self._getrandbits(bits)
    return value

  def _words(self, count):
    """The next `count` 32-bit words of the generator, in order."""
    words = array.array(self._WORD_TYPECODE, self._getrandbits(
        32 * count).to_bytes(4 * count, "little"))
    if sys.byteorder == "big":
      words.byteswap()
    return words

  def shuffle(self, x):
    """Shuffles the list `x` in place as `random.Random.shuffle`."""
    shifts, limits = self._shifts, self._limits
    for bound in range(len(limits) + 1, len(x) + 1):
      shift = 32 - bound.bit_length()
      shifts.append(shift)
      limits.append(bound << shift)
    i = len(x) - 1
    while i > _MIN_WORDS_IN_BULK:
      # Each of the i draws left takes at least one word: fetching i words
      # never takes a word the original would not. Rejected words (about a
      # quarter) leave draws for the next round.
      for word in self._words(i):
        if word < limits[i]:
          j = word >> shifts[i]
          x[i], x[j] = x[j], x[i]
          i -= 1
    getrandbits = self._getrandbits
    while i > 0:
      bound = i + 1
      bits = 32 - shifts[i]
      j = getrandbits(bits)
      while j >= bound:
        j = getrandbits(bits)
      x[i], x[j] = x[j], x[i]
      i -= 1


def _draws_of(rng):
  """`rng` with quick `randint` and `shuffle` when it is a `random.Random`."""
  if type(rng) is random.Random:  # pylint: disable=unidiomatic-typecheck
    return _FastDraws(rng)
  return rng


class _MaskingVocab(object):
  """What masking needs to know about tokens, as strings or as ids.

  Attributes:
    cls, sep, mask: the `[CLS]`, `[SEP]` and `[MASK]` tokens.
    replacements: the tokens a random replacement picks from: the whole
      vocab in its key order, specials included, as the original.
    starts_word: function from a token to False for a `##` piece.
    do_whole_word_mask: whether a word's pieces are masked together.
  """

  def __init__(self, cls, sep, mask, replacements, starts_word,
               do_whole_word_mask):
    self.cls = cls
    self.sep = sep
    self.mask = mask
    self.replacements = replacements
    self.starts_word = starts_word
    self.do_whole_word_mask = do_whole_word_mask

  @classmethod
  def of_strings(cls, vocab_words, do_whole_word_mask):
    return cls("[CLS]", "[SEP]", "[MASK]", vocab_words,
               lambda token: not token.startswith("##"), do_whole_word_mask)

  @classmethod
  def of_ids(cls, vocab, do_whole_word_mask):
    """Masking over the ids of `vocab` (an ordered token -> id dict)."""
    starts_word = bytearray(max(vocab.values()) + 1)
    for token, token_id in vocab.items():
      starts_word[token_id] = not token.startswith("##")
    return cls(vocab["[CLS]"], vocab["[SEP]"], vocab["[MASK]"],
               list(vocab.values()), starts_word.__getitem__,
               do_whole_word_mask)


class _ExampleSerializer(object):
  """Serializes instances as `tf.train.Example`s, the bytes built by hand.

  The bytes are `script_io.serialize_example_in_order`'s for the features in
  `_FEATURE_NAMES` order, made from the same pieces; those that do not
  depend on the instance (varints, feature heads) are made once.
  """

  def __init__(self, max_seq_length, max_predictions_per_seq, vocab_size):
    self.max_seq_length = max_seq_length
    self.max_predictions_per_seq = max_predictions_per_seq
    # The varints of every id and position.
    self._varints = [script_io.varint(value)
                     for value in range(max(vocab_size, max_seq_length))]
    self._heads = {}

  def _encode_ints(self, values):
    """The packed varints of `values`."""
    try:
      return b"".join(map(self._varints.__getitem__, values))
    except IndexError:
      return b"".join(script_io.varint(value) for value in values)

  def _head(self, name, list_tag, length):
    """The bytes of a feature's map entry before its `length` value bytes.

    Args:
      name: the feature name.
      list_tag: `script_io.INT64_LIST` or `script_io.FLOAT_LIST`.
      length: the length of the packed values.
    """
    head = self._heads.get((name, length))
    if head is None:
      feature_head = script_io.packed_list_feature_head(list_tag, length)
      head = script_io.feature_entry_head(
          name, len(feature_head) + length) + feature_head
      self._heads[(name, length)] = head
    return head

  def serialize(self, token_ids, num_segment_a, positions, label_ids,
                is_random_next):
    """Returns the serialized Example of one instance.

    Args:
      token_ids: the ids of `[CLS] A [SEP] B [SEP]`, after masking.
      num_segment_a: how many leading tokens have segment id 0.
      positions: the masked positions, ascending.
      label_ids: the original ids at `positions`.
      is_random_next: whether B is a random segment.

    Returns:
      bytes.
    """
    max_seq_length = self.max_seq_length
    max_predictions = self.max_predictions_per_seq
    num_tokens = len(token_ids)
    num_predictions = len(positions)
    padding = b"\x00" * (max_seq_length - num_tokens)
    unused = b"\x00" * (max_predictions - num_predictions)
    input_ids = self._encode_ints(token_ids) + padding
    positions_bytes = self._encode_ints(positions) + unused
    label_bytes = self._encode_ints(label_ids) + unused
    ints, floats = script_io.INT64_LIST, script_io.FLOAT_LIST
    entries = b"".join((
        self._head("input_ids", ints, len(input_ids)), input_ids,
        self._head("input_mask", ints, max_seq_length),
        b"\x01" * num_tokens, padding,
        self._head("segment_ids", ints, max_seq_length),
        b"\x00" * num_segment_a, b"\x01" * (num_tokens - num_segment_a),
        padding,
        self._head("masked_lm_positions", ints, len(positions_bytes)),
        positions_bytes,
        self._head("masked_lm_ids", ints, len(label_bytes)), label_bytes,
        self._head("masked_lm_weights", floats, 4 * max_predictions),
        _FLOAT_ONE * num_predictions, unused * 4,
        self._head("next_sentence_labels", ints, 1),
        b"\x01" if is_random_next else b"\x00"))
    return script_io.example_from_entries(entries)


def _write_records(records, output_files):
  """Writes `records` round-robin to `output_files`, each complete or not.

  Logs progress (records written, records/s) every few seconds.
  """
  if not records:
    raise script_io.InputError(
        "--output_file=%s: no instance to write; the files are left as they "
        "were" % ",".join(output_files))
  with contextlib.ExitStack() as temp_files:
    # Each output is renamed into place when the stack closes without an
    # error; on any error every temporary file is removed.
    writers = []
    try:
      for output_file in output_files:
        writers.append(tf.io.TFRecordWriter(
            temp_files.enter_context(script_io.atomic_path(output_file))))
      progress = script_io.ProgressLog(
          "Wrote %%d of %d instances" % len(records), "instances",
          total=len(records), every_seconds=_PROGRESS_EVERY_SECONDS)
      for index, record in enumerate(records):
        writers[index % len(writers)].write(record)
        progress.update(index + 1)
    finally:
      for writer in writers:
        writer.close()


def _log_examples(records, inv_vocab):
  """Logs serialized Examples in the form the original logs instances."""
  for record in records:
    example = tf.train.Example.FromString(record)
    feature = example.features.feature
    num_tokens = sum(feature["input_mask"].int64_list.value)
    tf.logging.info("*** Example ***")
    tf.logging.info("tokens: %s" % " ".join(
        tokenization.printable_text(inv_vocab[token_id]) for token_id in
        feature["input_ids"].int64_list.value[:num_tokens]))
    for name in _FEATURE_NAMES:
      values = (feature[name].int64_list.value or
                feature[name].float_list.value)
      tf.logging.info("%s: %s" % (name, " ".join([str(x) for x in values])))


def _shard_outputs(shards, output_files):
  """The output file of each shard."""
  if len(output_files) == len(shards):
    return output_files
  if len(output_files) == 1:
    return ["%s-%05d-of-%05d" % (output_files[0], i, len(shards))
            for i in range(len(shards))]
  raise script_io.InputError(
      "--output_file: give one name per input shard (%d) or a single name "
      "to number, not %d names" % (len(shards), len(output_files)))


def _run_shards(input_files, output_files, settings, num_workers):
  """Runs each input file as its own shard, `num_workers` at a time.

  Shard i runs in a worker process with `settings.random_seed` + i.
  """
  shards = sorted(set(input_files))
  outputs = _shard_outputs(shards, output_files)
  tf.logging.info("*** %d shards on %d workers ***", len(shards),
                  num_workers)
  # A fresh interpreter per worker: forking a process that has started
  # TensorFlow's threads can hang the child.
  context = multiprocessing.get_context("spawn")
  pending = [(index, shard, output_file,
              settings._replace(random_seed=settings.random_seed + index))
             for (index, (shard, output_file)) in
             enumerate(zip(shards, outputs))]
  running = []
  start = time.time()
  try:
    while pending or running:
      while pending and len(running) < num_workers:
        running.append(_start_shard(context, pending.pop(0)))
      time.sleep(0.05)
      for job in [job for job in running if not job[3].is_alive()]:
        running.remove(job)
        _finish_shard(job)
        tf.logging.info("Shard %d (%s) done: %d of %d shards, %.1f s",
                        job[0], job[1], len(shards) - len(pending) -
                        len(running), len(shards), time.time() - start)
  finally:
    _stop_shards(running)


def _start_shard(context, shard_job):
  """Starts a worker on `shard_job` (index, shard, output_file, settings).

  Returns:
    (index, shard, output_file, process, connection the worker sends its
    result on).
  """
  (index, shard, output_file, settings) = shard_job
  (receiver, sender) = context.Pipe(duplex=False)
  process = context.Process(target=_run_shard,
                            args=(shard, output_file, settings, sender))
  process.start()
  sender.close()
  return (index, shard, output_file, process, receiver)


def _run_shard(shard, output_file, settings, sender):
  """A worker's run over one shard; sends None, or its error in one line."""
  # The parent logs each shard's end; a worker logs only warnings.
  tf.logging.set_verbosity(tf.logging.WARN)
  error = None
  try:
    _run_one(shard, [shard], [output_file], _make_tokenizer(settings),
             settings)
  except Exception as e:  # pylint: disable=broad-except
    error = script_io.one_line_message(e)
  sender.send(error)
  sender.close()


def _finish_shard(job):
  """Raises InputError if the finished shard `job` failed."""
  (index, shard, _, process, receiver) = job
  process.join()
  try:
    error = receiver.recv()
  except EOFError:
    error = "exit status %d" % process.exitcode
  receiver.close()
  if error is not None:
    raise script_io.InputError("shard %d (%s) failed: %s" %
                               (index, shard, error))


def _stop_shards(running):
  """Stops the workers of `running` and removes their partial outputs."""
  for (_, _, output_file, process, receiver) in running:
    process.terminate()
    process.join()
    receiver.close()
    # A stopped worker may leave a half-written temporary file: asking for a
    # temporary name removes those of processes that are gone.
    script_io.temporary_path(output_file)


# ----------------------------------------------------------------------------
# The original's API, for code that imports this module: each function gives
# the original's results, by way of the path above.


class TrainingInstance(object):
  """A single training instance (sentence pair)."""

  def __init__(self, tokens, segment_ids, masked_lm_positions,
               masked_lm_labels, is_random_next):
    self.tokens = tokens
    self.segment_ids = segment_ids
    self.is_random_next = is_random_next
    self.masked_lm_positions = masked_lm_positions
    self.masked_lm_labels = masked_lm_labels

  def __str__(self):
    s = ""
    s += "tokens: %s\n" % (" ".join(
        [tokenization.printable_text(x) for x in self.tokens]))
    s += "segment_ids: %s\n" % (" ".join([str(x) for x in self.segment_ids]))
    s += "is_random_next: %s\n" % self.is_random_next
    s += "masked_lm_positions: %s\n" % (" ".join(
        [str(x) for x in self.masked_lm_positions]))
    s += "masked_lm_labels: %s\n" % (" ".join(
        [tokenization.printable_text(x) for x in self.masked_lm_labels]))
    s += "\n"
    return s

  def __repr__(self):
    return self.__str__()


def write_instance_to_example_files(instances, tokenizer, max_seq_length,
                                    max_predictions_per_seq, output_files):
  """Create TF example files from `TrainingInstance`s."""
  serializer = _ExampleSerializer(max_seq_length, max_predictions_per_seq,
                                  max(tokenizer.inv_vocab) + 1)
  records = []
  for instance in instances:
    token_ids = tokenizer.convert_tokens_to_ids(instance.tokens)
    if len(token_ids) > max_seq_length:
      raise ValueError("An instance has %d tokens, more than max_seq_length "
                       "%d." % (len(token_ids), max_seq_length))
    records.append(serializer.serialize(
        token_ids, list(instance.segment_ids).count(0),
        instance.masked_lm_positions,
        tokenizer.convert_tokens_to_ids(instance.masked_lm_labels),
        instance.is_random_next))
  _write_records(records, output_files)
  _log_examples(records[:_NUM_LOGGED_EXAMPLES], tokenizer.inv_vocab)
  tf.logging.info("Wrote %d total instances", len(records))


create_int_feature = script_io.int64_feature
create_float_feature = script_io.float_feature


def create_training_instances(input_files, tokenizer, max_seq_length,
                              dupe_factor, short_seq_prob, masked_lm_prob,
                              max_predictions_per_seq, rng):
  """Create `TrainingInstance`s from raw text."""
  all_documents = _read_documents(input_files, tokenizer)
  masking = _MaskingVocab.of_ids(tokenizer.vocab, _whole_word_mask_flag())
  draws = _draws_of(rng)
  instances = []
  for compact in _create_instances(all_documents, max_seq_length, dupe_factor,
                                   short_seq_prob, masked_lm_prob,
                                   max_predictions_per_seq, masking, draws):
    instances.append(_expand_instance(compact, tokenizer.inv_vocab))
  draws.shuffle(instances)
  return instances


def _expand_instance(compact, inv_vocab):
  """A `TrainingInstance` of strings from a compact instance of ids."""
  (token_ids, num_segment_a, positions, label_ids, is_random_next) = compact
  return TrainingInstance(
      tokens=tokenization.convert_ids_to_tokens(inv_vocab, token_ids),
      segment_ids=[0] * num_segment_a + [1] * (len(token_ids) -
                                               num_segment_a),
      masked_lm_positions=positions,
      masked_lm_labels=tokenization.convert_ids_to_tokens(inv_vocab,
                                                          label_ids),
      is_random_next=is_random_next)


def create_instances_from_document(
    all_documents, document_index, max_seq_length, short_seq_prob,
    masked_lm_prob, max_predictions_per_seq, vocab_words, rng):
  """Creates `TrainingInstance`s for a single document."""
  masking = _MaskingVocab.of_strings(vocab_words, _whole_word_mask_flag())
  instances = []
  for (tokens, num_segment_a, positions, labels,
       is_random_next) in _instances_from_document(
           all_documents, document_index, max_seq_length, short_seq_prob,
           masked_lm_prob, max_predictions_per_seq, masking, _draws_of(rng)):
    instances.append(TrainingInstance(
        tokens=tokens,
        segment_ids=[0] * num_segment_a + [1] * (len(tokens) - num_segment_a),
        masked_lm_positions=positions,
        masked_lm_labels=labels,
        is_random_next=is_random_next))
  return instances


def create_masked_lm_predictions(tokens, masked_lm_prob,
                                 max_predictions_per_seq, vocab_words, rng):
  """Creates the predictions for the masked LM objective."""
  masking = _MaskingVocab.of_strings(vocab_words, _whole_word_mask_flag())
  return _mask_tokens(tokens, masked_lm_prob, max_predictions_per_seq, masking,
                      _draws_of(rng))


def truncate_seq_pair(tokens_a, tokens_b, max_num_tokens, rng):
  """Truncates a pair of sequences to a maximum sequence length."""
  _truncate_seq_pair(tokens_a, tokens_b, max_num_tokens, _draws_of(rng))


def _whole_word_mask_flag():
  """--do_whole_word_mask, or its default when flags are not parsed.

  Quirk of the original: its functions read this flag themselves.
  """
  # Reads FLAGS, as the original does.
  return FLAGS["do_whole_word_mask"].value


if __name__ == "__main__":
  flags.mark_flag_as_required("input_file")
  flags.mark_flag_as_required("output_file")
  flags.mark_flag_as_required("vocab_file")
  script_io.run(main)
