"""Tests of training_options.py: checked flags, batch splits, precisions.

Bad combinations are one-line errors naming the flag and its value, before
anything is built; with the defaults nothing changes in the model or the
optimizer (empty keyword arguments).
"""

import collections
import json
import os

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

import distribution_worker
import helpers
import script_io
import training_options

Flags = collections.namedtuple("Flags", [
    "distribution_strategy", "num_gpus", "num_accumulation_steps",
    "precision", "use_xla", "optimizer", "gradient_checkpointing", "use_tpu"
])
DEFAULT_FLAGS = Flags("none", None, 1, "float32", False, "adamw", False,
                      False)
TF_CONFIG = json.dumps({"cluster": {"worker": ["127.0.0.1:1", "host:2"]},
                        "task": {"type": "worker", "index": 1}})


def settings(engine="graph", environ=None, **overrides):
  return training_options.settings_from_flags(
      DEFAULT_FLAGS._replace(**overrides), engine, environ or {})


def test_defaults_change_nothing():
  defaults = settings(engine="estimator")
  assert defaults == training_options.DEFAULT_SETTINGS
  assert training_options.model_kwargs(defaults, is_training=True) == {}
  assert training_options.optimizer_kwargs(defaults) == {}
  assert training_options.micro_batch_size(defaults, 32) == 32
  assert not training_options.is_replicated(defaults)


def test_options_become_model_and_optimizer_arguments():
  options = settings(precision="float16", gradient_checkpointing=True,
                     optimizer="lamb", num_accumulation_steps=4)
  assert training_options.model_kwargs(options, is_training=True) == {
      "compute_dtype": tf.float16, "gradient_checkpointing": True}
  assert training_options.model_kwargs(options, is_training=False) == {}
  assert training_options.optimizer_kwargs(options) == {
      "optimizer_name": "lamb", "num_accumulation_steps": 4,
      "loss_scaling": True}
  assert training_options.micro_batch_size(options, 32) == 8


def test_mirrored_without_gpus_is_one_cpu_replica():
  options = settings(distribution_strategy="mirrored")
  assert options.devices == ["/cpu:0"]
  assert training_options.num_replicas(options) == 1


def test_multi_worker_reads_tf_config():
  options = settings(distribution_strategy="multi_worker_mirrored",
                     environ={"TF_CONFIG": TF_CONFIG})
  assert training_options.num_replicas(options) == 2
  assert not training_options.is_chief(options)
  assert training_options.micro_batch_size(options, 32) == 16


@pytest.mark.parametrize("overrides,environ,message", [
    ({"distribution_strategy": "horovod"}, None,
     "--distribution_strategy=horovod: not one of none, mirrored, "
     "multi_worker_mirrored"),
    ({"distribution_strategy": "mirrored", "num_gpus": 999}, None,
     "--num_gpus=999 but TensorFlow sees"),
    ({"precision": "float16", "use_tpu": True}, None,
     "--precision=float16 with --use_tpu=True"),
    ({"num_accumulation_steps": 0}, None,
     "--num_accumulation_steps=0: must be 1 or more"),
    ({"distribution_strategy": "mirrored", "num_accumulation_steps": 2},
     None, "--num_accumulation_steps=2 with --distribution_strategy=mirrored"),
    ({"distribution_strategy": "mirrored", "precision": "float16"}, None,
     "--precision=float16 with --distribution_strategy=mirrored"),
    ({"distribution_strategy": "multi_worker_mirrored"}, {},
     "TF_CONFIG is not set"),
    ({"distribution_strategy": "multi_worker_mirrored"},
     {"TF_CONFIG": "{cluster"}, "TF_CONFIG={cluster is not JSON"),
    ({"distribution_strategy": "multi_worker_mirrored"},
     {"TF_CONFIG": '{"cluster": {"worker": ["nohost"]}, "task": {}}'},
     "\"cluster\" must be {\"worker\": [\"host:port\", ...]}"),
    ({"distribution_strategy": "multi_worker_mirrored"},
     {"TF_CONFIG": '{"cluster": {"worker": ["a:1"], "ps": ["b:2"]}}'},
     "no other job"),
    ({"distribution_strategy": "multi_worker_mirrored"},
     {"TF_CONFIG": '{"cluster": {"worker": ["a:1"]}, "task": {"type": '
                   '"worker", "index": 1}}'},
     "\"task\" must be {\"type\": \"worker\", \"index\": i} with i from 0 "
     "to 0"),
])
def test_bad_options_are_one_line_errors(overrides, environ, message):
  with pytest.raises(script_io.InputError) as error:
    settings(environ=environ, **overrides)
  assert message in str(error.value)
  assert "\n" not in str(error.value)


@pytest.mark.skipif(not tf.__version__.startswith("1."),
                    reason="XLA compiles replicas from TensorFlow 2 on")
def test_xla_with_replicas_needs_tensorflow_2():
  with pytest.raises(script_io.InputError, match="--use_xla with "
                     "--distribution_strategy=mirrored needs TensorFlow 2"):
    settings(distribution_strategy="mirrored", use_xla=True)


def test_distribution_needs_the_graph_runner():
  with pytest.raises(script_io.InputError, match="add --runner=graph"):
    settings(engine="estimator", distribution_strategy="mirrored")


def test_global_batch_must_split_into_replicas_and_micro_batches():
  options = settings(distribution_strategy="multi_worker_mirrored",
                     environ={"TF_CONFIG": TF_CONFIG})
  with pytest.raises(script_io.InputError) as error:
    training_options.micro_batch_size(options, 31)
  assert str(error.value) == (
      "--train_batch_size=31 is not divisible by 2 replica(s) x "
      "--num_accumulation_steps=1")


def test_reduced_precision_and_accumulation_train_close_to_float32(tmp_path):
  init = str(tmp_path / "init")
  distribution_worker.write_initial_checkpoint(init)
  losses = {}
  for (name, options) in [
      ("float32", training_options.DEFAULT_SETTINGS),
      ("float16", settings(precision="float16")),
      ("bfloat16", settings(precision="bfloat16")),
      ("accumulated", settings(num_accumulation_steps=4,
                               gradient_checkpointing=True)),
  ]:
    model_dir = str(tmp_path / name)
    losses[name] = distribution_worker.train(model_dir, init, options, 3)
    checkpoint = tf.train.latest_checkpoint(model_dir)
    assert tf.train.load_variable(checkpoint, "global_step") == 3
    dtypes = tf.train.load_checkpoint(checkpoint).get_variable_to_dtype_map()
    # The model's variables and their slots (not the step counters).
    assert set(dtype for (name, dtype) in dtypes.items()
               if name.startswith(("bert/", "classifier/"))) == {tf.float32}
  # Measured on CPU: float16 within 2e-3 and bfloat16 within 2e-2 of the
  # float32 losses over these 3 steps.
  np.testing.assert_allclose(losses["float16"], losses["float32"], atol=1e-2)
  np.testing.assert_allclose(losses["bfloat16"], losses["float32"],
                             atol=5e-2)
  assert len(losses["accumulated"]) == 12  # 4 runs per optimizer step.
  means = np.mean(np.reshape(losses["accumulated"], [3, 4]), axis=1)
  np.testing.assert_allclose(means, losses["float32"], atol=1e-5)


def run_pretraining(tiny_bert, records, output_dirs, runs_flags):
  """Runs run_pretraining.py for 2 steps per run, each to its output_dir.

  Returns:
    (exit status, stderr) of each run, in order.
  """
  return helpers.run_scripts("run_pretraining.py", [
      helpers.pretraining_argv(
          tiny_bert, records, output_dir, "--do_train", "--num_train_steps=2",
          "--num_warmup_steps=1", "--train_batch_size=4",
          "--save_checkpoints_steps=2", *extra_flags)
      for (output_dir, extra_flags) in zip(output_dirs, runs_flags)])


def test_run_pretraining_with_every_option_keeps_the_checkpoint_names(
    tiny_bert, tmp_path):
  records = helpers.write_pretraining_records(
      str(tmp_path / "records.tfrecord"), range(5, 21),
      len(tiny_bert["tokens"]))
  runs = {
      "options": ["--runner=graph", "--distribution_strategy=mirrored",
                  "--optimizer=lamb", "--precision=bfloat16",
                  "--gradient_checkpointing"] + (
                      [] if tf.__version__.startswith("1.") else
                      ["--use_xla"]),
      "accumulation": ["--num_accumulation_steps=2", "--precision=float16"],
  }
  names = sorted(runs)
  output_dirs = [str(tmp_path / name) for name in names]
  results = run_pretraining(tiny_bert, records, output_dirs,
                            [runs[name] for name in names])
  variables = {}
  for (name, output_dir, (status, stderr)) in zip(names, output_dirs,
                                                  results):
    assert status == 0, (name, stderr.strip().splitlines()[-1])
    checkpoint = tf.train.latest_checkpoint(output_dir)
    assert checkpoint.endswith("model.ckpt-2")
    variables[name] = dict(tf.train.list_variables(checkpoint))
  (_, accumulation_stderr) = results[names.index("accumulation")]
  if "Per replica and run: 2 (1 replica(s) x 2 accumulation step(s))" not in (
      accumulation_stderr):
    pytest.fail("no batch split in the log: " + accumulation_stderr[-2000:])
  # The original's variables (model, heads, Adam slots, global step) and,
  # with accumulation and loss scaling, only extra optimizer state.
  original = variables["options"]
  assert "bert/embeddings/word_embeddings/adam_m" in original
  assert not [name for name in original if "replica" in name]
  extra = set(variables["accumulation"]) - set(original)
  assert set(original) <= set(variables["accumulation"])
  assert extra and all(name.endswith("/accum_grad") or name.startswith(
      ("accum_", "loss_scale")) for name in extra)


@pytest.mark.parametrize("extra_flags,message", [
    (["--train_batch_size=6", "--num_accumulation_steps=4"],
     "--train_batch_size=6 is not divisible by 1 replica(s) x "
     "--num_accumulation_steps=4"),
    (["--runner=graph", "--distribution_strategy=multi_worker_mirrored"],
     "TF_CONFIG is not set"),
])
def test_run_pretraining_bad_options_fail_before_training(
    tiny_bert, tmp_path, extra_flags, message):
  output_dir = str(tmp_path / "out")
  [(status, stderr)] = run_pretraining(tiny_bert, str(tmp_path / "none"),
                                       [output_dir], [extra_flags])
  assert status != 0
  assert message in stderr.strip().splitlines()[-1]
  assert not os.path.exists(output_dir)
