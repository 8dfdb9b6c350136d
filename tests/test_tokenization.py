# coding=utf-8
"""Tests of tokenization.py: the original's output, token for token.

The golden files pin the original's output on 153 lines; the real vocabs pin
ids; property tests compare the fast tokenizer with the plain per-character
reference of benchmarks/reference_tokenizer.py (written independently, from
the description of the original's behaviour) on random Unicode. Errors are
instances of the class the original raised. The options the original lacked
(`strip_accents`, `never_split`) change nothing when unset.
"""

import ast
import gc
import inspect
import io
import json
import os
import pickle
import sys
import unicodedata

import pytest

try:
  import hypothesis
  from hypothesis import strategies as st
except ImportError:  # Then the property tests skip; the others run.
  hypothesis = None

import tokenization
from benchmarks import reference_tokenizer
from helpers import write_tiny_vocab

needs_hypothesis = pytest.mark.skipif(
    hypothesis is None,
    reason="hypothesis is not installed (pip install -r requirements-test.txt)")
GOLDEN_SETTINGS = hypothesis and hypothesis.settings(
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


def test_missing_vocab_file_raises_the_originals_not_found_error(tmp_path):
  path = str(tmp_path / "no_such_vocab.txt")
  for make in (tokenization.FullTokenizer, tokenization.load_vocab):
    # The original raised tf.errors.NotFoundError; ours is one, and a
    # ValueError as before.
    with pytest.raises(tokenization.tf.errors.NotFoundError) as info:
      make(path)
    assert isinstance(info.value, ValueError)
    assert str(info.value) == info.value.message == (
        "Vocab file %s does not exist." % path)
  with pytest.raises(tokenization.tf.errors.NotFoundError):
    tokenization.load_vocab("")


def test_empty_vocab_file_is_named(tmp_path):
  path = write_vocab(tmp_path, [], name="empty_vocab.txt")
  with pytest.raises(ValueError, match="empty_vocab.txt is empty"):
    tokenization.load_vocab(path)


def test_vocab_directory_is_named(tmp_path):
  with pytest.raises(ValueError, match="is a directory, not a file"):
    tokenization.load_vocab(str(tmp_path))


def _load_bytes(tmp_path, data, name="latin1_vocab.txt"):
  path = str(tmp_path / name)
  with open(path, "wb") as f:
    f.write(data)
  return path


@pytest.mark.parametrize("data,args,line", [
    # The five arguments of the original's UnicodeDecodeError: it decoded
    # one line at a time, once GFile had dropped its "\r" bytes.
    (b"[UNK]\nok\ncaf\xe9\n", ("utf-8", b"caf\xe9\n", 3, 4,
                              "invalid continuation byte"), 3),
    (b"a\r\nb\rc\n\r\xe9x\n", ("utf-8", b"\xe9x\n", 0, 1,
                               "invalid continuation byte"), 3),
    (b"[UNK]\nend\xe2\x82", ("utf-8", b"end\xe2\x82", 3, 5,
                             "unexpected end of data"), 2),
])
def test_vocab_not_utf8_raises_unicode_decode_error(tmp_path, data, args,
                                                     line):
  path = _load_bytes(tmp_path, data)
  with pytest.raises(UnicodeDecodeError) as info:
    tokenization.load_vocab(path)
  error = info.value
  assert error.args == args
  assert (error.encoding, error.object, error.start, error.end,
          error.reason) == args
  assert str(error).startswith(
      "Vocab file %s, line %d: not valid UTF-8 ('utf-8' codec can't decode "
      "byte" % (path, line))
  # The message survives pickling (e.g. from a worker process).
  assert str(pickle.loads(pickle.dumps(error))) == str(error)
  with pytest.raises(UnicodeDecodeError, match="line %d" % line):
    tokenization.FullTokenizer(path)


def test_vocab_carriage_return_inside_a_character_is_dropped(tmp_path):
  # As in the original, "\r" goes before decoding: the bytes around it join.
  path = _load_bytes(tmp_path, b"[UNK]\ncaf\xc3\r\xa9\n")
  assert list(tokenization.load_vocab(path).items()) == [
      ("[UNK]", 0), (u"caf\u00e9", 1)]


# ----------------------------------------------------------------------------
# A vocab without the unknown token: tokens as the original, ids fail.


@pytest.fixture(scope="module")
def vocab_without_unk_file(golden_vocab_file, tmp_path_factory):
  """The golden vocab with its "[UNK]" line renamed: every other id kept."""
  with io.open(golden_vocab_file, "rb") as f:
    lines = f.read().decode("utf-8").split("\n")
  assert lines[1] == "[UNK]"
  lines[1] = "[NOT_UNK]"
  path = str(tmp_path_factory.mktemp("no_unk") / "no_unk_vocab.txt")
  with io.open(path, "wb") as f:
    f.write("\n".join(lines).encode("utf-8"))
  return path


@pytest.mark.parametrize("casing,do_lower_case", CASINGS)
def test_golden_tokens_without_unknown_token_in_vocab(
    golden, vocab_without_unk_file, casing, do_lower_case):
  """The original's tokens, "[UNK]" included; only the ids of "[UNK]" fail."""
  tokenizer = tokenization.FullTokenizer(vocab_without_unk_file,
                                         do_lower_case)
  rows = golden_rows(golden, casing)
  assert [tokenizer.tokenize(row["text"]) for row in rows] == [
      row["tokens"] for row in rows]
  with_unk = [row for row in rows if "[UNK]" in row["tokens"]]
  assert len(with_unk) > 10
  for row in rows:
    if row in with_unk:
      with pytest.raises(KeyError) as info:
        tokenizer.convert_tokens_to_ids(row["tokens"])
      check_not_in_vocab_error(info.value, "[UNK]", vocab_without_unk_file)
      assert "unknown token" in str(info.value)
    else:
      assert tokenizer.convert_tokens_to_ids(row["tokens"]) == row["ids"]


def check_not_in_vocab_error(error, token, vocab_file):
  """A KeyError as the original's, whose message names token and file."""
  assert isinstance(error, KeyError)
  assert isinstance(error, tokenization.NotInVocabError)
  # As a dict's KeyError: the missing key is the only argument.
  assert error.args == (token,)
  assert str(error).startswith(
      "Token %r is not in vocab file %s" % (token, vocab_file))


@pytest.mark.parametrize("text", ["zebra", "a" * 201])
def test_vocab_without_unknown_token(tmp_path, text):
  path = write_vocab(tmp_path, ["a", "b", "##b"], name="no_unk_vocab.txt")
  tokenizer = tokenization.FullTokenizer(path)
  # Words the vocab covers need no unknown token.
  assert tokenizer.tokenize("a bb") == ["a", "b", "##b"]
  assert tokenizer.convert_tokens_to_ids(["a", "b", "##b"]) == [0, 1, 2]
  # The original returns the unknown token's string; its id fails.
  tokens = tokenizer.tokenize(text + " a")
  assert tokens == ["[UNK]", "a"]
  for convert in (tokenizer.convert_tokens_to_ids,
                  lambda tokens: tokenization.convert_tokens_to_ids(
                      tokenizer.vocab, tokens),
                  lambda tokens: tokenization.convert_by_vocab(
                      tokenizer.vocab, tokens)):
    with pytest.raises(KeyError) as info:
      convert(tokens)
    assert info.value.args == ("[UNK]",)
    assert path in str(info.value) and "'[UNK]'" in str(info.value)
  # Code written for the original keeps working: KeyError, key in args[0].
  try:
    tokenizer.convert_tokens_to_ids(tokens)
  except KeyError as e:
    missing = e.args[0]
  assert missing == "[UNK]"
  # The scripts report a ValueError in one line.
  with pytest.raises(ValueError):
    tokenizer.convert_tokens_to_ids(tokens)


def test_wordpiece_custom_unknown_token_missing_from_vocab():
  """Cased vocab, unk_token="<unk>" (not in it), at most 10 characters."""
  vocab = {token: index for index, token in enumerate([
      "[PAD]", "[CLS]", "[SEP]", "Un", "##aff", "##able", "un", "##want",
      "##ed", "a", "##a", "aaaaaaaaaa", "ab", "##bcd", "Cafe", u"##\u0301",
      "<", "##unk", "##>", "##"])}
  tokenizer = tokenization.WordpieceTokenizer(
      vocab, unk_token="<unk>", max_input_chars_per_word=10)
  text = (u"Unaffable unaffable UNAFFABLE unwanted unwantedX aaaaaaaaaa "
          u"aaaaaaaaaaa abcd Cafe\u0301 Caf\u00e9 <unk> ##a ## [UNK] "
          u"a\u3000aa")
  expected = [
      "Un", "##aff", "##able",  # cased pieces
      "un", "##aff", "##able",
      "<unk>",  # UNAFFABLE: no upper-case pieces
      "un", "##want", "##ed",
      "<unk>",  # unwantedX: one unmatched piece, the whole word is unknown
      "aaaaaaaaaa",  # 10 characters: in the vocab
      "<unk>",  # 11 characters: too long, although "##a" would match
      "<unk>",  # abcd: "ab" first, then no "##cd"; no backtracking to "a"
      "Cafe", u"##\u0301",  # the decomposed accent is a piece
      "<unk>",  # precomposed: no piece
      "<", "##unk", "##>",  # the text "<unk>" is not the unknown token
      "##a",  # a whole word that is a "##" entry
      "##",
      "<unk>",  # "[UNK]" is ordinary text here
      "a", "a", "##a"]  # U+3000 separates words
  assert tokenizer.tokenize(text) == expected
  # Twice: the second answer comes from the word cache.
  assert tokenizer.tokenize(text) == expected
  reference = reference_tokenizer.ReferenceTokenizer(
      vocab, do_lower_case=False, unk_token="<unk>",
      max_input_chars_per_word=10)
  assert [piece for word in text.split()
          for piece in reference.wordpiece_tokenize(word)] == expected
  with pytest.raises(KeyError) as info:
    tokenization.convert_tokens_to_ids(vocab, expected)
  assert info.value.args == ("<unk>",)
  assert str(info.value) == "Token '<unk>' is not in the vocab."


@pytest.mark.parametrize("casing,do_lower_case", CASINGS)
def test_golden_text_custom_unknown_token_and_length(
    golden, golden_vocab, vocab_without_unk_file, casing, do_lower_case):
  tokenizer = tokenization.FullTokenizer(vocab_without_unk_file,
                                         do_lower_case)
  tokenizer.wordpiece_tokenizer.unk_token = "<unk>"
  tokenizer.wordpiece_tokenizer.max_input_chars_per_word = 10
  reference = reference_tokenizer.ReferenceTokenizer(
      tokenizer.vocab, do_lower_case, unk_token="<unk>",
      max_input_chars_per_word=10)
  texts = [row["text"] for row in golden_rows(golden, casing)]
  tokens = [tokenizer.tokenize(text) for text in texts]
  assert tokens == [reference.tokenize(text) for text in texts]
  assert sum(line.count("<unk>") for line in tokens) > 50
  assert not any("[UNK]" in line for line in tokens)
  with pytest.raises(KeyError) as info:
    tokenizer.convert_tokens_to_ids(["the", "<unk>"])
  check_not_in_vocab_error(info.value, "<unk>", vocab_without_unk_file)
  assert "the vocab needs a line <unk>" in str(info.value)


def test_ids_missing_from_the_vocab_are_named(golden_vocab_file):
  tokenizer = tokenization.FullTokenizer(golden_vocab_file)
  with pytest.raises(KeyError) as info:
    tokenizer.convert_ids_to_tokens([0, 961])
  assert info.value.args == (961,)
  assert str(info.value) == "Id 961 is not in the ids of vocab file %s." % (
      golden_vocab_file)
  with pytest.raises(KeyError, match="Id -1 is not in the inverse vocab"):
    tokenization.convert_ids_to_tokens(tokenizer.inv_vocab, [-1])
  with pytest.raises(KeyError) as info:
    tokenization.convert_by_vocab(tokenizer.vocab, ["the", "no-such"])
  assert str(info.value) == "Item 'no-such' is not in vocab file %s." % (
      golden_vocab_file)
  # A copy is not the loaded vocab: no file to name.
  with pytest.raises(KeyError) as info:
    tokenization.convert_tokens_to_ids(dict(tokenizer.vocab), ["no-such"])
  assert str(info.value) == "Token 'no-such' is not in the vocab."


def test_vocab_files_are_forgotten_with_their_vocabs(golden_vocab_file):
  gc.collect()
  before = len(tokenization._files_of_vocabs)
  vocabs = [tokenization.load_vocab(golden_vocab_file) for _ in range(3)]
  assert len(tokenization._files_of_vocabs) == before + 3
  del vocabs
  gc.collect()
  assert len(tokenization._files_of_vocabs) == before


def test_not_in_vocab_error_pickles():
  error = tokenization.NotInVocabError("[UNK]", "Token '[UNK]' is missing.")
  copy = pickle.loads(pickle.dumps(error))
  assert copy.args == ("[UNK]",) and str(copy) == str(error)
  assert str(tokenization.NotInVocabError("x")) == "'x'"


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
# Options the original lacked: off by default.


def test_signatures_extend_the_originals():
  def parameters(function):
    return [(p.name, p.default) for p in
            inspect.signature(function).parameters.values()]
  empty = inspect.Parameter.empty
  assert parameters(tokenization.FullTokenizer.__init__) == [
      ("self", empty), ("vocab_file", empty), ("do_lower_case", True),
      ("strip_accents", None), ("never_split", None)]
  assert parameters(tokenization.BasicTokenizer.__init__) == [
      ("self", empty), ("do_lower_case", True), ("strip_accents", None),
      ("never_split", None)]
  assert parameters(tokenization.WordpieceTokenizer.__init__) == [
      ("self", empty), ("vocab", empty), ("unk_token", "[UNK]"),
      ("max_input_chars_per_word", 200)]


@pytest.mark.parametrize("casing,do_lower_case", CASINGS)
@pytest.mark.parametrize("unset", [None, (), []])
def test_golden_options_unset_are_the_original(golden, golden_vocab_file,
                                               casing, do_lower_case, unset):
  full = tokenization.FullTokenizer(golden_vocab_file, do_lower_case,
                                    strip_accents=None, never_split=unset)
  basic = tokenization.BasicTokenizer(do_lower_case, None, unset)
  rows = golden_rows(golden, casing)
  assert [full.tokenize(row["text"]) for row in rows] == [
      row["tokens"] for row in rows]
  assert [basic.tokenize(row["text"]) for row in rows] == [
      row["basic_tokens"] for row in rows]


@pytest.mark.parametrize("do_lower_case,strip_accents,expected", [
    (True, None, [u"cafe", u"ca", u"αε", u"て", u"ecole", u"\u8c48"]),
    (True, True, [u"cafe", u"ca", u"αε", u"て", u"ecole", u"\u8c48"]),
    (True, False, [u"caf\u00e9", u"\u00e7a", u"\u03ac\u03ad", u"で",
                   u"e\u0301cole", u"\uf900"]),
    (False, None, [u"Caf\u00e9", u"\u00c7a", u"\u0386\u0388", u"で",
                   u"E\u0301cole", u"\uf900"]),
    (False, False, [u"Caf\u00e9", u"\u00c7a", u"\u0386\u0388", u"で",
                    u"E\u0301cole", u"\uf900"]),
    (False, True, [u"Cafe", u"Ca", u"ΑΕ", u"て", u"Ecole", u"\u8c48"]),
])
def test_strip_accents(do_lower_case, strip_accents, expected):
  text = u"Caf\u00e9 \u00c7a \u0386\u0388 で E\u0301cole \uf900"
  tokenizer = tokenization.BasicTokenizer(do_lower_case, strip_accents)
  assert tokenizer.tokenize(text) == expected
  assert reference_tokenizer.ReferenceTokenizer(
      {}, do_lower_case, strip_accents=strip_accents).basic_tokenize(
          text) == expected


def test_strip_accents_changes_what_max_input_chars_counts(tmp_path):
  # Kept marks count: 201 code points is one too many.
  path = write_vocab(tmp_path, ["[UNK]", "e", "##d", u"##\u0301"])
  word = u"e\u0301" + "d" * 199
  assert tokenization.FullTokenizer(path, True).tokenize(word) == (
      ["e"] + ["##d"] * 199)
  assert tokenization.FullTokenizer(
      path, True, strip_accents=False).tokenize(word) == ["[UNK]"]
  assert tokenization.FullTokenizer(
      path, True, strip_accents=False).tokenize(word[:-1]) == (
          ["e", u"##\u0301"] + ["##d"] * 198)
  assert tokenization.FullTokenizer(
      path, False, strip_accents=True).tokenize(word) == (
          ["e"] + ["##d"] * 199)


@pytest.mark.parametrize("bad", ["false", 0.5, "None"])
def test_strip_accents_must_be_none_true_or_false(bad):
  with pytest.raises(ValueError, match="strip_accents must be None, True or"):
    tokenization.BasicTokenizer(strip_accents=bad)


MARKERS = ["[MASK]", "[CLS]", "<Name>", u"\u00c9T\u00c9"]


@pytest.mark.parametrize("text,expected", [
    ("[CLS] The [MASK] sat. [MASK],", ["[CLS]", "the", "[MASK]", "sat", ".",
                                       "[", "mask", "]", ","]),
    # Only whole words: glued to other text, or in another case, they split.
    ("x[MASK] [mask] <name>", ["x", "[", "mask", "]", "[", "mask", "]", "<",
                               "name", ">"]),
    ("Hi <Name>! Hi <Name> !", ["hi", "<", "name", ">", "!", "hi", "<Name>",
                                "!"]),
    # Every kind of whitespace delimits; deleted characters join.
    (u"\t[MASK]\u3000[CLS]\u00a0[MASK]\u2028[CLS]\n",
     ["[MASK]", "[CLS]", "[MASK]", "[CLS]"]),
    (u"[MASK]\x07 \u200b[CLS] a\u200b[MASK]",
     ["[MASK]", "[CLS]", "a", "[", "mask", "]"]),
    # A CJK ideograph is a word of its own, so it delimits too.
    (u"中[MASK]文", [u"中", "[MASK]", u"文"]),
    # Non-ASCII entries: not lower-cased, not stripped.
    (u"\u00c9T\u00c9 \u00e9t\u00e9 caf\u00e9 \u00c9T\u00c9.",
     [u"\u00c9T\u00c9", "ete", "cafe", "ete", "."]),
])
def test_never_split_keeps_listed_words_whole(text, expected):
  tokenizer = tokenization.BasicTokenizer(True, never_split=MARKERS)
  # Twice: the second answer comes from the chunk cache.
  assert tokenizer.tokenize(text) == expected
  assert tokenizer.tokenize(text) == expected
  assert reference_tokenizer.ReferenceTokenizer(
      {}, True, never_split=MARKERS).basic_tokenize(text) == expected


def test_never_split_tokens_in_the_vocab_get_their_ids(golden_vocab_file):
  tokenizer = tokenization.FullTokenizer(
      golden_vocab_file, True, never_split=set(MARKERS + ["[SEP]", "[UNK]"]))
  tokens = tokenizer.tokenize(u"[CLS] The [MASK] is [SEP] [UNK] [MASK].")
  assert tokens == ["[CLS]", "the", "[MASK]", "is", "[SEP]", "[UNK]", "[",
                    "m", "##a", "##s", "##k", "]", "."]
  assert tokenizer.convert_tokens_to_ids(tokens)[:6] == [
      2, tokenizer.vocab["the"], 4, tokenizer.vocab["is"], 3, 1]
  # One that is not in the vocab goes through WordPiece as any word.
  assert "<Name>" not in tokenizer.vocab
  assert tokenizer.tokenize("<Name>") == (
      tokenizer.wordpiece_tokenizer.tokenize("<Name>")) == ["[UNK]"]
  # The original splits them.
  assert tokenization.FullTokenizer(golden_vocab_file, True).tokenize(
      "[MASK]") == ["[", "m", "##a", "##s", "##k", "]"]
  # A listed plain ASCII word keeps its case too.
  tokenizer = tokenization.FullTokenizer(golden_vocab_file, True,
                                         never_split=["NASA", "The"])
  assert tokenizer.tokenize("NASA nasa The THE NASA.") == [
      "N", "##A", "##S", "##A", "n", "##a", "##s", "##a", "The", "the", "n",
      "##a", "##s", "##a", "."]


@pytest.mark.parametrize("bad", [
    "", "[MA SK]", u"a\u00a0b", u"a\u2028b", "a\x0bb", "a\x00", u"a\u200b",
    u"\ufffd", u"[中]", u"\U00020000"])
def test_never_split_entries_that_cannot_match_are_refused(bad):
  with pytest.raises(ValueError, match="never_split"):
    tokenization.BasicTokenizer(never_split=["[MASK]", bad])


def test_never_split_must_be_a_list_not_a_string(golden_vocab_file):
  with pytest.raises(TypeError, match="not the string '.MASK.'"):
    tokenization.BasicTokenizer(never_split="[MASK]")
  with pytest.raises(TypeError):
    tokenization.FullTokenizer(golden_vocab_file, never_split="[MASK]")
  # Bytes entries are UTF-8, as text is.
  assert tokenization.BasicTokenizer(never_split=(b"[MASK]",)).tokenize(
      "[MASK]") == ["[MASK]"]


def test_tokenizers_pickle_like_the_originals(golden_vocab_file):
  tokenizer = tokenization.FullTokenizer(golden_vocab_file, True,
                                         never_split=["[MASK]"])
  text = u"The [MASK] caf\u00e9 x"
  tokens = tokenizer.tokenize(text)
  for copy in (pickle.loads(pickle.dumps(tokenizer)),
               __import__("copy").deepcopy(tokenizer)):
    assert copy.tokenize(text) == tokens
    assert copy.tokenize(u"Na\u00efve") == tokenizer.tokenize(u"Na\u00efve")
    assert copy.convert_tokens_to_ids(tokens) == (
        tokenizer.convert_tokens_to_ids(tokens))


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


@pytest.mark.parametrize("make", ["full", "basic"])
def test_changing_options_drops_cached_results(tmp_path, make):
  path = write_vocab(tmp_path, ["[UNK]", "[MASK]", "[", "mask", "]", "cafe",
                                u"caf\u00e9", "X", "x"])
  if make == "full":
    tokenizer = tokenization.FullTokenizer(path)
  else:
    tokenizer = tokenization.BasicTokenizer()
  text = u"caf\u00e9 [MASK] X"
  assert tokenizer.tokenize(text) == ["cafe", "[", "mask", "]", "x"]
  basic = getattr(tokenizer, "basic_tokenizer", tokenizer)
  basic.strip_accents = False
  assert tokenizer.tokenize(text) == [u"caf\u00e9", "[", "mask", "]", "x"]
  basic.never_split = ["[MASK]"]
  assert tokenizer.tokenize(text) == [u"caf\u00e9", "[MASK]", "x"]
  # A collection edited in place is noticed too.
  basic.never_split.append("X")
  assert tokenizer.tokenize(text) == [u"caf\u00e9", "[MASK]", "X"]
  basic.never_split = None
  basic.strip_accents = None
  assert tokenizer.tokenize(text) == ["cafe", "[", "mask", "]", "x"]
  basic.strip_accents = "no"
  with pytest.raises(ValueError, match="strip_accents"):
    tokenizer.tokenize(text)
  basic.strip_accents = True
  basic.never_split = ["a b"]
  with pytest.raises(ValueError, match="never_split"):
    tokenizer.tokenize(text)


def test_settings_checked_elsewhere_in_between_are_redone(tmp_path):
  # A sub-tokenizer sees other settings, through its own tokenize, then the
  # old ones again: the full tokenizer must not use the state it kept.
  path = write_vocab(tmp_path, ["[UNK]", "ab", "AB", "cd", "CD"])
  tokenizer = tokenization.FullTokenizer(path, do_lower_case=True)
  assert tokenizer.tokenize("AB") == ["ab"]
  tokenizer.basic_tokenizer.do_lower_case = False
  assert tokenizer.basic_tokenizer.tokenize("CD") == ["CD"]
  tokenizer.basic_tokenizer.do_lower_case = True
  assert tokenizer.tokenize("AB CD") == ["ab", "cd"]
  wordpiece = tokenizer.wordpiece_tokenizer
  wordpiece.unk_token = "AB"
  assert wordpiece.tokenize("x") == ["AB"]
  wordpiece.unk_token = "[UNK]"
  assert tokenizer.tokenize("x") == ["[UNK]"]


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


@needs_hypothesis
def test_random_text_matches_reference(tokenizers, golden_vocab):

  @GOLDEN_SETTINGS
  @hypothesis.given(_text_strategy(golden_vocab))
  def check(text):
    _check_against_reference(tokenizers, text)

  check()


@needs_hypothesis
def test_any_string_never_raises(tokenizers):

  @hypothesis.settings(max_examples=150, deadline=None)
  @hypothesis.given(st.text(st.integers(0, sys.maxunicode).map(chr)))
  def check(text):
    for full, basic, _ in tokenizers.values():
      assert isinstance(full.tokenize(text), list)
      assert isinstance(basic.tokenize(text), list)

  check()


@needs_hypothesis
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


# Properties of the options.

# Whitespace of every kind `_is_whitespace` accepts, and U+2028, which
# `str.split` splits on after cleaning.
_SEPARATORS = u" \t\n\r\u00a0\u1680\u2000\u200a\u202f\u3000\u2028"
_NEVER_SPLIT = ["[MASK]", "[CLS]", "[SEP]", "<Name>", u"\u00c9T\u00c9",
                u"\u03a3\u039f\u03a3", u"x\u0301", "NASA's", "a.b", "NASA"]
# Characters whose combining marks accent stripping deletes: precomposed
# letters, letters with marks, Hangul, kana with voiced-sound marks.
_ACCENTED = (u"\u00e9\u00c9\u00f1\u00c5\u0386\u0390\u1e9e\u0130\u01c5"
             u"\uac00\u30ac\u3067\uf900\u0301\u0308\u0327\u05b8\u064e"
             u"\u093f\u094d\u0e48\u3099\ufe0f\u20dd")


def _options_text_strategy(vocab):
  fragment = st.one_of(
      _text_strategy(vocab),
      st.sampled_from(_NEVER_SPLIT),
      st.sampled_from(_SEPARATORS),
      st.sampled_from(_ACCENTED),
      st.characters(whitelist_categories=("Mn", "Mc", "Me")))
  return st.lists(fragment, max_size=12).map(u"".join)


@pytest.fixture(scope="module")
def option_tokenizers(golden_vocab_file, golden_vocab):
  """(options, fast full, fast basic, reference) for every combination."""
  combinations = []
  for do_lower_case in (True, False):
    for strip_accents in (None, True, False):
      for never_split in (None, _NEVER_SPLIT):
        options = dict(strip_accents=strip_accents, never_split=never_split)
        combinations.append((
            (do_lower_case, strip_accents, never_split),
            tokenization.FullTokenizer(golden_vocab_file, do_lower_case,
                                       **options),
            tokenization.BasicTokenizer(do_lower_case, **options),
            reference_tokenizer.ReferenceTokenizer(
                golden_vocab, do_lower_case, **options)))
  return combinations


@needs_hypothesis
def test_random_text_with_options_matches_reference(option_tokenizers,
                                                    golden_vocab):

  @GOLDEN_SETTINGS
  @hypothesis.given(_options_text_strategy(golden_vocab))
  def check(text):
    for options, full, basic, reference in option_tokenizers:
      assert basic.tokenize(text) == reference.basic_tokenize(text), options
      assert full.tokenize(text) == reference.tokenize(text), options

  check()


@needs_hypothesis
def test_never_split_tokens_delimited_by_whitespace_come_out_whole(
    golden_vocab):
  lower = tokenization.BasicTokenizer(True, never_split=_NEVER_SPLIT)
  cased = tokenization.BasicTokenizer(False, never_split=_NEVER_SPLIT)
  part = st.one_of(st.sampled_from(_NEVER_SPLIT), _text_strategy(golden_vocab))

  @GOLDEN_SETTINGS
  @hypothesis.given(st.lists(st.tuples(part, st.sampled_from(_SEPARATORS)),
                             max_size=8))
  def check(parts_and_separators):
    text = u"".join(part + separator
                    for part, separator in parts_and_separators)
    for tokenizer in (lower, cased):
      # The tokenizer never looks across whitespace: the text's tokens are
      # those of its parts, and each listed part is one token, as it is.
      expected = []
      for part, _ in parts_and_separators:
        if part in _NEVER_SPLIT:
          expected.append(part)
        else:
          expected.extend(tokenizer.tokenize(part))
      assert tokenizer.tokenize(text) == expected
    listed = sum(part in _NEVER_SPLIT for part, _ in parts_and_separators)
    assert sum(token in _NEVER_SPLIT for token in lower.tokenize(text)) >= (
        listed)

  check()


@needs_hypothesis
def test_never_split_tokens_in_vocab_map_to_themselves(golden_vocab_file):
  tokenizer = tokenization.FullTokenizer(golden_vocab_file, True,
                                         never_split=_NEVER_SPLIT)
  in_vocab = [token for token in _NEVER_SPLIT if token in tokenizer.vocab]
  assert in_vocab == ["[MASK]", "[CLS]", "[SEP]"]

  @GOLDEN_SETTINGS
  @hypothesis.given(st.lists(st.sampled_from(in_vocab + ["the", "Mask"]),
                             max_size=10),
                    st.sampled_from(_SEPARATORS))
  def check(words, separator):
    tokens = tokenizer.tokenize(separator.join(words))
    assert [t for t in tokens if t in in_vocab] == [
        w for w in words if w in in_vocab]
    ids = tokenizer.convert_tokens_to_ids(tokens)
    assert [i for t, i in zip(tokens, ids) if t in in_vocab] == [
        tokenizer.vocab[w] for w in words if w in in_vocab]

  check()


def _marks(text):
  return [c for c in text if unicodedata.category(c) == "Mn"]


@needs_hypothesis
def test_lower_case_without_strip_accents_keeps_every_combining_mark(
    golden_vocab_file, golden_vocab):
  basic = tokenization.BasicTokenizer(True, strip_accents=False)
  full = tokenization.FullTokenizer(golden_vocab_file, True,
                                    strip_accents=False)
  stripping = tokenization.BasicTokenizer(True)
  text_strategy = st.lists(st.one_of(
      _text_strategy(golden_vocab), st.sampled_from(_ACCENTED),
      st.characters(whitelist_categories=("Mn",))), max_size=20).map(
          u"".join)

  @GOLDEN_SETTINGS
  @hypothesis.given(text_strategy)
  def check(text):
    tokens = basic.tokenize(text)
    # Lower-casing adds no mark but "İ"'s dot; cleaning deletes none.
    assert _marks(u"".join(tokens)) == _marks(text.lower())
    # The same letters as the cased tokens lower-cased (but for final sigma:
    # the original lower-cases words, before splitting off punctuation).
    assert u"".join(tokens).replace(u"\u03c2", u"\u03c3") == u"".join(
        token.lower() for token in tokenization.BasicTokenizer(
            False).tokenize(text)).replace(u"\u03c2", u"\u03c3")
    assert not _marks(u"".join(stripping.tokenize(text)))
    # WordPiece keeps them too, unless a word becomes [UNK].
    pieces = [full.wordpiece_tokenizer.tokenize(token) for token in tokens]
    assert [p for word in pieces for p in word] == full.tokenize(text)
    for token, word_pieces in zip(tokens, pieces):
      if word_pieces != ["[UNK]"]:
        assert _marks(u"".join(word_pieces)) == _marks(token)

  check()


def test_reference_is_independent_of_tokenization():
  """The reference must not reuse the code it checks."""
  path = os.path.join(os.path.dirname(reference_tokenizer.__file__),
                      "reference_tokenizer.py")
  with io.open(path, encoding="utf-8") as f:
    tree = ast.parse(f.read())
  imported = set()
  for node in ast.walk(tree):
    if isinstance(node, ast.Import):
      imported.update(alias.name for alias in node.names)
    elif isinstance(node, ast.ImportFrom):
      imported.add(node.module)
  assert imported == {"__future__", "string", "unicodedata"}


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
