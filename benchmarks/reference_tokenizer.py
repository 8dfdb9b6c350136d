# coding=utf-8
"""The original tokenization algorithm, one step at a time, one character at
a time: the yardstick that tests and benchmarks compare `tokenization` with.

It reuses the per-character steps of `tokenization.BasicTokenizer`
(`_clean_text`, `_tokenize_chinese_chars`, `_run_strip_accents`,
`_run_split_on_punc`) but none of its fast paths or caches, and runs
WordPiece the plain way: every piece is looked up from the end of the word
down, with no shortcut for pieces longer than any vocab entry.
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import tokenization

# The per-character steps are BasicTokenizer's internal methods.
# pylint: disable=protected-access


class ReferenceTokenizer(object):
  """FullTokenizer's algorithm as the original spells it out."""

  def __init__(self, vocab, do_lower_case=True, unk_token="[UNK]",
               max_input_chars_per_word=200):
    """Builds the reference.

    Args:
      vocab: dict from token to id (e.g. from `tokenization.load_vocab`).
      do_lower_case: whether to lower-case and strip accents.
      unk_token: the token that replaces words WordPiece cannot split.
      max_input_chars_per_word: longer words become `unk_token`.
    """
    self.vocab = vocab
    self.do_lower_case = do_lower_case
    self.unk_token = unk_token
    self.max_input_chars_per_word = max_input_chars_per_word
    # Only the per-character methods of this object are used.
    self._steps = tokenization.BasicTokenizer(do_lower_case=do_lower_case)

  def basic_tokenize(self, text):
    """Returns the basic tokens of `text` (a `str` or UTF-8 bytes)."""
    steps = self._steps
    text = tokenization.convert_to_unicode(text)
    text = steps._clean_text(text)
    text = steps._tokenize_chinese_chars(text)
    split_tokens = []
    for token in tokenization.whitespace_tokenize(text):
      if self.do_lower_case:
        token = token.lower()
        token = steps._run_strip_accents(token)
      split_tokens.extend(steps._run_split_on_punc(token))
    return tokenization.whitespace_tokenize(" ".join(split_tokens))

  def wordpiece_tokenize(self, word):
    """Returns the greedy longest-match-first pieces of one basic token."""
    chars = list(word)
    if len(chars) > self.max_input_chars_per_word:
      return [self.unk_token]
    pieces = []
    start = 0
    while start < len(chars):
      end = len(chars)
      piece = None
      while start < end:
        candidate = "".join(chars[start:end])
        if start > 0:
          candidate = "##" + candidate
        if candidate in self.vocab:
          piece = candidate
          break
        end -= 1
      if piece is None:
        return [self.unk_token]
      pieces.append(piece)
      start = end
    return pieces

  def tokenize(self, text):
    """Returns the WordPiece tokens of `text`."""
    tokens = []
    for token in self.basic_tokenize(text):
      tokens.extend(self.wordpiece_tokenize(token))
    return tokens

  def convert_tokens_to_ids(self, tokens):
    ids = []
    for token in tokens:
      ids.append(self.vocab[token])
    return ids
