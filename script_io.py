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
"""File and command-line plumbing the scripts share; it imports no model.

One-line errors for bad input (`InputError`, `run`), outputs written
completely or not at all, text lines read as the original reads them, file
patterns, and TFRecord serialization and parsing.
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import contextlib
import sys
import traceback
import uuid

from absl import app
import tensorflow.compat.v1 as tf


class ScriptError(Exception):
  """A failure `run` reports as one line, without a traceback."""


class InputError(ScriptError, ValueError):
  """Bad input from the user: reported as one line, without a traceback."""


@contextlib.contextmanager
def atomic_output(path, mode="w"):
  """Opens `path` for writing so that it appears complete or not at all.

  Writes to a temporary name in the same directory and renames it to `path`
  on success; on failure the temporary file is removed.

  Args:
    path: final output path (local or `gs://`).
    mode: "w" for text, "wb" for bytes.

  Yields:
    A writable `tf.gfile.GFile`.
  """
  temp_path = "%s.tmp-%s" % (path, uuid.uuid4().hex[:8])
  try:
    with tf.gfile.GFile(temp_path, mode) as writer:
      yield writer
    tf.gfile.Rename(temp_path, path, overwrite=True)
  finally:
    if tf.gfile.Exists(temp_path):
      tf.gfile.Remove(temp_path)


def temporary_path(path):
  """Returns a fresh temporary name next to `path`, for `commit_path`."""
  return "%s.tmp-%s" % (path, uuid.uuid4().hex[:8])


def commit_path(temp_path, path):
  """Renames a completely written `temp_path` to its final `path`."""
  tf.gfile.Rename(temp_path, path, overwrite=True)


def write_eval_results(output_eval_file, result):
  """Writes `key = value` lines in sorted key order, as the original."""
  tf.logging.info("***** Eval results *****")
  with atomic_output(output_eval_file) as writer:
    for key in sorted(result.keys()):
      tf.logging.info("  %s = %s", key, str(result[key]))
      writer.write("%s = %s\n" % (key, str(result[key])))


def _varint(value):
  """Encodes a non-negative int as a protobuf base-128 varint."""
  encoded = bytearray()
  while True:
    low_bits = value & 0x7F
    value >>= 7
    if value:
      encoded.append(low_bits | 0x80)
    else:
      encoded.append(low_bits)
      return bytes(encoded)


def serialize_example_in_order(features):
  """Serializes a `tf.train.Example` with its features in the given order.

  `Features.feature` is a protobuf map, which protobuf's C++ and upb
  backends serialize in a hash order, so the original's TFRecord files are
  not byte-stable. Each entry is serialized here as a one-entry `Features`
  message: their concatenation is a valid `Features` message (map entries
  are a repeated field) with the entries in order, the bytes protobuf's
  pure-Python backend writes for the original's ordered dict.

  Args:
    features: an ordered dict, or a list of pairs, of feature name to
      `tf.train.Feature`.

  Returns:
    The serialized `tf.train.Example`, bytes.
  """
  if hasattr(features, "items"):
    features = features.items()
  features_bytes = b"".join(
      tf.train.Features(feature={name: feature}).SerializeToString()
      for (name, feature) in features)
  # Example.features is field 1, length-delimited: the tag byte is 0x0A.
  return b"\x0a" + _varint(len(features_bytes)) + features_bytes


def decode_record(record, name_to_features):
  """Parses one serialized `tf.train.Example` into a dict of tensors.

  Integers come out as int32: tf.Example stores only int64, which TPUs do
  not take.
  """
  example = tf.parse_single_example(record, name_to_features)
  for name in list(example.keys()):
    if example[name].dtype == tf.int64:
      example[name] = tf.cast(example[name], tf.int32)
  return example


def tfrecord_input_fn_builder(input_file, name_to_features, is_training,
                              drop_remainder):
  """Returns a TPUEstimator `input_fn` over one TFRecord file.

  The fine-tuning scripts' input pipeline: training cycles through the file
  forever, shuffled in a window of 100 records (unseeded, as the
  original); evaluation and prediction read it once, in order.

  Args:
    input_file: the TFRecord file.
    name_to_features: dict of feature name to `tf.FixedLenFeature`.
    is_training: bool.
    drop_remainder: True to make every batch full (needed on TPU).

  Returns:
    `input_fn(params)` giving batches of `params["batch_size"]` records.
  """

  def input_fn(params):
    dataset = tf.data.TFRecordDataset(input_file)
    if is_training:
      dataset = dataset.repeat()
      dataset = dataset.shuffle(buffer_size=100)
    return dataset.apply(
        tf.data.experimental.map_and_batch(
            lambda record: decode_record(record, name_to_features),
            batch_size=params["batch_size"],
            drop_remainder=drop_remainder))

  return input_fn


_READ_BLOCK_BYTES = 1 << 22


def iter_text_lines(path):
  """Yields the lines of a UTF-8 text file lazily, as the original reads them.

  Quirk of the original: it reads with `tf.gfile.GFile.readline`, which
  splits on "\\n" only (a U+2028, U+0085 or vertical tab stays inside its
  line, where `splitlines` would split) and drops every "\\r" byte, wherever
  it stands in the line. Bytes that are not UTF-8 are dropped (the original
  stops with a UnicodeDecodeError).

  Args:
    path: the file (local or `gs://`).

  Yields:
    Each line as a `str`, without its "\\n".
  """
  pending = b""
  with tf.gfile.GFile(path, "rb") as reader:
    while True:
      block = reader.read(_READ_BLOCK_BYTES)
      if not block:
        break
      lines = (pending + block).replace(b"\r", b"").split(b"\n")
      pending = lines.pop()
      for line in lines:
        yield line.decode("utf-8", "ignore")
  if pending:
    yield pending.decode("utf-8", "ignore")


def read_text_lines(path):
  """Returns the list of `iter_text_lines(path)`."""
  return list(iter_text_lines(path))


def expand_file_patterns(patterns, flag_name):
  """Expands comma-separated globs, in the order given.

  Quirk of the original: `tf.gfile.Glob` returns the file system's order,
  not a sorted one, and that order decides the output; it is kept.

  Raises:
    InputError: if a pattern matches no file.
  """
  files = []
  for pattern in patterns.split(","):
    if not pattern:
      continue
    try:
      matched = tf.gfile.Glob(pattern)
    except tf.errors.NotFoundError:
      # TF 1.15 raises here when the pattern's directory does not exist.
      matched = []
    if not matched:
      raise InputError("--%s: no file matches %s" % (flag_name, pattern))
    files.extend(matched)
  return files


def run(main):
  """Runs `main` under absl, reporting bad input as a one-line error.

  `ScriptError`s (`InputError` among them), `ValueError` (what the modules
  raise for bad configs, vocabs and flags), TensorFlow's errors for missing
  or corrupt files and the Estimator's NaN-loss error end the program with
  "error: <message>" on stderr and exit status 2; the traceback is logged
  at debug level only.
  """

  def guarded_main(argv):
    try:
      return main(argv)
    except (ScriptError, ValueError, tf.errors.NotFoundError,
            tf.errors.DataLossError, tf.train.NanLossDuringTrainingError) as e:
      tf.logging.debug(traceback.format_exc())
      message = (getattr(e, "message", None) or str(e)).strip()
      first_line = message.splitlines()[0] if message else type(e).__name__
      sys.stderr.write("error: %s\n" % first_line)
      sys.exit(2)

  app.run(guarded_main)
