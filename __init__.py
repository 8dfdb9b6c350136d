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
"""The `bert` package: this folder's modules, installed by pyproject.toml.

  from bert import modeling, optimization, run_classifier, tokenization

The modules are the flat files of a clone, unchanged, so they import each
other by their flat names (`import modeling`). Importing this package makes
those names resolve to the package's modules, one module object for both
names: `import modeling` gives `bert.modeling` itself, and `bert.X` gives a
module `X` already imported from the same file (as the console commands run
their script). A second copy would define a script's flags twice.
"""

import importlib
import importlib.abc
import importlib.machinery
import os
import pkgutil
import sys

__version__ = "1.1.0"

_HERE = os.path.dirname(os.path.abspath(__file__))
_MODULES = frozenset(
    name for (_, name, is_package) in pkgutil.iter_modules([_HERE])
    if not is_package)


def _same_file(module, name):
  """True if `module` was loaded from this package's file of module `name`."""
  path = getattr(module, "__file__", None)
  return path is not None and (
      os.path.realpath(path) ==
      os.path.realpath(os.path.join(_HERE, name + ".py")))


class _OneModulePerFile(importlib.abc.MetaPathFinder, importlib.abc.Loader):
  """Makes `X` and `bert.X` one module object, for the modules of `bert`."""

  def find_spec(self, fullname, path, target=None):
    """Returns an alias spec for `X` and for `bert.X`, else None.

    Args:
      fullname: the dotted name being imported.
      path: None for a top-level name, the parent package's `__path__` else.
      target: unused (a module being reloaded).

    Returns:
      A spec whose module is the existing (or newly imported) other name's
      module; None to let the other finders import `fullname` as usual.
    """
    del target  # Aliases are never reloaded in place.
    (package, _, name) = fullname.rpartition(".")
    if name not in _MODULES:
      return None
    if path is None and not package:
      other = __name__ + "." + name
    elif package == __name__ and _same_file(sys.modules.get(name), name):
      other = name
    else:
      return None
    return importlib.machinery.ModuleSpec(fullname, self, loader_state=other)

  def create_module(self, spec):
    module = importlib.import_module(spec.loader_state)
    # The import system sets `__spec__` of whatever this returns; keep the
    # module's own, which names where it was really loaded from.
    spec.loader_state = module.__spec__
    return module

  def exec_module(self, module):
    module.__spec__ = module.__spec__.loader_state


if not any(isinstance(finder, _OneModulePerFile) for finder in sys.meta_path):
  # First, so that the package's modules get each other rather than
  # same-named modules elsewhere on sys.path.
  sys.meta_path.insert(0, _OneModulePerFile())
