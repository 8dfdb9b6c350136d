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
"""Extracts pre-computed feature vectors (contextual embeddings) from BERT.

Each input line holds one sentence, or two separated by " ||| ". For every
line the script writes the activations of the chosen `--layers` at each of
its wordpieces, `[CLS]` and `[SEP]` included.

Lines are processed as a stream: each is written as soon as its prediction
arrives and memory does not grow with the input (on a TPU the input is fed
in chunks instead). The output appears under its name only once complete.

`--output_format=jsonl` (the default) writes the original's JSON lines:

  {"linex_index": 0, "features": [{"token": "[CLS]", "layers":
    [{"index": -1, "values": [0.300354, ...]}, ...]}, ...]}

`--output_format=npz` writes one NumPy archive, about five times smaller
(float16) and far faster to load. It holds `values`
[num_tokens, num_layers, hidden_size] (the tokens of all lines one after
the other), `tokens` [num_tokens], `line_offsets` [num_lines + 1] (line i
has rows line_offsets[i]:line_offsets[i + 1]), `layers` (the layer indexes
in `values` order) and, with `--write_pooled_output`, `pooled_output`
[num_lines, hidden_size]. Loading the vectors of line i:

  data = np.load("features.npz")
  start, end = data["line_offsets"][i], data["line_offsets"][i + 1]
  tokens, vectors = data["tokens"][start:end], data["values"][start:end]
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import collections
import itertools
import json
import os
import re
import shutil
import zipfile

from absl import flags
import numpy as np
import tensorflow.compat.v1 as tf

import export
import modeling
import runner
import script_io
import tokenization

flags.DEFINE_string(
    "input_file", None,
    "Text file with one example per line: a sentence, or two separated by "
    "' ||| '.", **script_io.OVERRIDABLE)

flags.DEFINE_string(
    "output_file", None,
    "Where to write the features (see --output_format).",
    **script_io.OVERRIDABLE)

flags.DEFINE_string(
    "layers", "-1,-2,-3,-4",
    "Comma-separated encoder layer indexes to write; negative ones count "
    "from the top.", **script_io.OVERRIDABLE)

flags.DEFINE_string(
    "bert_config_file", None,
    "The config json file corresponding to the pre-trained BERT model. "
    "This specifies the model architecture.", **script_io.OVERRIDABLE)

flags.DEFINE_integer(
    "max_seq_length", 128,
    "The maximum total input sequence length after WordPiece tokenization. "
    "Sequences longer than this will be truncated, and sequences shorter "
    "than this will be padded.", **script_io.OVERRIDABLE)

flags.DEFINE_string(
    "init_checkpoint", None,
    "Initial checkpoint (usually from a pre-trained BERT model).",
    **script_io.OVERRIDABLE)

script_io.define_vocab_flags()

flags.DEFINE_integer("batch_size", 32, "Batch size for predictions.",
                     **script_io.OVERRIDABLE)

runner.define_runner_flags()
export.define_flags()

flags.DEFINE_bool(
    "use_one_hot_embeddings", False,
    "If True, tf.one_hot will be used for embedding lookups, otherwise "
    "tf.nn.embedding_lookup will be used. On TPUs, this should be True "
    "since it is much faster.", **script_io.OVERRIDABLE)

flags.DEFINE_enum(
    "output_format", "jsonl", ["jsonl", "npz"],
    "jsonl: the original's JSON lines. npz: one NumPy archive (see the "
    "module docstring), several times smaller and faster to load.",
    **script_io.OVERRIDABLE)

flags.DEFINE_enum(
    "npz_dtype", "float16", ["float16", "float32"],
    "Float type of the vectors in --output_format=npz.",
    **script_io.OVERRIDABLE)

flags.DEFINE_bool(
    "write_pooled_output", False,
    "Also write the pooled [CLS] vector of each line (the input of a "
    "classifier layer): a `pooled_output` key in JSON, an array in npz.",
    **script_io.OVERRIDABLE)

FLAGS = flags.FLAGS

# Features fed to the TPU per `predict` call: a py_func generator cannot run
# on a TPU host, so there the input goes in as constants, a chunk at a time.
TPU_CHUNK_SIZE = 8192

# Batches the input pipeline prepares ahead of the model.
_PREFETCH_BATCHES = 2

# Seconds between two progress lines in the log.
PROGRESS_EVERY_SECONDS = 10.0

# Quirk of the original: the greedy first group makes "a ||| b ||| c" a pair
# of "a ||| b" and "c".
_PAIR_SEPARATOR = re.compile(r"^(.*) \|\|\| (.*)$")

# Bytes copied at a time from scratch files into the npz archive.
_COPY_CHUNK_BYTES = 1 << 20


class InputExample(object):
  """One input line: a sentence (`text_a`) and maybe a second (`text_b`)."""

  def __init__(self, unique_id, text_a, text_b):
    self.unique_id = unique_id
    self.text_a = text_a
    self.text_b = text_b


class InputFeatures(object):
  """The model inputs of one line, and its wordpieces to name the rows."""

  def __init__(self, unique_id, tokens, input_ids, input_mask, input_type_ids):
    self.unique_id = unique_id
    self.tokens = tokens
    self.input_ids = input_ids
    self.input_mask = input_mask
    self.input_type_ids = input_type_ids


_FEATURE_TYPES = {
    "unique_ids": tf.int32,
    "input_ids": tf.int32,
    "input_mask": tf.int32,
    "input_type_ids": tf.int32,
}


def _feature_shape(name, seq_length):
  return [] if name == "unique_ids" else [seq_length]


def _feature_columns(feature):
  return {
      "unique_ids": feature.unique_id,
      "input_ids": feature.input_ids,
      "input_mask": feature.input_mask,
      "input_type_ids": feature.input_type_ids,
  }


def input_fn_builder(features, seq_length):
  """Creates an `input_fn` holding all `features` in memory, as the original.

  Args:
    features: list of `InputFeatures`.
    seq_length: the length every feature was padded to.

  Returns:
    An `input_fn` for `TPUEstimator.predict`, giving batches of
    `unique_ids` [batch_size] and `input_ids`, `input_mask`,
    `input_type_ids` [batch_size, seq_length], all int32.
  """
  columns = collections.defaultdict(list)
  for feature in features:
    for name, value in _feature_columns(feature).items():
      columns[name].append(value)
  num_examples = len(features)

  def input_fn(params):
    """The actual input function."""
    batch_size = params["batch_size"]
    # Every feature becomes a constant in the graph: fine for small inputs
    # only (`streaming_input_fn_builder` has no such limit).
    tensors = {}
    for name, dtype in _FEATURE_TYPES.items():
      shape = [num_examples] + _feature_shape(name, seq_length)
      tensors[name] = tf.constant(columns[name], shape=shape, dtype=dtype)
    dataset = tf.data.Dataset.from_tensor_slices(tensors)
    return dataset.batch(batch_size=batch_size, drop_remainder=False)

  return input_fn


def streaming_input_fn_builder(features, seq_length):
  """Creates an `input_fn` that pulls `features` from an iterator on demand.

  Nothing proportional to the input is held: a feature is produced only
  when the input pipeline asks for it. Runs on CPU and GPU only (the
  generator is a py_func, which a TPU host cannot run).

  Args:
    features: an iterable of `InputFeatures`, consumed once.
    seq_length: the length every feature was padded to.

  Returns:
    An `input_fn` giving the same batches as `input_fn_builder`'s.
  """

  def generate():
    for feature in features:
      yield {name: np.asarray(value, dtype=np.int32)
             for name, value in _feature_columns(feature).items()}

  def input_fn(params):
    """The actual input function."""
    shapes = {name: tf.TensorShape(_feature_shape(name, seq_length))
              for name in _FEATURE_TYPES}
    dataset = tf.data.Dataset.from_generator(
        generate, output_types=_FEATURE_TYPES, output_shapes=shapes)
    dataset = dataset.batch(batch_size=params["batch_size"],
                            drop_remainder=False)
    # Tokenizing the next batches overlaps with the model's work on this one.
    return dataset.prefetch(_PREFETCH_BATCHES).with_options(
        _fixed_size_buffers())

  return input_fn


def _fixed_size_buffers():
  """Returns `tf.data.Options` turning off autotuning of buffer sizes.

  Autotuning lets buffers grow during a long run (on TF 2.15 the generator
  ran up to ten batches ahead); fixed ones keep memory flat.
  """
  options = tf.data.Options()
  if hasattr(options, "autotune"):
    # TensorFlow 2.x.
    options.autotune.enabled = False
    options.experimental_optimization.inject_prefetch = False
  else:
    # TensorFlow 1.15.
    options.experimental_optimization.autotune = False
  return options


def model_fn_builder(bert_config, init_checkpoint, layer_indexes, use_tpu,
                     use_one_hot_embeddings, write_pooled_output=False):
  """Returns `model_fn` closure for TPUEstimator.

  Args:
    bert_config: `modeling.BertConfig`.
    init_checkpoint: checkpoint the model's variables are restored from.
    layer_indexes: list of int, indexes into the encoder layers (negative
      ones count from the top).
    use_tpu: bool.
    use_one_hot_embeddings: bool.
    write_pooled_output: bool; also predict `pooled_output`
      [batch_size, hidden_size].

  Returns:
    A `model_fn` predicting `unique_id` [batch_size] and, for each j,
    `layer_output_<j>` [batch_size, seq_length, hidden_size] of layer
    `layer_indexes[j]`.
  """

  def model_fn(features, labels, mode, params):  # pylint: disable=unused-argument
    """The `model_fn` for TPUEstimator."""
    model = modeling.BertModel(
        config=bert_config,
        is_training=False,
        input_ids=features["input_ids"],
        input_mask=features["input_mask"],
        token_type_ids=features["input_type_ids"],
        use_one_hot_embeddings=use_one_hot_embeddings)

    if mode != runner.ModeKeys.PREDICT:
      raise ValueError("Only PREDICT modes are supported: %s" % (mode))

    scaffold_fn = runner.init_from_checkpoint(init_checkpoint,
                                                       use_tpu)

    all_layers = model.get_all_encoder_layers()
    predictions = {"unique_id": features["unique_ids"]}
    for (j, layer_index) in enumerate(layer_indexes):
      predictions["layer_output_%d" % j] = all_layers[layer_index]
    if write_pooled_output:
      predictions["pooled_output"] = model.get_pooled_output()

    return runner.TPUEstimatorSpec(
        mode=mode, predictions=predictions, scaffold_fn=scaffold_fn)

  return model_fn


def _feature_from_example(example, seq_length, tokenizer):
  """Tokenizes, truncates and pads one example; returns `InputFeatures`."""
  (tokens, input_ids, input_mask,
   input_type_ids) = tokenization.pack_sentence_pair(
       tokenizer, example.text_a, example.text_b, seq_length)
  return InputFeatures(
      unique_id=example.unique_id,
      tokens=tokens,
      input_ids=input_ids,
      input_mask=input_mask,
      input_type_ids=input_type_ids)


def _log_feature(feature):
  tf.logging.info("*** Example ***")
  tf.logging.info("unique_id: %s" % (feature.unique_id))
  tf.logging.info("tokens: %s" % " ".join(
      [tokenization.printable_text(x) for x in feature.tokens]))
  for name in ("input_ids", "input_mask", "input_type_ids"):
    tf.logging.info("%s: %s" % (name, " ".join(
        [str(x) for x in getattr(feature, name)])))


def iter_features(examples, seq_length, tokenizer):
  """Yields the `InputFeatures` of each example, one at a time.

  Logs the first five, as the original.
  """
  for (ex_index, example) in enumerate(examples):
    feature = _feature_from_example(example, seq_length, tokenizer)
    if ex_index < 5:
      _log_feature(feature)
    yield feature


def convert_examples_to_features(examples, seq_length, tokenizer):
  """Returns the list of `InputFeatures` of `examples` (see `iter_features`).

  Args:
    examples: iterable of `InputExample`.
    seq_length: int, the length inputs are cut or padded to.
    tokenizer: a `tokenization.FullTokenizer`.
  """
  return list(iter_features(examples, seq_length, tokenizer))


def _truncate_seq_pair(tokens_a, tokens_b, max_length):
  """Truncates a pair in place; see `tokenization.truncate_seq_pair`."""
  tokenization.truncate_seq_pair(tokens_a, tokens_b, max_length)


def iter_examples(input_file):
  """Yields an `InputExample` per line of `input_file`, lazily.

  Quirk of the original: a line that is empty or only whitespace still
  gives an example (features of just `[CLS] [SEP]`); it is kept, with a
  warning naming the line.
  """
  lines = script_io.iter_text_lines(input_file)
  for (unique_id, line) in enumerate(lines):
    line = line.strip()
    if not line:
      tf.logging.warning(
          "%s, line %d is empty: its features are those of `[CLS] [SEP]` "
          "(linex_index %d), as in the original.", input_file, unique_id + 1,
          unique_id)
    match = _PAIR_SEPARATOR.match(line)
    if match is None:
      yield InputExample(unique_id=unique_id, text_a=line, text_b=None)
    else:
      yield InputExample(unique_id=unique_id, text_a=match.group(1),
                         text_b=match.group(2))


def read_examples(input_file):
  """Returns the list of `InputExample`s of `input_file` (one per line)."""
  return list(iter_examples(input_file))


def _predict_from_generator(estimator, features, seq_length):
  """Yields `(feature, result)` pairs, feeding the model from a generator."""
  # Features the input pipeline took but whose predictions have not come
  # back yet: at most a few batches, whatever the input size.
  in_flight = collections.deque()

  def take_features():
    for feature in features:
      in_flight.append(feature)
      yield feature

  input_fn = streaming_input_fn_builder(take_features(), seq_length)
  for result in estimator.predict(input_fn, yield_single_examples=True):
    yield in_flight.popleft(), result


def _predict_in_chunks(estimator, features, seq_length, chunk_size):
  """Yields `(feature, result)` pairs, `chunk_size` features per predict."""
  features = iter(features)
  while True:
    chunk = list(itertools.islice(features, chunk_size))
    if not chunk:
      return
    input_fn = input_fn_builder(chunk, seq_length)
    results = estimator.predict(input_fn, yield_single_examples=True)
    for feature, result in zip(chunk, results):
      yield feature, result


def predict_features(estimator, features, seq_length, use_tpu):
  """Runs the model on `features` (an iterable), in order.

  Args:
    estimator: a `TPUEstimator` whose `model_fn` is `model_fn_builder`'s.
    features: iterable of `InputFeatures`, consumed lazily.
    seq_length: the length every feature was padded to.
    use_tpu: bool; a TPU is fed in chunks of `TPU_CHUNK_SIZE` constants.

  Yields:
    `(feature, result)` pairs, `result` being the model's predictions for
    that feature.

  Raises:
    RuntimeError: if a prediction comes back for another feature.
  """
  if use_tpu:
    pairs = _predict_in_chunks(estimator, features, seq_length,
                               TPU_CHUNK_SIZE)
  else:
    pairs = _predict_from_generator(estimator, features, seq_length)
  for feature, result in pairs:
    if int(result["unique_id"]) != feature.unique_id:
      raise RuntimeError("prediction for line %d arrived in place of line %d"
                         % (int(result["unique_id"]), feature.unique_id))
    yield feature, result


def _rounded(values):
  # Quirk of the original: Python's round() on each float32 value widened to
  # a double, which json.dumps then writes with the shortest repr.
  return [round(x, 6) for x in values.tolist()]


class JsonLinesWriter(object):
  """Writes the original's JSON line per input line (`--output_format=jsonl`).

  The file is written under a temporary name and renamed by `commit`.
  """

  def __init__(self, output_file, layer_indexes, write_pooled_output=False):
    self._output_file = output_file
    self._temp_path = script_io.temporary_path(output_file)
    self._writer = tf.gfile.GFile(self._temp_path, "w")
    self._layer_indexes = layer_indexes
    self._write_pooled_output = write_pooled_output

  def write(self, feature, result):
    """Writes the line of one feature.

    Args:
      feature: `InputFeatures`.
      result: dict of its predictions: `layer_output_<j>`
        [seq_length, hidden_size] and, when asked for, `pooled_output`
        [hidden_size].
    """
    output_json = collections.OrderedDict()
    output_json["linex_index"] = feature.unique_id
    all_features = []
    # Only the real tokens are written, not the padding.
    for (i, token) in enumerate(feature.tokens):
      all_layers = []
      for (j, layer_index) in enumerate(self._layer_indexes):
        layer = collections.OrderedDict()
        layer["index"] = layer_index
        layer["values"] = _rounded(result["layer_output_%d" % j][i])
        all_layers.append(layer)
      token_features = collections.OrderedDict()
      token_features["token"] = token
      token_features["layers"] = all_layers
      all_features.append(token_features)
    output_json["features"] = all_features
    if self._write_pooled_output:
      output_json["pooled_output"] = _rounded(result["pooled_output"])
    self._writer.write(json.dumps(output_json) + "\n")

  def commit(self):
    """Closes the file and gives it its final name."""
    self._writer.close()
    script_io.commit_path(self._temp_path, self._output_file)

  def abort(self):
    """Closes and removes the partial file."""
    self._writer.close()
    script_io.discard_path(self._temp_path)


class _PositionTracker(object):
  """A write-only stream that knows its position but cannot seek.

  `zipfile` then writes each member's sizes after its data, so members can
  be streamed into a `tf.gfile.GFile` (which cannot seek while writing).
  """

  def __init__(self, stream):
    self._stream = stream
    self._position = 0

  def write(self, data):
    self._stream.write(data)
    self._position += len(data)
    return len(data)

  def tell(self):
    return self._position

  def flush(self):
    self._stream.flush()


class NpzWriter(object):
  """Writes one NumPy archive for all lines (`--output_format=npz`).

  Vectors and tokens go to scratch files as lines arrive; `commit` streams
  them into the archive's `.npy` members (their headers need the final
  sizes), written under a temporary name and then renamed.
  """

  def __init__(self, output_file, layer_indexes, write_pooled_output=False,
               dtype="float16"):
    self._output_file = output_file
    self._layer_indexes = layer_indexes
    self._dtype = np.dtype(dtype)
    # Hidden beside the output, so that a killed run's scratch is found and
    # removed by the next run (`script_io.temporary_path`).
    self._scratch_dir = script_io.temporary_path(output_file + ".scratch")
    tf.gfile.MakeDirs(self._scratch_dir)
    self._values = self._open_scratch("values", "wb")
    self._tokens = self._open_scratch("tokens", "w")
    self._pooled = (self._open_scratch("pooled_output", "wb")
                    if write_pooled_output else None)
    # Row where each line starts, and one past the last row at the end.
    self._line_offsets = self._open_scratch("line_offsets", "wb")
    self._line_offsets.write(np.int64(0).tobytes())
    self._num_lines = 0
    self._num_tokens = 0
    self._longest_token = 1
    self._hidden_size = None

  def _scratch_path(self, name):
    return os.path.join(self._scratch_dir, name)

  def _open_scratch(self, name, mode):
    return tf.gfile.GFile(self._scratch_path(name), mode)

  def write(self, feature, result):
    """Appends the vectors of one feature (see `JsonLinesWriter.write`)."""
    num_tokens = len(feature.tokens)
    layers = [result["layer_output_%d" % j][:num_tokens]
              for j in range(len(self._layer_indexes))]
    values = np.stack(layers, axis=1).astype(self._dtype)
    self._hidden_size = values.shape[-1]
    self._values.write(values.tobytes())
    self._tokens.write("".join(token + "\n" for token in feature.tokens))
    self._longest_token = max([self._longest_token] +
                              [len(token) for token in feature.tokens])
    if self._pooled is not None:
      self._pooled.write(
          np.asarray(result["pooled_output"], self._dtype).tobytes())
    self._num_lines += 1
    self._num_tokens += num_tokens
    self._line_offsets.write(np.int64(self._num_tokens).tobytes())

  def _close_scratch(self):
    for stream in (self._values, self._tokens, self._pooled,
                   self._line_offsets):
      if stream is not None:
        stream.close()

  def commit(self):
    """Writes the archive under a temporary name, then renames it."""
    self._close_scratch()
    try:
      with script_io.atomic_path(self._output_file) as temp_path:
        with tf.gfile.GFile(temp_path, "wb") as stream:
          with zipfile.ZipFile(_PositionTracker(stream), "w") as archive:
            self._write_members(archive)
    finally:
      script_io.discard_path(self._scratch_dir)

  def abort(self):
    """Drops everything written so far."""
    self._close_scratch()
    script_io.discard_path(self._scratch_dir)

  def _write_members(self, archive):
    hidden_size = self._hidden_size or 0
    _write_array(archive, "layers",
                 np.asarray(self._layer_indexes, dtype=np.int32))
    self._copy_scratch(archive, "line_offsets", np.int64,
                       (self._num_lines + 1,))
    self._copy_scratch(archive, "values", self._dtype,
                       (self._num_tokens, len(self._layer_indexes),
                        hidden_size))
    if self._pooled is not None:
      self._copy_scratch(archive, "pooled_output", self._dtype,
                         (self._num_lines, hidden_size))
    token_dtype = np.dtype("<U%d" % self._longest_token)
    with _npy_member(archive, "tokens", token_dtype,
                     (self._num_tokens,)) as member:
      lines = script_io.iter_text_lines(self._scratch_path("tokens"))
      while True:
        block = list(itertools.islice(lines, 65536))
        if not block:
          break
        member.write(np.asarray(block, dtype=token_dtype).tobytes())


  def _copy_scratch(self, archive, name, dtype, shape):
    """Copies the raw scratch file `name` into the archive as `name`.npy."""
    with _npy_member(archive, name, dtype, shape) as member:
      with tf.gfile.GFile(self._scratch_path(name), "rb") as source:
        shutil.copyfileobj(source, member, _COPY_CHUNK_BYTES)


def _npy_member(archive, name, dtype, shape):
  """Opens `name`.npy in `archive` with its header written; returns it."""
  member = archive.open(name + ".npy", "w", force_zip64=True)
  np.lib.format.write_array_header_1_0(member, {
      "descr": np.lib.format.dtype_to_descr(np.dtype(dtype)),
      "fortran_order": False,
      "shape": tuple(int(d) for d in shape),
  })
  return member


def _write_array(archive, name, array):
  with _npy_member(archive, name, array.dtype, array.shape) as member:
    member.write(np.ascontiguousarray(array).tobytes())


def write_predictions(pairs, writer, output_file):
  """Writes each `(feature, result)` pair as it comes, then commits.

  On any error the partial output is removed.

  Returns:
    The number of lines written.
  """
  progress = script_io.ProgressLog("%d lines done", "lines",
                                   every_seconds=PROGRESS_EVERY_SECONDS)
  try:
    for feature, result in pairs:
      writer.write(feature, result)
      progress.update(progress.count + 1)
  except BaseException:
    writer.abort()
    raise
  writer.commit()
  progress.finish("Wrote %d lines to %s", output_file)
  return progress.count


def parse_layer_indexes(layers, num_hidden_layers):
  """Parses `--layers` ("-1,-2") into ints valid for the model.

  Raises:
    InputError: if an entry is not an integer or not one of the model's
      layers (-num_hidden_layers .. num_hidden_layers - 1).
  """
  layer_indexes = []
  for entry in layers.split(","):
    try:
      layer_index = int(entry)
    except ValueError:
      raise script_io.InputError(
          "--layers=%s: %r is not an integer layer index" % (layers, entry))
    if not -num_hidden_layers <= layer_index < num_hidden_layers:
      raise script_io.InputError(
          "--layers=%s: index %d is outside the model's %d layers (use "
          "%d..%d, negative ones counting from the top; see "
          "--bert_config_file)" % (layers, layer_index, num_hidden_layers,
                                   -num_hidden_layers, num_hidden_layers - 1))
    layer_indexes.append(layer_index)
  return layer_indexes


def _nonempty_examples(input_file):
  """Returns `iter_examples(input_file)`, checked to hold a line at least."""
  examples = iter_examples(input_file)
  first = next(examples, None)
  if first is None:
    raise script_io.InputError(
        "--input_file=%s: the file is empty (expected one line per example: "
        "a sentence, or two separated by ' ||| ')" % input_file)
  return itertools.chain([first], examples)


def _open_writer(output_format, output_file, layer_indexes,
                 write_pooled_output, npz_dtype):
  """Returns the writer of `output_format` ("jsonl" or "npz")."""
  if output_format == "npz":
    return NpzWriter(output_file, layer_indexes, write_pooled_output,
                     npz_dtype)
  return JsonLinesWriter(output_file, layer_indexes, write_pooled_output)


def serving_outputs_fn(bert_config, layer_indexes):
  """The `outputs_fn` of `export.export_saved_model`.

  Returns:
    `outputs_fn(input_ids, input_mask, segment_ids)` giving
    `pooled_output` [batch, hidden_size] and, for each j,
    `layer_output_<j>` [batch, seq_length, hidden_size] of layer
    `layer_indexes[j]`, as `model_fn_builder`'s predictions.
  """

  def outputs_fn(input_ids, input_mask, segment_ids):
    model = modeling.BertModel(
        config=bert_config, is_training=False, input_ids=input_ids,
        input_mask=input_mask, token_type_ids=segment_ids)
    all_layers = model.get_all_encoder_layers()
    outputs = {"pooled_output": model.get_pooled_output()}
    for (j, layer_index) in enumerate(layer_indexes):
      outputs["layer_output_%d" % j] = all_layers[layer_index]
    return outputs

  return outputs_fn


def validate_flags_or_throw(bert_config):
  """Reads FLAGS; raises InputError for values that cannot work."""
  if FLAGS.max_seq_length < 3:
    raise script_io.InputError(
        "--max_seq_length=%d is too short: [CLS] and two [SEP] take 3" %
        FLAGS.max_seq_length)
  script_io.check_max_seq_length(FLAGS.max_seq_length,
                                 bert_config.max_position_embeddings,
                                 FLAGS.bert_config_file)


def main(_):
  tf.logging.set_verbosity(tf.logging.INFO)

  for flag_name in ("input_file", "vocab_file", "bert_config_file"):
    script_io.check_file(getattr(FLAGS, flag_name), flag_name)
  bert_config = runner.read_bert_config(FLAGS.bert_config_file)
  layer_indexes = parse_layer_indexes(FLAGS.layers,
                                      bert_config.num_hidden_layers)
  validate_flags_or_throw(bert_config)
  export.check_export_dir(FLAGS.export_dir)
  init_checkpoint = runner.resolve_checkpoint(FLAGS.init_checkpoint)
  runner.check_init_checkpoint(init_checkpoint, bert_config,
                               FLAGS.bert_config_file)
  tokenizer = tokenization.FullTokenizer(
      vocab_file=FLAGS.vocab_file, do_lower_case=FLAGS.do_lower_case,
      **script_io.tokenizer_options(FLAGS))
  runner.check_vocab_fits(tokenizer.vocab, bert_config, FLAGS.vocab_file,
                          FLAGS.bert_config_file)
  examples = _nonempty_examples(FLAGS.input_file)
  features = iter_features(examples, FLAGS.max_seq_length, tokenizer)

  model_fn = model_fn_builder(
      bert_config=bert_config,
      init_checkpoint=init_checkpoint,
      layer_indexes=layer_indexes,
      use_tpu=FLAGS.use_tpu,
      use_one_hot_embeddings=FLAGS.use_one_hot_embeddings,
      write_pooled_output=FLAGS.write_pooled_output)
  settings = runner.settings_from_flags(FLAGS)
  # Nothing is trained: the Estimator's directory only lives for this run,
  # hidden beside the output (the graph runner needs none).
  model_dir = None
  if runner.resolve_engine(settings) == "estimator" and not FLAGS.use_tpu:
    model_dir = script_io.temporary_path(FLAGS.output_file + ".model")
  estimator = runner.build_runner(
      model_fn, settings, model_dir=model_dir,
      predict_batch_size=FLAGS.batch_size)
  try:
    writer = _open_writer(FLAGS.output_format, FLAGS.output_file,
                          layer_indexes, FLAGS.write_pooled_output,
                          FLAGS.npz_dtype)
    pairs = predict_features(estimator, features, FLAGS.max_seq_length,
                             FLAGS.use_tpu)
    write_predictions(pairs, writer, FLAGS.output_file)
    if FLAGS.export_dir:
      export.export_saved_model(
          FLAGS.export_dir, serving_outputs_fn(bert_config, layer_indexes),
          init_checkpoint, FLAGS.max_seq_length)
  finally:
    if model_dir is not None:
      script_io.discard_path(model_dir)


if __name__ == "__main__":
  flags.mark_flag_as_required("input_file")
  flags.mark_flag_as_required("vocab_file")
  flags.mark_flag_as_required("bert_config_file")
  flags.mark_flag_as_required("init_checkpoint")
  flags.mark_flag_as_required("output_file")
  script_io.run(main)
