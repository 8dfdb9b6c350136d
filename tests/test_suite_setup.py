"""Tests of the test suite's own set-up: what a missing ../shared does."""

import os
import shutil
import subprocess
import sys

from helpers import ROOT


def _run_pytest_without_shared(tmp_path, ci):
  """Runs a two-test suite with our conftest where ../shared is absent."""
  tests = tmp_path / "repo" / "tests"
  tests.mkdir(parents=True)
  for name in ("conftest.py", "helpers.py"):
    shutil.copy(os.path.join(ROOT, "tests", name), str(tests))
  (tests / "test_sample.py").write_text(
      "def test_needs_golden(golden):\n  pass\n\n\n"
      "def test_needs_nothing():\n  pass\n")
  env = dict(os.environ, CI="true" if ci else "false")
  return subprocess.run(
      [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
       str(tests)], cwd=str(tmp_path / "repo"), env=env,
      stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
      universal_newlines=True)


def test_missing_shared_fails_a_ci_run_in_one_line(tmp_path):
  result = _run_pytest_without_shared(tmp_path, ci=True)
  assert result.returncode != 0
  assert result.stdout.strip().splitlines() == [
      "ERROR: %s is absent; with CI=true the tests that need its golden "
      "fixtures and data must run" % (tmp_path / "shared")]


def test_missing_shared_outside_ci_says_how_many_tests_skipped(tmp_path):
  result = _run_pytest_without_shared(tmp_path, ci=False)
  assert result.returncode == 0, result.stdout
  assert ("1 tests skipped: %s is absent" % (tmp_path / "shared") in
          result.stdout)
  assert "1 passed, 1 skipped" in result.stdout
