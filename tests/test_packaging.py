"""The installed package: `from bert import ...` and the console commands.

The wheel is built from the repository's files without network (the build
backend, setuptools and wheel, comes from requirements-test.txt) and
installed into a scratch folder; fresh interpreters then use it from a
working directory outside the repository, with the repository off sys.path.
"""

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile

import pytest

import _cli
from helpers import ROOT
from helpers import tiny_config_dict
from helpers import write_tiny_vocab
import tokenization


def _packaged_modules():
  """Returns the modules pyproject.toml puts in the package, `bert.` off.

  A listed module whose file is absent is left out, as the build leaves it.
  """
  with open(os.path.join(ROOT, "pyproject.toml")) as f:
    listing = re.search(r"^py-modules = \[(.*?)\]", f.read(), re.M | re.S)
  return [name for name in re.findall(r'"bert\.(\w+)"', listing.group(1))
          if os.path.isfile(os.path.join(ROOT, name + ".py"))]


MODULES = _packaged_modules()

# Imports every module through `bert.`, checks there is one module object
# per file, builds a tiny BertModel and tokenizes a sentence.
# argv: the repository, the install folder, the modules, a config, a vocab.
USE_PACKAGE = r"""
import importlib, json, os, sys
(root, site, modules, config_file, vocab_file) = sys.argv[1:]
assert not [p for p in sys.path if os.path.realpath(p or ".") == root], sys.path
import bert
assert os.path.dirname(bert.__file__) == os.path.join(site, "bert"), (
    bert.__file__)
for name in json.loads(modules):
  module = importlib.import_module("bert." + name)
  assert module.__file__ == os.path.join(site, "bert", name + ".py"), name
  assert module.__spec__.name == "bert." + name, (name, module.__spec__)
  assert sys.modules.get(name, module) is module, name
from bert import modeling, optimization, run_classifier, tokenization
import tensorflow.compat.v1 as tf
with tf.Graph().as_default():
  config = modeling.BertConfig.from_json_file(config_file)
  model = modeling.BertModel(config, is_training=False,
                             input_ids=tf.constant([[2, 7, 9], [2, 8, 0]]))
  with tf.Session() as session:
    session.run(tf.global_variables_initializer())
    pooled = session.run(model.get_pooled_output())
tokenizer = tokenization.FullTokenizer(vocab_file, do_lower_case=True)
print(json.dumps({
    "pooled_shape": list(pooled.shape),
    "tokens": tokenizer.tokenize(u"The cat walked, quietly!"),
    "example": type(run_classifier.InputExample("0", "a")).__module__,
    "create_optimizer": callable(optimization.create_optimizer),
}))
"""

# A --task_name module that imports the running script the way users of
# the original package did, and reports whether it got that very module.
TASK_MODULE = r"""
import sys
from bert import run_classifier
import run_classifier as flat_run_classifier


class Processor(run_classifier.DataProcessor):

  def get_labels(self):
    raise ValueError("one module: %s" % (
        run_classifier is sys.modules["__main__"] is flat_run_classifier))

  def get_train_examples(self, data_dir):
    return self.get_labels()

  get_dev_examples = get_test_examples = get_train_examples
"""

# Runs a console command (argv[1:]) in a Python that cannot import
# TensorFlow.
WITHOUT_TENSORFLOW = (
    "import runpy, sys; sys.modules['tensorflow'] = None; "
    "sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')")


def _build_backend_problem():
  """Says why this Python cannot build the wheel; None when it can."""
  # Asked of another process: importing setuptools patches distutils.
  process = subprocess.run(
      [sys.executable, "-c", "import setuptools, wheel; "
       "print(setuptools.__version__)"],
      stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
  if process.returncode != 0:
    return "the build backend is not installed: %s" % (
        process.stderr.strip().splitlines()[-1])
  version = process.stdout.strip()
  if int(version.split(".")[0]) < 61:
    return "setuptools %s cannot read pyproject.toml" % version
  return None


def _check_call(args, **kwargs):
  process = subprocess.run(args, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, universal_newlines=True,
                           **kwargs)
  assert process.returncode == 0, process.stdout


@pytest.fixture(scope="module")
def package(tmp_path_factory):
  """Builds and installs the wheel; returns its folders and files."""
  problem = _build_backend_problem()
  if problem:
    pytest.skip(problem + " (scripts/make_env.sh installs it)")
  base = str(tmp_path_factory.mktemp("package"))
  # A copy, since a build writes build/ and bert.egg-info/ beside its sources.
  source = os.path.join(base, "source")
  os.mkdir(source)
  for name in os.listdir(ROOT):
    if os.path.isfile(os.path.join(ROOT, name)):
      shutil.copy(os.path.join(ROOT, name), source)
  pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
  dist = os.path.join(base, "dist")
  _check_call(pip + ["wheel", "--no-deps", "--no-build-isolation",
                     "--no-index", "--wheel-dir", dist, source])
  (wheel_name,) = os.listdir(dist)
  site = os.path.join(base, "site")
  _check_call(pip + ["install", "--no-deps", "--no-index", "--target", site,
                     os.path.join(dist, wheel_name)])
  work = os.path.join(base, "work")
  os.mkdir(work)
  write_tiny_vocab(os.path.join(work, "vocab.txt"))
  vocab_size = len(tokenization.load_vocab(os.path.join(work, "vocab.txt")))
  with open(os.path.join(work, "bert_config.json"), "w") as f:
    json.dump(tiny_config_dict(vocab_size), f)
  return {"wheel": os.path.join(dist, wheel_name), "site": site,
          "work": work, "bin": os.path.join(site, "bin")}


def _run(package, args, extra_path=()):
  """Runs `args` in the scratch folder with the installed package."""
  return subprocess.run(
      args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
      universal_newlines=True, cwd=package["work"],
      env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2",
               PYTHONPATH=os.pathsep.join((package["site"],) + extra_path)))


def _version():
  with open(os.path.join(ROOT, "__init__.py")) as f:
    return re.search(r'^__version__ = "([^"]+)"$', f.read(), re.M).group(1)


def test_packaged_modules_import_only_packaged_modules():
  local = set(name[:-3] for name in os.listdir(ROOT) if name.endswith(".py"))
  for name in MODULES:
    with open(os.path.join(ROOT, name + ".py"), encoding="utf-8") as f:
      tree = ast.parse(f.read())
    for node in ast.walk(tree):
      if isinstance(node, ast.Import):
        imported = [alias.name for alias in node.names]
      elif isinstance(node, ast.ImportFrom) and not node.level:
        imported = [node.module]
      else:
        continue
      for module in set(imported) & (local - set(MODULES)):
        pytest.fail("%s.py imports %s, which is not in the py-modules of "
                    "pyproject.toml" % (name, module))


def test_wheel_holds_the_modules_and_commands(package):
  with zipfile.ZipFile(package["wheel"]) as wheel:
    names = wheel.namelist()
    dist_info = "bert-%s.dist-info/" % _version()
    entry_points = wheel.read(dist_info + "entry_points.txt").decode("utf-8")
  assert os.path.basename(package["wheel"]).startswith(
      "bert-%s-" % _version())
  assert sorted(n for n in names if not n.startswith(dist_info)) == sorted(
      "bert/%s.py" % name for name in MODULES + ["__init__"])
  commands = re.findall(r"^(\S+) = bert\._cli:(\w+)$", entry_points, re.M)
  assert len(commands) >= 9
  for (command, function) in commands:
    script = getattr(_cli, function).args[0]
    assert script in MODULES
    assert command == "bert-" + script.replace("_", "-")
    assert os.path.isfile(os.path.join(package["bin"], command))


def test_every_module_imports_through_bert(package):
  work = package["work"]
  process = _run(package, [
      sys.executable, "-c", USE_PACKAGE, os.path.realpath(ROOT),
      package["site"], json.dumps(MODULES),
      os.path.join(work, "bert_config.json"),
      os.path.join(work, "vocab.txt")])
  assert process.returncode == 0, process.stderr
  result = json.loads(process.stdout.splitlines()[-1])
  assert result["pooled_shape"] == [2, tiny_config_dict(1)["hidden_size"]]
  tokenizer = tokenization.FullTokenizer(os.path.join(work, "vocab.txt"))
  assert result["tokens"] == tokenizer.tokenize(u"The cat walked, quietly!")
  assert "##y" in result["tokens"]
  assert result["example"] == "bert.run_classifier"
  assert result["create_optimizer"]


def test_console_command_takes_the_script_flags(package):
  process = _run(package, [os.path.join(package["bin"], "bert-run-classifier"),
                           "--helpfull"])
  assert process.returncode == 1, process.stderr  # absl's, after --helpfull
  for flag in ("task_name", "do_train", "max_seq_length", "runner", "verbose"):
    assert re.search(r"^ +--(\[no\])?%s:" % flag, process.stdout, re.M), flag
  assert "Traceback" not in process.stderr


def test_task_module_gets_the_running_script(package):
  work = package["work"]
  tasks = os.path.join(work, "tasks")
  os.mkdir(tasks)
  with open(os.path.join(tasks, "my_task.py"), "w") as f:
    f.write(TASK_MODULE)
  process = _run(package, [
      os.path.join(package["bin"], "bert-run-classifier"),
      "--task_name=my_task:Processor", "--do_train", "--data_dir=" + work,
      "--vocab_file=" + os.path.join(work, "vocab.txt"),
      "--bert_config_file=" + os.path.join(work, "bert_config.json"),
      "--max_seq_length=16", "--output_dir=" + os.path.join(work, "out")],
                 extra_path=(tasks,))
  assert process.returncode == 2, process.stderr
  assert process.stderr.splitlines()[-1] == "error: one module: True"


def test_without_tensorflow_a_command_names_the_extra(package):
  process = _run(package, [
      sys.executable, "-c", WITHOUT_TENSORFLOW,
      os.path.join(package["bin"], "bert-run-squad"), "--helpfull"])
  extra = {(3, 7): "tf1", (3, 11): "tf2"}.get(sys.version_info[:2], "tf3")
  assert process.returncode == 2
  assert process.stdout == ""
  (line,) = process.stderr.splitlines()
  assert line.startswith("error: TensorFlow cannot be imported (")
  assert line.endswith("; for Python %d.%d, install it with: "
                       "pip install 'bert[%s]'" % (sys.version_info[:2] +
                                                   (extra,)))


@pytest.mark.parametrize("version,extra", [
    ((3, 6, 15), None), ((3, 7, 16), "tf1"), ((3, 8, 10), None),
    ((3, 9, 0), "tf2"), ((3, 11, 7), "tf2"), ((3, 12, 1), "tf3"),
    ((3, 13, 0), "tf3")])
def test_tensorflow_extra_of_each_python(version, extra):
  assert _cli.tensorflow_extra(version) == extra
  message = _cli.missing_tensorflow_message(
      ImportError("No module named 'tensorflow'\nmore"), version)
  assert "\n" not in message
  assert ("bert[%s]" % extra in message) == (extra is not None)
