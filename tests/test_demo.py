"""Runs demo.py --quick (every stage, the real scripts) and checks outputs."""

import json
import math
import os
import subprocess
import sys

import pytest

from conftest import ROOT

import demo

STAGES = ["vocab", "pretraining_data", "pretraining", "classifier", "squad",
          "features"]


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
  """Runs the quick demo once; returns (output_dir, summary, stdout)."""
  output_dir = str(tmp_path_factory.mktemp("demo"))
  result = subprocess.run(
      [sys.executable, os.path.join(ROOT, "demo.py"), "--quick",
       "--output_dir=%s" % output_dir],
      cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
      universal_newlines=True)
  assert result.returncode == 0, result.stdout[-3000:]
  with open(os.path.join(output_dir, "summary.json")) as f:
    summary = json.load(f)
  return output_dir, summary, result.stdout


def figures_of(summary, stage):
  for entry in summary["stages"]:
    if entry["stage"] == stage:
      return entry["figures"]
  raise AssertionError("no stage %s in the summary" % stage)


def test_every_stage_ran_and_its_outputs_exist(demo_run):
  _, summary, stdout = demo_run
  assert [entry["stage"] for entry in summary["stages"]] == STAGES
  for entry in summary["stages"]:
    assert entry["seconds"] > 0
    for path in entry["outputs"]:
      if "model.ckpt" in path:
        path += ".index"
      assert os.path.getsize(os.path.join(ROOT, path)) > 0, path
  assert "===== Summary" in stdout


def test_vocab_and_config(demo_run):
  output_dir, summary, _ = demo_run
  vocab_size = figures_of(summary, "vocab")["vocab entries"]
  assert vocab_size == demo.QUICK_SETTINGS.vocab_size
  with open(os.path.join(output_dir, "vocab.txt"), encoding="utf-8") as f:
    tokens = f.read().split("\n")[:-1]
  assert len(tokens) == vocab_size
  assert tokens[:5] == ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
  with open(os.path.join(output_dir, "bert_config.json")) as f:
    assert json.load(f)["vocab_size"] == vocab_size


def test_pretraining_data_and_loss_falls(demo_run):
  _, summary, _ = demo_run
  assert figures_of(summary, "pretraining_data")["instances"] > 500
  figures = figures_of(summary, "pretraining")
  before, after = figures["MLM loss before"], figures["MLM loss after"]
  # An untrained model predicts about uniformly over the vocab.
  assert abs(before - math.log(demo.QUICK_SETTINGS.vocab_size)) < 0.5
  assert after < before - 0.3
  assert 0.0 <= figures["MLM accuracy after"] <= 1.0


def test_classifier_metrics_and_predictions(demo_run):
  output_dir, summary, _ = demo_run
  figures = figures_of(summary, "classifier")
  assert 0.0 <= figures["dev accuracy"] <= 1.0
  assert figures["test lines"] == 100
  with open(os.path.join(output_dir, "classifier", "test_results.tsv")) as f:
    for line in f:
      probabilities = [float(value) for value in line.split("\t")]
      assert len(probabilities) == 2
      assert abs(sum(probabilities) - 1.0) < 1e-4


def test_squad_predictions_and_metrics(demo_run):
  output_dir, summary, _ = demo_run
  figures = figures_of(summary, "squad")
  assert 0.0 <= figures["exact match"] <= figures["F1"] <= 100.0
  with open(os.path.join(ROOT, "samples", "squad", "dev.json")) as f:
    dataset = json.load(f)
  question_ids = {qa["id"] for article in dataset["data"]
                  for paragraph in article["paragraphs"]
                  for qa in paragraph["qas"]}
  with open(os.path.join(output_dir, "squad", "predictions.json")) as f:
    predictions = json.load(f)
  assert set(predictions) == question_ids


def test_features_one_line_per_sentence(demo_run):
  output_dir, summary, _ = demo_run
  assert figures_of(summary, "features")["lines embedded"] == len(
      demo.FEATURE_SENTENCES)
  with open(os.path.join(output_dir, "features", "features.jsonl")) as f:
    first = json.loads(f.readline())
  assert first["linex_index"] == 0
  assert first["features"][0]["token"] == "[CLS]"
  assert [layer["index"] for layer in first["features"][0]["layers"]] == [
      -1, -2]
  assert len(first["features"][0]["layers"][0]["values"]) == (
      demo.TINY_BERT_CONFIG["hidden_size"])


def test_commands_are_printed_and_saved(demo_run):
  output_dir, _, stdout = demo_run
  with open(os.path.join(output_dir, "commands.sh")) as f:
    commands = [line for line in f if not line.startswith("#")]
  scripts = [command.split()[1] for command in commands]
  assert scripts == ["create_vocab.py", "create_pretraining_data.py",
                     "run_pretraining.py", "run_pretraining.py",
                     "run_classifier.py", "run_squad.py",
                     "extract_features.py"]
  for command in commands:
    assert "  $ " + command.strip() in stdout


def run_demo(output_dir, *args):
  return subprocess.run(
      [sys.executable, os.path.join(ROOT, "demo.py"),
       "--output_dir=%s" % output_dir] + list(args),
      cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
      universal_newlines=True)


def test_a_failing_stage_is_reported(demo_run, tmp_path):
  # The classifier stage with a checkpoint that is not a checkpoint.
  output_dir = demo_run[0]
  checkpoint = os.path.join(tmp_path, "pretraining", "model.ckpt-%d" %
                            demo.QUICK_SETTINGS.pretraining_steps)
  os.makedirs(os.path.dirname(checkpoint))
  with open(checkpoint + ".index", "w") as f:
    f.write("not a checkpoint")
  for name in ("vocab.txt", "bert_config.json"):
    with open(os.path.join(output_dir, name)) as source:
      with open(os.path.join(tmp_path, name), "w") as copy:
        copy.write(source.read())
  result = run_demo(tmp_path, "--quick", "--stages=classifier")
  assert result.returncode != 0
  assert "error: stage classifier failed: run_classifier.py exited" in (
      result.stderr)
  log_tail = result.stderr.split("Last lines of its log")[1]
  assert len(log_tail.strip().splitlines()) >= 2


def test_a_missing_earlier_stage_is_named(tmp_path):
  result = run_demo(tmp_path, "--stages=features")
  assert result.returncode != 0
  assert "error: stage features failed: it needs the checkpoint" in (
      result.stderr)
  assert "run that stage first" in result.stderr


def test_unknown_stage_is_rejected(tmp_path):
  result = run_demo(tmp_path, "--stages=vocab,foo")
  assert result.returncode != 0
  assert "unknown stage(s) foo" in result.stderr
