"""Tests of evaluate_squad.py, the official SQuAD v1.1 / v2.0 metrics."""

import json
import os

import pytest

import evaluate_squad


def _dataset(questions, version):
  """A SQuAD JSON object with one paragraph holding (id, answers) pairs."""
  qas = [{"id": qas_id, "question": "?", "answers": [
      {"text": text, "answer_start": 0} for text in answers]}
         for qas_id, answers in questions]
  return {"version": version,
          "data": [{"title": "t", "paragraphs": [{"context": "c",
                                                  "qas": qas}]}]}


def _write(path, obj):
  with open(str(path), "w", encoding="utf-8") as f:
    json.dump(obj, f)
  return str(path)


def test_normalize_answer():
  assert evaluate_squad.normalize_answer("The  Cat's, hat!") == "cats hat"
  assert evaluate_squad.normalize_answer("an apple a day") == "apple day"
  # Only whole words are articles; non-ASCII punctuation stays.
  assert evaluate_squad.normalize_answer("Theatre — An") == "theatre —"
  assert evaluate_squad.normalize_answer("  ") == ""


def test_v1_scores():
  assert evaluate_squad.exact_match_score("The Eiffel Tower", "eiffel tower")
  assert not evaluate_squad.exact_match_score("Eiffel", "eiffel tower")
  assert evaluate_squad.f1_score("eiffel", "the eiffel tower") == (
      2 * 1.0 * 0.5 / 1.5)
  assert evaluate_squad.f1_score("paris paris", "paris") == 2 * 0.5 / 1.5
  # v1.1 scores an empty answer 0 even against an empty gold answer.
  assert evaluate_squad.f1_score("", "") == 0
  assert evaluate_squad.f1_score("the", "a") == 0


def test_v2_scores_treat_empty_answers_as_no_answer():
  assert evaluate_squad.compute_f1("", "") == 1
  assert evaluate_squad.compute_f1("", "something") == 0
  assert evaluate_squad.compute_f1("the", "") == 1  # both normalize to ""
  assert evaluate_squad.compute_exact("", "") == 1
  assert evaluate_squad.compute_f1("eiffel tower", "tower") == (
      evaluate_squad.f1_score("tower", "eiffel tower"))


def test_evaluate_v1_counts_missing_predictions_as_zero():
  dataset = _dataset([("a", ["Paris", "in Paris"]), ("b", ["blue whale"]),
                      ("c", ["1847"])], "1.1")
  result = evaluate_squad.evaluate(dataset, {"a": "in paris",
                                             "b": "the whale"})
  assert list(result) == ["exact_match", "f1"]
  assert result["exact_match"] == 100.0 * 1 / 3
  assert result["f1"] == 100.0 * (1.0 + 2 * 1.0 * 0.5 / 1.5) / 3


def test_evaluate_v1_needs_gold_answers():
  dataset = _dataset([("a", [])], "1.1")
  with pytest.raises(evaluate_squad.MissingInputError,
                     match='question "a" has no gold answer'):
    evaluate_squad.evaluate(dataset, {"a": ""})
  assert not evaluate_squad.has_gold_answers(dataset, version_2=False)
  assert evaluate_squad.has_gold_answers(dataset, version_2=True)


def _v2_case():
  dataset = _dataset([("q1", ["Paris"]), ("q2", ["the blue whale",
                                                 "blue whale"]),
                      ("q3", []), ("q4", [])], "v2.0")
  predictions = {"q1": "Paris", "q2": "whale", "q3": "", "q4": "London"}
  na_probs = {"q1": -5.0, "q2": 0.5, "q3": 3.0, "q4": 2.0}
  return dataset, predictions, na_probs


def test_evaluate_v2_with_best_thresholds():
  dataset, predictions, na_probs = _v2_case()
  result = evaluate_squad.evaluate(dataset, predictions, na_probs)
  q2_f1 = 2 * 1.0 * 0.5 / 1.5
  # q4's na_prob 2.0 exceeds the default threshold 1.0: "London" counts as
  # no answer, which is right.
  assert result == {
      "exact": 75.0,
      "f1": 100.0 * (1 + q2_f1 + 1 + 1) / 4,
      "total": 4,
      "HasAns_exact": 50.0,
      "HasAns_f1": 100.0 * (1 + q2_f1) / 2,
      "HasAns_total": 2,
      "NoAns_exact": 100.0,
      "NoAns_f1": 100.0,
      "NoAns_total": 2,
      # Sweep in na_prob order from "answer nothing" (2 right): q1 +1
      # (at -5.0), q2 +0 / +2/3 (at 0.5), q4 -1, q3 0.
      "best_exact": 75.0,
      "best_exact_thresh": -5.0,
      "best_f1": 100.0 * (2 + 1 + q2_f1) / 4,
      "best_f1_thresh": 0.5,
  }
  assert list(result)[:3] == ["exact", "f1", "total"]


def test_evaluate_v2_applies_the_no_answer_threshold():
  dataset, predictions, na_probs = _v2_case()
  # At 0.0, q2 (0.5) and q4 (2.0) count as answered with nothing.
  result = evaluate_squad.evaluate(dataset, predictions, na_probs,
                                   na_prob_thresh=0.0)
  assert (result["exact"], result["f1"]) == (75.0, 75.0)
  # At 5.0, no question does.
  result = evaluate_squad.evaluate(dataset, predictions, na_probs,
                                   na_prob_thresh=5.0)
  assert (result["exact"], result["NoAns_exact"]) == (50.0, 50.0)
  # Without na_probs: every score 0.0, no threshold search.
  result = evaluate_squad.evaluate(dataset, predictions)
  assert "best_f1" not in result and result["exact"] == 50.0


def _missing_input_error(dataset, predictions, na_probs, message):
  """The MissingInputError of `evaluate`, checked to match `message`."""
  with pytest.raises(evaluate_squad.MissingInputError,
                     match=message) as raised:
    evaluate_squad.evaluate(dataset, predictions, na_probs)
  return raised.value


def test_evaluate_v2_reports_missing_prediction_or_score():
  dataset, predictions, na_probs = _v2_case()
  del predictions["q3"]
  assert _missing_input_error(
      dataset, predictions, na_probs,
      '^no prediction for question "q3"$').source == "predictions"
  del predictions["q1"]
  _missing_input_error(dataset, predictions, na_probs,
                       '^no prediction for question "q1" \\(and 1 more\\)$')
  dataset, predictions, na_probs = _v2_case()
  del na_probs["q4"]
  assert _missing_input_error(
      dataset, predictions, na_probs,
      'no no-answer score for question "q4"').source == "na_probs"


def test_version_detection():
  assert evaluate_squad.is_version_2({"version": "v2.0"})
  assert evaluate_squad.is_version_2({"version": "2.0"})
  assert not evaluate_squad.is_version_2({"version": "1.1"})
  assert not evaluate_squad.is_version_2({})


def test_command_line(tmp_path, capsys):
  dataset, predictions, na_probs = _v2_case()
  data_file = _write(tmp_path / "data.json", dataset)
  pred_file = _write(tmp_path / "pred.json", predictions)
  na_file = _write(tmp_path / "na.json", na_probs)
  out_file = str(tmp_path / "metrics.json")
  assert evaluate_squad.main([data_file, pred_file, "--na-prob-file",
                              na_file, "--out-file", out_file]) == 0
  printed = json.loads(capsys.readouterr().out)
  assert printed == evaluate_squad.evaluate(dataset, predictions, na_probs)
  with open(out_file, encoding="utf-8") as f:
    assert json.load(f) == printed
  # Forced to v1.1, the empty gold lists are an error, reported in one line.
  assert evaluate_squad.main([data_file, pred_file, "--version=1.1"]) == 2
  assert capsys.readouterr().err == (
      'error: %s: question "q3" has no gold answer: SQuAD v1.1 evaluation '
      "needs one\n" % data_file)


def test_command_line_bad_files(tmp_path, capsys):
  not_json = tmp_path / "x.json"
  not_json.write_text(u"{oops")
  pred_file = _write(tmp_path / "pred.json", {})
  assert evaluate_squad.main([str(not_json), pred_file]) == 2
  assert capsys.readouterr().err.startswith(
      "error: %s: not valid JSON: " % not_json)
  not_squad = _write(tmp_path / "y.json", {"version": "1.1"})
  assert evaluate_squad.main([not_squad, pred_file]) == 2
  assert capsys.readouterr().err == (
      'error: %s: the file has no "data"\n' % not_squad)
  assert evaluate_squad.main([str(tmp_path / "none.json"), pred_file]) == 2
  assert capsys.readouterr().err == (
      "error: %s: no such file\n" % (tmp_path / "none.json"))


def _bad_input_cases():
  """(name, files to write, extra flags, expected message) per case."""
  dataset, predictions, na_probs = _v2_case()
  question_null = _v2_case()[0]
  question_null["data"][0]["paragraphs"][0]["qas"][1]["question"] = None
  no_answers = _v2_case()[0]
  del no_answers["data"][0]["paragraphs"][0]["qas"][2]["answers"]
  return [
      ("dataset is a list", {"data": [dataset], "pred": predictions}, [],
       'data.json: the file is [{"version": "v2.0", "data": [{"title": "t", '
       '"paragraphs": [..., expected an object'),
      ("dataset without questions", {"data": {"data": []},
                                     "pred": predictions}, [],
       "data.json: the file has no questions"),
      ("question null", {"data": question_null, "pred": predictions}, [],
       'data.json: question "q2" has question null, expected a string'),
      ("no gold answers", {"data": no_answers, "pred": predictions}, [],
       'data.json: question "q3" has no "answers"'),
      ("predictions are a list", {"data": dataset, "pred": ["Paris"]}, [],
       'pred.json: the file is ["Paris"], expected an object of question '
       "ids to answers"),
      ("prediction not a string",
       {"data": dataset, "pred": dict(predictions, q2=["whale"])}, [],
       'pred.json: question "q2" has answer ["whale"], expected a string'),
      ("prediction null", {"data": dataset, "pred": dict(predictions,
                                                         q4=None)}, [],
       'pred.json: question "q4" has answer null, expected a string'),
      ("missing prediction",
       {"data": dataset, "pred": {"q1": "Paris"}}, [],
       'pred.json: no prediction for question "q2" (and 2 more)'),
      ("na file a list", {"data": dataset, "pred": predictions,
                          "na": [0.5]}, [],
       "na.json: the file is [0.5], expected an object of question ids to "
       "no-answer scores"),
      ("na score a string",
       {"data": dataset, "pred": predictions,
        "na": dict(na_probs, q3="3.0")}, [],
       'na.json: question "q3" has no-answer score "3.0", expected a '
       "number"),
      ("na score a bool",
       {"data": dataset, "pred": predictions,
        "na": dict(na_probs, q1=True)}, [],
       'na.json: question "q1" has no-answer score true, expected a number'),
      ("missing na score",
       {"data": dataset, "pred": predictions,
        "na": {"q1": 0.0}}, [],
       'na.json: no no-answer score for question "q2" (and 2 more)'),
      ("na file missing", {"data": dataset, "pred": predictions}, ["na"],
       "na.json: no such file"),
      ("predictions not UTF-8", {"data": dataset, "pred": b'{"q1": "\xff"}'},
       [], "pred.json: not UTF-8 text (byte 8)"),
      ("predictions not JSON", {"data": dataset, "pred": b"Paris"}, [],
       "pred.json: not valid JSON: Expecting value: line 1 column 1 "
       "(char 0)"),
  ]


@pytest.mark.parametrize("case", _bad_input_cases(), ids=lambda c: c[0])
def test_command_line_bad_input_is_one_line(tmp_path, capsys, case):
  (_, files, na_flag, message) = case
  paths = {}
  for name in ("data", "pred", "na"):
    paths[name] = str(tmp_path / (name + ".json"))
    if name in files:
      if isinstance(files[name], bytes):
        with open(paths[name], "wb") as f:
          f.write(files[name])
      else:
        _write(paths[name], files[name])
  argv = [paths["data"], paths["pred"]]
  if "na" in files or na_flag:
    argv += ["--na-prob-file", paths["na"]]
  out_file = str(tmp_path / "metrics.json")
  with open(out_file, "w") as f:
    f.write("old metrics\n")
  assert evaluate_squad.main(argv + ["--out-file", out_file]) == 2
  captured = capsys.readouterr()
  assert captured.out == ""
  assert captured.err == "error: %s/%s\n" % (tmp_path, message)
  with open(out_file) as f:
    assert f.read() == "old metrics\n"
  assert sorted(os.listdir(str(tmp_path)))[-1] == "pred.json"


def test_command_line_usage_errors_are_one_line(tmp_path, capsys):
  with pytest.raises(SystemExit) as raised:
    evaluate_squad.main(["only_one.json"])
  assert raised.value.code == 2
  assert capsys.readouterr().err == (
      "error: the following arguments are required: pred_file (see --help)\n")
  with pytest.raises(SystemExit) as raised:
    evaluate_squad.main(["a.json", "b.json", "--na-prob-thresh=high"])
  assert raised.value.code == 2
  assert capsys.readouterr().err == (
      "error: argument --na-prob-thresh/-t: invalid float value: 'high' "
      "(see --help)\n")


def test_command_line_unwritable_out_file(tmp_path, capsys):
  dataset, predictions, _ = _v2_case()
  data_file = _write(tmp_path / "data.json", dataset)
  pred_file = _write(tmp_path / "pred.json", predictions)
  out_file = str(tmp_path / "no_dir" / "metrics.json")
  assert evaluate_squad.main([data_file, pred_file, "-o", out_file]) == 2
  captured = capsys.readouterr()
  assert captured.out == ""
  assert captured.err.startswith("error: --out-file=%s: cannot write it: " %
                                 out_file)
  assert len(captured.err.splitlines()) == 1


def test_official_figures_on_dev_v1_1(shared_data):
  folder = os.path.join(shared_data, "squad")
  dataset_file = os.path.join(folder, "dev-v1.1.json")
  prediction_file = os.path.join(
      folder, "predictions_dev-v1.1_BERT-ensemble-GoogleAI.json")
  if not (os.path.exists(dataset_file) and os.path.exists(prediction_file)):
    pytest.skip("SQuAD dev-v1.1 data are absent")
  result = evaluate_squad.evaluate_files(dataset_file, prediction_file)
  assert result == {"exact_match": 86.20624408703878,
                    "f1": 92.19557978351145}
