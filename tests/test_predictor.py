"""Tests of predictor.py: answers equal to --do_predict's for the same inputs.

Each script predicts with a tiny model's checkpoint (`task_checkpoints`)
and exports it with --export_dir; the predictors, loaded from the
checkpoint and from the SavedModel, must then give the script's
predictions.
"""

import json
import os

import numpy as np
import pytest

import helpers
import predictor
import run_classifier
import task_checkpoints
import task_data


@pytest.fixture(scope="module")
def mrpc_run(tiny_bert, tmp_path_factory):
  """A fine-tuned tiny MRPC model: its flags and test rows."""
  tmp_path = tmp_path_factory.mktemp("mrpc")
  data_dir = str(tmp_path / "data")
  rows = task_data.write_task_data(data_dir, "mrpc",
                                   np.random.RandomState(11))
  values = task_data.classifier_flags(tiny_bert, data_dir,
                                      str(tmp_path / "output"), "mrpc")
  values.update(do_train=False, do_eval=False,
                export_dir=str(tmp_path / "export"),
                init_checkpoint=task_checkpoints.classifier_checkpoint(
                    tiny_bert, str(tmp_path)))
  helpers.run_main(run_classifier, values)
  return values, rows


@pytest.mark.parametrize("source", ["checkpoint", "saved_model_dir"])
def test_classifier_predictor_gives_the_test_results(tiny_bert, mrpc_run,
                                                     source):
  values, rows = mrpc_run
  model = {"checkpoint": values["init_checkpoint"],
           "saved_model_dir": values["export_dir"]}[source]
  classifier = predictor.ClassifierPredictor(
      tiny_bert["config_file"], tiny_bert["vocab_file"],
      run_classifier.MrpcProcessor().get_labels(),
      max_seq_length=values["max_seq_length"], batch_size=4,
      **{source: model})
  expected = np.loadtxt(os.path.join(values["output_dir"],
                                     "test_results.tsv"))
  pairs = [(text_a, text_b) for (text_a, text_b, _) in rows]
  # Six inputs at batch size 4: a full batch and a short one.
  np.testing.assert_allclose(classifier.predict_batch(pairs), expected,
                             atol=1e-6)
  np.testing.assert_allclose(classifier.predict(*pairs[2]), expected[2],
                             atol=1e-6)
  classifier.close()


def test_classifier_predictor_of_single_sentences(tiny_bert, mrpc_run):
  values, _ = mrpc_run
  classifier = predictor.ClassifierPredictor(
      tiny_bert["config_file"], tiny_bert["vocab_file"], ["0", "1"],
      checkpoint=values["init_checkpoint"],
      max_seq_length=values["max_seq_length"])
  (single, pair) = classifier.predict_batch(["the cat .",
                                             ("the cat .", "a dog .")])
  assert single.shape == pair.shape == (2,)
  assert np.isclose(single.sum(), 1.0) and not np.allclose(single, pair)
  classifier.close()


def _squad_predictions(tiny_bert, tmp_path, path, **values):
  """predictions.json of run_squad.py --do_predict with the test's flags."""
  out_dir = helpers.run_tiny_squad(tiny_bert, tmp_path / "out", dict(
      values, do_predict=True, predict_file=path, n_best_size=10))
  with open(os.path.join(out_dir, "predictions.json")) as f:
    return json.load(f)


@pytest.mark.parametrize("version_2", [False, True])
def test_squad_predictor_gives_the_predictions(tiny_bert, tmp_path,
                                               version_2):
  qas = task_data.tiny_qas(version_2)
  path = task_data.squad_file(tmp_path / "tiny.json", qas,
                              task_data.TINY_CONTEXT)
  export_dir = str(tmp_path / "export")
  checkpoint = task_checkpoints.squad_checkpoint(tiny_bert, str(tmp_path))
  values = dict(init_checkpoint=checkpoint,
                version_2_with_negative=version_2)
  expected = _squad_predictions(tiny_bert, tmp_path, path,
                                export_dir=export_dir, **values)
  threshold = 0.0
  if version_2:
    # A threshold between the null odds, so that some questions get no
    # answer.
    with open(str(tmp_path / "out" / "null_odds.json")) as f:
      threshold = float(np.median(list(json.load(f).values())))
    expected = _squad_predictions(
        tiny_bert, tmp_path, path, null_score_diff_threshold=threshold,
        **values)
    assert 0 < list(expected.values()).count("") < len(qas)
  assert len(set(expected.values())) > 1

  # The context takes several windows at max_seq_length 48.
  questions = [(qa["question"], task_data.TINY_CONTEXT) for qa in qas]
  for source in ({"checkpoint": checkpoint},
                 {"saved_model_dir": export_dir}):
    squad = predictor.SquadPredictor(
        tiny_bert["config_file"], tiny_bert["vocab_file"],
        max_seq_length=48, doc_stride=16, max_query_length=12,
        n_best_size=10, max_answer_length=8,
        version_2_with_negative=version_2,
        null_score_diff_threshold=threshold, batch_size=5, **source)
    assert squad.predict_batch(questions) == [expected[qa["id"]]
                                              for qa in qas]
    assert squad.predict(*questions[3]) == expected[qas[3]["id"]]
    squad.close()
