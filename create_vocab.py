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
"""Learns a WordPiece vocabulary (`vocab.txt`) from plain text files.

The original repository does not include this step; it points at other
libraries. Here it is one script whose output `FullTokenizer` reads directly:

  python create_vocab.py --input_file=sample_text.txt \
      --output_file=/tmp/vocab.txt --vocab_size=4000 --num_unused=10

The file it writes holds, one token per line (the line number is the id):

  1. the specials `[PAD]` (id 0, the id every script pads with), `[UNK]`,
     `[CLS]`, `[SEP]`, `[MASK]` (ids 1-4), then `[unused0]` ...
     `[unusedN-1]` (`--num_unused`), slots a user can later rename to add
     tokens without resizing a checkpoint;
  2. every character of the corpus, first as a word start (`a`), then as a
     continuation (`##a`), most frequent first, so no word of the corpus
     becomes `[UNK]` (except words longer than the tokenizer's limit of 200
     characters); with `--add_ascii_characters` (the default), also the
     printable ASCII characters the corpus lacks (such as a digit), so that
     numbers and words of later text do not become `[UNK]` either;
  3. the learned pieces, in the order they were learned: whole-word starts
     (`the`) and continuations (`##ing`).

Google's English vocabs order the specials differently (`[PAD]`,
`[unused0]`-`[unused98]`, `[UNK]`, `[CLS]`, `[SEP]`, `[MASK]`, then the
other unused slots); tokenization only needs each special to exist, so both
orders work with every script.

Algorithm. The text goes through the same `tokenization.BasicTokenizer`
(with the same `--do_lower_case`) that `FullTokenizer` runs before
WordPiece, so the vocabulary is learned on exactly the words the tokenizer
will look up. Each distinct word starts as its characters, `w ##o ##r ##d`;
then, repeatedly, the adjacent pair of symbols seen most often in the corpus
(word counts included) is merged into one new symbol (`w` + `##o` -> `wo`,
`##o` + `##r` -> `##or`), which becomes a vocabulary entry. Ties are broken
by the pair's text order, so the same input always gives the same file. It
stops at `--vocab_size` entries, or when no pair occurs `--min_frequency`
times.

How it compares with Google's vocabs: those were built with Google's own
WordPiece implementation, which chooses pieces that maximize the likelihood
of the training data under a unigram language model of pieces (it was not
released). The merge counting used here is byte-pair encoding (BPE) adapted
to the `##` convention, the usual open approximation (other open WordPiece
trainers do the same, some scoring a pair by its count divided by the counts
of its parts). The learned sets differ in detail but serve the same purpose:
frequent words are single pieces, rare words are split into frequent
sub-words, and the greedy longest-match `WordpieceTokenizer` can tokenize any
word made of seen characters. As with Google's vocabs, the tokenizer's
greedy segmentation is not always the merge sequence that created a piece.
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import collections
import heapq

from absl import flags
import tensorflow.compat.v1 as tf

import script_io
import tokenization

FLAGS = flags.FLAGS

flags.DEFINE_string(
    "input_file", None,
    "Input text files (comma-separated globs), e.g. the pre-training corpus.",
    **script_io.OVERRIDABLE)

flags.DEFINE_string("output_file", None, "Where to write the vocab.txt.",
                    **script_io.OVERRIDABLE)

flags.DEFINE_integer(
    "vocab_size", 8000,
    "Wanted number of entries, specials and unused slots included. The "
    "vocab is smaller when the corpus runs out of pairs to merge.",
    **script_io.OVERRIDABLE)

flags.DEFINE_bool(
    "do_lower_case", True,
    "Whether to lower case the input text (and strip accents), as the "
    "tokenizer will with the same flag. Use the same value in every script.",
    **script_io.OVERRIDABLE)

script_io.define_tokenizer_flags()

flags.DEFINE_integer(
    "num_unused", 0,
    "Number of [unusedN] slots after the special tokens.",
    **script_io.OVERRIDABLE)

flags.DEFINE_bool(
    "add_ascii_characters", True,
    "Also give each printable ASCII character (upper-case letters only "
    "without --do_lower_case) an entry and a ## entry when the corpus lacks "
    "it, so that digits or letters missing from the corpus do not make "
    "later text [UNK].",
    **script_io.OVERRIDABLE)

flags.DEFINE_integer(
    "min_frequency", 2,
    "A pair of pieces seen fewer times than this in the corpus is not "
    "merged into a new entry.",
    **script_io.OVERRIDABLE)

SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
CONTINUATION_PREFIX = "##"

# Words longer than this become [UNK] in `WordpieceTokenizer` whatever the
# vocab holds (its `max_input_chars_per_word`), so they are not learned from.
MAX_WORD_CHARS = 200


def count_words(input_files, do_lower_case, strip_accents=None,
                never_split=None):
  """Counts the words `BasicTokenizer` makes of the lines of `input_files`.

  Args:
    input_files: list of paths of text files.
    do_lower_case, strip_accents, never_split: passed to `BasicTokenizer`.

  Returns:
    A `collections.Counter` from word to its number of occurrences.
  """
  basic_tokenizer = tokenization.BasicTokenizer(
      do_lower_case=do_lower_case, strip_accents=strip_accents,
      never_split=never_split)
  word_counts = collections.Counter()
  for input_file in input_files:
    for line in script_io.read_text_lines(input_file):
      word_counts.update(basic_tokenizer.tokenize(line))
  return word_counts


def initial_symbols(word):
  """Returns `word` as its characters, continuations marked with `##`."""
  return [word[0]] + [CONTINUATION_PREFIX + char for char in word[1:]]


def merge_symbols(first, second):
  """Returns the symbol made of adjacent `first` and `second`."""
  return first + second[len(CONTINUATION_PREFIX):]


class _PairCounter(object):
  """Counts adjacent symbol pairs over words, and merges the best pair.

  Keeps, for every pair, its count over the corpus (word counts included)
  and the words it occurs in, so that a merge only revisits those words. A
  heap orders pairs by (-count, pair): the most frequent first, ties in text
  order. Entries whose count has changed since they were pushed are skipped.
  """

  def __init__(self, word_counts):
    words = sorted(word_counts)
    self._symbols = [initial_symbols(word) for word in words]
    self._counts = [word_counts[word] for word in words]
    self._pair_counts = collections.defaultdict(int)
    self._pair_words = collections.defaultdict(set)
    for index in range(len(words)):
      self._update_pairs(index, +1)
    self._heap = [(-count, pair) for pair, count in self._pair_counts.items()]
    heapq.heapify(self._heap)

  def _update_pairs(self, index, sign):
    """Adds (sign=+1) or removes (-1) the pairs of word `index`.

    Returns:
      The set of pairs whose count changed.
    """
    symbols = self._symbols[index]
    pairs = set(zip(symbols, symbols[1:]))
    for pair in zip(symbols, symbols[1:]):
      self._pair_counts[pair] += sign * self._counts[index]
      if sign > 0:
        self._pair_words[pair].add(index)
    return pairs

  def pop_best_pair(self, min_frequency):
    """Returns the most frequent pair, or None if under `min_frequency`."""
    while self._heap:
      negative_count, pair = heapq.heappop(self._heap)
      count = self._pair_counts.get(pair, 0)
      if count != -negative_count:
        continue
      if count < max(min_frequency, 1):
        return None
      return pair
    return None

  def merge(self, pair):
    """Replaces every occurrence of `pair` with its merged symbol.

    Returns:
      The merged symbol.
    """
    new_symbol = merge_symbols(*pair)
    changed = set()
    for index in sorted(self._pair_words.pop(pair)):
      changed |= self._update_pairs(index, -1)
      self._symbols[index] = _merge_in_word(self._symbols[index], pair,
                                            new_symbol)
      changed |= self._update_pairs(index, +1)
    del self._pair_counts[pair]
    changed.discard(pair)
    for changed_pair in sorted(changed):
      count = self._pair_counts[changed_pair]
      if count > 0:
        heapq.heappush(self._heap, (-count, changed_pair))
      else:
        del self._pair_counts[changed_pair]
        self._pair_words.pop(changed_pair, None)
    return new_symbol


def _merge_in_word(symbols, pair, new_symbol):
  """Returns `symbols` with each occurrence of `pair`, left first, merged."""
  merged = []
  position = 0
  while position < len(symbols):
    if (position + 1 < len(symbols) and symbols[position] == pair[0] and
        symbols[position + 1] == pair[1]):
      merged.append(new_symbol)
      position += 2
    else:
      merged.append(symbols[position])
      position += 1
  return merged


def special_tokens(num_unused):
  """Returns the specials then `num_unused` [unusedN] slots."""
  return list(SPECIAL_TOKENS) + ["[unused%d]" % i for i in range(num_unused)]


def ascii_characters(do_lower_case):
  """Returns the printable ASCII characters `BasicTokenizer` can output."""
  chars = [chr(code) for code in range(33, 127)]
  if do_lower_case:
    chars = [char for char in chars if not char.isupper()]
  return chars


def character_tokens(word_counts, extra_characters=()):
  """Returns every character as a word start, then as a continuation.

  Characters of the corpus come first, by their count (most frequent first,
  ties by code point), then those of `extra_characters` the corpus lacks.
  """
  char_counts = collections.Counter()
  for word, count in word_counts.items():
    for char in word:
      char_counts[char] += count
  chars = sorted(char_counts, key=lambda char: (-char_counts[char], char))
  chars += sorted(set(extra_characters) - set(char_counts))
  return chars + [CONTINUATION_PREFIX + char for char in chars]


def learn_vocab(word_counts, vocab_size, num_unused=0, min_frequency=2,
                extra_characters=(), whole_tokens=()):
  """Learns a WordPiece vocabulary from word counts.

  Args:
    word_counts: dict from word (a `BasicTokenizer` token) to its count.
    vocab_size: wanted number of entries, specials included.
    num_unused: number of [unusedN] slots after the specials.
    min_frequency: a pair seen fewer times is never merged.
    extra_characters: characters to include (with their ## forms) even if
      the corpus lacks them.
    whole_tokens: strings the tokenizer keeps whole (its `never_split`):
      each is an entry after the specials, and is not learned from.

  Returns:
    The list of tokens; the index of each is its id. It has `vocab_size`
    entries or fewer (when no pair is frequent enough to merge).

  Raises:
    InputError: if there is no word to learn from, or `vocab_size` cannot
      hold the specials and characters.
  """
  specials = special_tokens(num_unused)
  specials += [token for token in dict.fromkeys(whole_tokens)
               if token not in specials]
  word_counts = {word: count for word, count in word_counts.items()
                 if 0 < len(word) <= MAX_WORD_CHARS and word not in specials}
  if not word_counts:
    raise script_io.InputError(
        "no word of at most %d characters to learn from (longer words are "
        "[UNK] to the tokenizer)" % MAX_WORD_CHARS)
  tokens = specials + character_tokens(word_counts, extra_characters)
  if vocab_size < len(tokens):
    raise script_io.InputError(
        "--vocab_size=%d is too small: the %d special, unused and "
        "--never_split tokens and the corpus's characters (with their ## "
        "forms) already take %d entries." % (vocab_size, len(specials),
                                              len(tokens)))
  known = set(tokens)
  pair_counter = _PairCounter(word_counts)
  while len(tokens) < vocab_size:
    pair = pair_counter.pop_best_pair(min_frequency)
    if pair is None:
      break
    new_symbol = pair_counter.merge(pair)
    if new_symbol not in known:
      known.add(new_symbol)
      tokens.append(new_symbol)
  return tokens


def validate_flags_or_throw():
  """Reads FLAGS; raises InputError for values that cannot work."""
  if FLAGS.vocab_size <= 0:
    raise script_io.InputError(
        "--vocab_size=%d must be positive." % FLAGS.vocab_size)
  if FLAGS.num_unused < 0:
    raise script_io.InputError(
        "--num_unused=%d must not be negative." % FLAGS.num_unused)
  num_special = len(special_tokens(FLAGS.num_unused))
  if FLAGS.vocab_size <= num_special:
    raise script_io.InputError(
        "--vocab_size=%d is too small: the %d special and unused tokens "
        "leave no room for the corpus's characters." %
        (FLAGS.vocab_size, num_special))
  script_io.check_output_file(FLAGS.output_file, "output_file")


def main(_):
  tf.logging.set_verbosity(tf.logging.INFO)
  validate_flags_or_throw()
  input_files = script_io.expand_file_patterns(FLAGS.input_file,
                                                     "input_file")
  tf.logging.info("*** Counting words in %d file(s) ***", len(input_files))
  options = script_io.tokenizer_options(FLAGS)
  word_counts = count_words(input_files, FLAGS.do_lower_case, **options)
  if not word_counts:
    raise script_io.InputError(
        "--input_file=%s: the files hold no text." % FLAGS.input_file)
  if min(len(word) for word in word_counts) > MAX_WORD_CHARS:
    raise script_io.InputError(
        "--input_file=%s: every word is longer than %d characters, which "
        "the tokenizer makes [UNK]: there is nothing to learn from." %
        (FLAGS.input_file, MAX_WORD_CHARS))
  tf.logging.info("%d words, %d distinct", sum(word_counts.values()),
                  len(word_counts))
  extra_characters = ()
  if FLAGS.add_ascii_characters:
    extra_characters = ascii_characters(FLAGS.do_lower_case)
  tokens = learn_vocab(word_counts, FLAGS.vocab_size, FLAGS.num_unused,
                       FLAGS.min_frequency, extra_characters,
                       whole_tokens=options["never_split"] or ())
  if len(tokens) < FLAGS.vocab_size:
    tf.logging.warning(
        "No pair of pieces occurs --min_frequency=%d times any more: the "
        "vocab has %d entries, not --vocab_size=%d. Use %d as vocab_size in "
        "bert_config.json.", FLAGS.min_frequency, len(tokens),
        FLAGS.vocab_size, len(tokens))
  with script_io.atomic_output(FLAGS.output_file) as writer:
    writer.write("".join(token + "\n" for token in tokens))
  tf.logging.info("Wrote %d tokens to %s", len(tokens), FLAGS.output_file)


if __name__ == "__main__":
  flags.mark_flag_as_required("input_file")
  flags.mark_flag_as_required("output_file")
  script_io.run(main)
