"""Runs demo.py --quick (every stage, the real scripts) and checks outputs."""

import contextlib
import io
import json
import math
import os
import shutil

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

import demo
import helpers
import plots

STAGES = ["vocab", "pretraining_data", "pretraining", "classifier", "squad",
          "features"]


def run_demo(values):
  """Runs demo.py's main with the flag `values`; returns what it printed."""
  with contextlib.redirect_stdout(io.StringIO()) as printed:
    helpers.run_main(demo, values)
  return printed.getvalue()


def run_demo_command(output_dir, *args):
  """Runs demo.py as a command; returns (exit status, stderr)."""
  return helpers.run_script("demo.py", {"output_dir": output_dir}, *args)


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
  """Runs the quick demo once; returns (output_dir, summary, stdout)."""
  output_dir = str(tmp_path_factory.mktemp("demo"))
  stdout = run_demo(dict(quick=True, output_dir=output_dir))
  with open(os.path.join(output_dir, "summary.json")) as f:
    summary = json.load(f)
  return output_dir, summary, stdout


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
      assert os.path.getsize(os.path.join(helpers.ROOT, path)) > 0, path
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
  for name in ("test_results.tsv", os.path.join("dev", "test_results.tsv")):
    with open(os.path.join(output_dir, "classifier", name)) as f:
      lines = f.readlines()
    assert len(lines) == 100
    for line in lines:
      probabilities = [float(value) for value in line.split("\t")]
      assert len(probabilities) == 2
      assert abs(sum(probabilities) - 1.0) < 1e-4


def test_confusion_matrix_agrees_with_the_dev_evaluation(demo_run):
  # The dev predictions, matched with dev.tsv's labels line by line, must
  # give the accuracy run_classifier.py's evaluation measured.
  output_dir, summary, _ = demo_run
  sentences, _ = plots.read_classifier_tsv(
      os.path.join(helpers.ROOT, demo.CLASSIFICATION_DIR, "dev.tsv"))
  with open(os.path.join(output_dir, "classifier", "dev", "test.tsv"),
            encoding="utf-8") as f:
    assert f.read().splitlines() == ["index\tsentence"] + [
        "%d\t%s" % pair for pair in enumerate(sentences)]
  pipeline = demo.Demo(output_dir, demo.QUICK_SETTINGS)
  matrix = pipeline.dev_confusion_matrix()
  assert matrix.sum() == 100
  accuracy = figures_of(summary, "classifier")["dev accuracy"]
  assert abs(matrix.trace() / 100.0 - accuracy) < 1e-6


def test_squad_predictions_and_metrics(demo_run):
  output_dir, summary, _ = demo_run
  figures = figures_of(summary, "squad")
  assert 0.0 <= figures["exact match"] <= figures["F1"] <= 100.0
  with open(os.path.join(helpers.ROOT, "samples", "squad", "dev.json")) as f:
    dataset = json.load(f)
  question_ids = {qa["id"] for article in dataset["data"]
                  for paragraph in article["paragraphs"]
                  for qa in paragraph["qas"]}
  with open(os.path.join(output_dir, "squad", "predictions.json")) as f:
    predictions = json.load(f)
  assert set(predictions) == question_ids


def test_features_one_line_per_sentence(demo_run):
  output_dir, summary, _ = demo_run
  assert figures_of(summary, "features")["lines embedded"] == 100
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
                     "run_classifier.py", "run_classifier.py", "run_squad.py",
                     "extract_features.py"]
  for command in commands:
    assert "  $ " + command.strip() in stdout


def test_pictures_are_written_and_printed(demo_run):
  output_dir, summary, stdout = demo_run
  names = ["pretraining_curves.png", "fine_tuning_curves.png",
           "confusion_matrix.png", "embeddings_pca.png"]
  assert summary["pictures"] == [os.path.join(output_dir, name)
                                 for name in names]
  for path in summary["pictures"]:
    with open(path, "rb") as f:
      assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    assert "\n" + path + "\n" in stdout


def test_pretraining_curves_read_from_the_events(demo_run):
  output_dir, summary, _ = demo_run
  steps = demo.QUICK_SETTINGS.pretraining_steps
  train = plots.read_scalars(os.path.join(output_dir, "pretraining"))
  for tag in ("loss", "masked_lm_loss", "next_sentence_loss",
              "learning_rate"):
    assert [step for step, _ in train[tag]] == [1, 101], tag
  # The total loss is the sum of the two heads' losses.
  for (_, total), (_, masked), (_, next_sentence) in zip(
      train["loss"], train["masked_lm_loss"], train["next_sentence_loss"]):
    assert abs(total - masked - next_sentence) < 1e-4
  evaluation = plots.merge_scalars(
      plots.read_scalars(os.path.join(output_dir, "pretraining_initial",
                                      "eval")),
      plots.read_scalars(os.path.join(output_dir, "pretraining", "eval")))
  masked_lm_loss = evaluation["masked_lm_loss"]
  assert [step for step, _ in masked_lm_loss] == [0, steps]
  figures = figures_of(summary, "pretraining")
  assert abs(masked_lm_loss[0][1] - figures["MLM loss before"]) < 1e-4
  assert abs(masked_lm_loss[1][1] - figures["MLM loss after"]) < 1e-4


def test_a_released_model_dir_replaces_the_tiny_model(demo_run, tmp_path):
  # The tiny model laid out as a released one (bert_model.ckpt).
  output_dir = demo_run[0]
  model_dir = tmp_path / "uncased_tiny"
  model_dir.mkdir()
  prefix = os.path.join(output_dir, "pretraining", "model.ckpt-%d" %
                        demo.QUICK_SETTINGS.pretraining_steps)
  for suffix in (".index", ".data-00000-of-00001"):
    shutil.copy(prefix + suffix, str(model_dir / ("bert_model.ckpt" + suffix)))
  for name in ("vocab.txt", "bert_config.json"):
    shutil.copy(os.path.join(output_dir, name), str(model_dir / name))
  stdout = run_demo(dict(quick=True, stages=["features"],
                        output_dir=str(tmp_path / "out"),
                        bert_model_dir=str(model_dir)))
  command = [line for line in stdout.splitlines()
             if "extract_features.py" in line][0]
  for flag in ("vocab_file=%s/vocab.txt",
               "bert_config_file=%s/bert_config.json",
               "init_checkpoint=%s/bert_model.ckpt"):
    assert "--" + flag % model_dir in command
  assert os.path.exists(str(tmp_path / "out" / "embeddings_pca.png"))
  assert not os.path.exists(str(tmp_path / "out" / "vocab.txt"))


def test_a_released_model_dir_rules_out_the_tiny_model_stages(tmp_path):
  (status, stderr) = run_demo_command(tmp_path,
                                      "--bert_model_dir=%s" % tmp_path,
                                      "--stages=pretraining,classifier")
  assert status != 0
  assert "--bert_model_dir replaces" in stderr


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
  (status, stderr) = run_demo_command(tmp_path, "--quick",
                                      "--stages=classifier")
  assert status != 0
  assert "error: stage classifier failed: run_classifier.py exited" in stderr
  log_tail = stderr.split("Last lines of its log")[1]
  assert len(log_tail.strip().splitlines()) >= 2


def test_a_missing_earlier_stage_is_named(tmp_path):
  (status, stderr) = run_demo_command(tmp_path, "--stages=features")
  assert status != 0
  assert "error: stage features failed: it needs the checkpoint" in stderr
  assert "run that stage first" in stderr


def test_unknown_stage_is_rejected(tmp_path):
  (status, stderr) = run_demo_command(tmp_path, "--stages=vocab,foo")
  assert status != 0
  assert "unknown stage(s) foo" in stderr


def test_pca_finds_the_direction_of_largest_variance():
  rng = np.random.RandomState(0)
  # Points spread 10 times more along (1, 1, 0) than along (0, 0, 1).
  along = rng.normal(size=[200, 1]) * 10.0
  across = rng.normal(size=[200, 1])
  vectors = (along * np.array([[1.0, 1.0, 0.0]]) / np.sqrt(2.0) +
             across * np.array([[0.0, 0.0, 1.0]]) + 5.0)
  projection, explained = plots.pca_2d(vectors)
  assert projection.shape == (200, 2)
  # Up to sign, and to the small correlation of two random samples.
  assert abs(np.corrcoef(projection[:, 0], along[:, 0])[0, 1]) > 0.999
  assert abs(np.corrcoef(projection[:, 1], across[:, 0])[0, 1]) > 0.99
  assert explained[0] > 0.98 and explained[0] + explained[1] > 0.999


def test_confusion_matrix_rows_are_gold_columns_predicted():
  matrix = plots.confusion_matrix(["0", "0", "0", "1", "1"],
                                  ["0", "1", "1", "1", "0"], ["0", "1"])
  assert matrix.tolist() == [[1, 2], [1, 1]]


def test_read_scalars_folds_a_renamed_duplicate_tag(tmp_path):
  with tf.Graph().as_default():
    writer = tf.summary.FileWriter(str(tmp_path))
    for step, value in [(5, 2.0), (1, 3.0)]:
      summary = tf.Summary()
      summary.value.add(tag="loss_1", simple_value=value)
      summary.value.add(tag="learning_rate", simple_value=0.5)
      writer.add_summary(summary, step)
    writer.close()
  scalars = plots.read_scalars(str(tmp_path))
  assert scalars == {"loss": [(1, 3.0), (5, 2.0)],
                     "learning_rate": [(1, 0.5), (5, 0.5)]}


def test_html_table_escapes_the_text():
  table = plots.html_table(["question"], [("a < b & c?",)])
  assert "<td>a &lt; b &amp; c?</td>" in table
