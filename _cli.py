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
"""The console commands of the installed package (pyproject.toml).

`bert-run-classifier --flags...` runs `run_classifier.py --flags...`: the
script's own `__main__` block, as `python -m` would, so the flags and exit
statuses are the script's. Without TensorFlow, a command says in one line
which extra of the package installs it.
"""

import functools
import importlib
import runpy
import sys


def tensorflow_extra(version_info):
  """Returns the package extra with the TensorFlow line of a Python.

  Args:
    version_info: a Python version, as `sys.version_info`.

  Returns:
    "tf1" (TensorFlow 1.15) for Python 3.7, "tf2" (2.15) for 3.9 to 3.11,
    "tf3" (2.21) for 3.12 and later; None for a Python none of them
    supports.
  """
  version = tuple(version_info[:2])
  if version == (3, 7):
    return "tf1"
  if (3, 9) <= version <= (3, 11):
    return "tf2"
  if version >= (3, 12):
    return "tf3"
  return None


def missing_tensorflow_message(error, version_info):
  """Returns the one line that says how to install TensorFlow."""
  python = "%d.%d" % tuple(version_info[:2])
  # A TensorFlow that fails to load can say why over many lines.
  reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
  extra = tensorflow_extra(version_info)
  if extra is None:
    advice = ("no TensorFlow line of this package supports Python %s: use "
              "Python 3.7, 3.9 to 3.11, or 3.12 and later" % python)
  else:
    advice = "for Python %s, install it with: pip install 'bert[%s]'" % (
        python, extra)
  return "error: TensorFlow cannot be imported (%s); %s" % (reason, advice)


def run_script(script):
  """Runs the `__main__` block of the package's module `script`.

  Args:
    script: a module name, such as "run_classifier".

  Returns:
    2 after the one-line error when TensorFlow cannot be imported. Else the
    script ends the program (absl's `app.run` exits), or 0 if it returns.
  """
  try:
    importlib.import_module("tensorflow.compat.v1")
  except ImportError as e:
    sys.stderr.write(missing_tensorflow_message(e, sys.version_info) + "\n")
    return 2
  runpy.run_module(__package__ + "." + script, run_name="__main__",
                   alter_sys=True)
  return 0


create_vocab = functools.partial(run_script, "create_vocab")
create_pretraining_data = functools.partial(run_script,
                                            "create_pretraining_data")
run_pretraining = functools.partial(run_script, "run_pretraining")
run_classifier = functools.partial(run_script, "run_classifier")
run_squad = functools.partial(run_script, "run_squad")
evaluate_squad = functools.partial(run_script, "evaluate_squad")
run_ner = functools.partial(run_script, "run_ner")
run_multiple_choice = functools.partial(run_script, "run_multiple_choice")
extract_features = functools.partial(run_script, "extract_features")
