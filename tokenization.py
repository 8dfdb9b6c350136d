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
"""Tokenization classes: BasicTokenizer, WordpieceTokenizer, FullTokenizer.

The output is, token for token, the output of Google's original BERT
tokenizer, quirks included (each one is marked "Quirk of the original").
The speed comes from one observation: the original's pipeline never looks
across a whitespace character (its `_is_whitespace`), so a text is the
concatenation of its whitespace-separated chunks, each tokenized on its own.
Chunks repeat (words do), so their results are cached; a chunk of plain ASCII
takes a short path with the same result as the per-character one.

The caches are dropped when a setting they depend on changes (`do_lower_case`,
`strip_accents`, `never_split`, the vocab object or its size, `unk_token`,
`max_input_chars_per_word`). A vocab edited in place without changing its size
is not noticed: build a new tokenizer after such an edit.

Two options the original lacked, off by default (the defaults give the
original's output): `strip_accents` decides accent stripping apart from
`do_lower_case`, and `never_split` keeps listed words (e.g. "[MASK]") whole.

Errors are instances of the class the original raised in the same case, with
a message that names the file, line or token: a vocab file that is missing
raises `tf.errors.NotFoundError`, one that is not UTF-8 `UnicodeDecodeError`,
a token or id missing from the vocab `KeyError` (see `VocabFileNotFoundError`,
`VocabDecodeError` and `NotInVocabError`).

This module imports only the standard library, six and TensorFlow (for gfile),
so it can be copied into another project on its own.
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import collections
import itertools
import re
import unicodedata
import weakref

import six
import tensorflow.compat.v1 as tf

# Google's released checkpoints, by the case their vocab expects.
_LOWER_CASED_MODELS = (
    "uncased_L-24_H-1024_A-16",
    "uncased_L-12_H-768_A-12",
    "multilingual_L-12_H-768_A-12",
    "chinese_L-12_H-768_A-12",
)
_CASED_MODELS = (
    "cased_L-12_H-768_A-12",
    "cased_L-24_H-1024_A-16",
    "multi_cased_L-12_H-768_A-12",
)

# The original's ASCII punctuation: every non-alphanumeric printable ASCII
# character, including `$ + < = > ^ ` | ~` which Unicode does not call "P*".
_ASCII_PUNCTUATION = "".join(
    chr(cp) for cp in range(33, 127) if not chr(cp).isalnum())
_ASCII_SPLIT_ON_PUNCTUATION = re.compile(
    "[%s]|[^%s]+" % (re.escape(_ASCII_PUNCTUATION),
                     re.escape(_ASCII_PUNCTUATION)))
# ASCII characters that `_clean_text` deletes: the C0 controls other than
# tab, newline and carriage return (those are whitespace), and DEL.
_ASCII_DELETED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

# Chunk (and word) results are cached up to this many distinct chunks (words);
# then the cache starts again from empty, so memory stays bounded (below
# 150 MB for both) on any corpus. Frequent words come back within a few lines.
_MAX_CACHED_CHUNKS = 1 << 18

# How many repeated vocab tokens a duplicate warning spells out.
_MAX_DUPLICATES_SHOWN = 10


def validate_case_matches_checkpoint(do_lower_case, init_checkpoint):
  """Checks that `do_lower_case` agrees with a released checkpoint's name.

  Only Google's released model names are known; any other path passes.

  Args:
    do_lower_case: bool, the `--do_lower_case` flag.
    init_checkpoint: string, the `--init_checkpoint` flag (may be empty).

  Raises:
    ValueError: if the checkpoint is a known cased model and `do_lower_case`
      is True, or a known uncased model and it is False.
  """
  if not init_checkpoint:
    return
  # Quirk of the original: the first `<name>/bert_model.ckpt` in the path
  # counts, so `.../bert_model.ckpt-1000` and `.index` files match too.
  match = re.match("^.*?([A-Za-z0-9_-]+)/bert_model.ckpt", init_checkpoint)
  if match is None:
    return
  model_name = match.group(1)
  if model_name in _LOWER_CASED_MODELS and not do_lower_case:
    actual_flag, case_name, opposite_flag = "False", "lowercased", "True"
  elif model_name in _CASED_MODELS and do_lower_case:
    actual_flag, case_name, opposite_flag = "True", "cased", "False"
  else:
    return
  raise ValueError(
      "You passed in `--do_lower_case=%s` with `--init_checkpoint=%s`. "
      "However, `%s` seems to be a %s model, so you should pass in "
      "`--do_lower_case=%s` so that the fine-tuning matches how the model "
      "was pre-training. If this error is wrong, please just comment out "
      "this check." % (actual_flag, init_checkpoint, model_name, case_name,
                       opposite_flag))


def convert_to_unicode(text):
  """Returns `text` as a `str`, decoding UTF-8 bytes (bad bytes ignored)."""
  if isinstance(text, six.text_type):
    return text
  if isinstance(text, bytes):
    return text.decode("utf-8", "ignore")
  raise ValueError("Unsupported string type: %s" % (type(text)))


def printable_text(text):
  """Returns `text` in the form `print` and `tf.logging` accept (a `str`)."""
  return convert_to_unicode(text)


class VocabFileNotFoundError(tf.errors.NotFoundError, ValueError):
  """A vocab file that does not exist.

  A `tf.errors.NotFoundError`, as the original raised there, and a
  `ValueError`, as this module raises for the other bad vocab files.
  """


class VocabDecodeError(UnicodeDecodeError):
  """A vocab file that is not valid UTF-8.

  A `UnicodeDecodeError` made with the five arguments the original's error
  had (the encoding, the bytes of the offending line, the start and end of
  the bad bytes in it, the reason), so `except UnicodeDecodeError` catches
  it; its message also names the file and the line number.
  """
  vocab_file = None
  line_number = None

  def __str__(self):
    reason = UnicodeDecodeError.__str__(self)
    if self.vocab_file is None:
      return reason
    return "Vocab file %s, line %d: not valid UTF-8 (%s)." % (
        self.vocab_file, self.line_number, reason)


class NotInVocabError(KeyError, ValueError):
  """A token (or id) that the vocab (or the inverse vocab) lacks.

  A `KeyError`, as the original's dict lookup raised, whose only argument is
  the missing key (`args[0]`, as a dict gives); its message names the key and
  the vocab file. Also a `ValueError`, as this module's other errors about a
  vocab, so that the scripts report it in one line.
  """

  def __init__(self, key, message=None):
    super(NotInVocabError, self).__init__(key)
    self.message = message

  def __str__(self):
    if self.message is None:
      return KeyError.__str__(self)
    return self.message


def _read_vocab_lines(vocab_file):
  """Returns the lines of a vocab file the way the original reads them.

  Quirk of the original: it reads with `GFile.readline`, which splits on
  "\\n" only (a lone U+2028, U+0085 or vertical tab stays inside its line)
  and drops every "\\r" byte, wherever it is in the line (even inside a
  multi-byte character, before decoding).

  Raises:
    VocabFileNotFoundError: if the file does not exist.
    VocabDecodeError: if it is not UTF-8.
    ValueError: if it is a directory (the original read it as no line).
    tf.errors.OpError: if it cannot be read, as in the original.
  """
  if not tf.gfile.Exists(vocab_file):
    raise VocabFileNotFoundError(
        None, None, "Vocab file %s does not exist." % vocab_file)
  if tf.gfile.IsDirectory(vocab_file):
    raise ValueError("Vocab file %s is a directory, not a file." % vocab_file)
  with tf.gfile.GFile(vocab_file, "rb") as reader:
    data = reader.read().replace(b"\r", b"")
  try:
    text = data.decode("utf-8")
  except UnicodeDecodeError as e:
    raise _decode_error(vocab_file, data, e) from None
  lines = text.split("\n")
  if lines[-1] == "":
    lines.pop()
  return lines


def _decode_error(vocab_file, data, error):
  """The `VocabDecodeError` the original raised for `error` in `data`.

  The original decoded one line at a time: its error holds the bytes of the
  line ("\\n" included) and the offsets of the bad bytes in that line.
  """
  line_start = data.rfind(b"\n", 0, error.start) + 1
  line_end = data.find(b"\n", error.start)
  line_end = len(data) if line_end < 0 else line_end + 1
  decode_error = VocabDecodeError(
      error.encoding, data[line_start:line_end], error.start - line_start,
      error.end - line_start, error.reason)
  decode_error.vocab_file = vocab_file
  decode_error.line_number = data.count(b"\n", 0, error.start) + 1
  return decode_error


def _warn_about_duplicates(vocab_file, lines_of_token):
  """Logs one warning listing the tokens that appear on several lines."""
  repeated = [(token, lines) for token, lines in lines_of_token.items()
              if len(lines) > 1]
  if not repeated:
    return
  shown = "; ".join(
      "%r on lines %s" % (token, ", ".join(str(n) for n in lines))
      for token, lines in repeated[:_MAX_DUPLICATES_SHOWN])
  if len(repeated) > _MAX_DUPLICATES_SHOWN:
    shown += "; ..."
  tf.logging.warning(
      "Vocab file %s: %d tokens appear on more than one line, each keeps "
      "the id of its last line (as in the original): %s", vocab_file,
      len(repeated), shown)


def load_vocab(vocab_file):
  """Loads a vocabulary file (one token per line) into an ordered dict.

  Quirk of the original: each line is stripped and keeps its id even when it
  strips to "" or repeats an earlier token (then the later line wins). Later
  ids depend on it: Google's Chinese vocab has a line that is only U+2028.

  Args:
    vocab_file: path of the vocabulary, one token per line.

  Returns:
    An `OrderedDict` from token to id (its line number, from 0).

  Raises:
    VocabFileNotFoundError: (a `tf.errors.NotFoundError`, as in the
      original) if the file does not exist.
    VocabDecodeError: (a `UnicodeDecodeError`, as in the original) if the
      file is not UTF-8.
    ValueError: if the file is a directory or holds no line (the original
      returned an empty vocab).
    tf.errors.OpError: if the file cannot be read, as in the original.
  """
  lines = _read_vocab_lines(vocab_file)
  if not lines:
    raise ValueError("Vocab file %s is empty." % vocab_file)
  vocab = collections.OrderedDict()
  lines_of_token = collections.OrderedDict()
  for index, line in enumerate(lines):
    token = line.strip()
    vocab[token] = index
    lines_of_token.setdefault(token, []).append(index + 1)
  _warn_about_duplicates(vocab_file, lines_of_token)
  _remember_vocab_file(vocab, vocab_file)
  return vocab


# The file of each vocab `load_vocab` returned and that is still alive, by
# `id(vocab)`, to name it in errors. A weak reference drops the entry with
# its vocab, and tells a vocab from a later object that reuses its id.
_files_of_vocabs = {}


def _remember_vocab_file(vocab, vocab_file):
  key = id(vocab)

  def forget(_):
    _files_of_vocabs.pop(key, None)

  _files_of_vocabs[key] = (weakref.ref(vocab, forget), vocab_file)


def _name_of_vocab(vocab):
  """Names `vocab` in messages: "vocab file <path>" if `load_vocab` made it."""
  reference, vocab_file = _files_of_vocabs.get(id(vocab), (None, None))
  if reference is not None and reference() is vocab:
    return "vocab file %s" % vocab_file
  return "the vocab"


def _lookup(mapping, items, what, vocab=None, unk_token=None):
  """Returns `[mapping[item] for item in items]`.

  Args:
    mapping: a vocab (token->id) or an inverse vocab (id->token).
    items: the tokens or ids.
    what: "Token", "Id" or "Item", for the message.
    vocab: the vocab `mapping` is the inverse of, if known (for the message).
    unk_token: the unknown token of the caller's WordPiece, if any: the
      message says what it is for.

  Raises:
    NotInVocabError: (a `KeyError`, as the original's dict lookup raised) if
      an item is missing; its message names it and the vocab file.
  """
  try:
    return list(map(mapping.__getitem__, items))
  except KeyError as e:
    raise _not_in_vocab(e, mapping, what, vocab, unk_token) from None


def _not_in_vocab(error, mapping, what, vocab=None, unk_token=None):
  """The `NotInVocabError` for the `KeyError` of a lookup in `mapping`."""
  key = error.args[0] if error.args else None
  if vocab is not None:
    where = "the ids of " + _name_of_vocab(vocab)
  elif what == "Id":
    where = "the inverse vocab"
  else:
    where = _name_of_vocab(mapping)
  message = "%s %r is not in %s" % (what, key, where)
  if unk_token is not None and key == unk_token:
    message += (" (it is the unknown token, which WordPiece gives each word "
                "the vocab cannot spell: the vocab needs a line %s)" % key)
  return NotInVocabError(key, message + ".")


def convert_by_vocab(vocab, items):
  """Maps every item through `vocab` (a token->id or id->token dict).

  Raises:
    NotInVocabError: (a `KeyError`, as the original's dict lookup raised) if
      an item is missing from `vocab`; its message names the item and, when
      `load_vocab` made `vocab`, the vocab file.
  """
  return _lookup(vocab, items, "Item")


def convert_tokens_to_ids(vocab, tokens):
  """Maps tokens to ids; raises `NotInVocabError` as `convert_by_vocab`."""
  return _lookup(vocab, tokens, "Token")


def convert_ids_to_tokens(inv_vocab, ids):
  """Maps ids to tokens; raises `NotInVocabError` as `convert_by_vocab`."""
  return _lookup(inv_vocab, ids, "Id")


def whitespace_tokenize(text):
  """Strips `text` and splits it on (Python's notion of) whitespace."""
  return text.split()


class _Cache(dict):
  """A dict that computes, and keeps, the value of a missing key on lookup.

  A known key is looked up at dict speed, in C even through `map`; a new one
  costs one call of `compute`, made from inside the lookup (no exception, no
  second pass). The cache starts again from empty when it holds
  `_MAX_CACHED_CHUNKS` entries, so its memory stays bounded.
  """

  def __init__(self, compute):
    super(_Cache, self).__init__()
    self.compute = compute

  def __missing__(self, key):
    if len(self) >= _MAX_CACHED_CHUNKS:
      self.clear()
    value = self[key] = self.compute(key)
    return value


def _tokenize_by_chunks(text, results):
  """Tokenizes `text` chunk by chunk, with a cache of chunk results.

  Args:
    text: a `str` or UTF-8 bytes.
    results: a `_Cache` from a chunk (text free of `_is_whitespace`
      characters) to the tuple of its tokens.

  Returns:
    The list of the tokens of all chunks, in order.
  """
  if type(text) is not str:
    text = convert_to_unicode(text)
  if text.isprintable():
    # The space is the only printable character that `_is_whitespace` or
    # `str.split` counts as whitespace (a test checks it), so here
    # `str.split` gives the regex's chunks, quicker.
    chunks = text.split()
  else:
    chunks = _split_on_whitespace(text)
  return list(itertools.chain.from_iterable(map(results.__getitem__, chunks)))


class FullTokenizer(object):
  """Runs end-to-end tokenization: basic tokenization, then WordPiece."""

  def __init__(self, vocab_file, do_lower_case=True, strip_accents=None,
               never_split=None):
    """Constructs a FullTokenizer.

    Args:
      vocab_file: path of the WordPiece vocab, one token per line.
      do_lower_case: whether to lower-case the text (and, when
        `strip_accents` is None, strip its accents).
      strip_accents: None (the original): strip accents exactly when
        `do_lower_case`; True or False: strip them, or not, either way.
      never_split: None (the original), or strings to keep whole: see
        `BasicTokenizer`. WordPiece then maps one that is in the vocab to
        itself, so it gets its own id.
    """
    self.vocab = load_vocab(vocab_file)
    self.inv_vocab = {v: k for k, v in self.vocab.items()}
    self.basic_tokenizer = BasicTokenizer(do_lower_case=do_lower_case,
                                          strip_accents=strip_accents,
                                          never_split=never_split)
    self.wordpiece_tokenizer = WordpieceTokenizer(vocab=self.vocab)
    self.vocab_file = vocab_file
    self._chunk_results = _Cache(self._tokenize_chunk)
    self._cached_settings = None

  def tokenize(self, text):
    """Returns the WordPiece tokens of `text` (a `str` or UTF-8 bytes)."""
    if self._settings() != self._cached_settings:
      self.basic_tokenizer._check_settings()
      self.wordpiece_tokenizer._check_settings()
      self._chunk_results.clear()
      self._cached_settings = self._settings()
    return _tokenize_by_chunks(text, self._chunk_results)

  def _settings(self):
    """What the cached chunk results depend on.

    The settings the sub-tokenizers last checked are included: if one of
    them checked other settings in between, its derived state is redone.
    """
    basic = self.basic_tokenizer
    wordpiece = self.wordpiece_tokenizer
    return (basic, wordpiece, basic.do_lower_case, basic.strip_accents,
            frozenset(basic.never_split or ()), basic._cached_settings,
            wordpiece.vocab, len(wordpiece.vocab), wordpiece.unk_token,
            wordpiece.max_input_chars_per_word, wordpiece._cached_settings)

  def _tokenize_chunk(self, chunk):
    """Returns the WordPiece tokens of a chunk free of whitespace."""
    basic = self.basic_tokenizer
    wordpiece = self.wordpiece_tokenizer
    if (chunk.isalnum() and chunk.isascii() and
        chunk not in basic._never_split):
      # The commonest chunk, a plain ASCII word, is one basic token (as
      # `_tokenize_chunk_uncached` finds), and most often a vocab entry,
      # which is its own only piece (as `_tokenize_word` finds).
      word = chunk.lower() if basic._lower_case else chunk
      if (word in wordpiece.vocab and
          len(word) <= wordpiece.max_input_chars_per_word):
        return (word,)
      return wordpiece._word_pieces[word]
    return tuple(itertools.chain.from_iterable(map(
        wordpiece._word_pieces.__getitem__,
        basic._tokenize_chunk_uncached(chunk))))

  def convert_tokens_to_ids(self, tokens):
    """Returns the ids of `tokens`.

    Raises:
      NotInVocabError: (a `KeyError`, as in the original) if a token is not
        in the vocab, e.g. the unknown token "[UNK]" of a vocab without it.
    """
    try:
      return list(map(self.vocab.__getitem__, tokens))
    except KeyError as e:
      raise _not_in_vocab(e, self.vocab, "Token",
                          unk_token=self.wordpiece_tokenizer.unk_token) from None

  def convert_ids_to_tokens(self, ids):
    """Returns the tokens of `ids`; `NotInVocabError` for an unknown id."""
    return _lookup(self.inv_vocab, ids, "Id", vocab=self.vocab)


class BasicTokenizer(object):
  """Runs basic tokenization (punctuation splitting, lower casing, etc.)."""

  def __init__(self, do_lower_case=True, strip_accents=None, never_split=None):
    """Constructs a BasicTokenizer.

    Args:
      do_lower_case: Whether to lower case the input (and, when
        `strip_accents` is None, strip accents).
      strip_accents: None (the original): strip accents exactly when
        `do_lower_case`; True or False: strip them, or not, either way.
        Stripping is NFD, then deleting every combining mark (category Mn).
      never_split: None (the original), or an iterable of strings, e.g.
        `["[MASK]", "[CLS]"]`. A word of the text equal to one of them (the
        text split where the original splits on whitespace, once it has
        deleted control characters and spaced out CJK ideographs) stays
        whole: not lower-cased, not stripped, not split on punctuation. The
        match is case-sensitive. The original splits "[MASK]" into "[",
        "mask", "]".

    Raises:
      ValueError: if `strip_accents` is not None, True or False, or a
        `never_split` entry is empty or holds a character that cannot be
        inside a word (whitespace, a control or format character, U+FFFD, a
        CJK ideograph): it could never match.
      TypeError: if `never_split` is a single string.
    """
    self.do_lower_case = do_lower_case
    self.strip_accents = strip_accents
    if isinstance(never_split, (six.text_type, bytes)):
      raise TypeError("never_split must be a list of strings, not the "
                      "string %r" % (never_split,))
    self.never_split = frozenset(
        convert_to_unicode(token) for token in (never_split or ()))
    self._chunk_results = _Cache(self._tokenize_chunk_uncached)
    self._cached_settings = None
    self._check_settings()

  def tokenize(self, text):
    """Returns the basic tokens of `text` (a `str` or UTF-8 bytes)."""
    self._check_settings()
    return _tokenize_by_chunks(text, self._chunk_results)

  def _check_settings(self):
    """Checks the settings and, when they changed, drops cached results."""
    settings = (self.do_lower_case, self.strip_accents,
                frozenset(self.never_split or ()))
    if settings == self._cached_settings:
      return
    do_lower_case, strip_accents, never_split = settings
    if strip_accents not in (None, True, False):
      raise ValueError("strip_accents must be None, True or False, not %r" %
                       (strip_accents,))
    never_split = frozenset(map(convert_to_unicode, never_split))
    for token in never_split:
      self._check_never_split_entry(token)
    self._lower_case = bool(do_lower_case)
    self._strip_accents = (self._lower_case if strip_accents is None else
                           bool(strip_accents))
    self._never_split = never_split
    self._chunk_results.clear()
    self._cached_settings = settings

  def _check_never_split_entry(self, token):
    """Raises ValueError if `token` can never be a word of a text."""
    if not token:
      raise ValueError("never_split holds an empty string")
    for char in token:
      # `str.isspace` covers `_is_whitespace` and what `str.split` splits on.
      if (char.isspace() or _is_control(char) or char == u"\ufffd" or
          self._is_chinese_char(ord(char))):
        raise ValueError(
            "never_split entry %r can never be a word of the text: it holds "
            "%r, and the tokenizer splits on whitespace, deletes control and "
            "format characters and U+FFFD, and puts each CJK ideograph in a "
            "word of its own" % (token, char))

  def _tokenize_chunk_uncached(self, chunk):
    """Returns the basic tokens of a chunk holding no whitespace character.

    The caller has called `_check_settings` since the last settings change.
    """
    if chunk.isascii():
      # Same result as the per-character path: ASCII has no accents and no
      # CJK, lower() is plain ASCII lower-casing, and `_ASCII_PUNCTUATION` is
      # exactly the ASCII part of `_is_punctuation`. Once its control
      # characters are deleted, an ASCII chunk is one word.
      if self._never_split:
        word = chunk if chunk.isprintable() else _ASCII_DELETED.sub("", chunk)
        if word in self._never_split:
          return (word,)
      if chunk.isalnum():
        return (chunk.lower() if self._lower_case else chunk,)
      if not chunk.isprintable():
        chunk = _ASCII_DELETED.sub("", chunk)
      if self._lower_case:
        chunk = chunk.lower()
      return tuple(_ASCII_SPLIT_ON_PUNCTUATION.findall(chunk))
    return tuple(self._tokenize_per_character(chunk))

  def _tokenize_per_character(self, text):
    """The original's algorithm, one character at a time."""
    text = self._clean_text(text)
    # Added in November 2018 in the original for the multilingual and
    # Chinese models; English models never see CJK in training.
    text = self._tokenize_chinese_chars(text)
    split_tokens = []
    # Quirk of the original: `str.split` also splits on U+2028 and U+2029,
    # which cleaning keeps, so they separate words too.
    for token in whitespace_tokenize(text):
      if token in self._never_split:
        split_tokens.append(token)
        continue
      if self._lower_case:
        # Quirk of the original: lower-casing sees one word at a time, so a
        # Greek capital sigma becomes final sigma at the end of each word.
        token = token.lower()
      if self._strip_accents:
        token = self._run_strip_accents(token)
      split_tokens.extend(self._run_split_on_punc(token))
    return whitespace_tokenize(" ".join(split_tokens))

  def _run_strip_accents(self, text):
    """Strips accents: NFD, then drops the combining marks (category Mn).

    Quirk of the original: every Mn mark goes, not only Latin accents
    (Japanese voiced-sound marks, Hebrew niqqud, Arabic harakat, virama,
    U+FE0F), and NFD also maps CJK compatibility ideographs to unified ones
    and splits Hangul syllables into jamo.
    """
    text = unicodedata.normalize("NFD", text)
    return "".join(c for c in text if unicodedata.category(c) != "Mn")

  def _run_split_on_punc(self, text):
    """Splits punctuation off: each punctuation character is its own token."""
    output = []
    start_new_word = True
    for char in text:
      if _is_punctuation(char):
        output.append([char])
        start_new_word = True
      else:
        if start_new_word:
          output.append([])
        start_new_word = False
        output[-1].append(char)
    return ["".join(x) for x in output]

  def _tokenize_chinese_chars(self, text):
    """Adds whitespace around any CJK character."""
    output = []
    for char in text:
      if self._is_chinese_char(ord(char)):
        output.extend((" ", char, " "))
      else:
        output.append(char)
    return "".join(output)

  def _is_chinese_char(self, cp):
    """Checks whether `cp` is the code point of a CJK ideograph.

    "Chinese character" means the CJK Unified Ideographs blocks (and their
    extensions and compatibility blocks). Kana, hangul and fullwidth Latin
    are written with spaces, so they are not included.
    """
    return ((0x4E00 <= cp <= 0x9FFF) or (0x3400 <= cp <= 0x4DBF) or
            (0x20000 <= cp <= 0x2A6DF) or (0x2A700 <= cp <= 0x2B73F) or
            (0x2B740 <= cp <= 0x2B81F) or (0x2B820 <= cp <= 0x2CEAF) or
            (0xF900 <= cp <= 0xFAFF) or (0x2F800 <= cp <= 0x2FA1F))

  def _clean_text(self, text):
    """Deletes invalid and control characters, maps whitespace to spaces.

    Quirk of the original: control and format characters (U+200B, U+FEFF,
    soft hyphen, ...) are deleted without a space, joining their neighbours.
    """
    output = []
    for char in text:
      cp = ord(char)
      if cp == 0 or cp == 0xFFFD or _is_control(char):
        continue
      output.append(" " if _is_whitespace(char) else char)
    return "".join(output)


class WordpieceTokenizer(object):
  """Runs WordPiece tokenization: greedy longest-match-first."""

  def __init__(self, vocab, unk_token="[UNK]", max_input_chars_per_word=200):
    self.vocab = vocab
    self.unk_token = unk_token
    self.max_input_chars_per_word = max_input_chars_per_word
    # Pieces of the words seen so far, and the length of the longest vocab
    # entry, valid while the settings they were computed with hold.
    self._word_pieces = _Cache(self._tokenize_word)
    self._longest_piece = 0
    self._cached_settings = None
    self._check_settings()

  def tokenize(self, text):
    """Tokenizes a piece of text into its word pieces.

    For example, `"unaffable"` gives `["un", "##aff", "##able"]`.

    Args:
      text: A single token or whitespace separated tokens. This should have
        already been passed through `BasicTokenizer`.

    Returns:
      A list of wordpiece tokens.
    """
    words = whitespace_tokenize(convert_to_unicode(text))
    self._check_settings()
    return self._tokenize_words(words)

  def _check_settings(self):
    """Drops the cached results if a setting changed since they were made."""
    settings = (self.vocab, len(self.vocab), self.unk_token,
                self.max_input_chars_per_word)
    if settings != self._cached_settings:
      self._word_pieces.clear()
      self._longest_piece = max(
          [len(piece) for piece in self.vocab if isinstance(piece, str)] +
          [0])
      self._cached_settings = settings

  def _tokenize_words(self, words):
    """Returns the pieces of whitespace-free words, one list for all.

    The caller has called `_check_settings` since the last settings change.
    """
    return list(itertools.chain.from_iterable(map(
        self._word_pieces.__getitem__, words)))

  def _tokenize_word(self, word):
    """Returns the pieces of one whitespace-free word (a new tuple)."""
    # Quirk of the original: the limit counts characters after lower-casing
    # and accent stripping, so a decomposed accent counts only when it is
    # not stripped (cased, or `strip_accents=False`).
    if len(word) > self.max_input_chars_per_word:
      return (self.unk_token,)
    vocab = self.vocab
    if word in vocab:
      # The longest possible first piece: the greedy search would stop there.
      return (word,)
    pieces = []
    start = 0
    while start < len(word):
      # A piece longer than the longest vocab entry cannot match, so the
      # search starts there instead of at the end of the word: same result.
      prefix = "##" if start > 0 else ""
      end = min(len(word), start + self._longest_piece - len(prefix))
      while end > start:
        piece = prefix + word[start:end]
        if piece in vocab:
          break
        end -= 1
      else:
        # Quirk of the original: no backtracking, and one unmatched piece
        # makes the whole word unknown.
        return (self.unk_token,)
      pieces.append(piece)
      start = end
    return tuple(pieces)


def truncate_seq_pair(tokens_a, tokens_b, max_length):
  """Cuts two token lists in place until together they fit `max_length`.

  One token at a time from the end of the longer list (the second on a
  tie), as the original: a short sentence keeps all its tokens, which a cut
  by proportion would not guarantee.
  """
  while len(tokens_a) + len(tokens_b) > max_length:
    if len(tokens_a) > len(tokens_b):
      tokens_a.pop()
    else:
      tokens_b.pop()


def pack_sentence_pair(tokenizer, text_a, text_b, max_seq_length):
  """Tokenizes one sentence or a pair into BERT's fixed-length input.

  `[CLS] A [SEP]` or `[CLS] A [SEP] B [SEP]`, cut to `max_seq_length` (the
  pair by `truncate_seq_pair`) and padded with 0. Segment (token type) 0
  covers [CLS], A and its [SEP]; 1 covers B and the last [SEP].
  Quirk of the original: a non-empty `text_b` that tokenizes to nothing
  (e.g. only spaces) gives a single-sentence input, without a second [SEP].

  Args:
    tokenizer: a `FullTokenizer`.
    text_a: the first sentence.
    text_b: the second sentence, or None.
    max_seq_length: length of the outputs, [CLS] and [SEP]s included.

  Returns:
    (tokens, input_ids, input_mask, segment_ids): the real tokens, then
    three int lists of length `max_seq_length`.
  """
  tokens_a = tokenizer.tokenize(text_a)
  tokens_b = tokenizer.tokenize(text_b) if text_b else None
  if tokens_b:
    truncate_seq_pair(tokens_a, tokens_b, max_seq_length - 3)
  elif len(tokens_a) > max_seq_length - 2:
    tokens_a = tokens_a[0:(max_seq_length - 2)]

  tokens = ["[CLS]"] + tokens_a + ["[SEP]"]
  segment_ids = [0] * len(tokens)
  if tokens_b:
    tokens += tokens_b + ["[SEP]"]
    segment_ids += [1] * (len(tokens_b) + 1)
  input_ids = tokenizer.convert_tokens_to_ids(tokens)
  # Real tokens get mask 1, padding 0: attention ignores the padding.
  input_mask = [1] * len(input_ids)
  padding = [0] * (max_seq_length - len(input_ids))
  return (tokens, input_ids + padding, input_mask + padding,
          segment_ids + padding)


def _is_whitespace(char):
  """Checks whether `char` is a whitespace character."""
  # \t, \n and \r are technically control characters but we treat them as
  # whitespace since they are generally considered as such.
  if char in (" ", "\t", "\n", "\r"):
    return True
  return unicodedata.category(char) == "Zs"


def _is_control(char):
  """Checks whether `char` is a control character."""
  # These are technically control characters but we count them as whitespace
  # characters.
  if char in ("\t", "\n", "\r"):
    return False
  return unicodedata.category(char) in ("Cc", "Cf")


def _is_punctuation(char):
  """Checks whether `char` is a punctuation character."""
  cp = ord(char)
  # Quirk of the original: every non-letter/number ASCII character counts as
  # punctuation ("^", "$", "`" included) even where Unicode says otherwise;
  # symbols outside ASCII (e.g. "€", "°") do not.
  if (33 <= cp <= 47) or (58 <= cp <= 64) or (91 <= cp <= 96) or (
      123 <= cp <= 126):
    return True
  return unicodedata.category(char).startswith("P")


# Splits on the characters `_is_whitespace` accepts: Python's whitespace
# (`\s`: "Zs", the bidi classes WS, B and S) minus the control characters
# and line/paragraph separators that are not "Zs" (a test checks every code
# point against `_is_whitespace`). Runs of them count as one separator; the
# pieces may include "" at the ends.
_split_on_whitespace = re.compile(
    u"[^\\S\x0b\x0c\x1c-\x1f\x85\u2028\u2029]+").split
