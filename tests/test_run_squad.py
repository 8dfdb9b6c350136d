"""Tests of run_squad.py: golden fixtures of the original, real data, runs."""

import json
import logging
import os

import pytest
import tensorflow.compat.v1 as tf

import evaluate_squad
import helpers
import modeling
import run_squad
import script_io
import task_data
import tokenization

# The flags the golden README gives (verbose_logging stays False).
GOLDEN_FLAG_VALUES = {
    "do_lower_case": True, "max_seq_length": 64, "doc_stride": 16,
    "max_query_length": 12, "n_best_size": 5, "max_answer_length": 10,
    "version_2_with_negative": True, "null_score_diff_threshold": 0.0,
    "verbose_logging": False,
}


@pytest.fixture
def set_flags():
  """Sets flags, as the original's callers do; restores them after."""
  with helpers.command_line():

    def set_values(**values):
      for (name, value) in values.items():
        setattr(run_squad.FLAGS, name, value)

    yield set_values


@pytest.fixture
def golden_squad(golden, set_flags):
  """Paths of the SQuAD fixtures, with the golden flags set."""
  vocab_file = os.path.join(golden, "tokenization", "vocab.txt")
  set_flags(vocab_file=vocab_file, **GOLDEN_FLAG_VALUES)
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
  """Collects what TensorFlow logs at INFO level and above."""
  handler = _LogRecords()
  logger = tf.get_logger()
  level = logger.level
  logger.setLevel(logging.INFO)
  logger.addHandler(handler)
  yield handler
  logger.removeHandler(handler)
  logger.setLevel(level)


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


def test_n_best_size_one_with_null_winning_does_not_crash(golden_squad,
                                                          tmp_path):
  # The original fails here (no non-null entry in a one-entry n-best list).
  examples, features, results = _golden_eval_inputs(golden_squad)
  paths = _write_predictions(examples, features, results, tmp_path,
                             n_best_size=1)
  predictions, nbest, null_odds = [
      json.loads(_read_bytes(p).decode("utf-8")) for p in paths]
  ids = [e.qas_id for e in examples]
  assert list(predictions) == list(nbest) == list(null_odds) == ids
  # sd-03 has +10 on [CLS] in every window: the null answer wins.
  assert predictions["sd-03"] == ""
  assert nbest["sd-03"][0]["text"] == ""
  assert null_odds["sd-03"] > 0
  for qas_id in ids:
    assert 1 <= len(nbest[qas_id]) <= 2
    assert isinstance(null_odds[qas_id], float)
  # A boosted answer still wins where the null answer does not.
  assert predictions["sd-01"] == "flour and water"


def test_version_1_predictions_ignore_null(golden_squad, set_flags,
                                           tmp_path):
  set_flags(version_2_with_negative=False)
  examples, features, results = _golden_eval_inputs(golden_squad)
  paths = _write_predictions(examples, features, results, tmp_path)
  predictions = json.loads(_read_bytes(paths[0]).decode("utf-8"))
  nbest = json.loads(_read_bytes(paths[1]).decode("utf-8"))
  assert not os.path.exists(paths[2])
  assert all(text for text in predictions.values())
  assert predictions["sd-01"] == "flour and water"
  for entries in nbest.values():
    assert 1 <= len(entries) <= 5
    assert all(entry["text"] for entry in entries)
    assert abs(sum(entry["probability"] for entry in entries) - 1) < 1e-9


def test_example_without_windows_gets_a_prediction(golden_squad, tmp_path):
  # An empty context gives no window; the original's null answer then has
  # logits 0 and a null score of 1000000.
  example = run_squad.SquadExample("q", "what?", [])
  features = []
  _convert([example], golden_squad["tokenizer"], False, features.append)
  assert not features
  paths = _write_predictions([example], [], [], tmp_path)
  predictions, nbest, null_odds = [
      json.loads(_read_bytes(p).decode("utf-8")) for p in paths]
  assert predictions == {"q": ""}
  assert nbest["q"] == [{"text": "", "probability": 1.0, "start_logit": 0,
                         "end_logit": 0}]
  assert null_odds == {"q": 1000000.0}


def test_get_best_indexes_keeps_order_of_ties():
  assert run_squad._get_best_indexes([1.0, 3.0, 3.0, 2.0, 3.0], 3) == [1, 2, 4]
  assert run_squad._get_best_indexes([0.5], 4) == [0]


def test_compute_softmax():
  assert run_squad._compute_softmax([]) == []
  probs = run_squad._compute_softmax([1000.0, 1000.0, 999.0])
  assert probs[0] == probs[1]
  assert abs(sum(probs) - 1.0) < 1e-12
  assert probs[2] < probs[0]


def test_get_final_text(set_flags):
  set_flags(verbose_logging=False)
  assert run_squad.get_final_text("steve smith", "Steve Smith's",
                                  True) == "Steve Smith"
  assert run_squad.get_final_text("Café", "Café,", False) == "Café"
  # Lower-casing strips accents; the original characters come back.
  assert run_squad.get_final_text("cafe", "Café,", True) == "Café"
  # Alignment fails with U+00A0 inside a word: the whole span comes back.
  orig = u"San\u00a0Francisco, where"
  assert run_squad.get_final_text("francisco", orig, True) == orig
  assert run_squad.get_final_text("absent", "Some text", True) == "Some text"


def test_get_final_text_logs_failed_alignments_when_verbose(set_flags,
                                                            tf_log):
  set_flags(verbose_logging=False)
  run_squad.get_final_text("absent", "First text", True)
  run_squad.get_final_text("absent", "Second text", True,
                           verbose_logging=True)
  set_flags(verbose_logging=True)
  run_squad.get_final_text("absent", "Third text", True)
  run_squad.get_final_text("absent", "Fourth text", True,
                           verbose_logging=False)
  assert [m for m in tf_log.messages if m.startswith("Unable to find")] == [
      "Unable to find text: 'absent' in 'Second text'",
      "Unable to find text: 'absent' in 'Third text'"]


def test_check_is_max_context():
  spans = [run_squad._DocSpan(start=0, length=5),
           run_squad._DocSpan(start=3, length=5),
           run_squad._DocSpan(start=6, length=5)]
  # Token 4: 1 left/0 right in span 0, 1 left/3 right in span 1.
  assert not run_squad._check_is_max_context(spans, 0, 4)
  assert run_squad._check_is_max_context(spans, 1, 4)
  # Token 6 scores min(3, 1) + 0.05 in span 1, min(0, 4) + 0.05 in span 2.
  assert run_squad._check_is_max_context(spans, 1, 6)
  assert run_squad._check_is_max_context(spans, 0, 0)


def test_squad_example_repr_hides_positions_at_zero():
  shown = run_squad.SquadExample("a", "q?", ["x", "y"], "x", 1, 1, False)
  assert "start_position: 1" in repr(shown)
  assert "end_position: 1" in repr(shown)
  hidden = run_squad.SquadExample("b", "q?", ["x", "y"], "x", 0, 0, False)
  assert repr(hidden) == "qas_id: b, question_text: q?, doc_tokens: [x y]"
  assert str(hidden) == repr(hidden)


def test_create_model_variables_and_shapes(golden):
  config = modeling.BertConfig.from_json_file(
      os.path.join(golden, "modeling", "bert_config.json"))
  with tf.Graph().as_default():
    input_ids = tf.ones([3, 16], tf.int32)
    start_logits, end_logits = run_squad.create_model(
        config, False, input_ids, tf.ones([3, 16], tf.int32),
        tf.zeros([3, 16], tf.int32), False)
    assert start_logits.shape.as_list() == [3, 16]
    assert end_logits.shape.as_list() == [3, 16]
    shapes = {v.op.name: v.shape.as_list() for v in tf.global_variables()}
  assert shapes["cls/squad/output_weights"] == [2, 32]
  assert shapes["cls/squad/output_bias"] == [2]
  assert "bert/encoder/layer_1/output/LayerNorm/gamma" in shapes


def test_input_fn_reads_golden_train_record(golden):
  path = os.path.join(golden, "squad", "train.tf_record")
  expected = _read_jsonl(os.path.join(golden, "squad", "features_train.jsonl"))
  with tf.Graph().as_default():
    dataset = run_squad.input_fn_builder(path, 64, False, False)(
        {"batch_size": 50})
    batch = tf.data.make_one_shot_iterator(dataset).get_next()
    assert batch["input_ids"].dtype == tf.int32
    assert "start_positions" not in batch
    with tf.Session() as sess:
      values = sess.run(batch)
  assert values["unique_ids"].tolist() == [r["unique_id"] for r in expected]
  assert values["input_ids"].tolist() == [r["input_ids"] for r in expected]
  with tf.Graph().as_default():
    dataset = run_squad.input_fn_builder(path, 64, True, True)(
        {"batch_size": 4})
    batch = tf.data.make_one_shot_iterator(dataset).get_next()
    assert batch["start_positions"].shape.as_list() == [4]





def test_predict_file_that_is_not_json(tmp_path):
  path = tmp_path / "bad.json"
  path.write_text(u"this is { not json")
  with pytest.raises(script_io.InputError,
                     match="^--predict_file=.*bad.json: not valid JSON: "):
    run_squad.read_squad_examples(str(path), False, "predict_file")
  missing = str(tmp_path / "missing.json")
  with pytest.raises(script_io.InputError,
                     match="^--train_file=.*missing.json: no such file$"):
    run_squad.read_squad_examples(missing, True, "train_file")
  path.write_bytes(b'{"data": ["caf\xe9"]}')
  with pytest.raises(script_io.InputError,
                     match="bad.json: not UTF-8 text \\(byte 14\\)$"):
    run_squad.read_squad_examples(str(path), False)


def test_predict_file_that_is_not_squad_json(tmp_path):
  path = task_data.write_json(tmp_path / "list.json", [1, 2])
  with pytest.raises(script_io.InputError,
                     match="list.json: the file is \\[1, 2\\], expected an "
                     "object$"):
    run_squad.read_squad_examples(path, False)
  path = task_data.write_json(tmp_path / "nopar.json",
                              {"data": [{"title": "x"}]})
  with pytest.raises(script_io.InputError,
                     match="nopar.json: article 0 has no \"paragraphs\"$"):
    run_squad.read_squad_examples(path, False)


def test_question_without_id(tmp_path):
  path = task_data.squad_file(tmp_path / "noid.json", [
      {"id": "q1", "question": "who sat?", "answers": []},
      {"question": "what is red?", "answers": []}])
  with pytest.raises(
      script_io.InputError,
      match="noid.json: article 0, paragraph 0, question 1 has no \"id\"$"):
    run_squad.read_squad_examples(path, False)


def test_question_without_text_names_the_id(tmp_path):
  path = task_data.squad_file(tmp_path / "noq.json",
                              [{"id": "q7", "answers": []}])
  with pytest.raises(script_io.InputError,
                     match="noq.json: question \"q7\" has no \"question\"$"):
    run_squad.read_squad_examples(path, False)


@pytest.mark.parametrize("change,is_training,message", [
    (lambda d: d.update(data={"a": 1}), False,
     'the file has data {"a": 1}, expected a list'),
    (lambda d: d.pop("data"), False, 'the file has no "data"'),
    (lambda d: d["data"].append([]), False,
     "article 1 is [], expected an object"),
    (lambda d: d["data"][0].update(paragraphs={}), False,
     "article 0 has paragraphs {}, expected a list"),
    (lambda d: d["data"][0]["paragraphs"].append("x"), False,
     'article 0, paragraph 1 is "x", expected an object'),
    (lambda d: d["data"][0]["paragraphs"][0].update(context=7), False,
     "article 0, paragraph 0 has context 7, expected a string"),
    (lambda d: d["data"][0]["paragraphs"][0].pop("context"), False,
     'article 0, paragraph 0 has no "context"'),
    (lambda d: d["data"][0]["paragraphs"][0].pop("qas"), False,
     'article 0, paragraph 0 has no "qas"'),
    (lambda d: d["data"][0]["paragraphs"][0]["qas"].append(None), False,
     "article 0, paragraph 0, question 1 is null, expected an object"),
    (lambda d: _qa(d).update(id=3), False,
     "article 0, paragraph 0, question 0 has id 3, expected a string"),
    (lambda d: _qa(d).update(question=None), False,
     'question "q1" has question null, expected a string'),
    (lambda d: _qa(d).update(question=["who"]), False,
     'question "q1" has question ["who"], expected a string'),
    (lambda d: _qa(d).update(answers="the cat"), False,
     'question "q1" has answers "the cat", expected a list'),
    (lambda d: _qa(d).update(answers=["the cat"]), False,
     'question "q1" answer 0 is "the cat", expected an object'),
    (lambda d: _qa(d)["answers"][0].update(answer_start=0.0), False,
     'question "q1" answer 0 has answer_start 0.0, expected an integer'),
    (lambda d: _qa(d)["answers"][0].update(answer_start=None), True,
     'question "q1" answer 0 has answer_start null, expected an integer'),
    (lambda d: _qa(d)["answers"][0].pop("answer_start"), True,
     'question "q1" answer 0 has no "answer_start"'),
    (lambda d: _qa(d)["answers"][0].pop("text"), False,
     'question "q1" answer 0 has no "text"'),
    (lambda d: _qa(d).pop("answers"), True, 'question "q1" has no "answers"'),
    (lambda d: _qa(d).update(is_impossible="no"), False,
     'question "q1" has is_impossible "no", expected true or false'),
    (lambda d: _qa(d).update(question=["x" * 100]), False,
     'question "q1" has question ["' + "x" * 58 + '..., expected a string'),
])
def test_squad_json_of_wrong_layout(tmp_path, set_flags, change,
                                    is_training, message):
  set_flags(version_2_with_negative=False)
  with open(task_data.squad_file(tmp_path / "good.json", [
      {"id": "q1", "question": "who sat?",
       "answers": [{"text": "the cat", "answer_start": 0}]}])) as f:
    data = json.load(f)
  assert run_squad.squad_examples(data, is_training, "good.json")
  change(data)
  path = task_data.write_json(tmp_path / "bad.json", data)
  with pytest.raises(script_io.InputError) as raised:
    run_squad.read_squad_examples(path, is_training, "predict_file")
  assert str(raised.value) == "--predict_file=%s: %s" % (path, message)


def _qa(data):
  return data["data"][0]["paragraphs"][0]["qas"][0]


def test_squad_json_without_questions(tmp_path):
  for data in ({"data": []}, {"data": [{"paragraphs": []}]},
               {"data": [{"paragraphs": [{"context": "c", "qas": []}]}]}):
    path = task_data.write_json(tmp_path / "empty.json", data)
    with pytest.raises(script_io.InputError,
                       match="^--train_file=.*empty.json: the file has no "
                       "questions$"):
      run_squad.read_squad_examples(path, False, "train_file")


def test_version_2_training_needs_is_impossible(tmp_path, set_flags):
  path = task_data.squad_file(tmp_path / "v2.json", [
      {"id": "q1", "question": "who sat?",
       "answers": [{"text": "the cat", "answer_start": 0}]}])
  set_flags(version_2_with_negative=False)
  assert len(run_squad.read_squad_examples(path, True)) == 1
  set_flags(version_2_with_negative=True)
  assert len(run_squad.read_squad_examples(path, False)) == 1
  with pytest.raises(script_io.InputError,
                     match='question "q1" has no "is_impossible"$'):
    run_squad.read_squad_examples(path, True)
  # The argument, when given, is read instead of the flag.
  assert len(run_squad.read_squad_examples(path, True, version_2=False)) == 1
  set_flags(version_2_with_negative=False)
  with pytest.raises(script_io.InputError, match='no "is_impossible"$'):
    run_squad.read_squad_examples(path, True, version_2=True)


def test_answer_not_at_answer_start_is_skipped_with_warning(
    tmp_path, set_flags, tf_log):
  set_flags(version_2_with_negative=False)
  path = task_data.squad_file(tmp_path / "moved.json", [
      {"id": "good", "question": "who sat?",
       "answers": [{"text": "the cat", "answer_start": 0}]},
      {"id": "moved", "question": "what is red?",
       "answers": [{"text": "road", "answer_start": 3}]},
      {"id": "outside", "question": "what?",
       "answers": [{"text": "road", "answer_start": 400}]},
      {"id": "negative", "question": "what?",
       "answers": [{"text": "road", "answer_start": -4}]}])
  examples = run_squad.read_squad_examples(path, True)
  assert [e.qas_id for e in examples] == ["good"]
  assert (examples[0].start_position, examples[0].end_position) == (0, 1)
  warnings = [m for m in tf_log.messages if "Could not find answer" in m]
  assert len(warnings) == 3
  assert "moved" in warnings[0] and "outside" in warnings[1]
  assert "negative" in warnings[2]
  # Prediction reads no answers: every question is kept.
  assert len(run_squad.read_squad_examples(path, False)) == 4


def test_answer_start_that_is_not_a_number(tmp_path, set_flags):
  set_flags(version_2_with_negative=False)
  path = task_data.squad_file(tmp_path / "str.json", [
      {"id": "q5", "question": "who sat?",
       "answers": [{"text": "the cat", "answer_start": "0"}]}])
  with pytest.raises(script_io.InputError,
                     match='question "q5" answer 0 has answer_start "0", '
                     "expected an integer$"):
    run_squad.read_squad_examples(path, True)


def test_golden_unrecoverable_answer_warning_names_question(golden_squad,
                                                            tf_log):
  run_squad.read_squad_examples(golden_squad["input"], True)
  warnings = [m for m in tf_log.messages if "Could not find answer" in m]
  assert len(warnings) == 1 and "lh-06" in warnings[0]


def test_training_needs_exactly_one_answer(tmp_path, set_flags):
  set_flags(version_2_with_negative=False)
  path = task_data.squad_file(tmp_path / "two.json", [
      {"id": "q2", "question": "who sat?",
       "answers": [{"text": "the cat", "answer_start": 0},
                   {"text": "cat", "answer_start": 4}]}])
  with pytest.raises(script_io.InputError,
                     match='two.json: question "q2" has 2 answers, expected '
                     "exactly 1 for training$"):
    run_squad.read_squad_examples(path, True)


class _Config(object):
  max_position_embeddings = 512


def test_validate_flags_or_throw_messages(set_flags):
  set_flags(do_train=False, do_predict=False, init_checkpoint="")
  with pytest.raises(ValueError, match="At least one of `do_train` or "
                     "`do_predict` must be True."):
    run_squad.validate_flags_or_throw(_Config())
  set_flags(do_train=True, train_file="")
  with pytest.raises(ValueError, match="`train_file` must be specified"):
    run_squad.validate_flags_or_throw(_Config())
  set_flags(train_file="x.json", max_seq_length=1024)
  with pytest.raises(ValueError, match="Cannot use sequence length 1024 "
                     "because the BERT model was only trained up to "
                     "sequence length 512"):
    run_squad.validate_flags_or_throw(_Config())
  set_flags(max_seq_length=67, max_query_length=64)
  with pytest.raises(ValueError, match=r"The max_seq_length \(67\) must be "
                     r"greater than max_query_length \(64\) \+ 3"):
    run_squad.validate_flags_or_throw(_Config())
  set_flags(max_seq_length=68, doc_stride=0)
  with pytest.raises(ValueError, match=r"doc_stride \(0\) must be positive"):
    run_squad.validate_flags_or_throw(_Config())
  set_flags(doc_stride=128)
  run_squad.validate_flags_or_throw(_Config())


def test_window_too_small_for_question_names_it(golden_squad):
  examples = run_squad.read_squad_examples(golden_squad["input"], False)
  with pytest.raises(ValueError, match="question sd-01"):
    _convert(examples, golden_squad["tokenizer"], False, lambda f: None,
             max_seq_length=10, max_query_length=12)


def test_command_line_reports_bad_predict_file(tiny_bert, tmp_path):
  bad = tmp_path / "bad.json"
  bad.write_text(u"[1, 2, 3]")
  ((status, stderr),) = helpers.run_scripts("run_squad.py", [[
      "--vocab_file=" + tiny_bert["vocab_file"],
      "--bert_config_file=" + tiny_bert["config_file"],
      "--output_dir=" + str(tmp_path / "out"), "--do_predict=True",
      "--predict_file=" + str(bad), "--max_seq_length=64",
      "--max_query_length=12"]])
  assert helpers.one_line_error(status, stderr) == (
      "error: --predict_file=%s: the file is [1, 2, 3], expected an object" %
      bad)
  assert not os.path.exists(str(tmp_path / "out"))


@pytest.fixture(scope="module")
def dev_v1(shared_data):
  path = os.path.join(shared_data, "squad", "dev-v1.1.json")
  vocab_file = os.path.join(shared_data, "vocab", "uncased", "vocab.txt")
  if not (os.path.exists(path) and os.path.exists(vocab_file)):
    pytest.skip("SQuAD dev-v1.1.json or the uncased vocab is absent")
  return {"path": path,
          "tokenizer": tokenization.FullTokenizer(vocab_file, True)}


def test_real_dev_set_converts_for_prediction(dev_v1, set_flags):
  set_flags(version_2_with_negative=False)
  examples = run_squad.read_squad_examples(dev_v1["path"], False)
  assert len(examples) == 10570
  windows = []

  def check(feature):
    assert len(feature.input_ids) == 384
    assert sum(feature.input_mask) == len(feature.tokens) <= 384
    assert feature.tokens[0] == "[CLS]" and feature.tokens[-1] == "[SEP]"
    windows.append((feature.example_index, feature.doc_span_index))

  _convert(examples, dev_v1["tokenizer"], False, check, 384, 128, 64)
  assert len(windows) >= len(examples)
  assert sorted(set(e for e, _ in windows)) == list(range(len(examples)))


def test_real_dev_set_in_training_mode(dev_v1, set_flags, tmp_path):
  set_flags(version_2_with_negative=False)
  # Every dev question has several answers: training mode refuses them.
  with pytest.raises(script_io.InputError,
                     match="answers, expected exactly 1 for training"):
    run_squad.read_squad_examples(dev_v1["path"], True)
  # With its first answer only, each answer of the first 16 articles is
  # recovered and its window span maps back to the answer text.
  with open(dev_v1["path"], encoding="utf-8") as f:
    data = json.load(f)
  data["data"] = data["data"][:16]
  for article in data["data"]:
    for paragraph in article["paragraphs"]:
      for qa in paragraph["qas"]:
        qa["answers"] = qa["answers"][:1]
  path = task_data.write_json(tmp_path / "dev_first_answer.json", data)
  examples = run_squad.read_squad_examples(path, True)
  features = []
  _convert(examples, dev_v1["tokenizer"], True, features.append, 384, 128,
           64)
  exact = 0
  spans = 0
  for feature in features:
    if feature.start_position == 0:
      continue
    spans += 1
    example = examples[feature.example_index]
    answer = " ".join(example.orig_answer_text.split())
    pred = run_squad._PrelimPrediction(0, feature.start_position,
                                       feature.end_position, 0.0, 0.0)
    text = run_squad._prediction_text(example, [feature], pred,
                                      dict(do_lower_case=True))
    # Wordpieces cannot split some words as the annotators did ("1978." for
    # "7"): the span then covers the whole word holding the answer.
    assert answer.lower() in text.lower(), (example.qas_id, answer, text)
    exact += text == answer
  assert spans >= len(examples)
  assert exact >= 0.99 * spans


@pytest.mark.parametrize("num_tokens,window,stride", [
    (5, 10, 3), (30, 10, 3), (31, 7, 7), (40, 12, 5), (100, 20, 13)])
def test_max_context_flags_match_check_is_max_context(num_tokens, window,
                                                      stride):
  spans = run_squad._make_doc_spans(num_tokens, window, stride)
  flags_per_span = run_squad._max_context_flags(spans)
  for span_index, span in enumerate(spans):
    assert flags_per_span[span_index] == [
        run_squad._check_is_max_context(spans, span_index, position)
        for position in range(span.start, span.start + span.length)]




def _read_json(path):
  with open(path, encoding="utf-8") as f:
    return json.load(f)


def _check_prediction_files(out_dir, ids, n_best_size, version_2):
  predictions = _read_json(os.path.join(out_dir, "predictions.json"))
  nbest = _read_json(os.path.join(out_dir, "nbest_predictions.json"))
  assert list(predictions) == list(nbest) == ids
  for qas_id in ids:
    entries = nbest[qas_id]
    assert 1 <= len(entries) <= n_best_size + (1 if version_2 else 0)
    assert abs(sum(e["probability"] for e in entries) - 1) < 1e-6
    scores = [e["start_logit"] + e["end_logit"] for e in entries
              if e["text"] or not version_2]
    assert scores == sorted(scores, reverse=True)
    # "empty" is the original's stand-in when no span is valid.
    if predictions[qas_id] not in ("", "empty"):
      assert predictions[qas_id] in task_data.TINY_CONTEXT
  assert os.path.exists(os.path.join(out_dir, "eval.tf_record"))
  return predictions


def test_main_trains_and_predicts_squad_2(tiny_bert, tmp_path, tf_log,
                                          monkeypatch):
  monkeypatch.setattr(run_squad, "_PROGRESS_EVERY_SECONDS", 0.0)
  path = task_data.squad_file(tmp_path / "tiny-v2.json",
                              task_data.tiny_qas(True),
                              task_data.TINY_CONTEXT, version="v2.0")
  out_dir = helpers.run_tiny_squad(tiny_bert, tmp_path / "out", dict(
      do_train=True, do_predict=True, train_file=path, predict_file=path,
      train_batch_size=4, num_train_epochs=2, learning_rate=1e-3,
      version_2_with_negative=True))
  assert tf.train.latest_checkpoint(out_dir).endswith("model.ckpt-5")
  assert os.path.exists(os.path.join(out_dir, "train.tf_record"))
  ids = [qa["id"] for qa in task_data.tiny_qas(True)]
  predictions = _check_prediction_files(out_dir, ids, 4, True)
  null_odds = _read_json(os.path.join(out_dir, "null_odds.json"))
  assert list(null_odds) == ids
  nbest = _read_json(os.path.join(out_dir, "nbest_predictions.json"))
  for qas_id in ids:
    if null_odds[qas_id] > 0.0:
      assert predictions[qas_id] == ""
    elif predictions[qas_id] == "":
      # No valid span at all: nothing else to answer.
      assert not [e for e in nbest[qas_id] if e["text"]]
  results = _read_json(os.path.join(out_dir, "eval_results.json"))
  assert list(results) == [
      "exact", "f1", "total", "HasAns_exact", "HasAns_f1", "HasAns_total",
      "NoAns_exact", "NoAns_f1", "NoAns_total", "best_exact",
      "best_exact_thresh", "best_f1", "best_f1_thresh"]
  assert (results["total"], results["HasAns_total"],
          results["NoAns_total"]) == (10, 8, 2)
  for key in ("exact", "f1", "best_exact", "best_f1"):
    assert 0.0 <= results[key] <= 100.0
  assert results["best_f1"] >= 20.0  # answering nothing gets 2 of 10 right
  assert results == evaluate_squad.evaluate_files(
      path, os.path.join(out_dir, "predictions.json"),
      os.path.join(out_dir, "null_odds.json"), na_prob_thresh=0.0)
  assert any(m.startswith("  best_f1 = ") for m in tf_log.messages)
  assert any(m.startswith("Converted 8 features from ") and
             "features/s" in m for m in tf_log.messages)
  assert any(m.startswith("Processing example: 4/") and "features/s" in m
             for m in tf_log.messages)
  assert not [p for p in os.listdir(out_dir) if ".tmp-" in p]


def test_main_predicts_squad_1_with_metrics(tiny_bert, tmp_path):
  path = task_data.squad_file(tmp_path / "tiny-v1.json",
                              task_data.tiny_qas(False),
                              task_data.TINY_CONTEXT, version="1.1")
  out_dir = helpers.run_tiny_squad(tiny_bert, tmp_path / "out", dict(
      do_train=False, do_predict=True, predict_file=path,
      version_2_with_negative=False))
  ids = [qa["id"] for qa in task_data.tiny_qas(False)]
  predictions = _check_prediction_files(out_dir, ids, 4, False)
  assert all(predictions.values())
  assert not os.path.exists(os.path.join(out_dir, "null_odds.json"))
  results = _read_json(os.path.join(out_dir, "eval_results.json"))
  assert list(results) == ["exact_match", "f1"]
  assert results == evaluate_squad.evaluate_files(
      path, os.path.join(out_dir, "predictions.json"))
  # The windows of the flags (48 tokens, stride 16, questions cut to 12).
  windows = []
  _convert(run_squad.read_squad_examples(path, False, version_2=False),
           tokenization.FullTokenizer(tiny_bert["vocab_file"]), False,
           lambda feature: windows.append(feature.input_ids), 48, 16, 12)
  records = tf.io.tf_record_iterator(os.path.join(out_dir, "eval.tf_record"))
  assert [list(tf.train.Example.FromString(record).features
               .feature["input_ids"].int64_list.value)
          for record in records] == windows
  assert len(windows) > len(ids)


def test_main_answers_squad_2_unless_the_null_wins_by_the_threshold(
    tiny_bert, tmp_path):
  # Past this threshold the null answer never wins: every question with a
  # valid span gets its best one.
  path = task_data.squad_file(tmp_path / "tiny-v2.json",
                              task_data.tiny_qas(True),
                              task_data.TINY_CONTEXT, version="v2.0")
  out_dir = helpers.run_tiny_squad(tiny_bert, tmp_path / "out", dict(
      do_predict=True, predict_file=path, version_2_with_negative=True,
      null_score_diff_threshold=1e9))
  predictions = _read_json(os.path.join(out_dir, "predictions.json"))
  nbest = _read_json(os.path.join(out_dir, "nbest_predictions.json"))
  best_spans = {qas_id: ([e["text"] for e in entries if e["text"]] + [""])[0]
                for (qas_id, entries) in nbest.items()}
  assert predictions == best_spans
  assert any(predictions.values())


def test_train_file_too_small_for_one_step(tiny_bert, tmp_path):
  path = task_data.squad_file(tmp_path / "one.json",
                              task_data.tiny_qas(True)[:3],
                              task_data.TINY_CONTEXT)
  values = dict(helpers.tiny_squad_flags(tiny_bert, tmp_path / "out"),
                do_train=True, train_file=path, version_2_with_negative=True,
                train_batch_size=2, num_train_epochs=0.5)
  assert helpers.input_error(run_squad, values) == (
      "--do_train: 3 training questions at --train_batch_size=2 for "
      "--num_train_epochs=0.5 make no training step")


def test_main_without_gold_answers_skips_metrics(tiny_bert, tmp_path):
  qas = [{"id": qa["id"], "question": qa["question"]}
         for qa in task_data.tiny_qas(False)[:2]]
  path = task_data.squad_file(tmp_path / "test.json", qas,
                              task_data.TINY_CONTEXT)
  # Files of an earlier SQuAD 2.0 run with metrics, which are not of this
  # run: the prediction files are one set, these go.
  os.makedirs(str(tmp_path / "out"))
  for name in ("null_odds.json", "eval_results.json", "predictions.json"):
    (tmp_path / "out" / name).write_text(u"{}")
  out_dir = helpers.run_tiny_squad(tiny_bert, tmp_path / "out", dict(
      do_train=False, do_predict=True, predict_file=path,
      version_2_with_negative=False))
  _check_prediction_files(out_dir, ["q1", "q2"], 4, False)
  assert not os.path.exists(os.path.join(out_dir, "eval_results.json"))
  assert not os.path.exists(os.path.join(out_dir, "null_odds.json"))
  assert not [p for p in os.listdir(out_dir) if ".tmp-" in p]


@pytest.mark.parametrize("threshold,expected", [
    (3.0, "dog"), (1.0, ""), (-1.0, "")])
def test_null_answer_when_its_score_beats_the_span_by_the_threshold(
    tmp_path, set_flags, threshold, expected):
  vocab_file = str(tmp_path / "vocab.txt")
  helpers.write_tiny_vocab(vocab_file)
  input_file = tmp_path / "dev.json"
  input_file.write_text(json.dumps({"data": [{"paragraphs": [{
      "context": "the cat saw the dog",
      "qas": [{"id": "q", "question": "who", "answers": [],
               "is_impossible": True}]}]}]}))
  tokenizer = tokenization.FullTokenizer(vocab_file)
  set_flags(version_2_with_negative=True,
            null_score_diff_threshold=threshold)
  (examples, feature) = helpers.read_one_squad_feature(input_file, tokenizer,
                                                       16)
  # The null answer scores 6 + 6, the span "dog" 5 + 5: 2 more.
  logits = {"[CLS]": 6.0, "dog": 5.0}
  results = [helpers.squad_raw_result(feature, logits, logits)]
  paths = [str(tmp_path / name) for name in
           ("predictions.json", "nbest.json", "null_odds.json")]
  run_squad.write_predictions(examples, [feature], results, 5, 10, True,
                              *paths)
  with open(paths[0]) as f:
    assert json.load(f) == {"q": expected}
  with open(paths[2]) as f:
    assert json.load(f) == {"q": 2.0}
