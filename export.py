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
"""Writes a fine-tuned model as a SavedModel, for TensorFlow Serving.

The serving graph is built in graph mode from the script's own model (so it
computes what `--do_predict` computes), the checkpoint is restored into it,
and `tf.compat.v1.saved_model.Builder` writes it with one `serving_default`
signature, on every TensorFlow line:

  inputs:  input_ids, input_mask, segment_ids: int32 [batch, max_seq_length]
           (any batch size)
  outputs: what the script names them, e.g. `probabilities`
           [batch, num_labels] for run_classifier.py.

It loads in a fresh TensorFlow 2 process with

  serve = tf.saved_model.load(export_dir).signatures["serving_default"]
  outputs = serve(input_ids=ids, input_mask=mask, segment_ids=segment_ids)

The SavedModel is written beside `export_dir` under a hidden temporary name
and renamed at the end: a run that fails leaves nothing at `export_dir`.
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

from absl import flags
import tensorflow.compat.v1 as tf

import script_io

# The signature's input names, in the order the model takes them.
INPUT_NAMES = ("input_ids", "input_mask", "segment_ids")


def define_flags():
  """Defines `--export_dir`."""
  flags.DEFINE_string(
      "export_dir", None,
      "If set, write the model (the latest checkpoint of --output_dir, else "
      "--init_checkpoint) there as a SavedModel with a serving_default "
      "signature taking input_ids, input_mask and segment_ids (int32 "
      "[batch, max_seq_length]). The directory must not exist or be empty.",
      **script_io.OVERRIDABLE)


def check_export_dir(export_dir, flag_name="export_dir"):
  """Raises InputError unless `export_dir` can receive a SavedModel.

  Args:
    export_dir: the directory to write, or None / "" (nothing to check).
    flag_name: the flag named in errors.

  Raises:
    InputError: if `export_dir` is a file, is a directory with something
      in it, or its parent directory does not exist.
  """
  if not export_dir:
    return
  if tf.gfile.Exists(export_dir):
    if not tf.gfile.IsDirectory(export_dir):
      raise script_io.InputError("--%s=%s is a file, not a directory" %
                                 (flag_name, export_dir))
    if tf.gfile.ListDirectory(export_dir):
      raise script_io.InputError(
          "--%s=%s exists and is not empty: choose a new directory (a "
          "SavedModel is never written over another)" %
          (flag_name, export_dir))
  parent = _parent_directory(export_dir)
  if parent and "://" not in export_dir and not tf.gfile.IsDirectory(parent):
    raise script_io.InputError("--%s=%s: the directory %s does not exist" %
                               (flag_name, export_dir, parent))


def _parent_directory(path):
  return path.rstrip("/").rpartition("/")[0]


def export_saved_model(export_dir, outputs_fn, checkpoint, max_seq_length):
  """Builds the serving graph, restores `checkpoint` and writes a SavedModel.

  Args:
    export_dir: where the SavedModel goes; it must not exist or be empty
      (see `check_export_dir`).
    outputs_fn: `outputs_fn(input_ids, input_mask, segment_ids)` builds the
      model on int32 [batch, max_seq_length] tensors and returns a dict of
      output name to tensor (batch first).
    checkpoint: the checkpoint prefix to restore.
    max_seq_length: the inputs' second dimension.

  Returns:
    `export_dir`.

  Raises:
    InputError: if there is no checkpoint, or it lacks a variable of the
      serving graph.
  """
  if not checkpoint:
    raise script_io.InputError(
        "--export_dir=%s: no checkpoint to export (train, or give "
        "--init_checkpoint)" % export_dir)
  with tf.Graph().as_default():
    inputs = serving_inputs(max_seq_length)
    outputs = outputs_fn(*[inputs[name] for name in INPUT_NAMES])
    variables = tf.global_variables()
    _check_checkpoint_has(checkpoint, variables)
    saver = tf.train.Saver(variables)
    signature = tf.saved_model.signature_def_utils.predict_signature_def(
        inputs=inputs, outputs=outputs)
    with tf.Session() as session:
      saver.restore(session, checkpoint)
      tf.logging.info("Writing a SavedModel of %s to %s (outputs: %s)",
                      checkpoint, export_dir, ", ".join(sorted(outputs)))
      with script_io.atomic_path(export_dir.rstrip("/")) as temp_dir:
        builder = tf.saved_model.Builder(temp_dir)
        builder.add_meta_graph_and_variables(
            session, [tf.saved_model.tag_constants.SERVING],
            signature_def_map={
                tf.saved_model.signature_constants
                .DEFAULT_SERVING_SIGNATURE_DEF_KEY: signature
            },
            strip_default_attrs=True)
        builder.save()
        # An empty directory at `export_dir` (allowed) is replaced.
        if tf.gfile.IsDirectory(export_dir):
          tf.gfile.DeleteRecursively(export_dir)
  return export_dir


def serving_inputs(max_seq_length):
  """The signature's int32 [None, max_seq_length] placeholders, by name."""
  return {name: tf.placeholder(tf.int32, [None, max_seq_length], name=name)
          for name in INPUT_NAMES}


def checkpoint_to_export(model_dir, init_checkpoint):
  """Returns the checkpoint `--do_predict` uses, or None if there is none.

  That is the latest checkpoint of `model_dir`, else `init_checkpoint`.
  """
  return ((tf.train.latest_checkpoint(model_dir) if model_dir else None) or
          init_checkpoint)


def _check_checkpoint_has(checkpoint, variables):
  """Raises InputError if `checkpoint` lacks one of `variables`."""
  saved = set(name for (name, _) in tf.train.list_variables(checkpoint))
  missing = [v.op.name for v in variables if v.op.name not in saved]
  if missing:
    raise script_io.InputError(
        "cannot export %s: it lacks %d of the model's variables (%s%s); "
        "export a fine-tuned checkpoint" %
        (checkpoint, len(missing), ", ".join(missing[:3]),
         ", ..." if len(missing) > 3 else ""))
