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
"""The Estimator, TPU and file plumbing the scripts share.

The original repeats this in each script; here it is written once:
TPU/CPU/GPU flags and the `TPUEstimator` built from them, restoring a
checkpoint with the `**** Trainable Variables ****` listing, progress logs,
files written completely or not at all, and one-line errors for bad input.
Everything runs on TensorFlow 1.15 and on 2.x through `tf.compat.v1`.
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import contextlib
import sys
import time
import traceback
import uuid

from absl import app
from absl import flags
import tensorflow.compat.v1 as tf

import modeling

FLAGS = flags.FLAGS

# Graph collection holding the training loss that `ProgressHook` reports.
TRAINING_LOSS_COLLECTION = "bert_training_loss"


class InputError(ValueError):
  """Bad input from the user: reported as one line, without a traceback."""


def define_tpu_flags():
  """Defines the original's TPU flags (same names, types and defaults).

  Does nothing when they are already defined, so that several scripts can
  be imported into one process (as tests do).
  """
  if "use_tpu" in FLAGS:
    return
  flags.DEFINE_bool("use_tpu", False, "Whether to use TPU or GPU/CPU.")
  flags.DEFINE_string(
      "tpu_name", None,
      "The Cloud TPU to use for training. This should be either the name "
      "used when creating the Cloud TPU, or a grpc://ip.address.of.tpu:8470 "
      "url.")
  flags.DEFINE_string(
      "tpu_zone", None,
      "[Optional] GCE zone where the Cloud TPU is located in. If not "
      "specified, we will attempt to automatically detect the GCE project "
      "from metadata.")
  flags.DEFINE_string(
      "gcp_project", None,
      "[Optional] Project name for the Cloud TPU-enabled project. If not "
      "specified, we will attempt to automatically detect the GCE project "
      "from metadata.")
  flags.DEFINE_string("master", None, "[Optional] TensorFlow master URL.")
  flags.DEFINE_integer(
      "num_tpu_cores", 8,
      "Only used if `use_tpu` is True. Total number of TPU cores to use.")


def build_estimator(model_fn, model_dir=None, save_checkpoints_steps=None,
                    iterations_per_loop=1000, train_batch_size=None,
                    eval_batch_size=None, predict_batch_size=None):
  """Builds the `TPUEstimator` every script runs on, from the TPU flags.

  With `--use_tpu=False` it runs on the CPU or a GPU, as a plain Estimator.

  Args:
    model_fn: the model function, returning `TPUEstimatorSpec`s.
    model_dir: where checkpoints and summaries go (None: a temporary dir).
    save_checkpoints_steps: steps between checkpoints.
    iterations_per_loop: steps per TPU loop (and between progress logs).
    train_batch_size, eval_batch_size, predict_batch_size: global batch
      sizes (None for modes the script does not run).

  Returns:
    A `tf.estimator.tpu.TPUEstimator`.
  """
  tpu_cluster_resolver = None
  if FLAGS.use_tpu and FLAGS.tpu_name:
    tpu_cluster_resolver = tf.distribute.cluster_resolver.TPUClusterResolver(
        FLAGS.tpu_name, zone=FLAGS.tpu_zone, project=FLAGS.gcp_project)

  per_host = tf.estimator.tpu.InputPipelineConfig.PER_HOST_V2
  run_config = tf.estimator.tpu.RunConfig(
      cluster=tpu_cluster_resolver,
      master=FLAGS.master,
      model_dir=model_dir,
      save_checkpoints_steps=save_checkpoints_steps,
      # On TPU, TPUEstimator logs loss and examples/s once per loop. On CPU
      # and GPU a "loop" is one step, so it would log every step: there
      # `ProgressHook` reports instead.
      log_step_count_steps=iterations_per_loop if FLAGS.use_tpu else None,
      tpu_config=tf.estimator.tpu.TPUConfig(
          iterations_per_loop=iterations_per_loop,
          num_shards=FLAGS.num_tpu_cores,
          per_host_input_for_training=per_host))

  # If TPU is not available, this falls back to a normal Estimator on CPU
  # or GPU.
  return tf.estimator.tpu.TPUEstimator(
      use_tpu=FLAGS.use_tpu,
      model_fn=model_fn,
      config=run_config,
      train_batch_size=train_batch_size,
      eval_batch_size=eval_batch_size,
      predict_batch_size=predict_batch_size)


def resolve_checkpoint(init_checkpoint, flag_name="init_checkpoint"):
  """Returns the checkpoint prefix `init_checkpoint` names.

  A directory stands for its latest checkpoint.

  Raises:
    InputError: if there is no such checkpoint.
  """
  if tf.gfile.IsDirectory(init_checkpoint):
    latest = tf.train.latest_checkpoint(init_checkpoint)
    if latest is None:
      raise InputError("--%s=%s: the directory holds no checkpoint." %
                       (flag_name, init_checkpoint))
    return latest
  if not tf.gfile.Exists(init_checkpoint + ".index"):
    raise InputError(
        "--%s=%s: no such checkpoint (expected %s.index and its data "
        "files)." % (flag_name, init_checkpoint, init_checkpoint))
  return init_checkpoint


def init_from_checkpoint(init_checkpoint, use_tpu, flag_name="init_checkpoint"):
  """Initializes the graph's variables found in `init_checkpoint`.

  Call inside a model_fn, after the model is built. Logs every trainable
  variable, marking those restored with `*INIT_FROM_CKPT*`, as the original.

  Args:
    init_checkpoint: checkpoint prefix or directory; None or "" to skip.
    use_tpu: bool; on TPU the restore must run in the Scaffold.
    flag_name: the flag the path came from, named in errors.

  Returns:
    The `scaffold_fn` for `TPUEstimatorSpec` (None unless on TPU).

  Raises:
    InputError: if the checkpoint is missing or one of its variables has a
      different shape from the model's variable of that name.
  """
  tvars = tf.trainable_variables()
  initialized_variable_names = {}
  scaffold_fn = None
  if init_checkpoint:
    init_checkpoint = resolve_checkpoint(init_checkpoint, flag_name)
    _check_shapes_match(tvars, init_checkpoint, flag_name)
    (assignment_map, initialized_variable_names
    ) = modeling.get_assignment_map_from_checkpoint(tvars, init_checkpoint)
    if use_tpu:

      def tpu_scaffold():
        tf.train.init_from_checkpoint(init_checkpoint, assignment_map)
        return tf.train.Scaffold()

      scaffold_fn = tpu_scaffold
    else:
      tf.train.init_from_checkpoint(init_checkpoint, assignment_map)

  tf.logging.info("**** Trainable Variables ****")
  for var in tvars:
    init_string = ""
    if var.name in initialized_variable_names:
      init_string = ", *INIT_FROM_CKPT*"
    tf.logging.info("  name = %s, shape = %s%s", var.name, var.shape,
                    init_string)
  return scaffold_fn


def _check_shapes_match(tvars, init_checkpoint, flag_name):
  saved_shapes = dict(tf.train.list_variables(init_checkpoint))
  for var in tvars:
    name = var.op.name
    if name in saved_shapes:
      saved = list(saved_shapes[name])
      wanted = var.shape.as_list()
      if saved != wanted:
        raise InputError(
            "--%s=%s: variable %s has shape %s there but %s in this model "
            "(does --bert_config_file match the checkpoint?)" %
            (flag_name, init_checkpoint, name, saved, wanted))


def read_bert_config(bert_config_file):
  """Reads `--bert_config_file`, naming the flag when the file is missing."""
  if not tf.gfile.Exists(bert_config_file):
    raise InputError("--bert_config_file=%s: no such file" % bert_config_file)
  return modeling.BertConfig.from_json_file(bert_config_file)


def track_training_loss(loss, use_tpu=False):
  """Registers the training loss for `ProgressHook` to report.

  On a TPU the loss lives inside the replicated computation, where a
  host-side hook cannot fetch it (TPUEstimator logs it once per loop
  there), so nothing is registered and the progress lines show "n/a".
  """
  if not use_tpu:
    tf.add_to_collection(TRAINING_LOSS_COLLECTION, loss)


class ProgressHook(tf.train.SessionRunHook):
  """Logs step, loss, examples/s and the time left every `every_n_steps`."""

  def __init__(self, num_train_steps, batch_size, every_n_steps):
    self._num_train_steps = num_train_steps
    self._batch_size = batch_size
    self._every_n_steps = max(1, every_n_steps)

  def begin(self):
    self._global_step = tf.train.get_or_create_global_step()
    losses = tf.get_collection(TRAINING_LOSS_COLLECTION)
    self._fetches = {"step": self._global_step}
    if losses:
      self._fetches["loss"] = losses[0]
    self._last_time = None
    self._last_step = None

  def before_run(self, run_context):
    return tf.train.SessionRunArgs(self._fetches)

  def after_run(self, run_context, run_values):
    # The step fetched with the train op may be read before or after the
    # op's increment; it only decides whether a report may be due, and the
    # report reads the settled step (as TensorFlow's StepCounterHook does).
    stale_step = int(run_values.results["step"])
    if self._last_step is not None and (
        stale_step + 1 - self._last_step < self._every_n_steps and
        stale_step + 1 < self._num_train_steps):
      return
    step = int(run_context.session.run(self._global_step))
    now = time.time()
    if self._last_step is None or step <= self._last_step:
      self._last_time, self._last_step = now, step
      return
    steps_per_sec = (step - self._last_step) / max(now - self._last_time,
                                                    1e-9)
    left = max(self._num_train_steps - step, 0) / max(steps_per_sec, 1e-9)
    loss = run_values.results.get("loss")
    tf.logging.info(
        "step %d/%d: loss = %s, %.1f examples/s, %s left", step,
        self._num_train_steps, "%.4f" % loss if loss is not None else "n/a",
        steps_per_sec * self._batch_size, format_duration(left))
    self._last_time, self._last_step = now, step


def format_duration(seconds):
  """Formats seconds as e.g. "1h02m", "3m05s" or "12s"."""
  seconds = int(round(seconds))
  if seconds >= 3600:
    return "%dh%02dm" % (seconds // 3600, seconds % 3600 // 60)
  if seconds >= 60:
    return "%dm%02ds" % (seconds // 60, seconds % 60)
  return "%ds" % seconds


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


def truncate_seq_pair(tokens_a, tokens_b, max_length):
  """Cuts two token lists in place until together they fit `max_length`.

  One token at a time from the end of the longer list (the second on a
  tie), as the original: a short sentence keeps all its tokens, which a cut
  by proportion would not guarantee.
  """
  while len(tokens_a) + len(tokens_b) > max_length:
    if len(tokens_a) > len(tokens_b):
      tokens_a.pop()
    else:
      tokens_b.pop()


def pack_sentence_pair(tokenizer, text_a, text_b, max_seq_length):
  """Tokenizes one sentence or a pair into BERT's fixed-length input.

  `[CLS] A [SEP]` or `[CLS] A [SEP] B [SEP]`, cut to `max_seq_length` (the
  pair by `truncate_seq_pair`) and padded with 0. Segment (token type) 0
  covers [CLS], A and its [SEP]; 1 covers B and the last [SEP].
  Quirk of the original: a non-empty `text_b` that tokenizes to nothing
  (e.g. only spaces) gives a single-sentence input, without a second [SEP].

  Args:
    tokenizer: a `tokenization.FullTokenizer`.
    text_a: the first sentence.
    text_b: the second sentence, or None.
    max_seq_length: length of the outputs, [CLS] and [SEP]s included.

  Returns:
    (tokens, input_ids, input_mask, segment_ids): the real tokens, then
    three int lists of length `max_seq_length`.
  """
  tokens_a = tokenizer.tokenize(text_a)
  tokens_b = tokenizer.tokenize(text_b) if text_b else None
  if tokens_b:
    truncate_seq_pair(tokens_a, tokens_b, max_seq_length - 3)
  elif len(tokens_a) > max_seq_length - 2:
    tokens_a = tokens_a[0:(max_seq_length - 2)]

  tokens = ["[CLS]"] + tokens_a + ["[SEP]"]
  segment_ids = [0] * len(tokens)
  if tokens_b:
    tokens += tokens_b + ["[SEP]"]
    segment_ids += [1] * (len(tokens_b) + 1)
  input_ids = tokenizer.convert_tokens_to_ids(tokens)
  # Real tokens get mask 1, padding 0: attention ignores the padding.
  input_mask = [1] * len(input_ids)
  padding = [0] * (max_seq_length - len(input_ids))
  return (tokens, input_ids + padding, input_mask + padding,
          segment_ids + padding)


def run(main):
  """Runs `main` under absl, reporting bad input as a one-line error.

  `InputError` and `ValueError` (what the modules raise for bad configs,
  vocabs and flags), and TensorFlow's errors for missing or corrupt files,
  end the program with "error: <message>" on stderr and
  exit status 2; the traceback is logged at debug level only.
  """

  def guarded_main(argv):
    try:
      return main(argv)
    except (InputError, ValueError, tf.errors.NotFoundError,
            tf.errors.DataLossError) as e:
      tf.logging.debug(traceback.format_exc())
      message = (getattr(e, "message", None) or str(e)).strip()
      first_line = message.splitlines()[0] if message else type(e).__name__
      sys.stderr.write("error: %s\n" % first_line)
      sys.exit(2)

  app.run(guarded_main)
