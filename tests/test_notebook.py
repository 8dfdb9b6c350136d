"""The notebook: stored without outputs, and runs headless with pictures.

The run (nbclient, quick setting) is on the newest TensorFlow line only,
TensorFlow 2.16 or later as on current Colab runtimes; it needs the extras
of requirements-notebook.txt, which make_env.sh installs.
"""

import base64
import json
import os
import re

import pytest
import tensorflow as tf

from helpers import ROOT

NOTEBOOK = os.path.join(ROOT, "notebooks", "bert_pipeline.ipynb")
PICTURES = ["pretraining_curves.png", "fine_tuning_curves.png",
            "confusion_matrix.png", "embeddings_pca.png"]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def load_notebook():
  with open(NOTEBOOK, encoding="utf-8") as f:
    return json.load(f)


def code_cells(notebook):
  return [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]


def test_stored_notebook_has_no_outputs():
  cells = code_cells(load_notebook())
  assert cells
  for cell in cells:
    source = "".join(cell["source"])
    assert cell["outputs"] == [], source[:80]
    assert cell["execution_count"] is None, source[:80]


def test_parameters_cell_comes_first_and_reads_the_environment():
  first = code_cells(load_notebook())[0]
  assert "parameters" in first["metadata"].get("tags", [])
  source = "".join(first["source"])
  for name in ("BERT_NOTEBOOK_SETTING", "BERT_NOTEBOOK_OUTPUT_DIR",
               "BERT_NOTEBOOK_MODEL_DIR"):
    assert name in source


def test_only_the_demo_imports_the_extras():
  # The training and data scripts (and the modules they import) must run
  # without matplotlib and the notebook runner.
  pattern = re.compile(r"^\s*(import|from)\s+(plots|matplotlib|nbclient|"
                       r"nbformat|IPython)\b", re.M)
  modules = [name for name in os.listdir(ROOT) if name.endswith(".py")]
  assert "run_pretraining.py" in modules
  for name in modules:
    if name in ("demo.py", "plots.py"):
      continue
    with open(os.path.join(ROOT, name), encoding="utf-8") as f:
      assert not pattern.search(f.read()), name


def newest_line():
  major, minor = (int(part) for part in tf.__version__.split(".")[:2])
  return (major, minor) >= (2, 16)


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
  """Runs the notebook with the quick setting; returns (notebook, outputs)."""
  if not newest_line():
    pytest.skip("the notebook runs on the newest TensorFlow line only "
                "(2.16 or later, as on Colab); this is %s" % tf.__version__)
  try:
    import nbclient  # pylint: disable=g-import-not-at-top
    import nbformat  # pylint: disable=g-import-not-at-top
  except ImportError as e:
    if os.environ.get("CI") == "true":
      pytest.fail("CI needs the notebook extras on the newest line: %s" % e)
    pytest.skip("the notebook extras are not installed (%s): "
                "pip install -r requirements-notebook.txt" % e)
  output_dir = str(tmp_path_factory.mktemp("notebook"))
  notebook = nbformat.read(NOTEBOOK, as_version=4)
  environment = {"BERT_NOTEBOOK_SETTING": "quick",
                 "BERT_NOTEBOOK_OUTPUT_DIR": output_dir,
                 "BERT_NOTEBOOK_MODEL_DIR": ""}
  saved = {name: os.environ.get(name) for name in environment}
  os.environ.update(environment)
  try:
    # The kernel inherits this process's environment, parameters included.
    nbclient.NotebookClient(
        notebook, timeout=900, kernel_name="python3",
        resources={"metadata": {"path": os.path.join(ROOT, "notebooks")}}
    ).execute()
  finally:
    for name, value in saved.items():
      if value is None:
        os.environ.pop(name)
      else:
        os.environ[name] = value
  return notebook, output_dir


def outputs_of(notebook):
  return [output for cell in code_cells(notebook)
          for output in cell["outputs"]]


def test_notebook_runs_without_errors(executed):
  notebook, _ = executed
  errors = [output for output in outputs_of(notebook)
            if output["output_type"] == "error"]
  assert not errors, errors[0].get("evalue")
  assert all(cell["execution_count"] for cell in code_cells(notebook))


def test_notebook_shows_and_writes_every_picture(executed):
  notebook, output_dir = executed
  for name in PICTURES:
    with open(os.path.join(output_dir, name), "rb") as f:
      assert f.read(8) == PNG_MAGIC, name
  images = [base64.b64decode(output["data"]["image/png"])
            for output in outputs_of(notebook)
            if "image/png" in output.get("data", {})]
  # After their stages (pre-training 1, classifier 2, SQuAD 1, features 1),
  # then all four together.
  assert len(images) == 9
  assert all(image.startswith(PNG_MAGIC) for image in images)
  last_cell_text = "".join(
      output.get("text", "") for output in code_cells(notebook)[-1]["outputs"])
  for name in PICTURES:
    assert os.path.join(output_dir, name) in last_cell_text


def test_notebook_shows_the_squad_table(executed):
  notebook, _ = executed
  tables = [output["data"]["text/html"] for output in outputs_of(notebook)
            if "text/html" in output.get("data", {})]
  assert len(tables) == 1
  assert "<th>question</th><th>predicted</th><th>gold</th>" in tables[0]
  assert tables[0].count("<tr>") == 1 + 12
