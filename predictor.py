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
"""Answers text inputs with a fine-tuned model loaded once.

`--do_predict` builds the graph and restores the checkpoint on every call;
a predictor does it once, then answers call after call:

  classifier = predictor.ClassifierPredictor(
      "bert_config.json", "vocab.txt", ["0", "1"],
      checkpoint="mrpc_output/model.ckpt-343", max_seq_length=128)
  classifier.predict("The cat sat.", "A cat was sitting.")  # [p0, p1]

  squad = predictor.SquadPredictor(
      "bert_config.json", "vocab.txt", saved_model_dir="squad_export")
  squad.predict("Who sat?", "The cat sat on the mat.")  # "The cat"

Both take a checkpoint or a SavedModel (`--export_dir`). The features are
the scripts' own (`run_classifier.convert_single_example`,
`run_squad.convert_examples_to_features` with its windows) and so is the
SQuAD answer extraction (`run_squad.prediction_texts`), so a predictor
gives what `--do_predict` writes for the same inputs.
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import array
import json

from absl import flags
import numpy as np
import tensorflow.compat.v1 as tf

import export
import modeling
import run_classifier
import run_squad
import runner
import tokenization

# `convert_single_example` logs the examples numbered below this.
_UNLOGGED_EXAMPLE_INDEX = 5


class _Model(object):
  """A serving graph and a session holding its weights, made once.

  From a checkpoint the graph is built by `outputs_fn`; from a SavedModel
  it is the exported graph, run through its `serving_default` signature.
  """

  def __init__(self, outputs_fn, max_seq_length, checkpoint=None,
               saved_model_dir=None):
    if (checkpoint is None) == (saved_model_dir is None):
      raise ValueError("give a checkpoint or a saved_model_dir (one)")
    self._graph = tf.Graph()
    self._session = tf.Session(graph=self._graph)
    with self._graph.as_default():
      if saved_model_dir is not None:
        (self._inputs, self._outputs) = self._load(saved_model_dir)
      else:
        self._inputs = export.serving_inputs(max_seq_length)
        self._outputs = outputs_fn(
            *[self._inputs[name] for name in export.INPUT_NAMES])
        tf.train.Saver().restore(self._session,
                                 runner.resolve_checkpoint(checkpoint,
                                                           "checkpoint"))
    self._graph.finalize()

  def _load(self, saved_model_dir):
    meta_graph = tf.saved_model.loader.load(
        self._session, [tf.saved_model.tag_constants.SERVING],
        saved_model_dir)
    signature = meta_graph.signature_def[
        tf.saved_model.signature_constants.DEFAULT_SERVING_SIGNATURE_DEF_KEY]

    def tensors(infos):
      return {name: self._graph.get_tensor_by_name(info.name)
              for (name, info) in infos.items()}

    return tensors(signature.inputs), tensors(signature.outputs)

  def run(self, input_ids, input_mask, segment_ids):
    """Returns the outputs (dict of numpy arrays) of int [batch, seq] inputs."""
    feed = {self._inputs["input_ids"]: input_ids,
            self._inputs["input_mask"]: input_mask,
            self._inputs["segment_ids"]: segment_ids}
    return self._session.run(self._outputs, feed)

  def close(self):
    self._session.close()


def _bert_config(bert_config):
  if isinstance(bert_config, modeling.BertConfig):
    return bert_config
  return runner.read_bert_config(bert_config)


def _batches(items, batch_size):
  for start in range(0, len(items), batch_size):
    yield items[start:start + batch_size]


class ClassifierPredictor(object):
  """Classifies sentences and sentence pairs as run_classifier.py does."""

  def __init__(self, bert_config, vocab_file, labels, checkpoint=None,
               saved_model_dir=None, max_seq_length=128, do_lower_case=True,
               is_regression=False, batch_size=32):
    """Builds the model once.

    Args:
      bert_config: a `modeling.BertConfig`, or the path of bert_config.json
        (what the graph is built from; unused with `saved_model_dir`).
      vocab_file: the model's vocab.txt.
      labels: the task's labels, in the order of its outputs (the
        processor's `get_labels()`; `[None]` for regression).
      checkpoint: a fine-tuned checkpoint (prefix, or a directory: its
        latest), or None with `saved_model_dir`.
      saved_model_dir: a SavedModel of `--export_dir`, or None.
      max_seq_length: as the model was fine-tuned (and exported) with.
      do_lower_case: as the model was fine-tuned with.
      is_regression: a regression task (STS-B): one score per input.
      batch_size: inputs run at a time by `predict_batch`.
    """
    self._labels = list(labels)
    self._max_seq_length = max_seq_length
    self._is_regression = is_regression
    self._batch_size = batch_size
    self._output_name = "scores" if is_regression else "probabilities"
    self._tokenizer = tokenization.FullTokenizer(vocab_file, do_lower_case)
    outputs_fn = None
    if checkpoint is not None:
      model_fn = run_classifier.model_fn_builder(
          bert_config=_bert_config(bert_config), num_labels=len(labels),
          init_checkpoint=None, learning_rate=0.0, num_train_steps=None,
          num_warmup_steps=None, use_tpu=False, use_one_hot_embeddings=False,
          is_regression=is_regression)
      outputs_fn = run_classifier.serving_outputs_fn(
          model_fn, len(labels), is_regression)
    self._model = _Model(outputs_fn, max_seq_length, checkpoint,
                         saved_model_dir)

  def predict(self, text_a, text_b=None):
    """Returns the class probabilities [num_labels] (regression: the score).

    A row of test_results.tsv for the same input.
    """
    return self.predict_batch([(text_a, text_b)])[0]

  def predict_batch(self, inputs, batch_size=None):
    """`predict` of each input: a sentence, or a pair (text_a, text_b).

    The inputs run `batch_size` at a time (None: the predictor's).
    """
    pairs = [(item, None) if isinstance(item, str) else tuple(item)
             for item in inputs]
    results = []
    for batch in _batches(pairs, batch_size or self._batch_size):
      features = [self._features(text_a, text_b)
                  for (text_a, text_b) in batch]
      outputs = self._model.run(*[
          np.array([getattr(f, name) for f in features], np.int32)
          for name in ("input_ids", "input_mask", "segment_ids")])
      results.extend(outputs[self._output_name])
    return results

  def _features(self, text_a, text_b):
    # The label only feeds the loss: any valid one does.
    example = run_classifier.InputExample(
        guid="predict", text_a=text_a, text_b=text_b,
        label="0" if self._is_regression else self._labels[0])
    return run_classifier.convert_single_example(
        _UNLOGGED_EXAMPLE_INDEX, example, self._labels, self._max_seq_length,
        self._tokenizer, self._is_regression)

  def close(self):
    self._model.close()


class SquadPredictor(object):
  """Answers questions on a context as run_squad.py does."""

  def __init__(self, bert_config, vocab_file, checkpoint=None,
               saved_model_dir=None, max_seq_length=384, doc_stride=128,
               max_query_length=64, n_best_size=20, max_answer_length=30,
               do_lower_case=True, version_2_with_negative=False,
               null_score_diff_threshold=0.0, batch_size=32):
    """Builds the model once.

    Args:
      bert_config: a `modeling.BertConfig`, or the path of bert_config.json
        (what the graph is built from; unused with `saved_model_dir`).
      vocab_file: the model's vocab.txt.
      checkpoint: a fine-tuned checkpoint (prefix, or a directory: its
        latest), or None with `saved_model_dir`.
      saved_model_dir: a SavedModel of `--export_dir`, or None.
      max_seq_length, doc_stride, max_query_length, n_best_size,
        max_answer_length, do_lower_case, version_2_with_negative,
        null_score_diff_threshold: run_squad.py's flags of those names.
      batch_size: windows run at a time.
    """
    # `get_final_text` reads --verbose_logging: without a command line,
    # flags read their defaults.
    if not flags.FLAGS.is_parsed():
      flags.FLAGS.mark_as_parsed()
    self._settings = dict(
        max_seq_length=max_seq_length, doc_stride=doc_stride,
        max_query_length=max_query_length)
    self._answer_settings = dict(
        n_best_size=n_best_size, max_answer_length=max_answer_length,
        do_lower_case=do_lower_case, version_2=version_2_with_negative,
        null_score_diff_threshold=null_score_diff_threshold)
    self._batch_size = batch_size
    self._tokenizer = tokenization.FullTokenizer(vocab_file, do_lower_case)
    outputs_fn = None
    if checkpoint is not None:
      outputs_fn = run_squad.serving_outputs_fn(_bert_config(bert_config))
    self._model = _Model(outputs_fn, max_seq_length, checkpoint,
                         saved_model_dir)

  def predict(self, question, context):
    """Returns the answer text ("" for no answer, SQuAD 2.0)."""
    return self.predict_batch([(question, context)])[0]

  def predict_batch(self, questions):
    """`predict` of each (question, context) pair, in order."""
    paragraphs = [{"context": context,
                   "qas": [{"id": str(i), "question": question}]}
                  for (i, (question, context)) in enumerate(questions)]
    examples = run_squad.squad_examples(
        {"data": [{"paragraphs": paragraphs}]}, False, "the questions")
    features = []
    run_squad.convert_examples_to_features(
        examples, self._tokenizer, is_training=False,
        output_fn=features.append, **self._settings)
    results = []
    for batch in _batches(features, self._batch_size):
      outputs = self._model.run(*[
          np.array([getattr(f, name) for f in batch], np.int32)
          for name in ("input_ids", "input_mask", "segment_ids")])
      for (i, feature) in enumerate(batch):
        results.append(run_squad.RawResult(
            unique_id=feature.unique_id,
            start_logits=array.array("d", outputs["start_logits"][i].flat),
            end_logits=array.array("d", outputs["end_logits"][i].flat)))
    (predictions_text, _, _) = run_squad.prediction_texts(
        examples, features, results, **self._answer_settings)
    answers = json.loads(predictions_text)
    return [answers[str(i)] for i in range(len(questions))]

  def close(self):
    self._model.close()
