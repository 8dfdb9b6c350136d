"""Tests of run_squad.py: golden fixtures of the original, real data, runs."""

import json
import logging
import os
import subprocess
import sys

from absl import flags
from absl.testing import flagsaver
import pytest
import tensorflow.compat.v1 as tf

import estimator_utils
import modeling
import run_squad
import tokenization

FLAGS = flags.FLAGS
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The flags the golden README gives (verbose_logging stays False).
GOLDEN_FLAG_VALUES = [
    "--do_lower_case=True", "--max_seq_length=64", "--doc_stride=16",
    "--max_query_length=12", "--n_best_size=5", "--max_answer_length=10",
    "--version_2_with_negative=True", "--null_score_diff_threshold=0.0",
    "--verbose_logging=False"
]


@pytest.fixture
def parse_flags():
  """Parses flags into FLAGS, as the original's callers do; restores them."""
  with flagsaver.flagsaver():

    def parse(*args):
      FLAGS(["run_squad"] + list(args))

    yield parse


@pytest.fixture
def golden_squad(golden, parse_flags):
  """Paths of the SQuAD fixtures, with the golden flags parsed."""
  vocab_file = os.path.join(golden, "tokenization", "vocab.txt")
  parse_flags("--vocab_file=" + vocab_file, *GOLDEN_FLAG_VALUES)
  return {
      "dir": os.path.join(golden, "squad"),
      "input": os.path.join(golden, "squad", "squad_v2_tiny.json"),
      "tokenizer": tokenization.FullTokenizer(vocab_file, do_lower_case=True),
  }


class _LogRecords(logging.Handler):
  """Collects the messages TensorFlow logs."""

  def __init__(self):
    super(_LogRecords, self).__init__(logging.DEBUG)
    self.messages = []

  def emit(self, record):
    self.messages.append(record.getMessage())


@pytest.fixture
def tf_log():
  handler = _LogRecords()
  logger = tf.get_logger()
  logger.addHandler(handler)
  yield handler
  logger.removeHandler(handler)


def _read_jsonl(path):
  with open(path, encoding="utf-8") as f:
    return [json.loads(line) for line in f]


def _example_dict(example):
  return {
      "qas_id": example.qas_id,
      "question_text": example.question_text,
      "doc_tokens": example.doc_tokens,
      "orig_answer_text": example.orig_answer_text,
      "start_position": example.start_position,
      "end_position": example.end_position,
      "is_impossible": example.is_impossible,
  }


def _feature_dict(feature):
  # JSON object keys are strings; keep the insertion order of the maps.
  return {
      "unique_id": feature.unique_id,
      "example_index": feature.example_index,
      "doc_span_index": feature.doc_span_index,
      "tokens": feature.tokens,
      "token_to_orig_map": [
          [str(k), v] for k, v in feature.token_to_orig_map.items()],
      "token_is_max_context": [
          [str(k), v] for k, v in feature.token_is_max_context.items()],
      "input_ids": feature.input_ids,
      "input_mask": feature.input_mask,
      "segment_ids": feature.segment_ids,
      "start_position": feature.start_position,
      "end_position": feature.end_position,
      "is_impossible": feature.is_impossible,
  }


def _golden_feature_dict(row):
  row = dict(row)
  for key in ("token_to_orig_map", "token_is_max_context"):
    row[key] = [[k, v] for k, v in row[key].items()]
  return row


def _convert(examples, tokenizer, is_training, output_fn, max_seq_length=64,
             doc_stride=16, max_query_length=12):
  run_squad.convert_examples_to_features(
      examples, tokenizer, max_seq_length, doc_stride, max_query_length,
      is_training, output_fn)


@pytest.mark.parametrize("is_training,name", [(True, "train"),
                                              (False, "eval")])
def test_golden_examples(golden_squad, is_training, name):
  examples = run_squad.read_squad_examples(golden_squad["input"], is_training)
  expected = _read_jsonl(
      os.path.join(golden_squad["dir"], "examples_%s.jsonl" % name))
  assert [_example_dict(e) for e in examples] == expected


@pytest.mark.parametrize("is_training,name", [(True, "train"),
                                              (False, "eval")])
def test_golden_features_and_tf_record(golden_squad, tmp_path, is_training,
                                       name):
  examples = run_squad.read_squad_examples(golden_squad["input"], is_training)
  path = str(tmp_path / ("%s.tf_record" % name))
  writer = run_squad.FeatureWriter(path, is_training)
  features = []

  def output_fn(feature):
    features.append(feature)
    writer.process_feature(feature)

  _convert(examples, golden_squad["tokenizer"], is_training, output_fn)
  writer.close()
  expected = _read_jsonl(
      os.path.join(golden_squad["dir"], "features_%s.jsonl" % name))
  assert len(features) == len(expected) == writer.num_features
  for feature, row in zip(features, expected):
    assert _feature_dict(feature) == _golden_feature_dict(row)
  with open(path, "rb") as f:
    written = f.read()
  with open(os.path.join(golden_squad["dir"], "%s.tf_record" % name),
            "rb") as f:
    assert written == f.read()
  assert not [p for p in os.listdir(str(tmp_path)) if ".tmp-" in p]


def _golden_eval_inputs(golden_squad):
  examples = run_squad.read_squad_examples(golden_squad["input"], False)
  features = []
  _convert(examples, golden_squad["tokenizer"], False, features.append)
  results = [
      run_squad.RawResult(row["unique_id"], row["start_logits"],
                          row["end_logits"])
      for row in _read_jsonl(
          os.path.join(golden_squad["dir"], "raw_results.jsonl"))
  ]
  return examples, features, results


def _write_predictions(examples, features, results, out_dir, n_best_size=5):
  paths = [os.path.join(str(out_dir), name) for name in
           ("predictions.json", "nbest_predictions.json", "null_odds.json")]
  run_squad.write_predictions(examples, features, results, n_best_size, 10,
                              True, *paths)
  return paths


def _read_bytes(path):
  with open(path, "rb") as f:
    return f.read()


def test_golden_predictions_byte_for_byte(golden_squad, tmp_path):
  examples, features, results = _golden_eval_inputs(golden_squad)
  paths = _write_predictions(examples, features, results, tmp_path)
  for path in paths:
    expected = os.path.join(golden_squad["dir"], os.path.basename(path))
    assert _read_bytes(path) == _read_bytes(expected), path


def test_golden_predictions_from_compact_features(golden_squad, tmp_path):
  # main keeps only _PredictionFeature objects: same files.
  examples, features, results = _golden_eval_inputs(golden_squad)
  compact = [run_squad._PredictionFeature(f) for f in features]
  for feature, slim in zip(features, compact):
    assert dict(slim.token_to_orig_map) == feature.token_to_orig_map
    assert dict(slim.token_is_max_context) == feature.token_is_max_context
  paths = _write_predictions(examples, compact, results, tmp_path)
  for path in paths:
    expected = os.path.join(golden_squad["dir"], os.path.basename(path))
    assert _read_bytes(path) == _read_bytes(expected), path
