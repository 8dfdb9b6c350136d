# coding=utf-8
"""The original tokenization algorithm, one step at a time, one character at
a time: the yardstick that tests and benchmarks compare `tokenization` with.

Written from the description of the original's behaviour (in
`../shared/golden/README.md`, "Behaviour of the original ... Tokenization",
items 1 to 7), with Unicode categories from `unicodedata` as it states them,
and independently of `tokenization.py`: nothing here is imported from it, so
the property tests compare two implementations, not one with itself. Callers
load the vocab themselves (e.g. with `tokenization.load_vocab`).

No fast path, no cache, no shortcut: WordPiece looks every piece up from the
end of the word down.

It also implements the two options `tokenization` adds (off by default),
as their documentation describes them:
  * `strip_accents`: None strips accents exactly when lower-casing; True or
    False decides on its own.
  * `never_split`: a word of the split text equal to a listed string is kept
    as it is (not lower-cased, not stripped, not split on punctuation).
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import string
import unicodedata

# Item 1: the characters cleaning turns into a space, besides category Zs.
_SPACE_CHARACTERS = (u" ", u"\t", u"\n", u"\r")


def to_text(text):
  """A `str` as is; bytes decoded as UTF-8, bad bytes dropped."""
  if isinstance(text, str):
    return text
  if isinstance(text, bytes):
    return text.decode("utf-8", "ignore")
  raise ValueError("Unsupported string type: %s" % (type(text)))


def is_deleted_by_cleaning(char):
  """Item 1: U+0000, U+FFFD and every Cc or Cf but tab, LF and CR."""
  if char in (u"\x00", u"\ufffd"):
    return True
  if char in (u"\t", u"\n", u"\r"):
    return False
  return unicodedata.category(char) in ("Cc", "Cf")


def is_space_for_cleaning(char):
  """Item 1: only space, tab, LF, CR and Zs characters become spaces."""
  return char in _SPACE_CHARACTERS or unicodedata.category(char) == "Zs"


def is_cjk_ideograph(char):
  """Item 4: "Each CJK ideograph (Unified, Extensions A-E, compatibility
  blocks) is its own word": the code point is in one of these blocks."""
  code_point = ord(char)
  return (
      0x4E00 <= code_point <= 0x9FFF or     # CJK Unified Ideographs
      0x3400 <= code_point <= 0x4DBF or     # Extension A
      0x20000 <= code_point <= 0x2A6DF or   # Extension B
      0x2A700 <= code_point <= 0x2B73F or   # Extension C
      0x2B740 <= code_point <= 0x2B81F or   # Extension D
      0x2B820 <= code_point <= 0x2CEAF or   # Extension E
      0xF900 <= code_point <= 0xFAFF or     # CJK Compatibility Ideographs
      0x2F800 <= code_point <= 0x2FA1F)     # ... Ideographs Supplement


def is_punctuation(char):
  """Item 3: every ASCII non-alphanumeric character, and category P*."""
  if char in string.punctuation:
    return True
  return unicodedata.category(char).startswith("P")


def strip_accents(word):
  """Item 2: NFD, then every combining mark (category Mn) dropped."""
  decomposed = unicodedata.normalize("NFD", word)
  kept = []
  for char in decomposed:
    if unicodedata.category(char) != "Mn":
      kept.append(char)
  return u"".join(kept)


def split_punctuation(word):
  """Item 3: each punctuation character becomes a word of its own."""
  words = []
  current = []
  for char in word:
    if is_punctuation(char):
      if current:
        words.append(u"".join(current))
        current = []
      words.append(char)
    else:
      current.append(char)
  if current:
    words.append(u"".join(current))
  return words


class ReferenceTokenizer(object):
  """FullTokenizer's algorithm as the description spells it out."""

  def __init__(self, vocab, do_lower_case=True, unk_token="[UNK]",
               max_input_chars_per_word=200, strip_accents=None,
               never_split=None):
    """Builds the reference.

    Args:
      vocab: dict from token to id (e.g. from `tokenization.load_vocab`).
      do_lower_case: whether to lower-case (and, when `strip_accents` is
        None, strip accents).
      unk_token: the token that replaces words WordPiece cannot split.
      max_input_chars_per_word: longer words become `unk_token`.
      strip_accents: None, True or False (see the module's docstring).
      never_split: strings kept whole (see the module's docstring), or None.
    """
    self.vocab = vocab
    self.do_lower_case = do_lower_case
    self.unk_token = unk_token
    self.max_input_chars_per_word = max_input_chars_per_word
    if strip_accents is None:
      strip_accents = do_lower_case
    self.strip_accents = strip_accents
    self.never_split = set(never_split or ())

  def clean(self, text):
    """Item 1: deletes controls, maps whitespace to spaces."""
    output = []
    for char in text:
      if is_deleted_by_cleaning(char):
        continue
      if is_space_for_cleaning(char):
        output.append(u" ")
      else:
        output.append(char)
    return u"".join(output)

  def space_out_cjk(self, text):
    """Item 4: a space on each side of every CJK ideograph."""
    output = []
    for char in text:
      if is_cjk_ideograph(char):
        output.append(u" " + char + u" ")
      else:
        output.append(char)
    return u"".join(output)

  def basic_tokenize(self, text):
    """Returns the basic tokens of `text` (a `str` or UTF-8 bytes)."""
    text = self.space_out_cjk(self.clean(to_text(text)))
    tokens = []
    # Item 1: `str.split()`, which also splits on U+2028 and U+2029.
    for word in text.split():
      if word in self.never_split:
        tokens.append(word)
        continue
      if self.do_lower_case:
        word = word.lower()
      if self.strip_accents:
        word = strip_accents(word)
      # (Neither lower-casing nor NFD makes a space out of a character that
      # is not one, so the pieces hold no whitespace; a word that was only
      # combining marks strips to nothing and gives no piece.)
      tokens.extend(split_punctuation(word))
    return tokens

  def wordpiece_tokenize(self, word):
    """Items 5 and 6: greedy longest-match-first pieces of one basic token."""
    chars = list(word)
    if len(chars) > self.max_input_chars_per_word:
      return [self.unk_token]
    pieces = []
    start = 0
    while start < len(chars):
      end = len(chars)
      piece = None
      while end > start:
        candidate = u"".join(chars[start:end])
        if start > 0:
          candidate = u"##" + candidate
        if candidate in self.vocab:
          piece = candidate
          break
        end -= 1
      if piece is None:
        # No backtracking: one piece that matches nothing makes the whole
        # word unknown.
        return [self.unk_token]
      pieces.append(piece)
      start = end
    return pieces

  def tokenize(self, text):
    """Returns the WordPiece tokens of `text`."""
    tokens = []
    for word in self.basic_tokenize(text):
      tokens.extend(self.wordpiece_tokenize(word))
    return tokens

  def convert_tokens_to_ids(self, tokens):
    ids = []
    for token in tokens:
      ids.append(self.vocab[token])
    return ids
