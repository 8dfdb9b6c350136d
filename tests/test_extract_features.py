"""Tests of extract_features.py: the original's output, streaming, npz."""

import json
import os
import random
import re
import shlex
import weakref

from absl import flags
import numpy as np
import pytest

import extract_features
import helpers
import modeling
import runner
import script_io
import tokenization
from helpers import TINY_WORDS
from helpers import write_tiny_vocab


def _write_bytes(path, data):
  with open(str(path), "wb") as f:
    f.write(data)
  return str(path)


def _run_scripts(*flag_values):
  """Runs extract_features.py once per dict of flag values.

  Returns:
    (exit status, stderr) of each run, in order.
  """
  return helpers.run_scripts(
      "extract_features.py",
      [["--%s=%s" % item for item in values.items()]
       for values in flag_values])


def _read_jsonl(path):
  with open(str(path), encoding="utf-8") as f:
    return [json.loads(line) for line in f]


def _golden_flags(golden, **overrides):
  """The flags of golden/extract_features/output.cmd, paths made absolute.

  Returns:
    A dict of flag names to their values as on a command line.
  """
  with open(os.path.join(golden, "extract_features", "output.cmd")) as f:
    words = shlex.split(f.read())
  args = {}
  for word in words[2:]:
    name, value = word[2:].split("=", 1)
    if name.endswith("_file") or name == "init_checkpoint":
      value = os.path.join(golden, value)
    args[name] = value
  args.update(overrides)
  return args


def _run_main(flag_values):
  """Runs extract_features.main in this process with `flag_values`."""
  helpers.run_main(extract_features, {
      name: flags.FLAGS[name].parser.parse(value)
      for (name, value) in flag_values.items()})


def _assert_one_line_error(run, *fragments):
  (status, stderr) = run
  assert status == 2, stderr[-3000:]
  assert "Traceback" not in stderr
  last_line = stderr.strip().splitlines()[-1]
  assert last_line.startswith("error: "), last_line
  for fragment in fragments:
    assert fragment in last_line


# ---------------------------------------------------------------------------
# Reading the input.


def test_read_examples_splits_pairs_greedily(tmp_path):
  path = _write_bytes(
      tmp_path / "in.txt",
      b"one ||| two ||| three\n  padded single  \nleft |||right\n"
      b"a ||| b\n||| lonely\nno newline at the end")
  examples = extract_features.read_examples(path)
  got = [(e.unique_id, e.text_a, e.text_b) for e in examples]
  assert got == [
      # Quirk of the original: the greedy regex keeps the first separator.
      (0, "one ||| two", "three"),
      (1, "padded single", None),
      (2, "left |||right", None),
      (3, "a", "b"),
      (4, "||| lonely", None),
      (5, "no newline at the end", None),
  ]


def test_lines_split_as_the_original_reads_them(tmp_path):
  text = (u"caf\u00e9 \u2028 inside\rstill\x0bthe\x85same\r\n"
          u"second ||| pair\r\nthird").encode("utf-8") + b" bad\xff byte\n"
  path = _write_bytes(tmp_path / "in.txt", text)
  examples = extract_features.read_examples(path)
  # Quirk of the original: GFile.readline splits on "\n" only and drops
  # every "\r".
  assert [(e.text_a, e.text_b) for e in examples] == [
      (u"caf\u00e9 \u2028 insidestill\x0bthe\x85same", None),
      ("second", "pair"),
      ("third bad byte", None),
  ]


def test_empty_line_keeps_an_example_with_a_warning(tmp_path, monkeypatch):
  warnings = []
  monkeypatch.setattr(extract_features.tf.logging, "warning",
                      lambda msg, *args: warnings.append(msg % args))
  path = _write_bytes(tmp_path / "in.txt", b"first\n\n   \nlast\n")
  examples = extract_features.read_examples(path)
  assert [e.text_a for e in examples] == ["first", "", "", "last"]
  assert len(warnings) == 2
  assert "line 2 is empty" in warnings[0] and path in warnings[0]
  assert "line 3 is empty" in warnings[1]


# ---------------------------------------------------------------------------
# Features.


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory):
  vocab_file = str(tmp_path_factory.mktemp("vocab") / "vocab.txt")
  write_tiny_vocab(vocab_file)
  return tokenization.FullTokenizer(vocab_file, do_lower_case=True)


def _feature(tokenizer, text_a, text_b=None, seq_length=10):
  example = extract_features.InputExample(7, text_a, text_b)
  return extract_features.convert_examples_to_features(
      [example], seq_length, tokenizer)[0]


def test_single_sentence_is_cut_to_seq_length_minus_two(tokenizer):
  feature = _feature(tokenizer, "the cat saw the dog in the garden at night")
  assert feature.unique_id == 7
  assert feature.tokens == ["[CLS]", "the", "cat", "saw", "the", "dog", "in",
                            "the", "garden", "[SEP]"]
  assert feature.input_type_ids == [0] * 10
  assert feature.input_mask == [1] * 10
  assert feature.input_ids == tokenizer.convert_tokens_to_ids(feature.tokens)


def test_pair_is_cut_from_the_longer_side(tokenizer):
  feature = _feature(tokenizer, "the old man", "a small cat ran to the house")
  # 10 - 3 = 7 wordpieces: the second sentence loses its last four.
  assert feature.tokens == ["[CLS]", "the", "old", "man", "[SEP]", "a",
                            "small", "cat", "ran", "[SEP]"]
  assert feature.input_type_ids == [0] * 5 + [1] * 5


def test_short_pair_is_padded_with_zeros(tokenizer):
  feature = _feature(tokenizer, "tea", "bread")
  assert feature.tokens == ["[CLS]", "tea", "[SEP]", "bread", "[SEP]"]
  assert feature.input_mask == [1] * 5 + [0] * 5
  assert feature.input_type_ids == [0, 0, 0, 1, 1] + [0] * 5
  assert feature.input_ids[5:] == [0] * 5


def test_second_sentence_without_tokens_makes_a_single(tokenizer):
  feature = _feature(tokenizer, "tea", u"\u200b")
  assert feature.tokens == ["[CLS]", "tea", "[SEP]"]


def test_truncate_seq_pair_cuts_the_second_on_ties():
  tokens_a, tokens_b = list("abcd"), list("wxyz")
  extract_features._truncate_seq_pair(tokens_a, tokens_b, 5)
  assert (tokens_a, tokens_b) == (list("abc"), list("wx"))


def test_parse_layer_indexes():
  assert extract_features.parse_layer_indexes("-1,-2,0,1", 2) == [-1, -2, 0,
                                                                   1]
  for layers in ("-1,2", "-3", "1,x"):
    with pytest.raises(script_io.InputError) as error:
      extract_features.parse_layer_indexes(layers, 2)
    assert str(error.value).startswith("--layers=%s: " % layers)


# ---------------------------------------------------------------------------
# Predictions in process: streaming, chunked and in-memory feeding agree;
# memory does not grow with the input.


def _sentences(num_lines, seed=0):
  rng = random.Random(seed)
  words = [w for w in TINY_WORDS if w.isalpha()]
  lines = []
  for _ in range(num_lines):
    sentence = " ".join(rng.choice(words) for _ in range(rng.randint(1, 12)))
    if rng.random() < 0.5:
      sentence += " ||| " + " ".join(rng.choice(words) for _ in range(3))
    lines.append(sentence)
  return lines


def _estimator(tiny_bert, tmp_path, layer_indexes, batch_size):
  helpers.ensure_flags_parsed()
  config = modeling.BertConfig.from_json_file(tiny_bert["config_file"])
  model_fn = extract_features.model_fn_builder(
      config, tiny_bert["checkpoint"], layer_indexes, use_tpu=False,
      use_one_hot_embeddings=False, write_pooled_output=True)
  return runner.build_runner(
      model_fn, runner.settings_from_flags(flags.FLAGS),
      model_dir=str(tmp_path / "model"), predict_batch_size=batch_size)


def _features(tiny_bert, lines, seq_length):
  tokenizer = tokenization.FullTokenizer(tiny_bert["vocab_file"])
  examples = [extract_features.InputExample(i, line, None)
              for i, line in enumerate(lines)]
  return extract_features.convert_examples_to_features(examples, seq_length,
                                                       tokenizer)


def test_streaming_and_chunked_feeding_match_the_original(tiny_bert,
                                                          tmp_path):
  features = _features(tiny_bert, _sentences(7), 16)
  estimator = _estimator(tiny_bert, tmp_path, [-1, 0], batch_size=3)
  in_memory = list(estimator.predict(
      extract_features.input_fn_builder(features, 16),
      yield_single_examples=True))
  streamed = list(extract_features.predict_features(
      estimator, iter(features), 16, use_tpu=False))
  chunked = list(extract_features._predict_in_chunks(
      estimator, iter(features), 16, chunk_size=4))
  assert len(in_memory) == len(streamed) == len(chunked) == 7
  for expected, (f1, got1), (f2, got2) in zip(in_memory, streamed, chunked):
    assert f1.unique_id == f2.unique_id == int(expected["unique_id"])
    for key in ("layer_output_0", "layer_output_1", "pooled_output"):
      np.testing.assert_allclose(got1[key], expected[key], atol=1e-6)
      np.testing.assert_allclose(got2[key], expected[key], atol=1e-6)
    assert expected["layer_output_0"].shape == (16, 32)
    assert expected["pooled_output"].shape == (32,)
  assert not np.allclose(in_memory[0]["layer_output_0"],
                         in_memory[0]["layer_output_1"])


class _CountedFeatures(extract_features.InputFeatures):
  """InputFeatures that record how many of them are alive at most."""
  alive = weakref.WeakSet()
  most_alive = 0

  def __init__(self, *args, **kwargs):
    super(_CountedFeatures, self).__init__(*args, **kwargs)
    cls = _CountedFeatures
    cls.alive.add(self)
    cls.most_alive = max(cls.most_alive, len(cls.alive))


def _most_features_alive(tiny_bert, tmp_path, num_lines, monkeypatch):
  """Streams `num_lines` lines to JSON; returns the peak of live features."""
  monkeypatch.setattr(extract_features, "InputFeatures", _CountedFeatures)
  _CountedFeatures.most_alive = 0
  input_file = str(tmp_path / ("in%d.txt" % num_lines))
  with open(input_file, "w") as f:
    f.write("\n".join(_sentences(num_lines, seed=num_lines)) + "\n")
  output_file = str(tmp_path / ("out%d.jsonl" % num_lines))
  tokenizer = tokenization.FullTokenizer(tiny_bert["vocab_file"])
  features = extract_features.iter_features(
      extract_features.iter_examples(input_file), 16, tokenizer)
  estimator = _estimator(tiny_bert, tmp_path, [-1], batch_size=4)
  writer = extract_features.JsonLinesWriter(output_file, [-1])
  pairs = extract_features.predict_features(estimator, features, 16, False)
  written = extract_features.write_predictions(pairs, writer, output_file)
  assert written == num_lines
  assert len(_read_jsonl(output_file)) == num_lines
  return _CountedFeatures.most_alive


def test_memory_stays_flat_when_the_input_grows_tenfold(tiny_bert, tmp_path,
                                                        monkeypatch):
  # The original holds every feature until the end; a stream holds only
  # those in flight (a few batches), whatever the input size.
  small = _most_features_alive(tiny_bert, tmp_path, 100, monkeypatch)
  large = _most_features_alive(tiny_bert, tmp_path, 1000, monkeypatch)
  bound = 4 * (extract_features._PREFETCH_BATCHES + 2)
  assert 1 <= small <= bound
  assert large <= bound, (small, large)


def test_partial_output_is_removed_on_error(tmp_path):
  output_file = str(tmp_path / "out.jsonl")
  writer = extract_features.JsonLinesWriter(output_file, [-1])

  def failing_pairs():
    feature = extract_features.InputFeatures(0, ["[CLS]"], [2], [1], [0])
    yield feature, {"layer_output_0": np.zeros([1, 4], np.float32)}
    raise script_io.InputError("stop")

  with pytest.raises(script_io.InputError):
    extract_features.write_predictions(failing_pairs(), writer, output_file)
  assert os.listdir(str(tmp_path)) == []


# ---------------------------------------------------------------------------
# The script, end to end.


def test_reproduces_the_golden_output(golden, tmp_path):
  output_file = str(tmp_path / "output.jsonl")
  _run_main(_golden_flags(golden, output_file=output_file))
  assert os.listdir(str(tmp_path)) == ["output.jsonl"]
  expected_file = os.path.join(golden, "extract_features", "output.jsonl")
  with open(output_file) as got_lines, open(expected_file) as expected_lines:
    got_text, expected_text = got_lines.read(), expected_lines.read()
  # The same layout (key order, separators) once the numbers are gone, and
  # numbers written as Python reprs of values rounded to 6 decimals.
  values = re.compile(r"\"values\": \[([^\]]*)\]")
  assert (values.sub("V", got_text) == values.sub("V", expected_text))
  for match in values.finditer(got_text):
    for number in match.group(1).split(", "):
      assert number == repr(round(float(number), 6))
  got, expected = _read_jsonl(output_file), _read_jsonl(expected_file)
  assert len(got) == len(expected) == 5
  for got_line, expected_line in zip(got, expected):
    assert list(got_line) == ["linex_index", "features"]
    assert got_line["linex_index"] == expected_line["linex_index"]
    assert ([f["token"] for f in got_line["features"]] ==
            [f["token"] for f in expected_line["features"]])
    for got_token, expected_token in zip(got_line["features"],
                                         expected_line["features"]):
      assert ([l["index"] for l in got_token["layers"]] ==
              [l["index"] for l in expected_token["layers"]] == [-1, -2])
      for got_layer, expected_layer in zip(got_token["layers"],
                                           expected_token["layers"]):
        np.testing.assert_allclose(got_layer["values"],
                                   expected_layer["values"], rtol=0,
                                   atol=2e-6 + 1e-12)


@pytest.fixture(scope="module")
def golden_runs(golden, tmp_path_factory):
  """The golden input with an empty line in the middle, as JSON and npz."""
  out_dir = tmp_path_factory.mktemp("runs")
  with open(os.path.join(golden, "extract_features", "input.txt"), "rb") as f:
    lines = f.read().split(b"\n")
  input_file = _write_bytes(out_dir / "input.txt",
                            b"\n".join(lines[:2] + [b""] + lines[2:]))
  runs = {"input_file": input_file}
  formats = ("jsonl", "npz")
  for output_format in formats:
    runs[output_format] = str(out_dir / ("features." + output_format))
  results = _run_scripts(*[_golden_flags(
      golden, input_file=input_file, output_file=runs[output_format],
      output_format=output_format, write_pooled_output="true")
                           for output_format in formats])
  for (output_format, result) in zip(formats, results):
    runs[output_format + "_process"] = result
  return runs


def test_empty_line_gives_cls_sep_and_a_warning(golden_runs):
  (status, stderr) = golden_runs["jsonl_process"]
  assert status == 0, stderr[-3000:]
  assert "line 3 is empty" in stderr
  lines = _read_jsonl(golden_runs["jsonl"])
  assert [line["linex_index"] for line in lines] == list(range(6))
  assert [f["token"] for f in lines[2]["features"]] == ["[CLS]", "[SEP]"]


def test_progress_is_logged(golden_runs):
  (_, stderr) = golden_runs["jsonl_process"]
  assert re.search(r"Wrote 6 lines to \S+features\.jsonl, [\d.]+ lines/s",
                   stderr)


def test_pooled_output_is_written_per_line(golden_runs):
  for line in _read_jsonl(golden_runs["jsonl"]):
    assert list(line) == ["linex_index", "features", "pooled_output"]
    assert len(line["pooled_output"]) == 32
    # The pooler ends with tanh.
    assert max(abs(v) for v in line["pooled_output"]) <= 1.0


def _docstring_snippet():
  """The three loading lines of the module docstring."""
  doc_lines = extract_features.__doc__.splitlines()
  start = doc_lines.index("  data = np.load(\"features.npz\")")
  return "\n".join(line.strip() for line in doc_lines[start:start + 3])


def test_npz_matches_jsonl_and_is_much_smaller(golden_runs):
  (status, stderr) = golden_runs["npz_process"]
  assert status == 0, stderr[-3000:]
  json_lines = _read_jsonl(golden_runs["jsonl"])
  data = np.load(golden_runs["npz"])
  assert list(data["layers"]) == [-1, -2]
  assert data["values"].dtype == np.float16
  assert data["line_offsets"][0] == 0
  assert len(data["line_offsets"]) == len(json_lines) + 1
  for i, line in enumerate(json_lines):
    snippet_scope = {"np": np, "i": i}
    exec(_docstring_snippet().replace("\"features.npz\"", "path"),
         dict(snippet_scope, path=golden_runs["npz"]), snippet_scope)
    tokens, vectors = snippet_scope["tokens"], snippet_scope["vectors"]
    assert list(tokens) == [f["token"] for f in line["features"]]
    expected = np.array([[l["values"] for l in f["layers"]]
                         for f in line["features"]])
    assert vectors.shape == expected.shape
    np.testing.assert_allclose(vectors, expected, rtol=2e-3, atol=2e-3)
    np.testing.assert_allclose(data["pooled_output"][i],
                               line["pooled_output"], rtol=2e-3, atol=2e-3)
  json_size = os.path.getsize(golden_runs["jsonl"])
  assert os.path.getsize(golden_runs["npz"]) * 3 < json_size


def test_npz_float32_keeps_full_precision(tmp_path):
  output_file = str(tmp_path / "features.npz")
  writer = extract_features.NpzWriter(output_file, [0, -1], dtype="float32")
  rng = np.random.RandomState(0)
  results = [{"layer_output_0": rng.randn(6, 4).astype(np.float32),
              "layer_output_1": rng.randn(6, 4).astype(np.float32)}
             for _ in range(2)]
  tokens = [["[CLS]", u"caf\u00e9", "[SEP]"], ["[CLS]", "[SEP]"]]
  pairs = [(extract_features.InputFeatures(i, tokens[i], [], [], []), result)
           for i, result in enumerate(results)]
  assert extract_features.write_predictions(pairs, writer, output_file) == 2
  assert os.listdir(str(tmp_path)) == ["features.npz"]
  data = np.load(output_file)
  assert data["values"].dtype == np.float32
  assert list(data["layers"]) == [0, -1]
  assert list(data["line_offsets"]) == [0, 3, 5]
  assert list(data["tokens"]) == tokens[0] + tokens[1]
  assert "pooled_output" not in data.files
  for i, result in enumerate(results):
    start, end = data["line_offsets"][i], data["line_offsets"][i + 1]
    expected = np.stack([result["layer_output_0"], result["layer_output_1"]],
                        axis=1)[:end - start]
    np.testing.assert_array_equal(data["values"][start:end], expected)


def test_empty_input_file_is_an_input_error(golden, tmp_path):
  input_file = _write_bytes(tmp_path / "empty.txt", b"")
  output_file = str(tmp_path / "out.jsonl")
  with pytest.raises(script_io.InputError) as error:
    _run_main(_golden_flags(golden, input_file=input_file,
                           output_file=output_file))
  assert str(error.value).startswith("--input_file=%s: " % input_file)
  assert "empty" in str(error.value)
  assert os.listdir(str(tmp_path)) == ["empty.txt"]


def test_layer_outside_the_model_is_an_input_error(golden, tmp_path):
  output_file = str(tmp_path / "out.jsonl")
  with pytest.raises(script_io.InputError) as error:
    _run_main(_golden_flags(golden, output_file=output_file, layers="-1,2"))
  assert str(error.value).startswith("--layers=-1,2: index 2 ")
  assert os.listdir(str(tmp_path)) == []


@pytest.mark.parametrize("flag_values,message", [
    ({"max_seq_length": "65"},
     "--max_seq_length=65: cannot use this sequence length"),
    ({"max_seq_length": "2"}, "--max_seq_length=2 is too short"),
    ({"vocab_file": "/nonexistent/vocab.txt"},
     "--vocab_file=/nonexistent/vocab.txt: no such file"),
    ({"init_checkpoint": "/nonexistent/model.ckpt"},
     "--init_checkpoint=/nonexistent/model.ckpt: no such checkpoint"),
])
def test_bad_flags_are_input_errors(golden, tmp_path, flag_values, message):
  output_file = str(tmp_path / "out.jsonl")
  with pytest.raises(script_io.InputError) as error:
    _run_main(_golden_flags(golden, output_file=output_file, **flag_values))
  assert str(error.value).startswith(message)
  assert os.listdir(str(tmp_path)) == []


def test_checkpoint_of_another_config_is_a_one_line_error(golden, tmp_path):
  with open(os.path.join(golden, "modeling", "bert_config.json")) as f:
    config = json.load(f)
  config["intermediate_size"] = 40
  config_file = str(tmp_path / "bert_config.json")
  with open(config_file, "w") as f:
    json.dump(config, f)
  output_file = str(tmp_path / "out.jsonl")
  (run,) = _run_scripts(_golden_flags(golden, output_file=output_file,
                                      bert_config_file=config_file))
  _assert_one_line_error(run, "--init_checkpoint=", "intermediate",
                         "shape")
  assert sorted(os.listdir(str(tmp_path))) == ["bert_config.json"]
