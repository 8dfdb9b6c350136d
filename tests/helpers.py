"""Helpers the test modules share."""

import collections
import os
import subprocess
import sys

from absl import flags
from absl.testing import flagsaver

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_scripts(script, argvs):
  """Runs `script` once per argv, as many at a time as there are cores.

  Args:
    script: a script of the repository, e.g. "run_ner.py".
    argvs: a list of argument lists.

  Returns:
    (exit status, stderr) of each run, in order.
  """
  results = [None] * len(argvs)
  running = collections.deque()

  def finish():
    (index, process) = running.popleft()
    (_, stderr) = process.communicate()
    results[index] = (process.returncode, stderr)

  for (index, argv) in enumerate(argvs):
    if len(running) >= (os.cpu_count() or 1):
      finish()
    running.append((index, subprocess.Popen(
        [sys.executable, os.path.join(ROOT, script)] + argv,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        universal_newlines=True, cwd=ROOT,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))))
  while running:
    finish()
  return results


def ensure_flags_parsed():
  """Lets tests read FLAGS without parsing a command line."""
  if not flags.FLAGS.is_parsed():
    flags.FLAGS.mark_as_parsed()


def run_main(script_module, values):
  """Runs `script_module.main` with the flags `values`, restored after."""
  ensure_flags_parsed()
  with flagsaver.flagsaver(**values):
    script_module.main([])


def read_eval_results(path):
  """The `key = value` lines of an eval_results.txt, checked to be sorted."""
  with open(path) as f:
    lines = f.read().splitlines()
  keys = [line.split(" = ")[0] for line in lines]
  assert keys == sorted(keys)
  return {line.split(" = ")[0]: float(line.split(" = ")[1]) for line in lines}
