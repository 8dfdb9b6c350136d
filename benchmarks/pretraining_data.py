# coding=utf-8
"""Times create_pretraining_data.py on the Gutenberg corpus of ../shared.

Runs one fixed job (uncased vocab, `--max_seq_length=128
--max_predictions_per_seq=20 --masked_lm_prob=0.15 --dupe_factor=5
--random_seed=12345`, 37,787 instances) in a child process and prints its
wall and CPU time, instances/s and peak resident memory, next to the peak of a
process that only imports TensorFlow and our tokenization module (the floor
every run pays). `--script` times another implementation of the same flags
(e.g. the original's script) for a side-by-side figure.

  .venv/tf1/bin/python benchmarks/pretraining_data.py
  .venv/tf2/bin/python benchmarks/pretraining_data.py --num_workers=2
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(os.path.dirname(ROOT), "shared", "data")
CORPUS = os.path.join(DATA, "corpus", "gutenberg_prose_sentences.txt")
VOCAB = os.path.join(DATA, "vocab", "uncased", "vocab.txt")
JOB_FLAGS = ["--max_seq_length=128", "--max_predictions_per_seq=20",
             "--masked_lm_prob=0.15", "--dupe_factor=5",
             "--random_seed=12345", "--do_lower_case=True"]


def run_measured(command, cwd):
  """Runs `command`; returns (seconds, CPU seconds, peak RSS in MB, output).

  CPU seconds (user and system) vary less than wall time on a busy machine.
  """
  with tempfile.TemporaryFile() as log:
    start = time.time()
    process = subprocess.Popen(command, cwd=cwd, stdout=log,
                               stderr=subprocess.STDOUT)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.time() - start
    process.returncode = status
    log.seek(0)
    output = log.read().decode("utf-8", "replace")
  if status != 0:
    sys.exit("failed (%s):\n%s" % (" ".join(command), output[-2000:]))
  # ru_maxrss is in kilobytes on Linux.
  return (seconds, usage.ru_utime + usage.ru_stime,
          usage.ru_maxrss / 1024.0, output)


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--script",
                      default=os.path.join(ROOT, "create_pretraining_data.py"),
                      help="the create_pretraining_data.py to time")
  parser.add_argument("--corpus", default=CORPUS)
  parser.add_argument("--vocab_file", default=VOCAB)
  parser.add_argument("--num_workers", type=int, default=0,
                      help="passed on when not 0 (our script only)")
  args = parser.parse_args()
  if not (os.path.exists(args.corpus) and os.path.exists(args.vocab_file)):
    print("skipped: %s or %s is absent" % (args.corpus, args.vocab_file))
    return

  out_dir = tempfile.mkdtemp(prefix="pretraining_data_bench_")
  try:
    _, _, import_mb, _ = run_measured(
        [sys.executable, "-c", "import tensorflow.compat.v1; "
         "import tokenization"], ROOT)
    command = [sys.executable, args.script, "--input_file=" + args.corpus,
               "--vocab_file=" + args.vocab_file,
               "--output_file=" + os.path.join(out_dir, "out.tfrecord")]
    command += JOB_FLAGS
    if args.num_workers:
      command.append("--num_workers=%d" % args.num_workers)
    seconds, cpu_seconds, peak_mb, output = run_measured(command, ROOT)
  finally:
    shutil.rmtree(out_dir)
  written = re.findall(r"Wrote (\d+) total instances", output)
  instances = int(written[-1]) if written else 0
  print("script:            %s" % args.script)
  print("python:            %s" % sys.version.split()[0])
  print("instances:         %d" % instances)
  print("wall time:         %.2f s" % seconds)
  print("instances/s:       %.0f" % (instances / seconds))
  print("CPU time:          %.2f s" % cpu_seconds)
  print("peak RSS:          %.0f MB" % peak_mb)
  print("TF import RSS:     %.0f MB" % import_mb)
  print("peak above import: %.0f MB" % (peak_mb - import_mb))


if __name__ == "__main__":
  main()
