"""Runs a SavedModel's serving signature in TensorFlow 2, as a server would.

tests/test_export.py runs it with a Python that has TensorFlow 2 (the
SavedModels are written by every TensorFlow line):

  python tests/serve_saved_model.py EXPORT_DIR INPUTS_NPZ OUTPUTS_NPZ

It loads EXPORT_DIR eagerly with `tf.saved_model.load`, calls its
serving_default signature on the arrays of INPUTS_NPZ and writes the
outputs, by name, to OUTPUTS_NPZ.
"""

import sys

import numpy as np
import tensorflow as tf


def main(export_dir, inputs_file, outputs_file):
  inputs = np.load(inputs_file)
  serve = tf.saved_model.load(export_dir).signatures["serving_default"]
  outputs = serve(**{name: tf.constant(inputs[name])
                     for name in inputs.files})
  np.savez(outputs_file, **{name: value.numpy()
                            for (name, value) in outputs.items()})


if __name__ == "__main__":
  main(*sys.argv[1:])
