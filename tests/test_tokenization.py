# coding=utf-8
"""Tests of tokenization.py: the original's output, token for token.

The golden files pin the original's output on 153 lines; the real vocabs pin
ids; property tests compare the fast tokenizer with the plain per-character
reference of benchmarks/reference_tokenizer.py on random Unicode.
"""

import io
import json
import os
import sys
import unicodedata

import hypothesis
from hypothesis import strategies as st
import pytest

import tokenization
from benchmarks import reference_tokenizer
from conftest import write_tiny_vocab

GOLDEN_SETTINGS = hypothesis.settings(
    max_examples=150, deadline=None,
    suppress_health_check=[hypothesis.HealthCheck.too_slow])
CASINGS = (("uncased", True), ("cased", False))


def write_vocab(tmp_path, tokens, name="vocab.txt"):
  path = str(tmp_path / name)
  with io.open(path, "w", encoding="utf-8", newline="") as f:
    f.write("".join(token + "\n" for token in tokens))
  return path


def golden_rows(golden, casing):
  path = os.path.join(golden, "tokenization", "expected_%s.jsonl" % casing)
  with io.open(path, encoding="utf-8") as f:
    return [json.loads(line) for line in f]


@pytest.fixture(scope="module")
def golden_vocab_file(golden):
  return os.path.join(golden, "tokenization", "vocab.txt")


@pytest.fixture(scope="module")
def golden_vocab(golden_vocab_file):
  return tokenization.load_vocab(golden_vocab_file)


# ----------------------------------------------------------------------------
# Golden outputs of the original.


@pytest.mark.parametrize("casing,do_lower_case", CASINGS)
def test_golden_basic_tokens(golden, casing, do_lower_case):
  tokenizer = tokenization.BasicTokenizer(do_lower_case=do_lower_case)
  rows = golden_rows(golden, casing)
  wrong = [row["line"] for row in rows
           if tokenizer.tokenize(row["text"]) != row["basic_tokens"]]
  assert len(rows) == 153
  assert wrong == []


@pytest.mark.parametrize("casing,do_lower_case", CASINGS)
def test_golden_tokens_and_ids(golden, golden_vocab_file, casing,
                               do_lower_case):
  tokenizer = tokenization.FullTokenizer(golden_vocab_file, do_lower_case)
  wrong = []
  for row in golden_rows(golden, casing):
    # Twice: the second pass is answered from the chunk cache.
    for _ in range(2):
      tokens = tokenizer.tokenize(row["text"])
      ids = tokenizer.convert_tokens_to_ids(tokens)
      if (tokens != row["tokens"] or ids != row["ids"] or
          tokenizer.convert_ids_to_tokens(ids) != tokens):
        wrong.append(row["line"])
  assert wrong == []


@pytest.mark.parametrize("casing,do_lower_case", CASINGS)
def test_golden_reference_agrees(golden, golden_vocab, casing,
                                 do_lower_case):
  reference = reference_tokenizer.ReferenceTokenizer(golden_vocab,
                                                     do_lower_case)
  rows = golden_rows(golden, casing)
  assert [reference.tokenize(row["text"]) for row in rows] == [
      row["tokens"] for row in rows]


def test_golden_utf8_bytes_give_same_tokens(golden, golden_vocab_file):
  tokenizer = tokenization.FullTokenizer(golden_vocab_file, True)
  for row in golden_rows(golden, "uncased"):
    assert tokenizer.tokenize(row["text"].encode("utf-8")) == row["tokens"]


def test_golden_input_splits_on_newline_only(golden):
  path = os.path.join(golden, "tokenization", "input.txt")
  with io.open(path, "rb") as f:
    lines = f.read().decode("utf-8").split("\n")[:-1]
  assert lines == [row["text"] for row in golden_rows(golden, "cased")]


# ----------------------------------------------------------------------------
# Google's real vocabs.


def read_stripped_lines(path):
  with io.open(path, "rb") as f:
    lines = f.read().decode("utf-8").split("\n")
  return [line.strip() for line in lines[:-1]]


@pytest.mark.parametrize("name,expected", [
    ("uncased", {"[PAD]": 0, "[UNK]": 100, "[CLS]": 101, "[SEP]": 102,
                 "[MASK]": 103, "the": 1996}),
    ("cased", {"[PAD]": 0, "[UNK]": 100, "[CLS]": 101, "[SEP]": 102,
               "[MASK]": 103, "the": 1103}),
    ("chinese", {"[PAD]": 0, "[UNK]": 100, "": 343, "##": 13502}),
    ("multilingual_cased", {"[PAD]": 0, "[UNK]": 100, "[CLS]": 101}),
])
def test_real_vocab_ids(shared_data, name, expected):
  path = os.path.join(shared_data, "vocab", name, "vocab.txt")
  if not os.path.exists(path):
    pytest.skip("%s is absent" % path)
  vocab = tokenization.load_vocab(path)
  stripped = read_stripped_lines(path)
  assert {token: vocab[token] for token in expected} == expected
  # Every line keeps its id (these vocabs have no duplicates), so the ids
  # after the Chinese vocab's U+2028 lines stay right too.
  assert len(vocab) == len(stripped)
  assert list(vocab.items()) == [(t, i) for i, t in enumerate(stripped)]


def test_chinese_vocab_u2028_lines(shared_data):
  path = os.path.join(shared_data, "vocab", "chinese", "vocab.txt")
  if not os.path.exists(path):
    pytest.skip("%s is absent" % path)
  tokenizer = tokenization.FullTokenizer(path, do_lower_case=True)
  assert tokenizer.convert_ids_to_tokens([343, 13502]) == ["", "##"]
  with io.open(path, "rb") as f:
    raw = f.read().decode("utf-8").split("\n")
  assert raw[343] == u"\u2028" and raw[13502] == u"##\u2028"
  last = len(raw) - 2
  assert tokenizer.convert_ids_to_tokens([344, last]) == [
      raw[344].strip(), raw[last].strip()]
  tokens = tokenizer.tokenize(u"我爱北京天安门。")
  assert tokens == list(u"我爱北京天安门。")
  assert tokenizer.convert_ids_to_tokens(
      tokenizer.convert_tokens_to_ids(tokens)) == tokens


def test_uncased_real_vocab_sentence(shared_data):
  path = os.path.join(shared_data, "vocab", "uncased", "vocab.txt")
  if not os.path.exists(path):
    pytest.skip("%s is absent" % path)
  tokenizer = tokenization.FullTokenizer(path, do_lower_case=True)
  tokens = tokenizer.tokenize(u"The Unaffable café\u00a0owner's [MASK]!")
  assert tokens == ["the", "una", "##ffa", "##ble", "cafe", "owner", "'",
                    "s", "[", "mask", "]", "!"]
  assert tokens == reference_tokenizer.ReferenceTokenizer(
      tokenizer.vocab).tokenize(u"The Unaffable café\u00a0owner's [MASK]!")
  assert tokenizer.convert_tokens_to_ids(["the", "[UNK]"]) == [1996, 100]


# ----------------------------------------------------------------------------
# Vocab files: line splitting, duplicates, bad input.


def test_vocab_lines_split_on_newline_only(tmp_path):
  # GFile.readline splits on "\n" only and drops every "\r".
  path = str(tmp_path / "vocab.txt")
  with open(path, "wb") as f:
    f.write(u"[UNK]\na\x0bb\nc\u2028\n\x85d\ne\rf\r\n \n".encode("utf-8"))
  vocab = tokenization.load_vocab(path)
  assert list(vocab.items()) == [("[UNK]", 0), ("a\x0bb", 1), ("c", 2),
                                 ("d", 3), ("ef", 4), ("", 5)]


def test_vocab_last_line_without_newline(tmp_path):
  path = str(tmp_path / "vocab.txt")
  with open(path, "wb") as f:
    f.write(b"[UNK]\nx\n\ny")
  assert list(tokenization.load_vocab(path).items()) == [
      ("[UNK]", 0), ("x", 1), ("", 2), ("y", 3)]


def test_duplicate_vocab_entries_warn_and_later_line_wins(tmp_path,
                                                          monkeypatch):
  warnings = []
  monkeypatch.setattr(tokenization.tf.logging, "warning",
                      lambda fmt, *args: warnings.append(fmt % args))
  path = write_vocab(tmp_path, ["[UNK]", "a", "b", "a", "c", "a"])
  tokenizer = tokenization.FullTokenizer(path)
  assert list(tokenizer.vocab.items()) == [("[UNK]", 0), ("a", 5), ("b", 2),
                                           ("c", 4)]
  assert len(warnings) == 1
  assert path in warnings[0] and "'a' on lines 2, 4, 6" in warnings[0]
  assert tokenizer.convert_tokens_to_ids(tokenizer.tokenize("a b")) == [5, 2]
  # Quirk of the original: the inverse vocab has no entry for the ids the
  # later lines overrode.
  with pytest.raises(KeyError):
    tokenizer.convert_ids_to_tokens([1])


def test_no_warning_without_duplicates(tmp_path, monkeypatch):
  warnings = []
  monkeypatch.setattr(tokenization.tf.logging, "warning",
                      lambda fmt, *args: warnings.append(fmt % args))
  tokenization.load_vocab(write_vocab(tmp_path, ["[UNK]", "a", "b"]))
  assert warnings == []


def test_missing_vocab_file_is_named(tmp_path):
  path = str(tmp_path / "no_such_vocab.txt")
  with pytest.raises(ValueError, match="no_such_vocab.txt does not exist"):
    tokenization.FullTokenizer(path)


def test_empty_vocab_file_is_named(tmp_path):
  path = write_vocab(tmp_path, [], name="empty_vocab.txt")
  with pytest.raises(ValueError, match="empty_vocab.txt is empty"):
    tokenization.load_vocab(path)


def test_vocab_directory_is_named(tmp_path):
  with pytest.raises(ValueError, match="cannot be read"):
    tokenization.load_vocab(str(tmp_path))


def test_vocab_not_utf8_names_file_and_line(tmp_path):
  path = str(tmp_path / "latin1_vocab.txt")
  with open(path, "wb") as f:
    f.write(b"[UNK]\nok\ncaf\xe9\n")
  with pytest.raises(ValueError, match=r"latin1_vocab.txt, line 3: not valid"):
    tokenization.load_vocab(path)


@pytest.mark.parametrize("text", ["zebra", "a" * 201])
def test_vocab_without_unknown_token_is_named(tmp_path, text):
  path = write_vocab(tmp_path, ["a", "b", "##b"], name="no_unk_vocab.txt")
  tokenizer = tokenization.FullTokenizer(path)
  # Words the vocab covers need no unknown token.
  assert tokenizer.tokenize("a bb") == ["a", "b", "##b"]
  with pytest.raises(ValueError) as info:
    tokenizer.tokenize(text)
  assert not isinstance(info.value, KeyError)
  assert "no_unk_vocab.txt" in str(info.value)
  assert "'[UNK]'" in str(info.value)


def test_wordpiece_without_unknown_token_names_the_vocab():
  tokenizer = tokenization.WordpieceTokenizer(vocab={"a": 0})
  with pytest.raises(ValueError, match="The vocab has no line '.UNK.'"):
    tokenizer.tokenize("b")


def test_invalid_utf8_in_text_is_ignored(golden_vocab_file):
  tokenizer = tokenization.FullTokenizer(golden_vocab_file, True)
  assert tokenizer.tokenize(b"caf\xc3\xa9 \xff\xfethe\xc3") == (
      tokenizer.tokenize(u"café the"))
  assert tokenization.convert_to_unicode(b"a\x80b") == "ab"
  assert tokenization.printable_text(b"\xe2\x82\xacx\xe2") == u"€x"


@pytest.mark.parametrize("bad", [None, 3, 1.5, ["a"]])
def test_unsupported_text_types_raise_like_the_original(golden_vocab_file,
                                                        bad):
  tokenizer = tokenization.FullTokenizer(golden_vocab_file, True)
  for tokenize in (tokenizer.tokenize, tokenizer.basic_tokenizer.tokenize,
                   tokenizer.wordpiece_tokenizer.tokenize):
    with pytest.raises(ValueError, match="Unsupported string type"):
      tokenize(bad)


# ----------------------------------------------------------------------------
# Ids, helpers and the public API on small vocabs.


def test_convert_ids_to_tokens_unknown_id_raises_key_error(golden_vocab_file):
  tokenizer = tokenization.FullTokenizer(golden_vocab_file)
  assert tokenizer.convert_ids_to_tokens([0, 1, 960]) == [
      "[PAD]", "[UNK]", tokenizer.inv_vocab[960]]
  for bad_id in (-1, len(tokenizer.vocab)):
    with pytest.raises(KeyError):
      tokenizer.convert_ids_to_tokens([bad_id])
    with pytest.raises(KeyError):
      tokenization.convert_ids_to_tokens(tokenizer.inv_vocab, [bad_id])


def test_convert_tokens_to_ids_unknown_token_raises_key_error(
    golden_vocab_file):
  tokenizer = tokenization.FullTokenizer(golden_vocab_file)
  with pytest.raises(KeyError):
    tokenizer.convert_tokens_to_ids(["the", "no-such-token"])
  assert tokenization.convert_tokens_to_ids(tokenizer.vocab, []) == []


def test_small_vocab_end_to_end(tmp_path):
  path = write_vocab(tmp_path, ["[UNK]", "[CLS]", "[SEP]", "want", "##want",
                                "##ed", "wa", "un", "runn", "##ing", ","])
  tokenizer = tokenization.FullTokenizer(path)
  tokens = tokenizer.tokenize(u"UNwant\u00E9d,running")
  assert tokens == ["un", "##want", "##ed", ",", "runn", "##ing"]
  assert tokenizer.convert_tokens_to_ids(tokens) == [7, 4, 5, 10, 8, 9]
  wordpiece = tokenizer.wordpiece_tokenizer
  assert wordpiece.tokenize("") == []
  assert wordpiece.tokenize("unwanted running") == [
      "un", "##want", "##ed", "runn", "##ing"]
  # One piece that matches nothing makes the whole word unknown.
  assert wordpiece.tokenize("unwantedX running") == ["[UNK]", "runn", "##ing"]


def test_basic_tokenizer_lower_and_cased():
  lower = tokenization.BasicTokenizer(do_lower_case=True)
  cased = tokenization.BasicTokenizer(do_lower_case=False)
  text = u" \tHeLLo!how  \n Are yoU?  "
  assert lower.tokenize(text) == ["hello", "!", "how", "are", "you", "?"]
  assert cased.tokenize(text) == ["HeLLo", "!", "how", "Are", "yoU", "?"]
  assert lower.tokenize(u"H\u00E9llo") == ["hello"]
  assert lower.tokenize(u"ah\u535A\u63A8zz") == [
      "ah", u"\u535A", u"\u63A8", "zz"]


@pytest.mark.parametrize("text,expected", [
    (u"vertical\x0btab", ["verticaltab"]),
    (u"zero\u200bwidth", ["zerowidth"]),
    (u"line\u2028sep para\u2029sep", ["line", "sep", "para", "sep"]),
    (u"ΟΔΟΣ ΟΣΟΣ", [u"οδος", u"οσος"]),
    (u"で ガ", [u"て", u"カ"]),
    (u"\uf900", [u"\u8c48"]),
    (u"€100 25°C minus−sign a$b^c", [u"€100", u"25°c", u"minus−sign", "a",
                                     "$", "b", "^", "c"]),
    (u"[MASK]", ["[", "mask", "]"]),
    (u"\U0001F469\u200D\U0001F4BB", [u"\U0001F469\U0001F4BB"]),
])
def test_basic_tokenizer_quirks(text, expected):
  assert tokenization.BasicTokenizer(True).tokenize(text) == expected


def test_max_input_chars_counts_after_accent_stripping(tmp_path):
  path = write_vocab(tmp_path, ["[UNK]", "e", "##d"])
  word = u"e\u0301" + "d" * 199
  assert len(word) == 201
  assert tokenization.FullTokenizer(path, True).tokenize(word) == (
      ["e"] + ["##d"] * 199)
  assert tokenization.FullTokenizer(path, False).tokenize(word) == ["[UNK]"]


def test_helpers_spot_checks():
  assert all(tokenization._is_whitespace(c)
             for c in u" \t\r\n\u00a0\u3000\u202f")
  assert not any(tokenization._is_whitespace(c)
                 for c in u"A-\x0b\x0c\x85\u2028\u2029\u200b")
  assert all(tokenization._is_control(c)
             for c in u"\x00\x05\x0b\x1f\x7f\x85\u200b\u00ad\ufeff\u2060")
  assert not any(tokenization._is_control(c)
                 for c in u"A \t\r\n\u2028\ufffd\U0001F4A9\ue000")
  assert all(tokenization._is_punctuation(c)
             for c in u"-$`^~|+<=>.,!?\u2014\u201c\u00bf\u3002")
  assert not any(tokenization._is_punctuation(c)
                 for c in u"A 7€£°±×\u2212©™\U0001F600")


def test_helpers_follow_unicode_categories():
  """Every assigned code point: the helpers agree with their definitions."""
  ascii_symbols = set(chr(c) for c in range(33, 127) if not chr(c).isalnum())
  # Planes 4 to 13 hold no assigned character; 15 and 16 only private use.
  code_points = list(range(0x40000)) + list(range(0xE0000, 0xF0000))
  chars = [chr(code_point) for code_point in code_points]
  categories = list(map(unicodedata.category, chars))
  assert list(map(tokenization._is_whitespace, chars)) == [
      char in u" \t\n\r" or category == "Zs"
      for char, category in zip(chars, categories)]
  assert list(map(tokenization._is_control, chars)) == [
      char not in u"\t\n\r" and category in ("Cc", "Cf")
      for char, category in zip(chars, categories)]
  assert list(map(tokenization._is_punctuation, chars)) == [
      char in ascii_symbols or category.startswith("P")
      for char, category in zip(chars, categories)]


def test_whitespace_split_is_exactly_is_whitespace():
  # Chunks are split with a regex built from Python's `\s`, not from a scan
  # of the Zs characters: every code point must agree with _is_whitespace.
  chars = [chr(code_point) for code_point in range(sys.maxunicode + 1)]
  split_there = [len(pieces) == 2 for pieces in
                 map(tokenization._split_on_whitespace, chars)]
  assert split_there == list(map(tokenization._is_whitespace, chars))
  assert tokenization._split_on_whitespace(u"a \t\u3000b\u2028c\x0bd") == [
      "a", u"b\u2028c\x0bd"]


def test_printable_whitespace_is_only_the_space():
  # tokenization splits printable text with str.split, relying on this.
  assert [c for c in range(sys.maxunicode + 1)
          if chr(c).isprintable() and chr(c).isspace()] == [0x20]


def test_whitespace_tokenize():
  assert tokenization.whitespace_tokenize(u"  a\tb\u2028c \n") == [
      "a", "b", "c"]
  assert tokenization.whitespace_tokenize(u" \u3000 ") == []


# ----------------------------------------------------------------------------
# Caches never change results.


def test_changing_settings_drops_cached_results(tmp_path):
  path = write_vocab(tmp_path, ["[UNK]", "Hello", "hello", "##s"])
  tokenizer = tokenization.FullTokenizer(path, do_lower_case=True)
  assert tokenizer.tokenize("Hello Hellos") == ["hello", "hello", "##s"]
  tokenizer.basic_tokenizer.do_lower_case = False
  assert tokenizer.tokenize("Hello Hellos") == ["Hello", "Hello", "##s"]
  tokenizer.vocab["Hellos"] = len(tokenizer.vocab)
  assert tokenizer.tokenize("Hello Hellos") == ["Hello", "Hellos"]
  tokenizer.wordpiece_tokenizer.max_input_chars_per_word = 5
  assert tokenizer.tokenize("Hello Hellos") == ["Hello", "[UNK]"]
  tokenizer.wordpiece_tokenizer.unk_token = "##s"
  assert tokenizer.tokenize("Hellos") == ["##s"]
  basic = tokenization.BasicTokenizer(do_lower_case=True)
  assert basic.tokenize("AB") == ["ab"]
  basic.do_lower_case = False
  assert basic.tokenize("AB") == ["AB"]


def test_caches_stay_bounded(golden_vocab_file, monkeypatch):
  monkeypatch.setattr(tokenization, "_MAX_CACHED_CHUNKS", 8)
  tokenizer = tokenization.FullTokenizer(golden_vocab_file)
  reference = reference_tokenizer.ReferenceTokenizer(tokenizer.vocab)
  for i in range(30):
    line = u"w%d caf\u00e9%d, the" % (i, i)
    assert tokenizer.tokenize(line) == reference.tokenize(line)
    assert len(tokenizer._chunk_results) <= 8
    assert len(tokenizer.wordpiece_tokenizer._word_pieces) <= 8
  # A text with more chunks than the bound is still tokenized right.
  text = u" ".join(u"w%d caf\u00e9%d" % (i, i) for i in range(30))
  for _ in range(2):
    assert tokenizer.tokenize(text) == reference.tokenize(text)


# ----------------------------------------------------------------------------
# validate_case_matches_checkpoint.


def test_validate_case_passes_when_consistent_or_unknown():
  for do_lower_case, checkpoint in [
      (True, ""), (False, None), (True, "/m/uncased_L-12_H-768_A-12/"
                                  "bert_model.ckpt"),
      (False, "gs://b/cased_L-24_H-1024_A-16/bert_model.ckpt"),
      (True, "/m/my_model/bert_model.ckpt"), (False, "/m/model.ckpt"),
      (True, "multi_cased_L-12_H-768_A-12/model.ckpt"),
      (False, "/m/chinese_L-12_H-768_A-12/other.ckpt")]:
    assert tokenization.validate_case_matches_checkpoint(
        do_lower_case, checkpoint) is None


def test_validate_case_uncased_model_with_cased_flag():
  checkpoint = "/m/uncased_L-12_H-768_A-12/bert_model.ckpt-1000"
  with pytest.raises(ValueError) as info:
    tokenization.validate_case_matches_checkpoint(False, checkpoint)
  assert str(info.value) == (
      "You passed in `--do_lower_case=False` with `--init_checkpoint=%s`. "
      "However, `uncased_L-12_H-768_A-12` seems to be a lowercased model, so "
      "you should pass in `--do_lower_case=True` so that the fine-tuning "
      "matches how the model was pre-training. If this error is wrong, "
      "please just comment out this check." % checkpoint)


@pytest.mark.parametrize("model", ["cased_L-12_H-768_A-12",
                                   "cased_L-24_H-1024_A-16",
                                   "multi_cased_L-12_H-768_A-12"])
def test_validate_case_cased_models_with_lower_case_flag(model):
  checkpoint = "gs://bucket/%s/bert_model.ckpt" % model
  with pytest.raises(ValueError, match="`%s` seems to be a cased model, so "
                     "you should pass in `--do_lower_case=False`" % model):
    tokenization.validate_case_matches_checkpoint(True, checkpoint)


@pytest.mark.parametrize("model", ["uncased_L-24_H-1024_A-16",
                                   "multilingual_L-12_H-768_A-12",
                                   "chinese_L-12_H-768_A-12"])
def test_validate_case_lowercased_models_with_cased_flag(model):
  with pytest.raises(ValueError, match="passed in `--do_lower_case=False`"):
    tokenization.validate_case_matches_checkpoint(
        False, "%s/bert_model.ckpt" % model)


# ----------------------------------------------------------------------------
# Properties over random Unicode: the fast path equals the reference.

# Characters the tokenizer treats specially: whitespace of every kind,
# controls, format characters, combining marks, CJK, case oddities, ASCII
# and non-ASCII punctuation and symbols.
_SPECIAL_CHARS = (
    u" \t\n\r\x0b\x0c\x1c\x1f\x85\xa0\u1680\u2000\u200a\u2028\u2029\u202f"
    u"\u3000\x00\x07\x7f\u200b\u200d\u2060\ufeff\ufffd\u00ad\u0301\u0308"
    u"\u3099\ufe0f\u0130\u0131\u03a3\u00df\u1e9e\ufb01\u01c5\u4e2d\u6587"
    u"\uf900\U00020000\U0002f800\u30ac\u30ab\ud55c\uac00\uff41\u2163"
    u"!?.,-'\"$^`~|+<=>[]#\u20ac\u00b0\u00b1\u2212\u2014\u201c\u3002"
    u"\U0001F600\U0001F3FB\ud800\udfff")


def _text_strategy(vocab):
  words = sorted(token.replace("##", "") for token in vocab if token)
  fragment = st.one_of(
      st.integers(0, sys.maxunicode).map(chr),  # surrogates included
      st.sampled_from(_SPECIAL_CHARS),
      st.sampled_from(u"abcdefghijklmnopqrstuvwxyzAEIOU "),
      st.sampled_from(words))
  return st.lists(fragment, max_size=25).map(u"".join)


@pytest.fixture(scope="module")
def tokenizers(golden_vocab_file, golden_vocab):
  """Fast and reference tokenizers for both casings, on the golden vocab."""
  return {
      lower: (tokenization.FullTokenizer(golden_vocab_file, lower),
              tokenization.BasicTokenizer(lower),
              reference_tokenizer.ReferenceTokenizer(golden_vocab, lower))
      for lower in (True, False)}


def _check_against_reference(tokenizers, text):
  for full, basic, reference in tokenizers.values():
    basic_tokens = reference.basic_tokenize(text)
    assert basic.tokenize(text) == basic_tokens
    tokens = full.tokenize(text)
    assert tokens == reference.tokenize(text)
    # The pieces of each word re-join to the word, or are one [UNK].
    pieces = [full.wordpiece_tokenizer.tokenize(w) for w in basic_tokens]
    assert [p for word_pieces in pieces for p in word_pieces] == tokens
    for word, word_pieces in zip(basic_tokens, pieces):
      assert (word_pieces == ["[UNK]"] or u"".join(
          [word_pieces[0]] + [p[2:] for p in word_pieces[1:]]) == word)
      assert all(p.startswith("##") for p in word_pieces[1:])
    ids = full.convert_tokens_to_ids(tokens)
    assert ids == reference.convert_tokens_to_ids(tokens)
    assert full.convert_ids_to_tokens(ids) == tokens


def test_random_text_matches_reference(tokenizers, golden_vocab):

  @GOLDEN_SETTINGS
  @hypothesis.given(_text_strategy(golden_vocab))
  def check(text):
    _check_against_reference(tokenizers, text)

  check()


def test_any_string_never_raises(tokenizers):

  @hypothesis.settings(max_examples=150, deadline=None)
  @hypothesis.given(st.text(st.integers(0, sys.maxunicode).map(chr)))
  def check(text):
    for full, basic, _ in tokenizers.values():
      assert isinstance(full.tokenize(text), list)
      assert isinstance(basic.tokenize(text), list)

  check()


def test_random_bytes_decode_like_the_original(tokenizers):

  @hypothesis.settings(max_examples=100, deadline=None)
  @hypothesis.given(st.binary(max_size=60))
  def check(data):
    for full, _, reference in tokenizers.values():
      assert full.tokenize(data) == reference.tokenize(
          data.decode("utf-8", "ignore"))

  check()


@pytest.mark.parametrize("text", [
    u"", u" ", u"\u2028", u"\ud800", u"a\ud800b \udfffc", u"\u0301",
    u"\u0301\u0301 x", u"\x00\ufffd", u"a" * 200, u"a" * 201,
    u"\u00e9" + u"c" * 199, u"\u00e9" + u"c" * 200, u"カタカナ カタ カ",
    u"\t\u3000mixed\u00a0 SPACES\u2003 and\u1680more\r\n",
    u"İstanbul ΣΊΣΥΦΟΣ straße ﬁne Ⅻ ½",
])
def test_edge_cases_match_reference(tokenizers, text):
  _check_against_reference(tokenizers, text)


def test_pair_packing_truncates_the_longer_side_and_pads(tmp_path):
  vocab_file = str(tmp_path / "vocab.txt")
  write_tiny_vocab(vocab_file)
  tokenizer = tokenization.FullTokenizer(vocab_file)
  tokens, input_ids, input_mask, segment_ids = (
      tokenization.pack_sentence_pair(
          tokenizer, "the cat ran on the road", "a dog", 9))
  assert tokens == ["[CLS]", "the", "cat", "ran", "on", "[SEP]", "a", "dog",
                    "[SEP]"]
  assert segment_ids == [0] * 6 + [1] * 3
  assert input_mask == [1] * 9
  assert input_ids == tokenizer.convert_tokens_to_ids(tokens)
  # A second text that tokenizes to nothing gives a single sentence.
  tokens, input_ids, input_mask, segment_ids = (
      tokenization.pack_sentence_pair(tokenizer, "the cat", "   ", 6))
  assert tokens == ["[CLS]", "the", "cat", "[SEP]"]
  assert input_mask == [1, 1, 1, 1, 0, 0]
  assert input_ids[4:] == [0, 0] and segment_ids == [0] * 6


def test_truncation_cuts_one_token_at_a_time_from_the_longer_list():
  tokens_a, tokens_b = list("abcdef"), list("xyz")
  tokenization.truncate_seq_pair(tokens_a, tokens_b, 5)
  assert (tokens_a, tokens_b) == (list("abc"), list("xy"))
