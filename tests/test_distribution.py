"""Tests of training under tf.distribute: replicas train as one device does.

A tiny BERT classifier (tests/distribution_worker.py, dropout off, input in
order) trains a few steps on one device, under `mirrored` on two logical
CPUs, and as two worker processes on 127.0.0.1 (`multi_worker_mirrored`).
Losses and final weights must agree within 1e-5, and the checkpoints hold
the same variables under the original's names.
"""

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

import distribution_worker
import training_options

STEPS = 3
TOLERANCE = 1e-5
MIRRORED = training_options.DEFAULT_SETTINGS._replace(
    distribution_strategy="mirrored", devices=["/cpu:0", "/cpu:1"])


@pytest.fixture(scope="module")
def one_device(tmp_path_factory):
  """(initial checkpoint, model_dir, losses) of a one-device run."""
  root = tmp_path_factory.mktemp("one_device")
  init = str(root / "init")
  distribution_worker.write_initial_checkpoint(init)
  model_dir = str(root / "model")
  losses = distribution_worker.train(model_dir, init,
                                     training_options.DEFAULT_SETTINGS, STEPS)
  return (init, model_dir, losses)


def checkpoint_values(model_dir):
  checkpoint = tf.train.latest_checkpoint(model_dir)
  return {name: tf.train.load_variable(checkpoint, name)
          for (name, _) in tf.train.list_variables(checkpoint)}


def assert_same_training(losses, model_dir, expected_losses, expected_dir):
  np.testing.assert_allclose(losses, expected_losses, atol=TOLERANCE)
  values = checkpoint_values(model_dir)
  expected = checkpoint_values(expected_dir)
  assert sorted(values) == sorted(expected)
  assert not [name for name in values if "replica" in name]
  assert values["global_step"] == STEPS
  for name in expected:
    np.testing.assert_allclose(values[name], expected[name], atol=TOLERANCE,
                               err_msg=name)


def test_mirrored_on_two_cpus_trains_as_one_device(one_device, tmp_path):
  (init, expected_dir, expected_losses) = one_device
  model_dir = str(tmp_path / "mirrored")
  losses = distribution_worker.train(model_dir, init, MIRRORED, STEPS)
  assert_same_training(losses, model_dir, expected_losses, expected_dir)
  # The training moved: equal results are not two untouched models.
  assert abs(losses[-1] - losses[0]) > 1e-3


def test_mirrored_checkpoint_loads_into_a_one_device_graph(one_device,
                                                           tmp_path):
  (init, _, _) = one_device
  model_dir = str(tmp_path / "mirrored")
  distribution_worker.train(model_dir, init, MIRRORED, 1)
  checkpoint = tf.train.latest_checkpoint(model_dir)
  with tf.Graph().as_default():
    model_fn = distribution_worker.model_fn_builder(
        None, training_options.DEFAULT_SETTINGS)
    dataset = distribution_worker.input_fn({"batch_size": 2})
    model_fn(tf.data.make_one_shot_iterator(dataset).get_next(), "train")
    with tf.Session() as session:
      tf.train.Saver().restore(session, checkpoint)
      # Saver() restores every variable of the graph: slots and global step
      # included, so a missing one would fail here.
      kernel = session.run([v for v in tf.global_variables()
                            if v.op.name == "classifier/kernel"][0])
  np.testing.assert_array_equal(
      kernel, tf.train.load_variable(checkpoint, "classifier/kernel"))


def free_port():
  with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    return s.getsockname()[1]


def test_two_worker_processes_train_as_one_device(one_device, tmp_path):
  (init, expected_dir, expected_losses) = one_device
  model_dir = str(tmp_path / "workers")
  workers = ["127.0.0.1:%d" % free_port() for _ in range(2)]
  processes = []
  for index in range(2):
    tf_config = json.dumps({"cluster": {"worker": workers},
                            "task": {"type": "worker", "index": index}})
    processes.append(subprocess.Popen(
        [sys.executable, distribution_worker.__file__, model_dir, init,
         str(STEPS)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        universal_newlines=True,
        env=dict(os.environ, TF_CONFIG=tf_config, TF_CPP_MIN_LOG_LEVEL="2")))
  outputs = [process.communicate(timeout=600) for process in processes]
  for (process, (_, stderr)) in zip(processes, outputs):
    assert process.returncode == 0, stderr[-3000:]
  for (stdout, _) in outputs:
    losses = json.loads(stdout.strip().splitlines()[-1])["losses"]
    np.testing.assert_allclose(losses, expected_losses, atol=TOLERANCE)
  assert_same_training(losses, model_dir, expected_losses, expected_dir)
