"""Checks README.md against the code: its commands must parse.

Every `python <script>.py ...` command in the README's shell blocks is
parsed by the script's own flag definitions (in a subprocess that imports
the scripts one at a time, as their flags overlap), and must name each flag
the script marks as required. Paths need not exist: only parsing is checked.
"""

import json
import os
import re
import shlex
import subprocess
import sys

from conftest import ROOT

README = os.path.join(ROOT, "README.md")

# Run in one subprocess: imports each script in turn, parses its README
# commands with its flags, then deletes those flags (and forgets the module)
# so that the next script starts from the same flags as its own process.
_PARSE_COMMANDS = r"""
import json, os, re, sys
sys.path.insert(0, sys.argv[1])
from absl import flags
commands_by_script = json.loads(sys.argv[2])
problems = []
base_flags = set(flags.FLAGS)
base_modules = set(sys.modules)
for script, commands in sorted(commands_by_script.items()):
  module = __import__(script[:-len(".py")])
  if hasattr(module, "_parse_args"):
    # An argparse script (evaluate_squad.py).
    for argv in commands:
      try:
        module._parse_args(argv)
      except SystemExit:
        problems.append("%s does not parse: %s" % (script, " ".join(argv)))
  else:
    source = open(module.__file__).read()
    required = re.findall(r"mark_flag_as_required\(\"(\w+)\"\)", source)
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
  for name in set(flags.FLAGS) - base_flags:
    delattr(flags.FLAGS, name)
  for name in set(sys.modules) - base_modules:
    path = getattr(sys.modules[name], "__file__", None) or ""
    if os.path.dirname(os.path.abspath(path)) == sys.argv[1]:
      del sys.modules[name]
print(json.dumps(problems))
"""


def readme_text():
  with open(README, encoding="utf-8") as f:
    return f.read()


def shell_commands(text):
  """Returns the commands of the ```shell blocks, continuations joined."""
  commands = []
  for block in re.findall(r"```shell\n(.*?)```", text, re.S):
    block = block.replace("\\\n", " ")
    for line in block.splitlines():
      line = line.split(" #", 1)[0].strip()
      if line:
        commands.append(line)
  return commands


def script_commands(text):
  """Returns {script: [argv, ...]} of the `python <script>.py` commands."""
  by_script = {}
  for command in shell_commands(text):
    words = shlex.split(command)
    if len(words) >= 2 and words[0] == "python" and words[1].endswith(".py"):
      by_script.setdefault(words[1], []).append(words[2:])
  return by_script


def top_level_scripts():
  """The repository's runnable scripts (those with a __main__ block)."""
  scripts = []
  for name in sorted(os.listdir(ROOT)):
    if name.endswith(".py"):
      with open(os.path.join(ROOT, name), encoding="utf-8") as f:
        if "__name__ == \"__main__\"" in f.read():
          scripts.append(name)
  return scripts


def parse_problems(commands_by_script):
  """Parses {script: [argv, ...]} in a subprocess; returns the problems."""
  result = subprocess.run(
      [sys.executable, "-c", _PARSE_COMMANDS, ROOT,
       json.dumps(commands_by_script)],
      cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
      universal_newlines=True, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
  assert result.returncode == 0, result.stderr[-2000:]
  return json.loads(result.stdout.strip().splitlines()[-1])


def test_every_script_has_a_readme_command():
  documented = script_commands(readme_text())
  missing = [script for script in top_level_scripts()
             if script not in documented]
  assert not missing, "README.md has no command for %s" % missing


def test_readme_names_the_make_targets():
  text = readme_text()
  with open(os.path.join(ROOT, "Makefile")) as f:
    targets = set(re.findall(r"^([\w-]+):", f.read(), re.M))
  for target in ("demo", "test", "test-tf1", "test-tf2"):
    assert target in targets
    assert "make %s" % target in text


def test_shell_commands_are_extracted():
  commands = script_commands("```shell\npython a.py \\\n  --x=1 \\\n"
                             "  --y='b c'  # note\nls\n```\n")
  assert commands == {"a.py": [["--x=1", "--y=b c"]]}


def test_readme_commands_parse():
  commands = script_commands(readme_text())
  missing = [script for script in commands
             if not os.path.exists(os.path.join(ROOT, script))]
  assert not missing, "README.md runs scripts that do not exist"
  assert parse_problems(commands) == []


def test_a_wrong_flag_is_caught():
  commands = {"run_pretraining.py": [["--input_file=x", "--output_dir=y",
                                      "--bert_config_file=z",
                                      "--num_train_step=5"]],
              "run_classifier.py": [["--task_name=MRPC", "--data_dir=d",
                                     "--bert_config_file=c",
                                     "--output_dir=o"]]}
  problems = parse_problems(commands)
  assert len(problems) == 2
  assert "num_train_step" in problems[1]
  assert "misses required --vocab_file" in problems[0]
