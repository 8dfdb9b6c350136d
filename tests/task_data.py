"""Tiny task data the end-to-end tests share: GLUE rows and SQuAD files."""

import json
import os

import helpers

# --------------------------------------------------------------------------
# GLUE (run_classifier.py)

def write_tsv(path, rows):
  """Writes rows (lists of columns) as tab-separated lines."""
  os.makedirs(os.path.dirname(path), exist_ok=True)
  with open(path, "w", encoding="utf-8") as f:
    for row in rows:
      f.write("\t".join(row) + "\n")
  return path


SEQ_LENGTH = 32
WORDS = ("the a cat dog sun moon tree river house sea ship man woman child "
         "old new good small big red green blue white black cold warm").split()


def made_up_sentence(rng, length):
  """`length` random WORDS and a full stop."""
  return " ".join(rng.choice(WORDS, size=length)) + " ."


def format_row(task, set_name, index, text_a, text_b, label):
  """One row of `set_name`.tsv in the GLUE layout of `task`."""
  if task == "mrpc":
    first = str(index) if set_name == "test" else label
    return [first, "1", "2", text_a, text_b]
  if task == "sst-2":
    return [str(index), text_a] if set_name == "test" else [text_a, label]
  row = [str(index), "g", "f", "y", "o", "s1", "s2", text_a, text_b]
  return row if set_name == "test" else row + [label]


HEADERS = {
    "mrpc": ["Quality", "#1 ID", "#2 ID", "#1 String", "#2 String"],
    "sst-2": ["sentence", "label"],
    "sts-b": ["index"] * 10,
}


def write_task_data(data_dir, task, rng):
  """A dozen train rows and six dev rows in the GLUE layout of `task`.

  test.tsv holds the dev rows again (without labels), so that the eval
  metrics can be checked against the predictions. Returns the dev rows as
  (text_a, text_b, label).
  """
  rows = {}
  for (set_name, num_rows) in (("train", 12), ("dev", 6)):
    rows[set_name] = []
    for i in range(num_rows):
      label = "%.3f" % (i % 6) if task == "sts-b" else str(i % 2)
      rows[set_name].append((made_up_sentence(rng, rng.randint(3, 20)),
                             made_up_sentence(rng, rng.randint(3, 20)),
                             label))
  rows["test"] = rows["dev"]
  for (set_name, items) in rows.items():
    header = HEADERS[task]
    if set_name == "test" and task == "sst-2":
      header = ["index", "sentence"]
    write_tsv(os.path.join(data_dir, set_name + ".tsv"), [header] + [
        format_row(task, set_name, i, *item) for (i, item) in enumerate(items)])
  return rows["dev"]


def classifier_flags(tiny_bert, data_dir, output_dir, task):
  """Every flag of run_classifier.py, so other scripts' defaults stay out."""
  return helpers.fine_tuning_flags(
      tiny_bert, data_dir, output_dir, task_name=task, label_separator=",",
      labels_file=None, multi_label_threshold=0.5, max_seq_length=SEQ_LENGTH,
      train_batch_size=4, eval_batch_size=4, predict_batch_size=4,
      learning_rate=1e-3, num_train_epochs=1.0)


# --------------------------------------------------------------------------
# SQuAD (run_squad.py)


def write_json(path, obj):
  """Writes `obj` as JSON at `path`; returns the path as a string."""
  with open(str(path), "w", encoding="utf-8") as f:
    json.dump(obj, f)
  return str(path)


def squad_file(path, qas, context="the cat sat on the red road", version=None):
  """A SQuAD JSON file of one paragraph, `context`, with questions `qas`."""
  data = {"data": [{"title": "t", "paragraphs": [{"context": context,
                                                   "qas": qas}]}]}
  if version:
    data["version"] = version
  return write_json(path, data)


TINY_CONTEXT = (
    "the old man walked to the river in the morning . he saw a red ship on "
    "the water and a small dog ran on the road . the sun was warm and the "
    "sky was blue . in the night the moon was bright and the cat slept in "
    "the house by the garden . the woman made bread and tea for the child .")


def tiny_qas(version_2):
  """Questions on TINY_CONTEXT (v1.1: several answers; v2.0: one or none)."""

  def answer(text, occurrence=0):
    start = -1
    for _ in range(occurrence + 1):
      start = TINY_CONTEXT.index(text, start + 1)
    return {"text": text, "answer_start": start}

  qas = [
      ("q1", "who walked to the river?", [answer("the old man"),
                                          answer("old man")]),
      ("q2", "what was red?", [answer("a red ship"), answer("ship")]),
      ("q3", "what ran on the road?", [answer("a small dog")]),
      ("q4", "what was blue?", [answer("the sky"), answer("sky")]),
      ("q5", "what was bright?", [answer("the moon")]),
      ("q6", "where did the cat sleep?", [answer("in the house"),
                                          answer("the house")]),
      ("q7", "what did the woman make?", [answer("bread and tea")]),
      ("q8", "who had tea?", [answer("the child")]),
  ]
  result = []
  for qas_id, question, answers in qas:
    qa = {"id": qas_id, "question": question, "answers": answers}
    if version_2:
      qa["answers"] = answers[:1]
      qa["is_impossible"] = False
    result.append(qa)
  if version_2:
    for qas_id, question in (("n1", "who was green?"),
                             ("n2", "what was long?")):
      result.append({"id": qas_id, "question": question, "answers": [],
                     "is_impossible": True})
  return result
