"""Tests of run_classifier.py: reading, features, metrics, runs, bad input.

The golden fixtures (../shared/golden/classifier, made by the original) pin
down the MRPC reading and the TFRecord features byte for byte; real GLUE
files from ../shared/data/glue check every processor on every row. Both
skip when ../shared is absent. The fine-tuning runs use a tiny random BERT
(conftest's `tiny_bert`) on a dozen made-up rows per task type.
"""

import json
import os

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

import helpers
import run_classifier
import script_io
import task_data
import tokenization

FEATURE_NAMES = ("input_ids", "input_mask", "segment_ids", "label_ids",
                 "is_real_example")



def read_jsonl(path):
  with open(path, encoding="utf-8") as f:
    return [json.loads(line) for line in f]


def parse_records(path):
  """The records of a classifier TFRecord file as dicts of value lists."""
  records = []
  for serialized in tf.python_io.tf_record_iterator(path):
    example = tf.train.Example.FromString(serialized)
    record = {}
    for name in FEATURE_NAMES:
      feature = example.features.feature[name]
      kind = feature.WhichOneof("kind")
      record[name] = list(getattr(feature, kind).value)
    records.append(record)
  return records


# --------------------------------------------------------------------------
# The golden MRPC fixtures of the original.


@pytest.fixture(scope="module")
def golden_tokenizer(golden):
  return tokenization.FullTokenizer(
      os.path.join(golden, "tokenization", "vocab.txt"), do_lower_case=True)


def golden_examples(golden, set_name):
  processor = run_classifier.MrpcProcessor()
  data_dir = os.path.join(golden, "classifier", "MRPC")
  return getattr(processor, "get_%s_examples" % set_name)(data_dir)


@pytest.mark.parametrize("set_name,padded_to", [
    ("train", None), ("dev", None), ("test", None), ("test", 8)])
def test_golden_mrpc_examples_features_and_bytes(golden, golden_tokenizer,
                                                 tmp_path, set_name,
                                                 padded_to):
  examples = golden_examples(golden, set_name)
  fixture = set_name
  if padded_to:
    fixture = "%s_padded_to_%d" % (set_name, padded_to)
    while len(examples) % padded_to:
      examples.append(run_classifier.PaddingInputExample())
  expected = read_jsonl(os.path.join(golden, "classifier", fixture + ".jsonl"))
  assert len(examples) == len(expected)
  # The processor's label list, whose order gives the label ids.
  label_list = run_classifier.MrpcProcessor().get_labels()

  for (index, (example, row)) in enumerate(zip(examples, expected)):
    if row["guid"] is None:
      assert isinstance(example, run_classifier.PaddingInputExample)
    else:
      assert (example.guid, example.text_a, example.text_b, example.label) == (
          row["guid"], row["text_a"], row["text_b"], row["label"])
    feature = run_classifier.convert_single_example(
        index, example, label_list, 32, golden_tokenizer)
    num_real = sum(feature.input_mask)
    assert golden_tokenizer.convert_ids_to_tokens(
        feature.input_ids[:num_real]) == row["tokens"]
    assert feature.input_ids == row["input_ids"]
    assert feature.input_mask == row["input_mask"]
    assert feature.segment_ids == row["segment_ids"]
    assert [feature.label_id] == row["label_ids"]
    assert [int(feature.is_real_example)] == row["is_real_example"]

  output_file = str(tmp_path / "out.tf_record")
  run_classifier.file_based_convert_examples_to_features(
      examples, label_list, 32, golden_tokenizer, output_file)
  with open(output_file, "rb") as f:
    written = f.read()
  with open(os.path.join(golden, "classifier", fixture + ".tf_record"),
            "rb") as f:
    assert written == f.read()
  assert os.listdir(str(tmp_path)) == ["out.tf_record"]  # No temp left.


def test_golden_quirks_spelled_out(golden, golden_tokenizer):
  examples = {e.guid: e for e in golden_examples(golden, "train")}
  # A second sentence of spaces only is encoded as a single sentence.
  assert examples["train-9"].text_b == "   "
  feature = run_classifier.convert_single_example(
      0, examples["train-9"], ["0", "1"], 32, golden_tokenizer)
  num_real = sum(feature.input_mask)
  tokens = golden_tokenizer.convert_ids_to_tokens(
      feature.input_ids[:num_real])
  assert tokens.count("[SEP]") == 1 and tokens[-1] == "[SEP]"
  assert set(feature.segment_ids) == {0}
  # Quotes are ordinary characters; test labels are all "0".
  assert examples["train-3"].text_a.startswith('"We expect')
  assert {e.label for e in golden_examples(golden, "test")} == {"0"}


# --------------------------------------------------------------------------
# Truncation and features.


def test_truncate_seq_pair_cuts_the_longer_side_from_the_end():
  tokens_a, tokens_b = list("abcdefg"), list("xyz")
  run_classifier._truncate_seq_pair(tokens_a, tokens_b, 8)
  assert (tokens_a, tokens_b) == (list("abcde"), list("xyz"))
  # A tie cuts the second sequence.
  tokens_a, tokens_b = list("abcd"), list("wxyz")
  run_classifier._truncate_seq_pair(tokens_a, tokens_b, 7)
  assert (tokens_a, tokens_b) == (list("abcd"), list("wxy"))
  run_classifier._truncate_seq_pair(tokens_a, tokens_b, 7)
  assert (tokens_a, tokens_b) == (list("abcd"), list("wxy"))


@pytest.fixture(scope="module")
def tiny_tokenizer(tiny_bert):
  return tokenization.FullTokenizer(tiny_bert["vocab_file"], True)


def test_single_sentence_is_cut_to_leave_cls_and_sep(tiny_tokenizer):
  example = run_classifier.InputExample("x-1", "the cat saw the dog",
                                        label="1")
  feature = run_classifier.convert_single_example(
      0, example, ["0", "1"], 5, tiny_tokenizer)
  assert tiny_tokenizer.convert_ids_to_tokens(feature.input_ids) == [
      "[CLS]", "the", "cat", "saw", "[SEP]"]
  assert feature.label_id == 1 and feature.is_real_example


def test_padding_example_is_all_zeros(tiny_tokenizer):
  feature = run_classifier.convert_single_example(
      0, run_classifier.PaddingInputExample(), ["0", "1"], 6, tiny_tokenizer)
  assert (feature.input_ids, feature.input_mask, feature.segment_ids,
          feature.label_id, feature.is_real_example) == (
              [0] * 6, [0] * 6, [0] * 6, 0, False)


def test_regression_features_hold_a_float_label(tiny_tokenizer, tmp_path):
  examples = [run_classifier.InputExample("r-1", "the cat", "a dog", "3.25"),
              run_classifier.PaddingInputExample()]
  output_file = str(tmp_path / "r.tf_record")
  run_classifier.file_based_convert_examples_to_features(
      examples, [None], 8, tiny_tokenizer, output_file, is_regression=True)
  records = parse_records(output_file)
  assert [r["label_ids"] for r in records] == [[3.25], [0.0]]
  assert [r["is_real_example"] for r in records] == [[1], [0]]
  example = tf.train.Example.FromString(
      next(tf.python_io.tf_record_iterator(output_file)))
  assert example.features.feature["label_ids"].HasField("float_list")


def test_failed_feature_write_keeps_the_previous_file(tiny_tokenizer,
                                                      tmp_path, monkeypatch):
  output_file = tmp_path / "train.tf_record"
  output_file.write_bytes(b"a complete older file")
  examples = [run_classifier.InputExample("x-%d" % i, "the cat", label="1")
              for i in range(5)]
  convert = run_classifier.convert_single_example

  def fail_at_the_fourth(ex_index, *args, **kwargs):
    if ex_index == 3:
      raise OSError("disk full")
    return convert(ex_index, *args, **kwargs)

  monkeypatch.setattr(run_classifier, "convert_single_example",
                      fail_at_the_fourth)
  with pytest.raises(OSError, match="disk full"):
    run_classifier.file_based_convert_examples_to_features(
        examples, ["0", "1"], 8, tiny_tokenizer, str(output_file))
  # Three records were written before the failure, elsewhere.
  assert output_file.read_bytes() == b"a complete older file"
  assert os.listdir(str(tmp_path)) == ["train.tf_record"]


def test_in_memory_and_file_input_fns_give_the_same_batches(tiny_tokenizer,
                                                            tmp_path):
  examples = [
      run_classifier.InputExample("p-%d" % i, "the %s" % word, "a dog",
                                  str(i % 2))
      for (i, word) in enumerate(["cat", "sun", "moon"])]
  features = run_classifier.convert_examples_to_features(
      examples, ["0", "1"], 8, tiny_tokenizer)
  output_file = str(tmp_path / "f.tf_record")
  run_classifier.file_based_convert_examples_to_features(
      examples, ["0", "1"], 8, tiny_tokenizer, output_file)
  with tf.Graph().as_default():
    params = {"batch_size": 3}
    in_memory = run_classifier.input_fn_builder(
        features, 8, False, False)(params)
    from_file = run_classifier.file_based_input_fn_builder(
        output_file, 8, False, False)(params)
    next_memory = tf.data.make_one_shot_iterator(in_memory).get_next()
    next_file = tf.data.make_one_shot_iterator(from_file).get_next()
    with tf.Session() as sess:
      (memory_batch, file_batch) = sess.run([next_memory, next_file])
  # Quirk of the original: the in-memory input has no is_real_example.
  assert sorted(memory_batch) == ["input_ids", "input_mask", "label_ids",
                                  "segment_ids"]
  for name in memory_batch:
    np.testing.assert_array_equal(memory_batch[name], file_batch[name])
  assert file_batch["input_ids"].dtype == np.int32
  np.testing.assert_array_equal(file_batch["is_real_example"], [1, 1, 1])


def test_create_model_variables_and_losses():
  with tf.Graph().as_default():
    (config, input_ids, mask, segments) = helpers.tiny_model_inputs()
    (loss, per_example_loss, logits, probabilities) = (
        run_classifier.create_model(config, False, input_ids, mask, segments,
                                    tf.constant([2, 0]), 3, False))
    with tf.variable_scope("regression"):
      (reg_loss, reg_per_example, scores, _) = run_classifier.create_model(
          config, False, input_ids, mask, segments,
          tf.constant([1.5, -2.0]), 1, False, is_regression=True)
    names = {v.op.name: v.shape.as_list() for v in tf.global_variables()}
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      values = sess.run([loss, per_example_loss, logits, probabilities,
                         reg_loss, reg_per_example, scores])
  assert names["output_weights"] == [3, 8] and names["output_bias"] == [3]
  assert names["regression/output_weights"] == [1, 8]
  (loss, per_example_loss, logits, probabilities, reg_loss, reg_per_example,
   scores) = values
  log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
  np.testing.assert_allclose(per_example_loss,
                             [-log_probs[0, 2], -log_probs[1, 0]], rtol=1e-5)
  np.testing.assert_allclose(loss, per_example_loss.mean(), rtol=1e-6)
  np.testing.assert_allclose(probabilities, np.exp(log_probs), rtol=1e-5)
  assert scores.shape == (2,)
  np.testing.assert_allclose(reg_per_example,
                             (scores - [1.5, -2.0])**2, rtol=1e-5)
  np.testing.assert_allclose(reg_loss, reg_per_example.mean(), rtol=1e-6)


# --------------------------------------------------------------------------
# The processors' file reading, on made-up files.


def test_cola_header_rules(tmp_path):
  data_dir = str(tmp_path)
  task_data.write_tsv(os.path.join(data_dir, "train.tsv"), [
      ["src", "1", "", "Good sentence ."], ["src", "0", "*", "Bad one ."]])
  task_data.write_tsv(os.path.join(data_dir, "test.tsv"), [
      ["index", "sentence"], ["0", "First test ."], ["1", "Second ."]])
  processor = run_classifier.ColaProcessor()
  train = processor.get_train_examples(data_dir)
  assert [(e.guid, e.text_a, e.text_b, e.label) for e in train] == [
      ("train-0", "Good sentence .", None, "1"),
      ("train-1", "Bad one .", None, "0")]
  test = processor.get_test_examples(data_dir)
  assert [(e.guid, e.text_a, e.label) for e in test] == [
      ("test-1", "First test .", "0"), ("test-2", "Second .", "0")]


def mnli_row(pair_id, text_a, text_b, label=None):
  row = [pair_id] + ["x"] * 7 + [text_a, text_b]
  return row + ["gold", label] if label else row


def test_mnli_matched_and_mismatched(tmp_path):
  data_dir = str(tmp_path)
  header = mnli_row("index", "sentence1", "sentence2", "gold_label")
  task_data.write_tsv(os.path.join(data_dir, "dev_matched.tsv"), [
      header, mnli_row("7", "A man .", "A person .", "entailment")])
  task_data.write_tsv(os.path.join(data_dir, "dev_mismatched.tsv"), [
      header, mnli_row("9", "Rain .", "Sun .", "contradiction")])
  task_data.write_tsv(os.path.join(data_dir, "test_mismatched.tsv"), [
      header[:10], mnli_row("3", "Sea .", "Sky .")])
  matched = run_classifier.MnliProcessor().get_dev_examples(data_dir)
  assert [(e.guid, e.text_a, e.text_b, e.label) for e in matched] == [
      ("dev_matched-7", "A man .", "A person .", "entailment")]
  processor = run_classifier.get_processor("MNLI-MM")
  assert isinstance(processor, run_classifier.MnliMismatchedProcessor)
  mismatched = processor.get_dev_examples(data_dir)
  assert [(e.guid, e.label) for e in mismatched] == [
      ("dev_mismatched-9", "contradiction")]
  # Test rows get the first label, whatever they hold.
  test = processor.get_test_examples(data_dir)
  assert [(e.guid, e.text_a, e.label) for e in test] == [
      ("test-3", "Sea .", "contradiction")]


def test_xnli_reads_chinese_rows_only_and_counts_every_row(tmp_path):
  data_dir = str(tmp_path)
  train_file = os.path.join(data_dir, "multinli", "multinli.train.zh.tsv")
  task_data.write_tsv(train_file, [
      ["premise", "hypo", "label"],
      ["\u4eca\u5929", "\u660e\u5929", "contradictory"]])
  dev_header = ["language", "gold_label", "a", "b", "c", "d", "s1", "s2"]
  task_data.write_tsv(os.path.join(data_dir, "xnli.dev.tsv"), [
      dev_header, ["en", "neutral", "", "", "", "", "One", "Two"],
      ["zh", "entailment", "", "", "", "", "\u4e00", "\u4e8c"], ["de"]])
  processor = run_classifier.XnliProcessor()
  train = processor.get_train_examples(data_dir)
  assert [(e.guid, e.label) for e in train] == [("train-1", "contradiction")]
  dev = processor.get_dev_examples(data_dir)
  assert [(e.guid, e.text_a, e.text_b, e.label) for e in dev] == [
      ("dev-2", "\u4e00", "\u4e8c", "entailment")]
  with pytest.raises(NotImplementedError):
    processor.get_test_examples(data_dir)


def test_read_tsv_keeps_quotes_and_line_ends(tmp_path):
  path = str(tmp_path / "q.tsv")
  with open(path, "w", encoding="utf-8", newline="") as f:
    f.write('\ufeffa\t"b\tc"\r\n"d""\te\n')
  lines = run_classifier.DataProcessor._read_tsv(path)
  assert lines == [["\ufeffa", '"b', 'c"'], ['"d""', "e"]]
  assert [(line.path, line.line_number) for line in lines] == [
      (path, 1), (path, 2)]


def test_read_tsv_names_the_line_that_is_not_utf8(tmp_path):
  path = str(tmp_path / "bad.tsv")
  with open(path, "wb") as f:
    f.write(b"a\tb\nc\td\ne\xff\tf\n")
  with pytest.raises(script_io.InputError,
                     match=r"bad.tsv, line 3: not valid UTF-8"):
    run_classifier.DataProcessor._read_tsv(path)


# --------------------------------------------------------------------------
# Every row of the real GLUE files.

# task -> (folder, {set: (expected count, first guid, first label, first
# text_a start, first text_b start or None)}).
GLUE_DEV_FIRST_ROWS = {
    "mrpc": ("MRPC", 408, "dev-1", "1", "He said the foodservice pie",
             "\" The foodservice pie business"),
    "cola": ("CoLA", 1043, "dev-0", "1", "The sailors rode the breeze", None),
    "sst-2": ("SST-2", 872, "dev-1", "1", "it 's a charming and often", None),
    "rte": ("RTE", 277, "dev-1", "not_entailment", "Dana Reeve, the widow",
            "Christopher Reeve had an accident."),
    "sts-b": ("STS-B", 1500, "dev-1", "5.000", "A man with a hard hat is",
              "A man wearing a hard hat"),
    "wnli": ("WNLI", 71, "dev-1", "0", "The drain is clogged with hair.",
             "The hair has to be cleaned."),
    "qnli": ("QNLI", 5463, "dev-1", "entailment",
             "What came into force after", "As of that day, the new"),
}


def count_lines(path):
  """Lines split on "\\n" only; the last one may lack its "\\n"."""
  with open(path, "rb") as f:
    lines = f.read().split(b"\n")
  return len(lines) - (lines[-1] == b"")


@pytest.fixture(scope="module")
def uncased_tokenizer(shared_data):
  return tokenization.FullTokenizer(
      os.path.join(shared_data, "vocab", "uncased", "vocab.txt"), True)


@pytest.mark.parametrize("task", sorted(GLUE_DEV_FIRST_ROWS))
def test_real_glue_dev_set(shared_data, uncased_tokenizer, task):
  (folder, count, guid, label, text_a, text_b) = GLUE_DEV_FIRST_ROWS[task]
  data_dir = os.path.join(shared_data, "glue", folder)
  processor = run_classifier.get_processor(task)
  examples = processor.get_dev_examples(data_dir)
  has_header = task != "cola"
  assert len(examples) == count == count_lines(
      os.path.join(data_dir, "dev.tsv")) - has_header
  first = examples[0]
  assert (first.guid, first.label) == (guid, label)
  assert first.text_a.startswith(text_a)
  assert (first.text_b is None) == (text_b is None)
  if text_b is not None:
    assert first.text_b.startswith(text_b)
  assert [e.guid for e in examples] == [
      "dev-%d" % (i + has_header) for i in range(count)]
  if processor.is_regression:
    scores = [float(e.label) for e in examples]
    assert min(scores) >= 0.0 and max(scores) <= 5.0
  else:
    assert {e.label for e in examples} == set(processor.get_labels())

  label_list = processor.get_labels()
  for (index, example) in enumerate(examples[:3]):
    feature = run_classifier.convert_single_example(
        index, example, label_list, 64, uncased_tokenizer,
        processor.is_regression)
    assert_feature_encodes(feature, example, uncased_tokenizer, 64)
    if processor.is_regression:
      assert feature.label_id == float(example.label)
    else:
      assert label_list[feature.label_id] == example.label


def assert_feature_encodes(feature, example, tokenizer, max_seq_length):
  """Checks [CLS] a [SEP] (b [SEP]) with the original's truncation."""
  tokens_a = tokenizer.tokenize(example.text_a)
  tokens_b = tokenizer.tokenize(example.text_b) if example.text_b else []
  while len(tokens_a) + len(tokens_b) > max_seq_length - 3 and tokens_b:
    (tokens_a if len(tokens_a) > len(tokens_b) else tokens_b).pop()
  tokens = ["[CLS]"] + tokens_a[:max_seq_length - 2] + ["[SEP]"]
  segment_ids = [0] * len(tokens)
  if tokens_b:
    tokens += tokens_b + ["[SEP]"]
    segment_ids += [1] * (len(tokens_b) + 1)
  padding = [0] * (max_seq_length - len(tokens))
  assert feature.input_ids == tokenizer.convert_tokens_to_ids(tokens) + padding
  assert feature.input_mask == [1] * len(tokens) + padding
  assert feature.segment_ids == segment_ids + padding


@pytest.mark.parametrize("task,folder", [
    ("mrpc", "MRPC"), ("cola", "CoLA"), ("sst-2", "SST-2"), ("rte", "RTE"),
    ("sts-b", "STS-B"), ("wnli", "WNLI")])
def test_real_glue_train_and_test_sets(shared_data, task, folder):
  data_dir = os.path.join(shared_data, "glue", folder)
  processor = run_classifier.get_processor(task)
  train = processor.get_train_examples(data_dir)
  train_header = task != "cola"
  assert len(train) == count_lines(
      os.path.join(data_dir, "train.tsv")) - train_header
  assert train[0].guid == "train-%d" % train_header
  test = processor.get_test_examples(data_dir)
  assert len(test) == count_lines(os.path.join(data_dir, "test.tsv")) - 1
  assert [e.guid for e in test[:2]] == ["test-1", "test-2"]
  # Test rows carry no gold label: the first label (regression: "0").
  assert {e.label for e in test} == {"0" if processor.is_regression else
                                     processor.get_labels()[0]}
  assert all(e.text_a for e in test)


def test_real_qnli_test_set(shared_data):
  data_dir = os.path.join(shared_data, "glue", "QNLI")
  test = run_classifier.QnliProcessor().get_test_examples(data_dir)
  assert len(test) == 5463
  assert test[0].text_a.startswith("What organization is devoted to Jihad")
  assert {e.label for e in test} == {"entailment"}


# --------------------------------------------------------------------------
# Metrics, against numpy, over the real examples only.


def average_ranks(values):
  values = np.asarray(values, np.float64)
  ranks = np.empty(len(values))
  for (i, value) in enumerate(values):
    ranks[i] = (np.sum(values < value) + np.sum(values <= value) + 1) / 2.0
  return ranks


def confusion_counts(labels, predictions):
  """(true pos., false pos., false neg., true neg.), class 1 positive."""
  (is_label, is_predicted) = (labels == 1, predictions == 1)
  return (np.sum(is_label & is_predicted), np.sum(~is_label & is_predicted),
          np.sum(is_label & ~is_predicted), np.sum(~is_label & ~is_predicted))


def numpy_f1(labels, predictions):
  (tp, fp, fn, _) = confusion_counts(labels, predictions)
  return 2.0 * tp / (2 * tp + fp + fn)


def numpy_matthews_corr(labels, predictions):
  (tp, fp, fn, tn) = confusion_counts(labels, predictions)
  return (tp * tn - fp * fn) / np.sqrt(
      float((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn)))


def numpy_pearson(labels, predictions):
  return np.corrcoef(labels, predictions)[0, 1]


def numpy_spearman(labels, predictions):
  return np.corrcoef(average_ranks(labels), average_ranks(predictions))[0, 1]


NUMPY_METRICS = {"f1": numpy_f1, "matthews_corr": numpy_matthews_corr,
                 "pearson": numpy_pearson, "spearman": numpy_spearman}


def numpy_metrics(names, labels, predictions):
  """{name: value} of the metrics `names`, computed in float64 numpy."""
  labels = np.asarray(labels, np.float64)
  predictions = np.asarray(predictions, np.float64)
  return {name: NUMPY_METRICS[name](labels, predictions) for name in names}


def test_classification_metrics_skip_padding_examples():
  rng = np.random.RandomState(3)
  labels = rng.randint(0, 2, size=40).astype(np.int32)
  logits = rng.normal(size=(40, 2)).astype(np.float32)
  losses = rng.uniform(size=40).astype(np.float32)
  is_real = np.ones(40, np.float32)
  is_real[[5, 17, 38, 39]] = 0.0  # Padding rows with junk values.
  metric_fn = run_classifier._metric_fn_builder(False, ("f1", "matthews_corr"))
  batches = [(losses[i:i + 8], labels[i:i + 8], logits[i:i + 8],
              is_real[i:i + 8]) for i in range(0, 40, 8)]
  got = helpers.run_metric_fn(metric_fn, batches)
  real = is_real > 0
  predictions = logits.argmax(-1)
  expected = numpy_metrics(["f1", "matthews_corr"], labels[real],
                           predictions[real])
  assert sorted(got) == ["eval_accuracy", "eval_f1", "eval_loss",
                         "eval_matthews_corr"]
  np.testing.assert_allclose(got["eval_accuracy"],
                             np.mean(labels[real] == predictions[real]),
                             rtol=1e-6)
  np.testing.assert_allclose(got["eval_loss"], losses[real].mean(), rtol=1e-6)
  np.testing.assert_allclose(got["eval_f1"], expected["f1"], rtol=1e-12)
  np.testing.assert_allclose(got["eval_matthews_corr"],
                             expected["matthews_corr"], rtol=1e-12)


def test_regression_metrics_with_ties_skip_padding_examples():
  rng = np.random.RandomState(4)
  labels = rng.randint(0, 6, size=30).astype(np.float32)  # Many ties.
  scores = (labels + rng.normal(size=30)).astype(np.float32)
  scores[[2, 9]] = scores[4]
  is_real = np.ones(30, np.float32)
  is_real[[0, 29]] = 0.0
  metric_fn = run_classifier._metric_fn_builder(True, ("pearson", "spearman"))
  batches = [((scores[i:i + 8] - labels[i:i + 8])**2, labels[i:i + 8],
              scores[i:i + 8], is_real[i:i + 8]) for i in range(0, 30, 8)]
  got = helpers.run_metric_fn(metric_fn, batches)
  real = is_real > 0
  expected = numpy_metrics(["pearson", "spearman"], labels[real],
                           scores[real])
  assert sorted(got) == ["eval_loss", "eval_pearson", "eval_spearman"]
  np.testing.assert_allclose(got["eval_pearson"], expected["pearson"],
                             rtol=1e-12)
  np.testing.assert_allclose(got["eval_spearman"], expected["spearman"],
                             rtol=1e-12)
  np.testing.assert_allclose(
      got["eval_loss"], np.mean((scores[real] - labels[real])**2), rtol=1e-6)


def test_degenerate_metrics_are_zero():
  metric_fn = run_classifier._metric_fn_builder(
      False, ("f1", "matthews_corr"))
  batch = (np.zeros(3, np.float32), np.zeros(3, np.int32),
           np.array([[1, 0]] * 3, np.float32), np.ones(3, np.float32))
  got = helpers.run_metric_fn(metric_fn, [batch])
  assert (got["eval_f1"], got["eval_matthews_corr"]) == (0.0, 0.0)


@pytest.mark.parametrize("use_tpu,num_written", [(False, 5), (True, 8)])
def test_dev_and_test_sets_are_padded_to_whole_batches_on_tpu_only(
    tiny_tokenizer, tmp_path, use_tpu, num_written):
  examples = [run_classifier.InputExample("dev-%d" % i, "the cat", None, "1")
              for i in range(5)]
  (_, num_actual, num_examples) = run_classifier._padded_set(
      "eval", examples, 4, run_classifier.Sst2Processor(), tiny_tokenizer,
      helpers.fine_tuning_config(output_dir=str(tmp_path),
                                 max_seq_length=task_data.SEQ_LENGTH,
                                 use_tpu=use_tpu))
  assert (num_actual, num_examples) == (5, num_written)
  assert len(examples) == 5  # The caller's list is left as it was.
  records = parse_records(str(tmp_path / "eval.tf_record"))
  assert [r["is_real_example"] for r in records] == (
      [[1]] * 5 + [[0]] * (num_written - 5))
  assert [r["label_ids"] for r in records] == (
      [[1]] * 5 + [[0]] * (num_written - 5))


def test_unknown_metric_is_refused():
  with pytest.raises(ValueError, match="unknown metric"):
    run_classifier.model_fn_builder(None, 2, None, 1e-3, 1, 0, False, False,
                                    extra_metrics=("auc",))


# --------------------------------------------------------------------------
# Short real fine-tuning runs of a tiny model, one per task type.

@pytest.mark.parametrize("task,extra_keys", [
    ("mrpc", ["eval_accuracy", "eval_f1"]),
    ("sst-2", ["eval_accuracy"]),
    ("sts-b", ["eval_pearson", "eval_spearman"])])
def test_fine_tuning_run_writes_metrics_and_predictions(tiny_bert, tmp_path,
                                                        task, extra_keys):
  data_dir = str(tmp_path / "data")
  output_dir = str(tmp_path / "output")
  dev_rows = task_data.write_task_data(data_dir, task,
                                       np.random.RandomState(len(task)))
  helpers.run_main(run_classifier, task_data.classifier_flags(
      tiny_bert, data_dir, output_dir, task))

  results = helpers.read_eval_results(
      os.path.join(output_dir, "eval_results.txt"))
  assert sorted(results) == sorted(["eval_loss", "global_step", "loss"] +
                                   extra_keys)
  assert results["global_step"] == 3  # int(12 / 4 * 1.0) steps.
  for key in extra_keys:
    assert -1.0 <= results[key] <= 1.0

  for name in ("train", "eval", "predict"):
    records = parse_records(os.path.join(output_dir, name + ".tf_record"))
    assert len(records) == {"train": 12, "eval": 6, "predict": 6}[name]
    assert all(len(r["input_ids"]) == task_data.SEQ_LENGTH for r in records)
  assert not [n for n in os.listdir(output_dir) if ".tmp-" in n]

  # test.tsv holds the dev rows: the metrics must follow from the
  # predictions (the same model, without dropout). The correlations are
  # compared loosely: the random tiny model scores every input almost the
  # same (spread ~1e-5), so float noise between the eval and predict graphs
  # moves them; the metric tests above check their exact values.
  with open(os.path.join(output_dir, "test_results.tsv")) as f:
    predictions = np.array([[float(v) for v in line.split("\t")]
                            for line in f.read().splitlines()])
  labels = np.array([float(label) for (_, _, label) in dev_rows])
  if task == "sts-b":
    assert predictions.shape == (6, 1)
    scores = predictions[:, 0]
    expected = numpy_metrics(["pearson", "spearman"], labels, scores)
    expected["loss"] = np.mean((scores - labels)**2)
  else:
    assert predictions.shape == (6, 2) and predictions.min() >= 0.0
    np.testing.assert_allclose(predictions.sum(-1), 1.0, rtol=1e-5)
    predicted = predictions.argmax(-1)
    expected = numpy_metrics(["f1"] if task == "mrpc" else [], labels,
                             predicted)
    expected["accuracy"] = np.mean(predicted == labels)
    expected["loss"] = -np.mean(
        np.log(predictions[np.arange(6), labels.astype(int)]))
  for key in extra_keys + ["eval_loss"]:
    loose = key in ("eval_pearson", "eval_spearman")
    np.testing.assert_allclose(
        results[key], expected[key[len("eval_"):]], rtol=1e-4,
        atol=0.2 if loose else 1e-6, err_msg=key)


# --------------------------------------------------------------------------
# Tasks of one's own.


class ReversedSst2Processor(run_classifier.Sst2Processor):
  """A user's processor: SST-2 with the labels named differently."""

  def get_labels(self):
    return ["1", "0"]


def test_task_from_module_and_class_name():
  processor = run_classifier.get_processor(
      "test_run_classifier:ReversedSst2Processor")
  assert processor.get_labels() == ["1", "0"]


def test_registered_task():
  run_classifier.register_processor("My-Task", ReversedSst2Processor)
  assert isinstance(run_classifier.get_processor("my-task"),
                    ReversedSst2Processor)


class NoDevExamples(run_classifier.Sst2Processor):
  """A user's task whose dev set reads no file and holds no example."""

  def get_dev_examples(self, data_dir):
    return []


def test_a_set_read_from_no_file_and_without_examples(tmp_path):
  with pytest.raises(script_io.InputError) as error:
    run_classifier._read_set(NoDevExamples(), "dev", "no-dev", str(tmp_path))
  assert str(error.value) == (
      "--data_dir=%s: the dev set of --task_name=no-dev holds no examples" %
      tmp_path)


@pytest.mark.parametrize("task_name,message", [
    ("no_such_module_xyz:Processor", "cannot import no_such_module_xyz"),
    ("test_run_classifier:NoSuchClass", "has no DataProcessor class"),
    ("test_run_classifier:task_data.write_tsv", "has no DataProcessor class")])
def test_bad_task_module_or_class(task_name, message):
  with pytest.raises(script_io.InputError, match=message):
    run_classifier.get_processor(task_name)


# --------------------------------------------------------------------------
# Bad input: one-line errors before any training.


@pytest.fixture
def bad_input_run(tiny_bert, tmp_path):
  """Runs main on MRPC-like data; returns (error message, output dir)."""
  data_dir = str(tmp_path / "data")
  task_data.write_task_data(data_dir, "mrpc", np.random.RandomState(0))

  def run(**overrides):
    output_dir = str(tmp_path / "output")
    values = task_data.classifier_flags(tiny_bert, data_dir, output_dir, "mrpc")
    values.update(overrides)
    with pytest.raises(ValueError) as error:
      helpers.run_main(run_classifier, values)
    message = str(error.value)
    assert "\n" not in message
    assert not os.path.exists(os.path.join(output_dir, "train.tf_record"))
    return message

  run.data_dir = data_dir
  return run


def test_unknown_task_lists_the_known_ones(bad_input_run):
  message = bad_input_run(task_name="mrcp")
  assert "--task_name=mrcp" in message
  for name in ("cola", "mnli", "mnli-mm", "mrpc", "qnli", "qqp", "rte",
               "sst-2", "sts-b", "wnli", "xnli"):
    assert name in message


def test_row_with_too_few_columns_names_file_and_line(bad_input_run):
  path = os.path.join(bad_input_run.data_dir, "dev.tsv")
  with open(path, "a") as f:
    f.write("1\t5\t6\tonly one sentence\n")
  message = bad_input_run()
  assert "%s, line 8:" % path in message
  assert "has 4 column(s), but column 4" in message


def test_unknown_label_names_file_and_line(bad_input_run):
  path = os.path.join(bad_input_run.data_dir, "train.tsv")
  with open(path, "a") as f:
    f.write("yes\t5\t6\tthe cat .\tthe dog .\n")
  message = bad_input_run()
  assert message.startswith("%s, line 14: unknown label 'yes'" % path)


def test_non_numeric_score_names_file_and_line(tmp_path):
  path = task_data.write_tsv(str(tmp_path / "dev.tsv"), [
      ["index"] * 10, ["0", "g", "f", "y", "o", "s", "s", "a", "b", "high"]])
  with pytest.raises(script_io.InputError,
                     match=r"dev.tsv, line 2: the score 'high'"):
    run_classifier.StsbProcessor().get_dev_examples(str(tmp_path))


def test_max_seq_length_above_the_model(bad_input_run):
  message = bad_input_run(max_seq_length=129)
  assert message.startswith("--max_seq_length=129: cannot use")
  assert "up to sequence length 128" in message
  message = bad_input_run(max_seq_length=2)
  assert message.startswith("--max_seq_length=2: it must leave room")


def test_do_lower_case_contradicting_the_checkpoint(bad_input_run):
  message = bad_input_run(
      do_lower_case=True,
      init_checkpoint="/models/cased_L-12_H-768_A-12/bert_model.ckpt")
  assert "--do_lower_case=True" in message


def test_missing_checkpoint_and_no_action(bad_input_run, tmp_path):
  message = bad_input_run(init_checkpoint=str(tmp_path / "nothing.ckpt"))
  assert "no such checkpoint" in message
  message = bad_input_run(do_train=False, do_eval=False, do_predict=False)
  assert "At least one of" in message


def test_vocab_without_cls_or_sep(bad_input_run, tmp_path):
  """The original fails at the first example then, with a KeyError."""
  vocab_file = tmp_path / "vocab.txt"
  vocab_file.write_text("[PAD]\n[UNK]\n[CLS]\nthe\ncat\n")
  message = bad_input_run(vocab_file=str(vocab_file))
  assert message == "--vocab_file=%s: no [SEP] token" % vocab_file


def test_xnli_has_no_test_set(bad_input_run):
  message = bad_input_run(task_name="xnli", do_train=False, do_eval=False)
  assert message.startswith("--task_name=xnli: this task has no test set")


class UserMrpc(run_classifier.MrpcProcessor):
  """A user's task, named on the command line as module:Class."""


def test_command_line_error_is_one_line(tiny_bert, tmp_path):
  """Also runs a user's task, from a module importing run_classifier."""
  data_dir = str(tmp_path / "data")
  task_data.write_task_data(data_dir, "mrpc", np.random.RandomState(0))
  with open(os.path.join(data_dir, "train.tsv"), "a") as f:
    f.write("2\t5\t6\tthe cat .\tthe dog .\n")
  [(status, stderr)] = helpers.run_scripts("run_classifier.py", [[
      "--task_name=test_run_classifier:UserMrpc", "--data_dir=" + data_dir,
      "--vocab_file=" + tiny_bert["vocab_file"],
      "--bert_config_file=" + tiny_bert["config_file"],
      "--output_dir=" + str(tmp_path / "output"), "--do_train"]],
      python_path=[os.path.dirname(os.path.abspath(__file__))])
  assert status == 2
  error_lines = [line for line in stderr.splitlines()
                 if line.startswith("error: ")]
  assert error_lines == [
      "error: %s, line 14: unknown label '2' (the labels of this task are "
      "0, 1)" % os.path.join(data_dir, "train.tsv")]
  assert "Traceback" not in stderr
  assert not os.path.exists(str(tmp_path / "output"))
