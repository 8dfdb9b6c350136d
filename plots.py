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
"""Pictures of a pipeline run, drawn from the files the scripts write.

Curves come from the event files (the summaries TensorBoard shows), the
confusion matrix from the classifier's predictions, the SQuAD table from
`predictions.json`, and the projection from `extract_features.py`'s JSON
lines. Only `demo.py` and the notebook import this module (it needs
matplotlib, an extra: requirements-notebook.txt); the training and data
scripts never do. Figures are made without pyplot and rendered as PNG by
matplotlib's Agg backend, so no display is needed and a notebook's own
backend is left alone.
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import collections
import csv
import glob
import html
import json
import os
import re
import struct

from matplotlib.figure import Figure
import numpy as np
import tensorflow.compat.v1 as tf

import script_io

# The colours of the classes of the projection and of the curves.
_COLOURS = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple")


def iter_records(path):
  """Yields the records of a TFRecord file, without TensorFlow.

  Each record is an 8-byte little-endian length, a 4-byte checksum of it,
  the data, and a 4-byte checksum of the data (checksums are not checked).
  """
  with open(path, "rb") as reader:
    while True:
      header = reader.read(12)
      if len(header) < 12:
        return
      (length,) = struct.unpack("<Q", header[:8])
      data = reader.read(length)
      reader.seek(4, os.SEEK_CUR)
      yield data


def read_scalars(directory):
  """Reads the scalar summaries of the event files directly in `directory`.

  Args:
    directory: a folder holding `events.out.tfevents.*` files (training
      events are in a model's output_dir, evaluation ones in its `eval/`).

  Returns:
    A dict from tag to a list of (step, value) pairs sorted by step. A
    graph holding two summaries of one name writes the second as
    `name_1`: such a tag is read as `name` when `name` itself is absent.
  """
  # tf.train.summary_iterator would do, but it logs a deprecation warning
  # on TensorFlow 2.
  scalars = collections.defaultdict(list)
  for path in sorted(glob.glob(os.path.join(directory, "events.out.*"))):
    for record in iter_records(path):
      event = tf.Event.FromString(record)
      for value in event.summary.value:
        if value.HasField("simple_value"):
          number = value.simple_value
        elif value.HasField("tensor"):
          # Tensor summaries also hold text, such as the Estimator's
          # `checkpoint_path`: only single numbers are scalars.
          array = tf.make_ndarray(value.tensor)
          if array.size != 1 or array.dtype.kind not in "biuf":
            continue
          number = float(array.reshape([]))
        else:
          continue
        scalars[value.tag].append((event.step, number))
  for tag in list(scalars):
    base = re.sub(r"_\d+$", "", tag)
    if base != tag and base not in scalars:
      scalars[base] = scalars.pop(tag)
  return {tag: sorted(points) for tag, points in scalars.items()}


def merge_scalars(*scalar_dicts):
  """Joins the points of several `read_scalars` results, tag by tag."""
  merged = collections.defaultdict(list)
  for scalars in scalar_dicts:
    for tag, points in scalars.items():
      merged[tag].extend(points)
  return {tag: sorted(points) for tag, points in merged.items()}


def _plot_curve(axes, points, label, colour, dashed=False):
  """Draws (step, value) points as a line with markers, if there are any."""
  if not points:
    return
  steps, values = zip(*points)
  axes.plot(steps, values, "o--" if dashed else "o-", color=colour,
            label=label, markersize=4)


def _finish_axes(axes, title, ylabel):
  axes.set_title(title)
  axes.set_xlabel("step")
  axes.set_ylabel(ylabel)
  axes.grid(alpha=0.3)
  if axes.get_legend_handles_labels()[0]:
    axes.legend(fontsize="small")


def pretraining_figure(train_scalars, eval_scalars):
  """Draws the losses, accuracies and learning rate of a pre-training run.

  Args:
    train_scalars: `read_scalars` of the training events: `loss`,
      `masked_lm_loss`, `next_sentence_loss`, `learning_rate`.
    eval_scalars: those of the evaluation events (`--do_eval`), e.g. merged
      from an evaluation before training and one after:
      `masked_lm_loss`, `next_sentence_loss`, `masked_lm_accuracy`,
      `next_sentence_accuracy`.

  Returns:
    A matplotlib `Figure` of three panels.
  """
  figure = Figure(figsize=(13, 3.8))
  losses, accuracies, rates = figure.subplots(1, 3)
  for index, (tag, name) in enumerate([("loss", "total"),
                                       ("masked_lm_loss", "masked LM"),
                                       ("next_sentence_loss",
                                        "next sentence")]):
    colour = _COLOURS[index]
    _plot_curve(losses, train_scalars.get(tag), "train " + name, colour)
    if tag != "loss":
      _plot_curve(losses, eval_scalars.get(tag), "eval " + name, colour,
                  dashed=True)
  _finish_axes(losses, "Pre-training loss", "loss")
  for index, (tag, name) in enumerate([("masked_lm_accuracy", "masked LM"),
                                       ("next_sentence_accuracy",
                                        "next sentence")], 1):
    _plot_curve(accuracies, eval_scalars.get(tag), "eval " + name,
                _COLOURS[index], dashed=True)
  accuracies.set_ylim(0.0, 1.0)
  _finish_axes(accuracies, "Pre-training accuracy", "accuracy")
  _plot_curve(rates, train_scalars.get("learning_rate"), None, _COLOURS[0])
  _finish_axes(rates, "Learning rate", "learning rate")
  figure.tight_layout()
  return figure


def fine_tuning_figure(runs):
  """Draws the training loss of fine-tuning runs, one panel each.

  Args:
    runs: a list of (title, train_scalars, eval_scalars) with the
      `read_scalars` of a run's training and evaluation events (the latter
      may be empty: run_squad.py does not evaluate through TensorFlow).

  Returns:
    A matplotlib `Figure`.
  """
  figure = Figure(figsize=(4.5 * len(runs), 3.8))
  panels = np.atleast_1d(figure.subplots(1, len(runs)))
  for axes, (title, train_scalars, eval_scalars) in zip(panels, runs):
    _plot_curve(axes, train_scalars.get("loss"), "train", _COLOURS[0])
    _plot_curve(axes, eval_scalars.get("eval_loss"), "eval", _COLOURS[1],
                dashed=True)
    _finish_axes(axes, title, "loss")
  figure.tight_layout()
  return figure


def read_classifier_tsv(path):
  """Reads the sentences and labels of an SST-2 style `dev.tsv`.

  Returns:
    (sentences, labels): two lists of strings, in file order.
  """
  with open(path, encoding="utf-8") as reader:
    rows = list(csv.reader(reader, delimiter="\t", quotechar=None))
  header = rows[0]
  sentence_column = header.index("sentence")
  label_column = header.index("label")
  return ([row[sentence_column] for row in rows[1:]],
          [row[label_column] for row in rows[1:]])


def read_predicted_classes(path, label_list):
  """Reads `test_results.tsv` (one line of class probabilities per example).

  Returns:
    The most probable label of each line, from `label_list`.
  """
  with open(path) as reader:
    probabilities = [[float(value) for value in line.split("\t")]
                     for line in reader if line.strip()]
  return [label_list[int(np.argmax(row))] for row in probabilities]


def confusion_matrix(gold, predicted, label_list):
  """Counts the examples of each (gold, predicted) pair of labels.

  Returns:
    An int array [len(label_list), len(label_list)]: rows are gold labels,
    columns predicted ones.
  """
  index = {label: i for i, label in enumerate(label_list)}
  matrix = np.zeros([len(label_list), len(label_list)], dtype=np.int64)
  for gold_label, predicted_label in zip(gold, predicted):
    matrix[index[gold_label], index[predicted_label]] += 1
  return matrix


def confusion_matrix_figure(matrix, label_names, title):
  """Draws a confusion matrix (rows gold, columns predicted) with counts."""
  figure = Figure(figsize=(4.2, 3.8))
  axes = figure.subplots()
  image = axes.imshow(matrix, cmap="Blues")
  figure.colorbar(image, ax=axes)
  ticks = np.arange(len(label_names))
  axes.set_xticks(ticks)
  axes.set_xticklabels(label_names)
  axes.set_yticks(ticks)
  axes.set_yticklabels(label_names)
  axes.set_xlabel("predicted")
  axes.set_ylabel("gold")
  # Dark cells get white digits.
  threshold = matrix.max() / 2.0
  for (row, column), count in np.ndenumerate(matrix):
    axes.text(column, row, str(count), ha="center", va="center",
              color="white" if count > threshold else "black")
  axes.set_title(title)
  figure.tight_layout()
  return figure


def squad_examples(predict_file, predictions_file, limit=None):
  """Lists the questions of a SQuAD file with predicted and gold answers.

  Args:
    predict_file: the SQuAD JSON the predictions were made for.
    predictions_file: run_squad.py's `predictions.json` (id to answer).
    limit: how many questions to list (None: all), in file order.

  Returns:
    A list of (question, predicted answer, gold answers) tuples, the gold
    answers being a list of strings.
  """
  with open(predict_file, encoding="utf-8") as reader:
    dataset = json.load(reader)["data"]
  with open(predictions_file, encoding="utf-8") as reader:
    predictions = json.load(reader)
  rows = []
  for article in dataset:
    for paragraph in article["paragraphs"]:
      for qa in paragraph["qas"]:
        gold = [answer["text"] for answer in qa["answers"]]
        rows.append((qa["question"], predictions.get(qa["id"], ""), gold))
  return rows[:limit] if limit is not None else rows


def html_table(header, rows):
  """Formats rows of strings as an HTML table (text escaped)."""
  def cells(tag, values):
    return "".join("<%s>%s</%s>" % (tag, html.escape(value), tag)
                   for value in values)
  lines = ["<table>", "<tr>%s</tr>" % cells("th", header)]
  lines += ["<tr>%s</tr>" % cells("td", row) for row in rows]
  lines.append("</table>")
  return "\n".join(lines)


def read_sentence_embeddings(path, layer_index=-1, pooling="mean"):
  """Reads one vector per line of `extract_features.py`'s JSON lines.

  Args:
    path: the JSON-lines output of extract_features.py.
    layer_index: which of its `--layers` to read (e.g. -1, the last).
    pooling: "cls" for the [CLS] token's vector, "mean" for the mean over
      the line's tokens.

  Returns:
    A float32 array [num_lines, hidden_size], in line order.
  """
  vectors = []
  with open(path, encoding="utf-8") as reader:
    for line in reader:
      tokens = json.loads(line)["features"]
      values = np.array([
          [layer["values"] for layer in token["layers"]
           if layer["index"] == layer_index][0]
          for token in tokens], dtype=np.float32)
      vectors.append(values[0] if pooling == "cls" else values.mean(axis=0))
  return np.stack(vectors)


def pca_2d(vectors):
  """Projects vectors on their first two principal components.

  Args:
    vectors: float array [num_vectors, dimension].

  Returns:
    (projection, explained): a float array [num_vectors, 2] and the share
    of the variance each of the two components explains.
  """
  centered = vectors - vectors.mean(axis=0, keepdims=True)
  _, singular_values, components = np.linalg.svd(centered,
                                                  full_matrices=False)
  variances = singular_values**2
  explained = variances[:2] / max(variances.sum(), 1e-12)
  return centered.dot(components[:2].T), explained


def projection_figure(projection, labels, label_names, explained, title):
  """Draws a 2-D projection as points coloured by label.

  Args:
    projection: float array [num_points, 2].
    labels: the label of each point.
    label_names: dict from label to the name in the legend.
    explained: share of the variance of each axis (from `pca_2d`).
    title: the figure's title.

  Returns:
    A matplotlib `Figure`.
  """
  figure = Figure(figsize=(4.8, 4.2))
  axes = figure.subplots()
  labels = np.array(labels)
  for index, label in enumerate(sorted(label_names)):
    points = projection[labels == label]
    axes.scatter(points[:, 0], points[:, 1], s=14, alpha=0.8,
                 color=_COLOURS[index % len(_COLOURS)],
                 label=label_names[label])
  axes.set_xlabel("PC 1 (%.0f%% of the variance)" % (100 * explained[0]))
  axes.set_ylabel("PC 2 (%.0f%% of the variance)" % (100 * explained[1]))
  axes.set_title(title)
  axes.legend(fontsize="small")
  figure.tight_layout()
  return figure


def save_figure(figure, path, dpi=90):
  """Writes `figure` as a PNG file, completely or not at all."""
  with script_io.atomic_path(path) as temp_path:
    figure.savefig(temp_path, format="png", dpi=dpi)
  return path
