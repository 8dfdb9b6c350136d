"""Parses command lines with each script's own flags, as its process would.

The scripts' flags overlap, so this program imports one script at a time,
parses its command lines, then removes its flags and modules before the
next. tests/test_readme.py runs it on the README's commands.

Usage: python tests/parse_commands.py COMMANDS_JSON PROBLEMS_JSON
  COMMANDS_JSON: a file holding {script: [argv, ...]}.
  PROBLEMS_JSON: the file to write the list of problems to.
"""

import importlib
import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from absl import flags  # pylint: disable=g-import-not-at-top


def parse_argparse_commands(script, module, commands):
  """The problems of `commands` for an argparse script (evaluate_squad.py)."""
  problems = []
  for argv in commands:
    try:
      module._parse_args(argv)  # pylint: disable=protected-access
    except SystemExit:
      problems.append("%s does not parse: %s" % (script, " ".join(argv)))
  return problems


def parse_absl_commands(script, module, commands):
  """The problems of `commands` for a script with absl flags.

  A command must parse and give each flag the script marks as required.
  """
  with open(module.__file__, encoding="utf-8") as f:
    required = re.findall(r"mark_flag_as_required\(\"(\w+)\"\)", f.read())
  problems = []
  for argv in commands:
    flags.FLAGS.unparse_flags()
    try:
      flags.FLAGS([script] + argv)
    except flags.Error as e:
      problems.append("%s %s: %s" % (script, " ".join(argv), e))
      continue
    for name in required:
      if flags.FLAGS[name].value is None:
        problems.append("%s %s: misses required --%s" %
                        (script, " ".join(argv), name))
  return problems


def forget_scripts(base_flags, base_modules):
  """Removes the flags and the repository's modules imported since."""
  for name in set(flags.FLAGS) - base_flags:
    delattr(flags.FLAGS, name)
  for name in set(sys.modules) - base_modules:
    path = getattr(sys.modules[name], "__file__", None) or ""
    if os.path.dirname(os.path.abspath(path)) == ROOT:
      del sys.modules[name]


def main(commands_file, problems_file):
  with open(commands_file, encoding="utf-8") as f:
    commands_by_script = json.load(f)
  problems = []
  base_flags = set(flags.FLAGS)
  base_modules = set(sys.modules)
  for (script, commands) in sorted(commands_by_script.items()):
    module = importlib.import_module(script[:-len(".py")])
    if hasattr(module, "_parse_args"):
      problems += parse_argparse_commands(script, module, commands)
    else:
      problems += parse_absl_commands(script, module, commands)
    forget_scripts(base_flags, base_modules)
  with open(problems_file, "w", encoding="utf-8") as f:
    json.dump(problems, f)


if __name__ == "__main__":
  main(*sys.argv[1:])
