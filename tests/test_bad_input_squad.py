"""Bad input to run_squad.py and evaluate_squad.py, run as a user runs them.

Each case runs the script in a subprocess on an output folder holding the
outputs of an earlier good run, and checks that it ends with status 2 and
one line "error: ..." naming the file or flag (no traceback), and that the
earlier outputs are byte for byte as they were, with no temporary file left.
"""

import json
import os
import shutil

import pytest

import helpers

_CONTEXT = (
    "the old man walked to the river in the morning . he saw a red ship on "
    "the water and a small dog ran on the road . the sun was warm and the "
    "sky was blue .")

_QUESTIONS = [
    ("q1", "who walked to the river?", "the old man"),
    ("q2", "what was red?", "a red ship"),
    ("q3", "what ran on the road?", "a small dog"),
    ("q4", "what was blue?", "the sky"),
    ("q5", "what was green?", None),
    ("q6", "what was long?", None),
]


def _qas(copies=1):
  """SQuAD 2.0 questions on _CONTEXT, each with its gold answer (if any)."""
  qas = []
  for copy in range(copies):
    for (qas_id, question, answer) in _QUESTIONS:
      answers = []
      if answer:
        answers = [{"text": answer, "answer_start": _CONTEXT.index(answer)}]
      qas.append({"id": qas_id if copy == 0 else "%s-%d" % (qas_id, copy),
                  "question": question, "answers": answers,
                  "is_impossible": not answers})
  return qas


def _write_json(path, obj):
  with open(str(path), "w", encoding="utf-8") as f:
    json.dump(obj, f)
  return str(path)


def _squad_file(path, qas):
  return _write_json(path, {"version": "v2.0", "data": [
      {"title": "t", "paragraphs": [{"context": _CONTEXT, "qas": qas}]}]})


# The flags of every run here, over the tiny model's.
_FLAG_VALUES = dict(n_best_size=10, train_batch_size=4, num_train_epochs=1,
                    version_2_with_negative=True)


def _run_squad(tiny_bert, out_dir, *args, file_size_limit=None):
  """Runs run_squad.py on the tiny model, `args` last; (status, stderr)."""
  values = dict(helpers.tiny_squad_flags(tiny_bert, out_dir), **_FLAG_VALUES)
  return helpers.run_script("run_squad.py", values, *args,
                            file_size_limit=file_size_limit)


_PREDICTION_SET = ("predictions.json", "nbest_predictions.json",
                   "null_odds.json", "eval_results.json")


@pytest.fixture(scope="module")
def good_run(tiny_bert, tmp_path_factory):
  """One good run: fine-tuning and predicting, with metrics.

  Returns the folder of its outputs (to copy, not to change) and its
  --predict_file.
  """
  folder = tmp_path_factory.mktemp("good_run")
  squad_file = _squad_file(folder / "tiny-v2.json", _qas())
  out_dir = folder / "out"
  helpers.run_tiny_squad(tiny_bert, out_dir, dict(
      _FLAG_VALUES, do_train=True, do_predict=True, train_file=squad_file,
      predict_file=squad_file))
  for name in _PREDICTION_SET + ("train.tf_record", "eval.tf_record"):
    assert os.path.getsize(str(out_dir / name)) > 0, name
  return {"out_dir": str(out_dir), "squad_file": squad_file}


@pytest.fixture
def earlier_outputs(good_run, tmp_path):
  """A copy of the good run's outputs; returns (folder, snapshot of it)."""
  out_dir = str(tmp_path / "out")
  shutil.copytree(good_run["out_dir"], out_dir)
  return out_dir, helpers.snapshot(out_dir)


@pytest.mark.parametrize("data", [
    {"data": []},
    {"data": [{"title": "t", "paragraphs": []},
              {"title": "u", "paragraphs": [{"context": "c", "qas": []}]}]},
], ids=["no_articles", "no_questions"])
def test_1_predict_file_without_questions(tiny_bert, earlier_outputs,
                                          tmp_path, data):
  out_dir, before = earlier_outputs
  predict_file = _write_json(tmp_path / "empty.json", data)
  line = helpers.one_line_error(*_run_squad(
      tiny_bert, out_dir, "--do_predict=True",
      "--predict_file=" + predict_file))
  assert line == ("error: --predict_file=%s: the file has no questions" %
                  predict_file)
  assert helpers.snapshot(out_dir) == before


def test_1_train_file_without_questions(tiny_bert, earlier_outputs, good_run,
                                        tmp_path):
  out_dir, before = earlier_outputs
  train_file = _write_json(tmp_path / "empty.json", {"data": []})
  line = helpers.one_line_error(*_run_squad(
      tiny_bert, out_dir, "--do_train=True", "--do_predict=True",
      "--train_file=" + train_file,
      "--predict_file=" + good_run["squad_file"]))
  assert line == ("error: --train_file=%s: the file has no questions" %
                  train_file)
  assert helpers.snapshot(out_dir) == before


def test_2_prediction_files_are_replaced_together(tiny_bert, earlier_outputs,
                                                  tmp_path):
  # The disk fills up while nbest_predictions.json is written, after
  # predictions.json: neither may change (nor null_odds.json and
  # eval_results.json beside them). The questions come in another order, so
  # that the new predictions.json differs from the old one.
  out_dir, before = earlier_outputs
  predict_file = _squad_file(tmp_path / "reversed.json", _qas()[::-1])
  sizes = {name: len(content) for (name, content) in before.items()}
  limit = max(sizes["eval.tf_record"], sizes["predictions.json"])
  assert sizes["nbest_predictions.json"] > limit
  line = helpers.one_line_error(*_run_squad(
      tiny_bert, out_dir, "--do_predict=True",
      "--predict_file=" + predict_file, file_size_limit=limit))
  assert line.startswith(
      "error: %s: cannot write it: " %
      os.path.join(out_dir, "nbest_predictions.json")), line
  assert line.endswith("File too large"), line
  after = helpers.snapshot(out_dir)
  for name in _PREDICTION_SET:
    assert after[name] == before[name], name
  assert not [name for name in after if ".tmp-" in name]


def test_3_wrong_json_type_in_predict_file(tiny_bert, earlier_outputs,
                                           tmp_path):
  # (The other wrong types: test_run_squad.test_squad_json_of_wrong_layout.)
  out_dir, before = earlier_outputs
  qas = _qas()
  qas[3]["question"] = None
  predict_file = _squad_file(tmp_path / "dev.json", qas)
  line = helpers.one_line_error(*_run_squad(
      tiny_bert, out_dir, "--do_predict=True",
      "--predict_file=" + predict_file))
  assert line == ('error: --predict_file=%s: question "q4" has question '
                  "null, expected a string" % predict_file)
  assert helpers.snapshot(out_dir) == before


def test_3_wrong_json_type_in_train_file(tiny_bert, earlier_outputs,
                                         good_run, tmp_path):
  out_dir, before = earlier_outputs
  qas = _qas()
  qas[1]["answers"] = {"text": "a red ship", "answer_start": 40}
  train_file = _squad_file(tmp_path / "train.json", qas)
  line = helpers.one_line_error(*_run_squad(
      tiny_bert, out_dir, "--do_train=True", "--train_file=" + train_file))
  assert line == ('error: --train_file=%s: question "q2" has answers '
                  '{"text": "a red ship", "answer_start": 40}, expected a '
                  "list" % train_file)
  assert helpers.snapshot(out_dir) == before


@pytest.fixture
def good_evaluation(good_run, tmp_path):
  """evaluate_squad.py's good metrics of the good run, in metrics.json."""
  import evaluate_squad  # pylint: disable=g-import-not-at-top
  out_file = str(tmp_path / "metrics.json")
  predictions = os.path.join(good_run["out_dir"], "predictions.json")
  null_odds = os.path.join(good_run["out_dir"], "null_odds.json")
  assert evaluate_squad.main([good_run["squad_file"], predictions,
                              "--na-prob-file", null_odds,
                              "--out-file", out_file]) == 0
  with open(out_file, "rb") as f:
    return {"out_file": out_file, "metrics": f.read(),
            "predictions": predictions, "null_odds": null_odds}


def test_4_evaluate_predictions_that_are_a_list(good_run, good_evaluation,
                                                tmp_path):
  predictions = _write_json(tmp_path / "pred.json", ["the old man"])
  line = helpers.one_line_error(*helpers.run_script(
      "evaluate_squad.py", {}, good_run["squad_file"], predictions,
      "--out-file", good_evaluation["out_file"]))
  assert line == ('error: %s: the file is ["the old man"], expected an '
                  "object of question ids to answers" % predictions)
  with open(good_evaluation["out_file"], "rb") as f:
    assert f.read() == good_evaluation["metrics"]


def test_4_evaluate_non_numeric_no_answer_score(good_run, good_evaluation,
                                                tmp_path):
  with open(good_evaluation["null_odds"], encoding="utf-8") as f:
    null_odds = json.load(f)
  null_odds["q3"] = "high"
  na_file = _write_json(tmp_path / "na.json", null_odds)
  line = helpers.one_line_error(*helpers.run_script(
      "evaluate_squad.py", {}, good_run["squad_file"],
      good_evaluation["predictions"], "--na-prob-file", na_file,
      "--out-file", good_evaluation["out_file"]))
  assert line == ('error: %s: question "q3" has no-answer score "high", '
                  "expected a number" % na_file)
  with open(good_evaluation["out_file"], "rb") as f:
    assert f.read() == good_evaluation["metrics"]


def test_5_error_while_writing_features_leaves_no_temporary_file(
    tiny_bert, earlier_outputs, tmp_path):
  # The disk fills up in the middle of train.tf_record: the older one stays.
  out_dir, before = earlier_outputs
  train_file = _squad_file(tmp_path / "train.json", _qas(copies=10))
  limit = len(before["train.tf_record"])
  status, stderr = _run_squad(
      tiny_bert, out_dir, "--do_train=True", "--train_file=" + train_file,
      file_size_limit=limit)
  line = helpers.one_line_error(status, stderr)
  assert line.startswith(
      "error: %s: cannot write it: " %
      os.path.join(out_dir, "train.tf_record")), line
  assert "Running training" not in stderr  # It stopped while converting.
  after = helpers.snapshot(out_dir)
  assert after["train.tf_record"] == before["train.tf_record"]
  assert not [name for name in after if ".tmp-" in name]
  assert after == before


def test_vocab_without_sep_token(tiny_bert, earlier_outputs, good_run,
                                 tmp_path):
  out_dir, before = earlier_outputs
  vocab_file = str(tmp_path / "vocab.txt")
  with open(tiny_bert["vocab_file"], encoding="utf-8") as f:
    tokens = f.read().split("\n")
  with open(vocab_file, "w", encoding="utf-8") as f:
    f.write("\n".join("[unused]" if t == "[SEP]" else t for t in tokens))
  line = helpers.one_line_error(*_run_squad(
      tiny_bert, out_dir, "--do_predict=True",
      "--predict_file=" + good_run["squad_file"],
      "--vocab_file=" + vocab_file))
  assert line == "error: --vocab_file=%s: no [SEP] token" % vocab_file
  assert helpers.snapshot(out_dir) == before
