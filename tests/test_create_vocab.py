"""Tests of create_vocab.py: WordPiece vocab learning."""

import os

import pytest

import create_vocab
import helpers
import script_io
import tokenization

SAMPLE_TEXT = os.path.join(helpers.ROOT, "sample_text.txt")


def write_vocab(path, tokens):
  with open(path, "w", encoding="utf-8") as f:
    f.write("".join(token + "\n" for token in tokens))
  return str(path)


@pytest.fixture(scope="module")
def sample_counts():
  if not os.path.exists(SAMPLE_TEXT):
    pytest.skip("sample_text.txt is not in the repository yet")
  return create_vocab.count_words([SAMPLE_TEXT], do_lower_case=True)


def tokenize_sample(vocab_file):
  """Returns (pieces, words, unknowns) of sample_text.txt under the vocab."""
  tokenizer = tokenization.FullTokenizer(vocab_file, do_lower_case=True)
  pieces = words = unknowns = 0
  with open(SAMPLE_TEXT, encoding="utf-8") as f:
    for line in f:
      for word in tokenizer.basic_tokenizer.tokenize(line):
        word_pieces = tokenizer.wordpiece_tokenizer.tokenize(word)
        words += 1
        pieces += len(word_pieces)
        unknowns += word_pieces.count("[UNK]")
  return pieces, words, unknowns


def test_sample_has_few_unknowns_and_fewer_pieces_as_vocab_grows(
    sample_counts, tmp_path):
  pieces_per_word = []
  for size in (300, 800, 2000):
    tokens = create_vocab.learn_vocab(sample_counts, size, num_unused=5)
    assert len(tokens) == size
    vocab_file = write_vocab(tmp_path / ("vocab%d.txt" % size), tokens)
    pieces, words, unknowns = tokenize_sample(vocab_file)
    assert words > 1000
    assert unknowns / words < 0.01
    pieces_per_word.append(pieces / words)
  assert pieces_per_word[0] > pieces_per_word[1] > pieces_per_word[2]
  # With 2000 entries most words of the sample are whole pieces.
  assert pieces_per_word[2] < 1.5


def test_layout_specials_unused_then_characters(sample_counts):
  tokens = create_vocab.learn_vocab(sample_counts, 700, num_unused=3)
  assert tokens[:8] == ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",
                        "[unused0]", "[unused1]", "[unused2]"]
  assert len(set(tokens)) == len(tokens)
  chars = {char for word in sample_counts for char in word}
  for char in chars:
    assert char in tokens and "##" + char in tokens
  # Characters come right after the specials, word starts then ## forms.
  assert set(tokens[8:8 + len(chars)]) == chars
  # The most frequent letter of English prose comes first.
  assert tokens[8] == "e"
  # Lower-cased: no upper-case letter anywhere.
  assert not any(token != token.lower() for token in tokens[8:])


def test_deterministic_whatever_the_count_order(sample_counts):
  first = create_vocab.learn_vocab(sample_counts, 1000)
  reordered = dict(sorted(sample_counts.items(), reverse=True))
  assert create_vocab.learn_vocab(reordered, 1000) == first


def test_learns_the_most_frequent_pairs_first():
  counts = {"lower": 5, "lowest": 6, "newest": 7, "wide": 2}
  tokens = create_vocab.learn_vocab(counts, 100, min_frequency=2)
  specials_and_chars = 5 + 2 * len(set("lowerstnid"))
  learned = tokens[specials_and_chars:]
  # "##w ##e" occurs 5 + 6 + 7 times; then "##s ##t" and "##we ##s" both
  # 13 times: the tie goes to the pair first in text order.
  assert learned == ["##we", "##st", "##west", "lo", "##ewest", "newest",
                     "lowest", "##wer", "lower", "##de", "##ide", "wide"]
  # The pairs of "wide" occur twice: too rare for min_frequency 3.
  strict = create_vocab.learn_vocab(counts, 100, min_frequency=3)
  assert strict == tokens[:-3]


def test_stops_when_no_pair_is_frequent_enough():
  tokens = create_vocab.learn_vocab({"ab": 1, "cd": 1}, 50, min_frequency=2)
  assert len(tokens) == 5 + 8


def test_cased_keeps_case_and_accents(tmp_path):
  text = tmp_path / "text.txt"
  text.write_text("Café au lait. CAFÉ!\n", encoding="utf-8")
  cased = create_vocab.count_words([str(text)], do_lower_case=False)
  uncased = create_vocab.count_words([str(text)], do_lower_case=True)
  assert cased["Café"] == 1 and cased["CAFÉ"] == 1
  assert uncased["cafe"] == 2 and "Café" not in uncased


def test_extra_characters_follow_the_corpus_characters():
  tokens = create_vocab.learn_vocab({"ab": 3, "b": 1}, 20,
                                    extra_characters=["c", "a", "7"])
  assert tokens[5:13] == ["b", "a", "7", "c", "##b", "##a", "##7", "##c"]
  assert create_vocab.ascii_characters(do_lower_case=True)[:3] == [
      "!", '"', "#"]
  assert "A" not in create_vocab.ascii_characters(do_lower_case=True)
  assert len(create_vocab.ascii_characters(do_lower_case=False)) == 94


def test_too_small_vocab_is_a_clear_error():
  with pytest.raises(script_io.InputError, match="--vocab_size=10"):
    create_vocab.learn_vocab({"abcdef": 3}, 10)


def test_script_writes_a_vocab_the_tokenizer_reads(tmp_path):
  corpus = tmp_path / "corpus.txt"
  corpus.write_text("the lighthouse keeper lit the lamp\n\n"
                    "the keepers lit the lamps\n" * 3, encoding="utf-8")
  vocab_file = tmp_path / "vocab.txt"
  helpers.run_main(create_vocab, {
      "input_file": str(corpus), "output_file": str(vocab_file),
      "vocab_size": 200, "num_unused": 2})
  tokenizer = tokenization.FullTokenizer(str(vocab_file))
  assert tokenizer.tokenize("The keepers lit the lamps") == [
      "the", "keepers", "lit", "the", "lamps"]
  # Digits are absent from the corpus but in the vocab (ASCII characters).
  assert tokenizer.tokenize("in 1874") == ["i", "##n", "1", "##8", "##7",
                                           "##4"]
  assert tokenizer.convert_tokens_to_ids(["[PAD]", "[unused1]"]) == [0, 6]
  assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name]


def test_command_line_error_is_one_line(tmp_path):
  corpus = tmp_path / "corpus.txt"
  corpus.write_text("the lighthouse keeper lit the lamp\n\n"
                    "the keepers lit the lamps\n" * 3, encoding="utf-8")
  [(status, stderr)] = helpers.run_scripts("create_vocab.py", [[
      "--input_file=%s" % corpus,
      "--output_file=%s" % (tmp_path / "small.txt"), "--vocab_size=30",
      "--add_ascii_characters=false"]])
  assert status == 2
  assert "Traceback" not in stderr
  assert stderr.strip().splitlines()[-1].startswith(
      "error: --vocab_size=30 is too small")
  assert not (tmp_path / "small.txt").exists()


@pytest.fixture
def vocab_flags(tmp_path):
  """The flag values of a good run."""
  return {"input_file": SAMPLE_TEXT, "output_file": str(tmp_path / "vocab.txt"),
          "vocab_size": 300, "num_unused": 0}


@pytest.mark.parametrize("change,message", [
    ({"vocab_size": 0}, "--vocab_size=0 must be positive"),
    ({"num_unused": -1}, "--num_unused=-1 must not be negative"),
    ({"num_unused": 295}, "--vocab_size=300 is too small: the 300 special "
                          "and unused tokens leave no room"),
    ({"output_file": ""}, "--output_file: no file name given"),
    ("folder", "is a directory, not a file"),
    ("no_folder", "does not exist"),
    ("blank_lines", "the files hold no text"),
])
def test_bad_flags_and_inputs_stop_before_any_output(vocab_flags, tmp_path,
                                                     change, message):
  if change == "folder":
    change = {"output_file": str(tmp_path)}
  elif change == "no_folder":
    change = {"output_file": str(tmp_path / "no" / "vocab.txt")}
  elif change == "blank_lines":
    (tmp_path / "blank.txt").write_text("\n  \n\n", encoding="utf-8")
    change = {"input_file": str(tmp_path / "blank.txt")}
  with pytest.raises(script_io.InputError, match=message):
    helpers.run_main(create_vocab, dict(vocab_flags, **change))
  assert not (tmp_path / "vocab.txt").exists()
  assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name]


def test_no_word_short_enough_to_learn_from():
  with pytest.raises(script_io.InputError, match="no word of at most 200"):
    create_vocab.learn_vocab({"x" * 201: 3}, 100)
