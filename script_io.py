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
patterns, TFRecord serialization and parsing, and progress lines for data
loops.
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import collections
import contextlib
import fcntl
import logging
import os
import sys
import time
import traceback
import uuid

from absl import app
from absl import flags
import tensorflow.compat.v1 as tf


# Several scripts define flags of the same names (`vocab_file`, ...) with the
# same meaning; passing this to every `flags.DEFINE_*` lets them be imported
# into one process (as notebooks and tests do). A command line sees no
# difference.
OVERRIDABLE = {"allow_override": True}


class ScriptError(Exception):
  """A failure `run` reports as one line, without a traceback."""


class InputError(ScriptError, ValueError):
  """Bad input from the user: reported as one line, without a traceback."""


def temporary_path(path):
  """Returns a fresh hidden name next to `path`, to write `path` under.

  Also serves for a scratch directory that belongs to `path`.

  The name, `.<name>.tmp-<pid>-<random>`, is hidden so that a pattern of the
  outputs (`out.tfrecord*`) never matches a half-written file. Temporary
  files of `path` left by processes of this machine that are gone (killed
  runs) are removed first.
  """
  (directory, name) = os.path.split(path)
  prefix = os.path.join(directory, ".%s.tmp-" % name)
  for stale in tf.gfile.Glob(prefix + "*"):
    pid = stale[len(prefix):].split("-")[0]
    if "://" not in path and pid.isdigit() and not _process_exists(int(pid)):
      discard_path(stale)
  return "%s%d-%s" % (prefix, os.getpid(), uuid.uuid4().hex[:8])


def _process_exists(pid):
  try:
    os.kill(pid, 0)
  except ProcessLookupError:
    return False
  except PermissionError:
    return True
  return True


def commit_path(temp_path, path):
  """Renames a completely written `temp_path` to its final `path`."""
  tf.gfile.Rename(temp_path, path, overwrite=True)


def discard_path(temp_path):
  """Removes the file or directory `temp_path` if it exists."""
  if tf.gfile.IsDirectory(temp_path):
    tf.gfile.DeleteRecursively(temp_path)
  elif tf.gfile.Exists(temp_path):
    tf.gfile.Remove(temp_path)


@contextlib.contextmanager
def atomic_path(path):
  """Yields a temporary path to write `path` at, then gives it that name.

  On failure the temporary file is removed and `path` is left as it was.

  Args:
    path: final output path (local or `gs://`).

  Yields:
    The path to write, e.g. with a `tf.io.TFRecordWriter`.
  """
  temp_path = temporary_path(path)
  try:
    yield temp_path
    commit_path(temp_path, path)
  finally:
    discard_path(temp_path)


@contextlib.contextmanager
def atomic_output(path, mode="w"):
  """Opens `path` for writing so that it appears complete or not at all.

  Args:
    path: final output path (local or `gs://`).
    mode: "w" for text, "wb" for bytes.

  Yields:
    A writable `tf.gfile.GFile`.
  """
  with atomic_path(path) as temp_path:
    with _open_for_writing(temp_path, mode) as writer:
      yield writer


@contextlib.contextmanager
def _open_for_writing(path, mode):
  """`tf.gfile.GFile(path, mode)`, made at once even if nothing is written.

  GFile makes its file at the first write, so an output with no line
  would otherwise not exist to be renamed.
  """
  with tf.gfile.GFile(path, mode) as writer:
    writer.write(b"" if "b" in mode else "")
    yield writer


class OutputSet(object):
  """Outputs that belong together, replaced all at once or not at all.

  Each is written to a temporary file; when the `with` block ends without an
  error they are renamed to their names one after another, and the members
  of the set not written this time are removed (so no stale file is left
  beside the new ones). On an error nothing is touched.

    with script_io.OutputSet([predictions_path, metrics_path]) as outputs:
      with outputs.open(predictions_path) as writer:
        writer.write(...)
  """

  def __init__(self, paths):
    self._paths = list(paths)
    self._written = collections.OrderedDict()

  def __enter__(self):
    return self

  @contextlib.contextmanager
  def open(self, path, mode="w"):
    """Opens `path`, one of the set, for writing."""
    if path not in self._paths:
      raise ValueError("%s is not one of %s" % (path, self._paths))
    temp_path = self._written.setdefault(path, temporary_path(path))
    with _open_for_writing(temp_path, mode) as writer:
      yield writer

  def __exit__(self, exc_type, exc_value, tb):
    try:
      if exc_type is None:
        for (path, temp_path) in self._written.items():
          commit_path(temp_path, path)
        for path in self._paths:
          if path not in self._written and tf.gfile.Exists(path):
            tf.gfile.Remove(path)
    finally:
      for temp_path in self._written.values():
        discard_path(temp_path)


def write_eval_results(output_eval_file, result):
  """Writes `key = value` lines in sorted key order, as the original."""
  tf.logging.info("***** Eval results *****")
  with atomic_output(output_eval_file) as writer:
    for key in sorted(result.keys()):
      tf.logging.info("  %s = %s", key, str(result[key]))
      writer.write("%s = %s\n" % (key, str(result[key])))


def varint(value):
  """Encodes an int as a protobuf base-128 varint.

  A negative value is encoded as its 64-bit two's complement, as protobuf
  encodes an int64.
  """
  if value < 0:
    value &= (1 << 64) - 1
  encoded = bytearray()
  while value > 0x7F:
    encoded.append((value & 0x7F) | 0x80)
    value >>= 7
  encoded.append(value)
  return bytes(encoded)


def _length_delimited_head(tag, length):
  """The bytes of a length-delimited field before its `length` bytes."""
  return tag + varint(length)


# Field tags (field number << 3 | wire type 2, length-delimited) of the
# `tf.train.Example` messages: Example.features, a Features.feature map
# entry and its key share 0x0A; the entry's value is 0x12.
_FEATURES = b"\x0a"
_MAP_ENTRY = b"\x0a"
_MAP_KEY = b"\x0a"
_MAP_VALUE = b"\x12"
# A Feature's float_list (field 2) and int64_list (field 3), and their packed
# values (field 1).
FLOAT_LIST = b"\x12"
INT64_LIST = b"\x1a"
_PACKED_VALUES = b"\x0a"


def feature_entry_head(name, feature_length):
  """The bytes of a `Features.feature` map entry before its Feature's bytes.

  Args:
    name: the feature name.
    feature_length: the length of the serialized `tf.train.Feature`.

  Returns:
    bytes.
  """
  name = name.encode("utf-8")
  body_head = (_length_delimited_head(_MAP_KEY, len(name)) + name +
               _length_delimited_head(_MAP_VALUE, feature_length))
  return _length_delimited_head(
      _MAP_ENTRY, len(body_head) + feature_length) + body_head


def packed_list_feature_head(list_tag, values_length):
  """The bytes of a `tf.train.Feature` before its packed values.

  Args:
    list_tag: `INT64_LIST` or `FLOAT_LIST`.
    values_length: the length of the packed values (varints, or 4 bytes per
      float); protobuf writes no values field for an empty list.

  Returns:
    bytes.
  """
  values_head = (_length_delimited_head(_PACKED_VALUES, values_length)
                 if values_length else b"")
  return _length_delimited_head(
      list_tag, len(values_head) + values_length) + values_head


def example_from_entries(entries):
  """The serialized `tf.train.Example` of concatenated feature map entries."""
  return _length_delimited_head(_FEATURES, len(entries)) + entries


def serialize_example_in_order(features):
  """Serializes a `tf.train.Example` with its features in the given order.

  `Features.feature` is a protobuf map, which protobuf's C++ and upb
  backends serialize in a hash order, so the original's TFRecord files are
  not byte-stable. The map entries are written here in the given order, the
  bytes protobuf's pure-Python backend writes for the original's ordered
  dict.

  Args:
    features: an ordered dict, or a list of pairs, of feature name to
      `tf.train.Feature`.

  Returns:
    The serialized `tf.train.Example`, bytes.
  """
  if hasattr(features, "items"):
    features = features.items()
  entries = []
  for (name, feature) in features:
    feature_bytes = feature.SerializeToString()
    entries.append(feature_entry_head(name, len(feature_bytes)))
    entries.append(feature_bytes)
  return example_from_entries(b"".join(entries))


def int64_feature(values):
  """A `tf.train.Feature` holding the ints of the iterable `values`."""
  return tf.train.Feature(int64_list=tf.train.Int64List(value=list(values)))


def float_feature(values):
  """A `tf.train.Feature` holding the floats of the iterable `values`."""
  return tf.train.Feature(float_list=tf.train.FloatList(value=list(values)))


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


class ProgressLog(object):
  """Logs how far a loop has come: its count, rate and, if known, time left.

  A line `template % (count, *values)`, then e.g. ", 52.3 records/s, 1m05s
  left", at most every `every_seconds`:

    progress = script_io.ProgressLog("Wrote %d of 900 records", "records",
                                     total=900)
    for (index, record) in enumerate(records):
      writer.write(record)
      progress.update(index + 1)

  The rate counts from the first `update`, so that the setup before the
  loop (building a graph, restoring a checkpoint) does not blur it; a line
  logged before a rate can be measured has none.

  Attributes:
    count: the count of the last `update`.
  """

  def __init__(self, template, unit, total=None, every_seconds=10.0):
    """Starts the clock of `every_seconds`.

    Args:
      template: a %-format of the count and `update`'s other values.
      unit: what is counted, plural ("records").
      total: the count at the end, if known, for the time left.
      every_seconds: the least time between two lines.
    """
    self._template = template
    self._unit = unit
    self._total = total
    self._every_seconds = every_seconds
    self._last_log = time.time()
    self._first = None
    self.count = 0

  def update(self, count, *values):
    """Notes that `count` are done; logs a line if one is due."""
    self.count = count
    now = time.time()
    if self._first is None:
      self._first = (count, now)
    if now - self._last_log >= self._every_seconds:
      self._last_log = now
      self._log(self._template, (count,) + values, now, self._total)

  def finish(self, template, *values):
    """Logs `template % (count, *values)` and the rate of the whole loop."""
    self._log(template, (self.count,) + values, time.time(), None)

  def _log(self, template, values, now, total):
    (first_count, first_time) = self._first or (self.count, now)
    if self.count > first_count and now > first_time:
      rate = (self.count - first_count) / (now - first_time)
      left = None if total is None else max(total - self.count, 0) / rate
      tf.logging.info(template + ", %s", *(values + (
          format_rate(rate, self._unit, left),)))
    else:
      tf.logging.info(template, *values)


def format_rate(rate, unit, seconds_left=None):
  """Formats e.g. "52.3 records/s" or "52.3 records/s, 1m05s left"."""
  if seconds_left is None:
    return "%.1f %s/s" % (rate, unit)
  return "%.1f %s/s, %s left" % (rate, unit, format_duration(seconds_left))


def format_duration(seconds):
  """Formats seconds as e.g. "1h02m", "3m05s" or "12s"."""
  seconds = int(round(seconds))
  if seconds >= 3600:
    return "%dh%02dm" % (seconds // 3600, seconds % 3600 // 60)
  if seconds >= 60:
    return "%dm%02ds" % (seconds // 60, seconds % 60)
  return "%ds" % seconds


_READ_BLOCK_BYTES = 1 << 22


def iter_text_lines(path):
  """Yields the lines of a UTF-8 text file lazily, as the original reads them.

  Quirk of the original: it reads with `tf.gfile.GFile.readline`, which
  splits on "\\n" only (a U+2028, U+0085 or vertical tab stays inside its
  line, where `splitlines` would split) and drops every "\\r" byte, wherever
  it stands in the line. Bytes that are not UTF-8 are dropped, with one
  warning per file saying how many and where the first was (the original
  stops with a UnicodeDecodeError).

  Args:
    path: the file (local or `gs://`).

  Yields:
    Each line as a `str`, without its "\\n".
  """
  bad_bytes = 0
  first_bad_line = None
  line_number = 0
  pending = b""
  with tf.gfile.GFile(path, "rb") as reader:
    while True:
      block = reader.read(_READ_BLOCK_BYTES)
      lines = (pending + block).replace(b"\r", b"").split(b"\n")
      pending = lines.pop() if block else b""
      for line in lines:
        line_number += 1
        try:
          text = line.decode("utf-8")
        except UnicodeDecodeError:
          text = line.decode("utf-8", "ignore")
          bad_bytes += len(line) - len(text.encode("utf-8"))
          first_bad_line = first_bad_line or line_number
        if block or line:
          yield text
      if not block:
        break
  if bad_bytes:
    tf.logging.warning(
        "%s: %d bytes that are not UTF-8 were dropped, the first on line %d.",
        path, bad_bytes, first_bad_line)


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
    for path in matched:
      check_file(path, flag_name)
    files.extend(matched)
  return files


def check_file(path, flag_name):
  """Raises InputError unless `path` is a file that exists."""
  if tf.gfile.IsDirectory(path):
    raise InputError("--%s: %s is a directory, not a file" % (flag_name, path))
  if not tf.gfile.Exists(path):
    raise InputError("--%s=%s: no such file" % (flag_name, path))


def check_output_file(path, flag_name):
  """Raises InputError unless `path` names a file that can be written."""
  if not path:
    raise InputError("--%s: no file name given" % flag_name)
  if tf.gfile.IsDirectory(path):
    raise InputError("--%s=%s is a directory, not a file" % (flag_name, path))
  directory = os.path.dirname(path)
  if directory and "://" not in path and not tf.gfile.IsDirectory(directory):
    raise InputError("--%s=%s: the directory %s does not exist" %
                     (flag_name, path, directory))


def check_max_seq_length(max_seq_length, max_position_embeddings,
                         bert_config_file):
  """Raises InputError if --max_seq_length is longer than the model allows.

  The original's message (a ValueError there), naming the flag and file.
  """
  if max_seq_length > max_position_embeddings:
    raise InputError(
        "--max_seq_length=%d: cannot use this sequence length because the "
        "BERT model was only trained up to sequence length %d "
        "(max_position_embeddings in %s)" %
        (max_seq_length, max_position_embeddings, bert_config_file))


def define_vocab_flags():
  """Defines the original's `--vocab_file` and `--do_lower_case`.

  And `define_tokenizer_flags`' flags beside them.
  """
  flags.DEFINE_string(
      "vocab_file", None,
      "The vocabulary file that the BERT model was trained on.",
      **OVERRIDABLE)
  flags.DEFINE_bool(
      "do_lower_case", True,
      "Whether to lower case the input text. Should be True for uncased "
      "models and False for cased models.", **OVERRIDABLE)
  define_tokenizer_flags()


def define_tokenizer_flags():
  """Defines `--strip_accents` and `--never_split`, beside `--do_lower_case`.

  Unset, they keep the original's tokens.
  """
  flags.DEFINE_bool(
      "strip_accents", None,
      "Whether to strip accents. Unset (the original): exactly when "
      "--do_lower_case. --do_lower_case --nostrip_accents lower-cases and "
      "keeps accents (German, Spanish, Vietnamese...).", **OVERRIDABLE)
  flags.DEFINE_list(
      "never_split", [],
      "Comma-separated strings the tokenizer keeps whole (not lower-cased, "
      "not split on punctuation), e.g. [MASK],[CLS] or your own markers; "
      "those in the vocab map to their ids.", **OVERRIDABLE)


def tokenizer_options(flag_values):
  """The `strip_accents`/`never_split` arguments for the tokenizers.

  Args:
    flag_values: parsed flags holding `define_tokenizer_flags`' flags.

  Returns:
    A dict to pass to `FullTokenizer` or `BasicTokenizer` as keywords.
  """
  return dict(strip_accents=flag_values.strip_accents,
              never_split=flag_values.never_split or None)


@contextlib.contextmanager
def locked_directory(directory, flag_name):
  """Creates `directory` and holds a lock on it while the block runs.

  A second run into the same directory (two trainings would interleave
  their checkpoints) fails at once naming the process that holds it. The
  lock is the operating system's on `directory/.lock`, so a killed run
  leaves no lock behind. Cloud storage (`gs://`) has no such locks: there
  nothing is locked.

  Raises:
    InputError: if `directory` is a file, cannot be made, or is locked.
  """
  if tf.gfile.Exists(directory) and not tf.gfile.IsDirectory(directory):
    raise InputError("--%s=%s is a file, not a directory" %
                     (flag_name, directory))
  try:
    tf.gfile.MakeDirs(directory)
  except tf.errors.OpError as e:
    raise InputError("--%s=%s: cannot make the directory: %s" %
                     (flag_name, directory, one_line_message(e)))
  if "://" in directory:
    yield
    return
  with open(os.path.join(directory, ".lock"), "a+") as lock_file:
    try:
      fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except (IOError, OSError):
      lock_file.seek(0)
      raise InputError(
          "--%s=%s is in use by another run (process %s): wait for it to "
          "end or choose another directory" %
          (flag_name, directory, lock_file.read().strip() or "unknown"))
    lock_file.seek(0)
    lock_file.truncate()
    lock_file.write("%d\n" % os.getpid())
    lock_file.flush()
    try:
      yield
    finally:
      fcntl.flock(lock_file, fcntl.LOCK_UN)


@contextlib.contextmanager
def naming_corrupt_records(files, flag_name):
  """Turns a corrupt-record error in the block into one naming the file.

  TensorFlow's message gives a byte offset but not the file; on such an
  error the files are read through once to find it.
  """
  try:
    yield
  except tf.errors.DataLossError as e:
    raise InputError("--%s: %s" %
                     (flag_name, _find_corrupt_record(files) or
                      one_line_message(e)))


def _find_corrupt_record(files):
  for path in files:
    count = 0
    try:
      for _ in tf.io.tf_record_iterator(path):
        count += 1
    except tf.errors.DataLossError as e:
      return "%s: record %d is corrupt or truncated (%s)" % (
          path, count + 1, one_line_message(e))
  return None


def one_line_message(error):
  """The line of `error`'s message that says what went wrong.

  TensorFlow 2 wraps the message of an error raised while a graph runs in
  "Graph execution error:" and the stack where the failing op was made; the
  cause follows the line naming the op ("Node: ...").
  """
  lines = [line.strip() for line in
           (getattr(error, "message", None) or str(error)).splitlines()]
  if lines and lines[0].startswith("Graph execution error"):
    node_lines = [i for (i, line) in enumerate(lines)
                  if line.startswith("Node: ")]
    lines = lines[node_lines[-1] + 1:] if node_lines else lines[1:]
  for line in lines:
    if line and not line.startswith(("[[", "Detected at node", "File ")):
      return line
  return type(error).__name__


def _log_each_line_once():
  """Leaves TensorFlow's log lines to absl's handler alone.

  TensorFlow gives its logger a handler of its own when it is imported
  before absl sets up logging, and absl's handler prints the same records
  again.
  """
  logger = logging.getLogger("tensorflow")
  for handler in list(logger.handlers):
    logger.removeHandler(handler)


def run(main):
  """Runs `main` under absl, reporting bad input as a one-line error.

  `ScriptError`s (`InputError` among them), `ValueError` (what the modules
  raise for bad configs, vocabs and flags), TensorFlow's errors (missing or
  corrupt files, a NaN loss) and the operating system's end the program
  with "error: <message>" on stderr and exit status 2. The traceback is
  logged at debug level, and printed with `--verbose`.
  """
  flags.DEFINE_bool(
      "verbose", False,
      "On an error, print its traceback too, not only its one-line summary.",
      **OVERRIDABLE)

  def guarded_main(argv):
    _log_each_line_once()
    try:
      return main(argv)
    except (ScriptError, ValueError, EnvironmentError, tf.errors.OpError,
            tf.train.NanLossDuringTrainingError) as e:
      if flags.FLAGS.verbose:
        traceback.print_exc()
      else:
        tf.logging.debug(traceback.format_exc())
      sys.stderr.write("error: %s\n" % one_line_message(e))
      sys.exit(2)

  app.run(guarded_main)
