# coding=utf-8
# Copyright 2026 The BERT re-creation authors.
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.
"""The official SQuAD v1.1 and v2.0 evaluation metrics.

Gives the same figures, to the last digit, as the official evaluation
scripts of the SQuAD authors: the same answer normalization, the same
exact-match and F1 definitions and the same order of floating-point sums.
v1.1 reports `exact_match` and `f1` over every question of the dataset (a
question without a prediction scores 0). v2.0 counts an unanswerable
question's gold answer as "", reports `exact`, `f1` and `total` over the
questions that have a prediction, the same split into `HasAns_*` and
`NoAns_*`, and, given the no-answer scores (BERT's `null_odds.json`), the
best no-answer threshold and the exact match and F1 it reaches
(`best_exact`, `best_exact_thresh`, `best_f1`, `best_f1_thresh`).

Usable as a module (`evaluate`, `evaluate_files`) and from the command line:

  python evaluate_squad.py dev-v2.0.json predictions.json \
      --na-prob-file null_odds.json

On bad input (a missing file, a file that is not JSON or not of the layout
expected, a question without a prediction or a no-answer score) the command
prints one line "error: <file>: <what is wrong, and where>" on stderr and
exits with status 2.
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import argparse
import collections
import json
import re
import string
import sys

import tensorflow.compat.v1 as tf

import script_io

_PUNCTUATION = frozenset(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)


def normalize_answer(text):
  """Lower-cases, drops ASCII punctuation and articles, squeezes spaces."""
  text = text.lower()
  text = "".join(ch for ch in text if ch not in _PUNCTUATION)
  text = _ARTICLES.sub(" ", text)
  return " ".join(text.split())


def _token_f1(prediction_tokens, gold_tokens):
  """F1 of the bag-of-tokens overlap; 0 when nothing is shared."""
  common = (collections.Counter(prediction_tokens) &
            collections.Counter(gold_tokens))
  num_same = sum(common.values())
  if num_same == 0:
    return 0
  precision = 1.0 * num_same / len(prediction_tokens)
  recall = 1.0 * num_same / len(gold_tokens)
  return (2 * precision * recall) / (precision + recall)


def exact_match_score(prediction, ground_truth):
  """v1.1 exact match: True when both normalize to the same string."""
  return normalize_answer(prediction) == normalize_answer(ground_truth)


def f1_score(prediction, ground_truth):
  """v1.1 F1: an empty prediction or gold answer always scores 0."""
  return _token_f1(normalize_answer(prediction).split(),
                   normalize_answer(ground_truth).split())


def compute_exact(a_gold, a_pred):
  """v2.0 exact match, as 0 or 1."""
  return int(normalize_answer(a_gold) == normalize_answer(a_pred))


def compute_f1(a_gold, a_pred):
  """v2.0 F1: when either side is empty, 1 if both are, else 0."""
  gold_tokens = normalize_answer(a_gold).split()
  pred_tokens = normalize_answer(a_pred).split()
  if not gold_tokens or not pred_tokens:
    return int(gold_tokens == pred_tokens)
  return _token_f1(pred_tokens, gold_tokens)


class MissingInputError(script_io.InputError):
  """A question lacks what the evaluation needs.

  `source` names the input at fault: "dataset", "predictions" or
  "na_probs".
  """

  def __init__(self, source, message):
    super(MissingInputError, self).__init__(message)
    self.source = source


def _missing(source, what, qids):
  """The MissingInputError of the questions `qids` lacking `what`."""
  more = " (and %d more)" % (len(qids) - 1) if len(qids) > 1 else ""
  return MissingInputError(source, "no %s for question %s%s" %
                           (what, _show(qids[0]), more))


def _questions(dataset):
  """Yields every question dict of `dataset` (the JSON's "data" list)."""
  for article in dataset:
    for paragraph in article["paragraphs"]:
      for qa in paragraph["qas"]:
        yield qa


def evaluate_v1(dataset, predictions):
  """The official v1.1 evaluation.

  Args:
    dataset: the "data" list of a SQuAD JSON file.
    predictions: dict from question id to answer text.

  Returns:
    OrderedDict with `exact_match` and `f1`, in percent.

  Raises:
    MissingInputError: if a question has no gold answer (v1.1 needs one).
  """
  exact_match = f1 = total = 0
  for qa in _questions(dataset):
    total += 1
    if qa["id"] not in predictions:
      tf.logging.warning("Unanswered question %s will receive score 0.",
                         qa["id"])
      continue
    ground_truths = [answer["text"] for answer in qa["answers"]]
    if not ground_truths:
      raise MissingInputError(
          "dataset", "question %s has no gold answer: SQuAD v1.1 "
          "evaluation needs one" % _show(qa["id"]))
    prediction = predictions[qa["id"]]
    exact_match += max(exact_match_score(prediction, gold)
                       for gold in ground_truths)
    f1 += max(f1_score(prediction, gold) for gold in ground_truths)
  return collections.OrderedDict([
      ("exact_match", 100.0 * exact_match / total),
      ("f1", 100.0 * f1 / total),
  ])


def _raw_v2_scores(dataset, predictions):
  """Per-question v2.0 exact and F1 scores, for questions with a prediction."""
  exact_scores = {}
  f1_scores = {}
  for qa in _questions(dataset):
    qid = qa["id"]
    gold_answers = [answer["text"] for answer in qa["answers"]
                    if normalize_answer(answer["text"])]
    if not gold_answers:
      # An unanswerable question's only correct answer is the empty string.
      gold_answers = [""]
    if qid not in predictions:
      tf.logging.warning("Missing prediction for %s", qid)
      continue
    prediction = predictions[qid]
    exact_scores[qid] = max(compute_exact(a, prediction) for a in gold_answers)
    f1_scores[qid] = max(compute_f1(a, prediction) for a in gold_answers)
  return exact_scores, f1_scores


def _apply_no_answer_threshold(scores, na_probs, qid_to_has_ans,
                               na_prob_thresh):
  """Scores a question as "no answer" when its na_prob exceeds the bar."""
  new_scores = {}
  for qid, score in scores.items():
    if na_probs[qid] > na_prob_thresh:
      new_scores[qid] = float(not qid_to_has_ans[qid])
    else:
      new_scores[qid] = score
  return new_scores


def _summary(exact_scores, f1_scores, qid_list):
  total = len(qid_list)
  return [
      ("exact", 100.0 * sum(exact_scores[k] for k in qid_list) / total),
      ("f1", 100.0 * sum(f1_scores[k] for k in qid_list) / total),
      ("total", total),
  ]


def _best_threshold(predictions, scores, na_probs, qid_to_has_ans):
  """Sweeps the no-answer threshold over `na_probs`, as the official script.

  Starting from "every question answered with nothing", questions are
  switched to their prediction in increasing order of na_prob.

  Returns:
    (best score in percent of the questions scored, threshold reaching it).
  """
  current = sum(1 for qid in qid_to_has_ans if not qid_to_has_ans[qid])
  best_score = current
  best_thresh = 0.0
  for qid in sorted(na_probs, key=lambda k: na_probs[k]):
    if qid not in scores:
      continue
    if qid_to_has_ans[qid]:
      diff = scores[qid]
    elif predictions[qid]:
      diff = -1
    else:
      diff = 0
    current += diff
    if current > best_score:
      best_score = current
      best_thresh = na_probs[qid]
  return 100.0 * best_score / len(scores), best_thresh


def evaluate_v2(dataset, predictions, na_probs=None, na_prob_thresh=1.0):
  """The official v2.0 evaluation.

  Args:
    dataset: the "data" list of a SQuAD JSON file.
    predictions: dict from question id to answer text ("" for no answer).
    na_probs: optional dict from question id to a no-answer score (BERT's
      null_odds); None scores every prediction 0.0 and skips the best
      threshold search.
    na_prob_thresh: a question whose na_prob exceeds this counts as answered
      with nothing (the official script's `--na-prob-thresh`, default 1.0).

  Returns:
    OrderedDict in the official script's key order.

  Raises:
    MissingInputError: if a question lacks a prediction or a no-answer
      score (the official script fails there too).
  """
  qid_to_has_ans = collections.OrderedDict(
      (qa["id"], bool(qa["answers"])) for qa in _questions(dataset))
  missing = [qid for qid in qid_to_has_ans if qid not in predictions]
  if missing:
    raise _missing("predictions", "prediction", missing)
  searched = na_probs is not None
  if not searched:
    na_probs = {qid: 0.0 for qid in predictions}
  missing = [qid for qid in qid_to_has_ans if qid not in na_probs]
  if missing:
    raise _missing("na_probs", "no-answer score", missing)
  exact_raw, f1_raw = _raw_v2_scores(dataset, predictions)
  exact_thresh = _apply_no_answer_threshold(exact_raw, na_probs,
                                            qid_to_has_ans, na_prob_thresh)
  f1_thresh = _apply_no_answer_threshold(f1_raw, na_probs, qid_to_has_ans,
                                         na_prob_thresh)
  result = collections.OrderedDict(
      _summary(exact_thresh, f1_thresh, list(exact_thresh)))
  for prefix, wanted in (("HasAns", True), ("NoAns", False)):
    qids = [qid for qid, has in qid_to_has_ans.items() if has == wanted]
    if qids:
      for key, value in _summary(exact_thresh, f1_thresh, qids):
        result["%s_%s" % (prefix, key)] = value
  if searched:
    best_exact, exact_threshold = _best_threshold(predictions, exact_raw,
                                                  na_probs, qid_to_has_ans)
    best_f1, f1_threshold = _best_threshold(predictions, f1_raw, na_probs,
                                            qid_to_has_ans)
    result["best_exact"] = best_exact
    result["best_exact_thresh"] = exact_threshold
    result["best_f1"] = best_f1
    result["best_f1_thresh"] = f1_threshold
  return result


def is_version_2(dataset_json):
  """Whether a SQuAD JSON object declares version 2 (e.g. "v2.0")."""
  return str(dataset_json.get("version", "")).lstrip("vV").startswith("2")


def has_gold_answers(dataset_json, version_2):
  """Whether every question carries the answers an evaluation needs.

  v2.0 needs an "answers" list on each question (empty when unanswerable);
  v1.1 needs at least one answer per question.
  """
  for qa in _questions(dataset_json["data"]):
    answers = qa.get("answers")
    if answers is None or (not version_2 and not answers):
      return False
  return True


def evaluate(dataset_json, predictions, na_probs=None, na_prob_thresh=1.0,
             version_2=None):
  """Evaluates predictions against a parsed SQuAD JSON file.

  Args:
    dataset_json: the whole parsed dataset file ({"version", "data"}).
    predictions: dict from question id to answer text.
    na_probs: optional no-answer scores (v2.0 only).
    na_prob_thresh: see `evaluate_v2`.
    version_2: True/False to force a version; None: v2.0 when the file says
      so or `na_probs` is given.

  Returns:
    The metrics, an OrderedDict.
  """
  if not any(True for _ in _questions(dataset_json["data"])):
    raise MissingInputError("dataset", "no questions to evaluate")
  if version_2 is None:
    version_2 = is_version_2(dataset_json) or na_probs is not None
  if version_2:
    return evaluate_v2(dataset_json["data"], predictions, na_probs,
                       na_prob_thresh)
  if dataset_json.get("version") != "1.1":
    tf.logging.warning("Evaluation expects v-1.1, but got dataset with v-%s",
                       dataset_json.get("version"))
  return evaluate_v1(dataset_json["data"], predictions)


def read_json(path, name):
  """Parses the JSON file at `path`; `name` names it in errors.

  Raises:
    InputError: starting with `name`, if the file is missing, unreadable,
      not UTF-8 or not JSON.
  """
  try:
    if not tf.gfile.Exists(path):
      raise script_io.InputError("%s: no such file" % name)
    if tf.gfile.IsDirectory(path):
      raise script_io.InputError("%s: is a folder, expected a file" % name)
    with tf.gfile.GFile(path, "rb") as reader:
      data = reader.read()
  except tf.errors.OpError as e:
    raise script_io.InputError("%s: cannot read it: %s" %
                               (name, script_io.one_line_message(e)))
  try:
    text = data.decode("utf-8")
  except UnicodeDecodeError as e:
    raise script_io.InputError("%s: not UTF-8 text (byte %d)" %
                               (name, e.start))
  try:
    return json.loads(text)
  except ValueError as e:
    raise script_io.InputError("%s: not valid JSON: %s" % (name, e))


def _show(value, limit=60):
  """`value` as JSON on one line, cut to about `limit` characters."""
  try:
    shown = json.dumps(value)
  except (TypeError, ValueError):
    shown = repr(value)
  if len(shown) > limit:
    shown = shown[:limit] + "..."
  return shown


_STRING = ((str,), "a string")
_LIST = ((list,), "a list")
_BOOL = ((bool,), "true or false")
_NUMBER = ((int, float), "a number")
_INTEGER = ((int,), "an integer")


def _is_a(value, kind):
  """Whether `value` is of `kind` (a bool is not a number here)."""
  types = kind[0]
  if isinstance(value, bool) and bool not in types:
    return False
  return isinstance(value, types)


def check_dataset(dataset_json, name, required=("answers",)):
  """Checks the layout of a parsed SQuAD file, raising at the first fault.

  The articles (objects) of the "data" list hold "paragraphs", each with a
  "context" string and a "qas" list of questions: objects with a string
  "id", a string "question", a bool "is_impossible" and a list of
  "answers", each an object with a string "text" and an integer
  "answer_start". "data", "paragraphs", "qas", "id" and an answer's "text"
  are always required, the other fields when `required` names them; a field
  present is always checked. The file must hold at least one question.

  Args:
    dataset_json: the parsed file.
    name: names the file in errors, e.g. "--predict_file=dev.json".
    required: the optional fields that must be present.

  Raises:
    InputError: "<name>: <place> <what is wrong>", the place being the
      question id where there is one (`question "q7" has question null,
      expected a string`), else the article / paragraph / question index.
  """

  def fail(where, problem):
    raise script_io.InputError("%s: %s %s" % (name, where, problem))

  def check_object(value, where):
    if not isinstance(value, dict):
      fail(where, "is %s, expected an object" % _show(value))
    return value

  def field(obj, key, where, kind, always=False):
    if key not in obj:
      if always or key in required:
        fail(where, "has no \"%s\"" % key)
      return None
    value = obj[key]
    if not _is_a(value, kind):
      fail(where, "has %s %s, expected %s" % (key, _show(value), kind[1]))
    return value

  check_object(dataset_json, "the file")
  num_questions = 0
  data = field(dataset_json, "data", "the file", _LIST, always=True)
  for (i, article) in enumerate(data):
    where = "article %d" % i
    check_object(article, where)
    paragraphs = field(article, "paragraphs", where, _LIST, always=True)
    for (j, paragraph) in enumerate(paragraphs):
      where = "article %d, paragraph %d" % (i, j)
      check_object(paragraph, where)
      field(paragraph, "context", where, _STRING)
      qas = field(paragraph, "qas", where, _LIST, always=True)
      for (k, qa) in enumerate(qas):
        where = "article %d, paragraph %d, question %d" % (i, j, k)
        check_object(qa, where)
        where = "question %s" % _show(
            field(qa, "id", where, _STRING, always=True))
        field(qa, "question", where, _STRING)
        field(qa, "is_impossible", where, _BOOL)
        for (a, answer) in enumerate(
            field(qa, "answers", where, _LIST) or ()):
          answer_where = "%s answer %d" % (where, a)
          check_object(answer, answer_where)
          field(answer, "text", answer_where, _STRING, always=True)
          field(answer, "answer_start", answer_where, _INTEGER)
        num_questions += 1
  if not num_questions:
    raise script_io.InputError("%s: the file has no questions" % name)
  return num_questions


def read_dataset(path, name=None, required=("answers",)):
  """Reads a SQuAD dataset file and checks it with `check_dataset`.

  Args:
    path: the file.
    name: names it in errors (default: `path`).
    required: see `check_dataset`.

  Raises:
    InputError: naming the file (and the place), if it is not SQuAD JSON.
  """
  name = name or path
  dataset_json = read_json(path, name)
  check_dataset(dataset_json, name, required)
  return dataset_json


def _check_scores(scores, name, kind, what):
  """Checks a JSON object of question id to `what`, each of `kind`."""
  if not isinstance(scores, dict):
    raise script_io.InputError(
        "%s: the file is %s, expected an object of question ids to %ss" %
        (name, _show(scores), what))
  for (qid, value) in scores.items():
    if not _is_a(value, kind):
      raise script_io.InputError(
          "%s: question %s has %s %s, expected %s" %
          (name, _show(qid), what, _show(value), kind[1]))
  return scores


def read_predictions(path, name=None):
  """Reads a JSON object of question id to answer text, checking it."""
  name = name or path
  return _check_scores(read_json(path, name), name, _STRING, "answer")


def read_na_probs(path, name=None):
  """Reads a JSON object of question id to no-answer score, checking it."""
  name = name or path
  return _check_scores(read_json(path, name), name, _NUMBER,
                       "no-answer score")


def evaluate_files(dataset_file, prediction_file, na_prob_file=None,
                   na_prob_thresh=1.0, version_2=None):
  """Evaluates a predictions JSON file against a SQuAD dataset file.

  Args:
    dataset_file: SQuAD v1.1 or v2.0 JSON file with gold answers.
    prediction_file: JSON object from question id to answer text.
    na_prob_file: optional JSON object from question id to no-answer score.
    na_prob_thresh, version_2: see `evaluate`.

  Returns:
    The metrics, an OrderedDict.

  Raises:
    InputError: naming the file at fault (and the question or key), if one
      is missing or not what it should be.
  """
  dataset_json = read_dataset(dataset_file)
  predictions = read_predictions(prediction_file)
  na_probs = None
  if na_prob_file:
    na_probs = read_na_probs(na_prob_file)
  try:
    return evaluate(dataset_json, predictions, na_probs, na_prob_thresh,
                    version_2)
  except MissingInputError as e:
    name = {"dataset": dataset_file, "predictions": prediction_file,
            "na_probs": na_prob_file}[e.source]
    raise script_io.InputError("%s: %s" % (name, e))


class _ArgumentParser(argparse.ArgumentParser):
  """Reports a bad command line in one line, "error: ...", status 2."""

  def error(self, message):
    sys.stderr.write("error: %s (see --help)\n" % message)
    sys.exit(2)


def _parse_args(argv):
  parser = _ArgumentParser(
      description="Official SQuAD v1.1 / v2.0 evaluation.")
  parser.add_argument("data_file", help="SQuAD dataset JSON file.")
  parser.add_argument("pred_file", help="Predictions JSON file.")
  parser.add_argument("--na-prob-file", "-n", default=None,
                      help="JSON file of no-answer scores (v2.0).")
  parser.add_argument(
      "--na-prob-thresh", "-t", type=float, default=1.0,
      help="Predict \"\" when the no-answer score exceeds this (v2.0).")
  parser.add_argument("--version", choices=["auto", "1.1", "2.0"],
                      default="auto",
                      help="SQuAD version; auto: from the dataset file.")
  parser.add_argument("--out-file", "-o", default=None,
                      help="Also write the metrics JSON here.")
  return parser.parse_args(argv)


def _write_text(path, text):
  """Writes --out-file completely or not at all."""
  try:
    with script_io.atomic_output(path) as writer:
      writer.write(text)
  except (EnvironmentError, tf.errors.OpError) as e:
    raise script_io.InputError("--out-file=%s: cannot write it: %s" %
                               (path, script_io.one_line_message(e)))


def main(argv=None):
  """Command line entry point; prints the metrics as JSON.

  Returns 0, or 2 after "error: <message>" on stderr when an input is
  missing or not what it should be (or --out-file cannot be written).
  """
  args = _parse_args(sys.argv[1:] if argv is None else argv)
  version_2 = {"auto": None, "1.1": False, "2.0": True}[args.version]
  try:
    result = evaluate_files(args.data_file, args.pred_file,
                            args.na_prob_file, args.na_prob_thresh,
                            version_2)
    text = json.dumps(result, indent=2)
    if args.out_file:
      _write_text(args.out_file, text + "\n")
  except (ValueError, EnvironmentError, tf.errors.OpError) as e:
    sys.stderr.write("error: %s\n" % script_io.one_line_message(e))
    return 2
  print(text)
  return 0


if __name__ == "__main__":
  sys.exit(main())
