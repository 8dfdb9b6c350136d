# coding=utf-8
"""Speed of `tokenization.FullTokenizer` against the plain original algorithm.

Tokenizes a text file line by line (`tokenize`, then `convert_tokens_to_ids`,
as BERT's data scripts do) with our tokenizer and with the per-character
reference of `reference_tokenizer.py`, each twice: with the defaults (the
original's behaviour) and with both options on (`strip_accents`,
`never_split`). It prints words/s, MB/s and peak memory for each, and the
ratio between ours and the reference on each path. Each timed pass starts
from a fresh tokenizer (empty caches); the best of `--repeats` passes counts,
in CPU time of this process.

  python benchmarks/tokenizer.py [--input_file=F] [--vocab_file=V] [--check]

Defaults: the repository's `sample_text.txt` (else the shared Gutenberg
corpus) and the shared uncased vocab (else a vocab built from the text).
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import argparse
import collections
import functools
import gc
import os
import platform
import sys
import tempfile
import time
import tracemalloc

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

import reference_tokenizer  # pylint: disable=g-import-not-at-top
import tokenization  # pylint: disable=g-import-not-at-top

SHARED_DATA = os.path.join(os.path.dirname(ROOT), "shared", "data")
DEFAULT_INPUTS = (
    os.path.join(ROOT, "sample_text.txt"),
    os.path.join(SHARED_DATA, "corpus", "gutenberg_prose_sentences.txt"),
)
DEFAULT_VOCABS = (os.path.join(SHARED_DATA, "vocab", "uncased",
                               "vocab.txt"),)
SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
# Words of the built vocab, besides every character and "##" character.
BUILT_VOCAB_WORDS = 5000


def first_existing(paths):
  for path in paths:
    if os.path.exists(path):
      return path
  return None


def parse_args():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--input_file", default=first_existing(DEFAULT_INPUTS),
                      help="UTF-8 text, tokenized line by line.")
  parser.add_argument("--vocab_file", default=first_existing(DEFAULT_VOCABS),
                      help="WordPiece vocab; empty or absent: one built from "
                      "the text (specials, characters, frequent words).")
  parser.add_argument("--do_lower_case", default="true",
                      choices=("true", "false"))
  parser.add_argument("--strip_accents", default=None,
                      choices=("true", "false"),
                      help="strip_accents of the options path (default: the "
                      "opposite of --do_lower_case, so that it changes "
                      "something).")
  parser.add_argument("--never_split", default=",".join(SPECIAL_TOKENS),
                      help="Comma-separated never_split of the options path.")
  parser.add_argument("--repeats", type=int, default=3,
                      help="Timed passes per tokenizer; the best one counts.")
  parser.add_argument("--check", action="store_true",
                      help="Also confirm both give the same tokens and ids.")
  args = parser.parse_args()
  if args.input_file is None:
    parser.error("no --input_file given and no default text found")
  return args


def read_lines(path):
  """Lines split on "\\n" only, as BERT's scripts read their input."""
  with open(path, "rb") as reader:
    data = reader.read()
  return data.decode("utf-8", "ignore").split("\n"), len(data)


def build_vocab(lines, do_lower_case, path):
  """Writes a vocab of specials, characters and frequent basic tokens."""
  basic = reference_tokenizer.ReferenceTokenizer({}, do_lower_case)
  counts = collections.Counter()
  for line in lines:
    counts.update(basic.basic_tokenize(line))
  chars = sorted(set(char for token in counts for char in token))
  words = [word for word, _ in counts.most_common(BUILT_VOCAB_WORDS)]
  entries = list(SPECIAL_TOKENS) + chars + ["##" + c for c in chars]
  seen = set(entries)
  entries += [word for word in words if word not in seen]
  with open(path, "w", encoding="utf-8") as writer:
    writer.write("".join(entry + "\n" for entry in entries))


def tokenize_all(tokenizer, lines):
  """Tokenizes every line, then maps the tokens to ids, as the scripts do."""
  for line in lines:
    tokenizer.convert_tokens_to_ids(tokenizer.tokenize(line))


def time_pass(make_tokenizer, lines):
  """CPU seconds for one pass over `lines` with a fresh tokenizer.

  CPU time rather than wall time: on a shared machine, time spent waiting
  for a core is not the tokenizer's.
  """
  tokenizer = make_tokenizer()
  gc.collect()
  start = time.process_time()
  tokenize_all(tokenizer, lines)
  return time.process_time() - start


def peak_memory(make_tokenizer, lines):
  """Peak bytes allocated while a fresh tokenizer does one pass."""
  tokenizer = make_tokenizer()
  gc.collect()
  tracemalloc.start()
  tokenize_all(tokenizer, lines)
  _, peak = tracemalloc.get_traced_memory()
  tracemalloc.stop()
  return peak


def first_difference(ours, reference, lines):
  """Returns the index of the first line where the two disagree, or None."""
  for index, line in enumerate(lines):
    tokens = ours.tokenize(line)
    if (tokens != reference.tokenize(line) or
        ours.convert_tokens_to_ids(tokens) !=
        reference.convert_tokens_to_ids(tokens)):
      return index
  return None


def main():
  args = parse_args()
  do_lower_case = args.do_lower_case == "true"
  if args.strip_accents is None:
    strip_accents = not do_lower_case
  else:
    strip_accents = args.strip_accents == "true"
  never_split = [token.strip() for token in args.never_split.split(",")
                 if token.strip()]
  lines, num_bytes = read_lines(args.input_file)
  num_words = sum(len(line.split()) for line in lines)
  vocab_file = args.vocab_file
  if not vocab_file:
    vocab_file = os.path.join(tempfile.mkdtemp(), "vocab.txt")
    build_vocab(lines, do_lower_case, vocab_file)
  vocab = tokenization.load_vocab(vocab_file)
  options = {"strip_accents": strip_accents, "never_split": never_split}

  # (name, path, maker of a fresh tokenizer), the paths in pairs.
  makers = []
  for path, kwargs in (("default", {}), ("options", options)):
    makers.append(("ours", path, functools.partial(
        tokenization.FullTokenizer, vocab_file, do_lower_case, **kwargs)))
    makers.append(("reference", path, functools.partial(
        reference_tokenizer.ReferenceTokenizer, vocab, do_lower_case,
        **kwargs)))

  print("Python %s, %s" % (platform.python_version(), platform.machine()))
  print("text:  %s (%d lines, %d words, %.2f MB)" %
        (args.input_file, len(lines), num_words, num_bytes / 1e6))
  print("vocab: %s (%d entries), do_lower_case=%s" %
        (vocab_file, len(vocab), do_lower_case))
  print("paths: default (the original's); options: strip_accents=%s, "
        "never_split=%s" % (strip_accents, never_split))
  best = collections.defaultdict(lambda: float("inf"))
  for _ in range(args.repeats):
    # Alternate all four so that a busy machine slows them alike.
    for name, path, make in makers:
      best[name, path] = min(best[name, path], time_pass(make, lines))
  for name, path, make in makers:
    seconds = best[name, path]
    print("%-9s %-8s %10.0f words/s %8.2f MB/s  peak memory %8.2f MB" %
          (name, path, num_words / seconds, num_bytes / 1e6 / seconds,
           peak_memory(make, lines) / 1e6))
  for path in ("default", "options"):
    print("ratio     %-8s %.2fx" %
          (path, best["reference", path] / best["ours", path]))
  print("options / default (ours): %.2fx the time" %
        (best["ours", "options"] / best["ours", "default"]))
  status = 0
  if args.check:
    for index in (0, 2):
      path = makers[index][1]
      difference = first_difference(makers[index][2](),
                                     makers[index + 1][2](), lines)
      if difference is None:
        print("check %s: identical tokens and ids on all %d lines" %
              (path, len(lines)))
      else:
        print("check %s: FAILED, line %d differs: %r" %
              (path, difference + 1, lines[difference]))
        status = 1
  return status


if __name__ == "__main__":
  sys.exit(main())
