"""Checks README.md against the code: its commands must parse.

Every `python <script>.py ...` command in the README's shell blocks is
parsed by the script's own flag definitions (by tests/parse_commands.py,
which imports the scripts one at a time, as their flags overlap), and must
name each flag the script marks as required. Paths need not exist: only
parsing is checked.
"""

import json
import os
import re
import shlex

import helpers

README = os.path.join(helpers.ROOT, "README.md")


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
  for name in sorted(os.listdir(helpers.ROOT)):
    if name.endswith(".py"):
      with open(os.path.join(helpers.ROOT, name), encoding="utf-8") as f:
        if "__name__ == \"__main__\"" in f.read():
          scripts.append(name)
  return scripts


def parse_problems(commands_by_script, tmp_path):
  """Parses {script: [argv, ...]} with tests/parse_commands.py.

  Returns:
    The problems found, one string each.
  """
  commands_file = str(tmp_path / "commands.json")
  problems_file = str(tmp_path / "problems.json")
  with open(commands_file, "w", encoding="utf-8") as f:
    json.dump(commands_by_script, f)
  [(status, stderr)] = helpers.run_scripts(
      os.path.join("tests", "parse_commands.py"),
      [[commands_file, problems_file]])
  assert status == 0, stderr[-2000:]
  with open(problems_file, encoding="utf-8") as f:
    return json.load(f)


def test_every_script_has_a_readme_command():
  documented = script_commands(readme_text())
  missing = [script for script in top_level_scripts()
             if script not in documented]
  assert not missing, "README.md has no command for %s" % missing


def test_readme_names_the_make_targets():
  text = readme_text()
  with open(os.path.join(helpers.ROOT, "Makefile")) as f:
    targets = set(re.findall(r"^([\w-]+):", f.read(), re.M))
  for target in ("demo", "test", "test-tf1", "test-tf2"):
    assert target in targets
    assert "make %s" % target in text


def test_shell_commands_are_extracted():
  commands = script_commands("```shell\npython a.py \\\n  --x=1 \\\n"
                             "  --y='b c'  # note\nls\n```\n")
  assert commands == {"a.py": [["--x=1", "--y=b c"]]}


def test_readme_commands_parse(tmp_path):
  commands = script_commands(readme_text())
  missing = [script for script in commands
             if not os.path.exists(os.path.join(helpers.ROOT, script))]
  assert not missing, "README.md runs scripts that do not exist"
  assert parse_problems(commands, tmp_path) == []


def test_a_wrong_flag_is_caught(tmp_path):
  commands = {"run_pretraining.py": [["--input_file=x", "--output_dir=y",
                                      "--bert_config_file=z",
                                      "--num_train_step=5"]],
              "run_classifier.py": [["--task_name=MRPC", "--data_dir=d",
                                     "--bert_config_file=c",
                                     "--output_dir=o"]]}
  problems = parse_problems(commands, tmp_path)
  assert len(problems) == 2
  assert "num_train_step" in problems[1]
  assert "misses required --vocab_file" in problems[0]
