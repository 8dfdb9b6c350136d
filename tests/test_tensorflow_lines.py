"""A checkpoint trained on TensorFlow 1.15 gives the same results here.

TensorFlow 1.15 with TPUEstimator is the original's setting. MRPC is
fine-tuned there from the golden tiny checkpoint (the Estimator runner, in
the environment `make test` creates as .venv/tf1); this line then evaluates
and predicts from that checkpoint with each of its runners, and must write
the same `eval_results.txt` and `test_results.tsv`. Random initial values
differ between the lines, so the comparison goes through the checkpoint.
"""

import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

import runner
from helpers import ROOT

TF1_PYTHON = os.path.join(ROOT, ".venv", "tf1", "bin", "python")


def run_classifier(python, output_dir, golden, **flags):
  values = {
      "task_name": "mrpc",
      "data_dir": os.path.join(golden, "classifier", "MRPC"),
      "vocab_file": os.path.join(golden, "tokenization", "vocab.txt"),
      "bert_config_file": os.path.join(golden, "modeling",
                                       "bert_config.json"),
      "init_checkpoint": os.path.join(golden, "modeling", "bert_model.ckpt"),
      "do_lower_case": True, "max_seq_length": 32, "train_batch_size": 4,
      "num_train_epochs": 2.0, "learning_rate": 1e-3, "do_eval": True,
      "do_predict": True, "output_dir": output_dir,
  }
  values.update(flags)
  argv = [python, os.path.join(ROOT, "run_classifier.py")] + [
      "--%s=%s" % item for item in sorted(values.items())]
  result = subprocess.run(argv, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True,
                          env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
  assert result.returncode == 0, result.stderr[-3000:]


def read_eval_results(path):
  with open(path) as f:
    return dict(line.split(" = ") for line in f.read().splitlines())


def read_test_results(path):
  with open(path) as f:
    return np.array([[float(v) for v in line.split("\t")]
                     for line in f.read().splitlines()])


@pytest.fixture(scope="module")
def tf1_run(golden, tmp_path_factory):
  """An MRPC fine-tuning run of TensorFlow 1.15's Estimator."""
  if tf.__version__.startswith("1."):
    pytest.skip("this is the TensorFlow 1.15 line")
  if not os.path.exists(TF1_PYTHON):
    pytest.skip("no TensorFlow 1.15 environment (make test-tf1 creates it)")
  output_dir = str(tmp_path_factory.mktemp("tf1_mrpc"))
  run_classifier(TF1_PYTHON, output_dir, golden, do_train=True)
  return output_dir


ENGINES = ["graph"] + (["estimator"] if runner.HAS_ESTIMATOR else [])


@pytest.mark.parametrize("engine", ENGINES)
def test_mrpc_checkpoint_from_tf1_evaluates_and_predicts_the_same(
    tf1_run, golden, tmp_path, engine):
  output_dir = str(tmp_path / "output")
  shutil.copytree(tf1_run, output_dir)
  for name in ("eval_results.txt", "test_results.tsv"):
    os.remove(os.path.join(output_dir, name))
  run_classifier(sys.executable, output_dir, golden, do_train=False,
                 runner=engine)

  theirs = read_eval_results(os.path.join(tf1_run, "eval_results.txt"))
  ours = read_eval_results(os.path.join(output_dir, "eval_results.txt"))
  assert sorted(ours) == sorted(theirs) == [
      "eval_accuracy", "eval_f1", "eval_loss", "global_step", "loss"]
  assert ours["global_step"] == theirs["global_step"] == "6"
  for key in ("eval_accuracy", "eval_f1", "eval_loss", "loss"):
    assert float(ours[key]) == pytest.approx(float(theirs[key]), abs=1e-4)
  np.testing.assert_allclose(
      read_test_results(os.path.join(output_dir, "test_results.tsv")),
      read_test_results(os.path.join(tf1_run, "test_results.tsv")),
      atol=1e-4)
