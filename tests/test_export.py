"""Tests of --export_dir: SavedModels that serve what --do_predict computes.

Each SavedModel is loaded in a separate TensorFlow 2 process (the tf3
virtualenv when there is one) by tests/serve_saved_model.py, run on the
features the script wrote, and compared with the script's own outputs.
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

import export
import extract_features
import helpers
import run_classifier
import run_squad
import runner
import script_io
import task_checkpoints
import task_data


def _tf2_python():
  """A Python with TensorFlow 2, to load SavedModels in."""
  tf3 = os.path.join(helpers.ROOT, ".venv", "tf3", "bin", "python")
  if os.path.exists(tf3):
    return tf3
  if tf.__version__.startswith("2."):
    return sys.executable
  pytest.skip("no TensorFlow 2 Python to load the SavedModel with")


def serve_in_tf2(export_dir, inputs, tmp_path):
  """The outputs of the SavedModel on `inputs`, computed in a TF 2 process."""
  inputs_file = str(tmp_path / "inputs.npz")
  outputs_file = str(tmp_path / "outputs.npz")
  np.savez(inputs_file, **{name: np.asarray(value, np.int32)
                           for (name, value) in inputs.items()})
  # Another Python (maybe another TensorFlow line): not `run_scripts`.
  subprocess.run([_tf2_python(),
                  os.path.join(helpers.ROOT, "tests", "serve_saved_model.py"),
                  export_dir, inputs_file, outputs_file], check=True,
                 cwd=helpers.ROOT,
                 env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
  with np.load(outputs_file) as outputs:
    return {name: outputs[name] for name in outputs.files}


def read_inputs(tf_record, segment_name="segment_ids"):
  """input_ids, input_mask, segment_ids of every record of a TFRecord file."""
  inputs = {name: [] for name in export.INPUT_NAMES}
  for serialized in tf.io.tf_record_iterator(tf_record):
    feature = tf.train.Example.FromString(serialized).features.feature
    for name in export.INPUT_NAMES:
      source = segment_name if name == "segment_ids" else name
      inputs[name].append(list(feature[source].int64_list.value))
  return inputs


def test_classifier_export_serves_the_test_results(tiny_bert, tmp_path):
  data_dir = str(tmp_path / "data")
  output_dir = str(tmp_path / "output")
  export_dir = str(tmp_path / "export")
  task_data.write_task_data(data_dir, "mrpc",
                            np.random.RandomState(3))
  values = task_data.classifier_flags(tiny_bert, data_dir, output_dir,
                                      "mrpc")
  values.update(do_train=False, do_eval=False, export_dir=export_dir,
                init_checkpoint=task_checkpoints.classifier_checkpoint(
                    tiny_bert, str(tmp_path)))
  helpers.run_main(run_classifier, values)

  inputs = read_inputs(os.path.join(output_dir, "predict.tf_record"))
  outputs = serve_in_tf2(export_dir, inputs, tmp_path)
  expected = np.loadtxt(os.path.join(output_dir, "test_results.tsv"))
  assert sorted(outputs) == ["probabilities"]
  assert outputs["probabilities"].shape == expected.shape == (6, 2)
  np.testing.assert_allclose(outputs["probabilities"], expected, atol=1e-5)
  # The inputs are told apart: a check of the features, not only the model.
  assert np.ptp(expected[:, 0]) > 1e-4
  assert not [n for n in os.listdir(str(tmp_path)) if ".tmp-" in n]


def test_squad_export_serves_the_raw_logits(tiny_bert, tmp_path):
  path = task_data.squad_file(tmp_path / "tiny-v1.json",
                              task_data.tiny_qas(False),
                              task_data.TINY_CONTEXT)
  export_dir = str(tmp_path / "export")
  checkpoint = task_checkpoints.squad_checkpoint(tiny_bert, str(tmp_path))
  out_dir = helpers.run_tiny_squad(tiny_bert, tmp_path / "out", dict(
      do_predict=True, predict_file=path, version_2_with_negative=False,
      export_dir=export_dir, init_checkpoint=checkpoint))

  # The raw results --do_predict computed, recomputed on its eval.tf_record.
  eval_file = os.path.join(out_dir, "eval.tf_record")
  config = runner.read_bert_config(tiny_bert["config_file"])
  estimator = runner.GraphRunner(
      run_squad.model_fn_builder(config, checkpoint, 0.0, None, None, False,
                                 False), predict_batch_size=8)
  raw = list(estimator.predict(
      run_squad.input_fn_builder(eval_file, 48, False, False)))

  outputs = serve_in_tf2(export_dir, read_inputs(eval_file), tmp_path)
  assert sorted(outputs) == ["end_logits", "start_logits"]
  for name in ("start_logits", "end_logits"):
    np.testing.assert_allclose(outputs[name], [r[name] for r in raw],
                               atol=1e-5)


def test_extract_features_export_serves_the_written_vectors(tiny_bert,
                                                            tmp_path):
  input_file = tmp_path / "input.txt"
  input_file.write_text(u"the cat sat ||| a dog ran\nthe red sky\n")
  output_file = str(tmp_path / "features.jsonl")
  export_dir = str(tmp_path / "export")
  helpers.run_main(extract_features, dict(
      input_file=str(input_file), output_file=output_file,
      vocab_file=tiny_bert["vocab_file"],
      bert_config_file=tiny_bert["config_file"],
      init_checkpoint=tiny_bert["checkpoint"], layers="-1,-2",
      max_seq_length=16, write_pooled_output=True, export_dir=export_dir,
      output_format="jsonl", batch_size=8))
  tokenizer = extract_features.tokenization.FullTokenizer(
      tiny_bert["vocab_file"], True)
  features = extract_features.convert_examples_to_features(
      extract_features.read_examples(str(input_file)), 16, tokenizer)

  inputs = {"input_ids": [f.input_ids for f in features],
            "input_mask": [f.input_mask for f in features],
            "segment_ids": [f.input_type_ids for f in features]}
  outputs = serve_in_tf2(export_dir, inputs, tmp_path)
  assert sorted(outputs) == ["layer_output_0", "layer_output_1",
                             "pooled_output"]
  with open(output_file) as f:
    lines = [json.loads(line) for line in f]
  for (i, line) in enumerate(lines):
    np.testing.assert_allclose(outputs["pooled_output"][i],
                               line["pooled_output"], atol=1e-5)
    for (t, token) in enumerate(line["features"]):
      for (j, layer) in enumerate(token["layers"]):
        np.testing.assert_allclose(
            outputs["layer_output_%d" % j][i][t], layer["values"], atol=1e-5)


def test_export_dir_that_is_not_empty_is_refused_before_anything(tiny_bert,
                                                                 tmp_path):
  export_dir = tmp_path / "export"
  export_dir.mkdir()
  (export_dir / "saved_model.pb").write_text(u"an older model")
  output_dir = str(tmp_path / "output")
  values = task_data.classifier_flags(tiny_bert, str(tmp_path / "data"),
                                      output_dir, "mrpc")
  values.update(export_dir=str(export_dir))
  with pytest.raises(script_io.InputError, match="exists and is not empty"):
    helpers.run_main(run_classifier, values)
  assert not os.path.exists(output_dir)


def test_failed_export_leaves_nothing_at_export_dir(tiny_bert, tmp_path,
                                                    monkeypatch):
  config = runner.read_bert_config(tiny_bert["config_file"])
  export_dir = str(tmp_path / "export")

  def failing_save(self, *args, **kwargs):
    raise IOError("disk full")

  monkeypatch.setattr(tf.saved_model.Builder, "save", failing_save)
  with pytest.raises(IOError, match="disk full"):
    export.export_saved_model(
        export_dir, extract_features.serving_outputs_fn(config, [-1]),
        tiny_bert["checkpoint"], 8)
  assert os.listdir(str(tmp_path)) == []


def test_checkpoint_without_the_task_layer_is_refused(tiny_bert, tmp_path):
  config = runner.read_bert_config(tiny_bert["config_file"])
  with pytest.raises(script_io.InputError,
                     match="lacks 2 of the model's variables"):
    export.export_saved_model(
        str(tmp_path / "export"), run_squad.serving_outputs_fn(config),
        tiny_bert["checkpoint"], 8)
  assert os.listdir(str(tmp_path)) == []
