"""Tests of the runner: the graph runner keeps the Estimator's contract."""

import os

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

import optimization
import runner
import script_io

NUM_EXAMPLES = 24
BATCH_SIZE = 4
_RNG = np.random.RandomState(7)
FEATURES = _RNG.normal(size=(NUM_EXAMPLES, 4)).astype(np.float32)
LABELS = (FEATURES.sum(axis=1) > 0).astype(np.int32)
INITIAL_KERNEL = _RNG.normal(scale=0.5, size=(4, 2)).astype(np.float32)

needs_estimator = pytest.mark.skipif(
    not runner.HAS_ESTIMATOR,
    reason="tf.estimator is not in TensorFlow %s" % tf.__version__)


def input_fn_builder(features, is_training, num_examples=NUM_EXAMPLES):
  """Batches of the first examples in order; training repeats them."""

  def input_fn(params):
    dataset = tf.data.Dataset.from_tensor_slices({
        "x": features[:num_examples],
        "label": LABELS[:num_examples],
        "id": np.arange(num_examples, dtype=np.int32)
    })
    if is_training:
      dataset = dataset.repeat()
    return dataset.batch(params["batch_size"])

  return input_fn


def model_fn(features, labels, mode, params):
  """A softmax classifier trained by the original's optimizer."""
  del labels, params  # The label is a feature, as in the scripts.
  kernel = tf.get_variable("dense/kernel", initializer=INITIAL_KERNEL)
  bias = tf.get_variable("dense/bias", [2], initializer=tf.zeros_initializer())
  logits = tf.matmul(features["x"], kernel) + bias
  if mode == runner.ModeKeys.PREDICT:
    return runner.TPUEstimatorSpec(
        mode=mode, predictions={"probabilities": tf.nn.softmax(logits),
                                "id": features["id"]})
  one_hot = tf.one_hot(features["label"], depth=2)
  loss = -tf.reduce_mean(tf.reduce_sum(one_hot * tf.nn.log_softmax(logits),
                                       axis=-1))
  if mode == runner.ModeKeys.TRAIN:
    runner.track_training_loss(loss)
    train_op = optimization.create_optimizer(
        loss, 0.1, num_train_steps=20, num_warmup_steps=2, use_tpu=False)
    return runner.TPUEstimatorSpec(mode=mode, loss=loss, train_op=train_op)

  def metric_fn(label, logits):
    predictions = tf.argmax(logits, axis=-1, output_type=tf.int32)
    return {"eval_accuracy": tf.metrics.accuracy(label, predictions)}

  return runner.TPUEstimatorSpec(
      mode=mode, loss=loss,
      eval_metrics=(metric_fn, [features["label"], logits]))


class LossRecorder(tf.train.SessionRunHook):
  """Records (global step after the step, loss) of every training step."""

  def __init__(self):
    self.losses = []

  def begin(self):
    self._fetches = [tf.train.get_global_step(),
                     tf.get_collection(runner.TRAINING_LOSS_COLLECTION)[0]]

  def before_run(self, run_context):
    return tf.train.SessionRunArgs(self._fetches)

  def after_run(self, run_context, run_values):
    self.losses.append(float(run_values.results[1]))


def settings(engine):
  return runner.RunnerSettings(engine=engine, use_tpu=False, tpu_name=None,
                               tpu_zone=None, gcp_project=None, master=None,
                               num_tpu_cores=8)


def build(engine, model_dir, **kwargs):
  # Both runners save at the end of training; given no step count the
  # Estimator would save nothing.
  kwargs.setdefault("save_checkpoints_steps", 1000)
  return runner.build_runner(
      model_fn, settings(engine), model_dir=str(model_dir),
      train_batch_size=BATCH_SIZE, eval_batch_size=BATCH_SIZE,
      predict_batch_size=BATCH_SIZE, **kwargs)


def train(engine, model_dir, max_steps, num_examples=NUM_EXAMPLES, **kwargs):
  recorder = LossRecorder()
  build(engine, model_dir, **kwargs).train(
      input_fn_builder(FEATURES, True, num_examples), max_steps=max_steps,
      hooks=[recorder])
  return recorder.losses


def evaluate(engine, model_dir):
  return build(engine, model_dir).evaluate(
      input_fn_builder(FEATURES, False), steps=None)


def predict(engine, model_dir):
  return list(build(engine, model_dir).predict(
      input_fn_builder(FEATURES, False)))


def event_tags(directory):
  tags = set()
  for name in os.listdir(directory):
    if name.startswith("events.out.tfevents"):
      for event in tf.train.summary_iterator(os.path.join(directory, name)):
        tags.update(value.tag for value in event.summary.value)
  return tags


def numpy_loss(kernel, bias, features=FEATURES, labels=LABELS):
  logits = features.astype(np.float64) @ kernel + bias
  logits -= logits.max(axis=1, keepdims=True)
  log_probs = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
  return -log_probs[np.arange(len(labels)), labels].mean()


def test_graph_runner_writes_the_files_the_estimator_writes(tmp_path):
  losses = train("graph", tmp_path, max_steps=7, save_checkpoints_steps=3,
                 keep_checkpoint_max=2)
  assert len(losses) == 7
  state = (tmp_path / "checkpoint").read_text()
  # Relative paths, the two newest checkpoints kept, the last one in charge.
  assert state.splitlines() == [
      'model_checkpoint_path: "model.ckpt-7"',
      'all_model_checkpoint_paths: "model.ckpt-6"',
      'all_model_checkpoint_paths: "model.ckpt-7"']
  assert not list(tmp_path.glob("model.ckpt-3.*"))
  assert (tmp_path / "graph.pbtxt").exists()
  assert "loss" in event_tags(str(tmp_path))
  names = dict(tf.train.list_variables(str(tmp_path / "model.ckpt-7")))
  assert set(names) == {"global_step", "dense/kernel", "dense/bias",
                        "dense/kernel/adam_m", "dense/kernel/adam_v",
                        "dense/bias/adam_m", "dense/bias/adam_v"}
  assert tf.train.load_variable(str(tmp_path / "model.ckpt-7"),
                                "global_step") == 7


def test_evaluate_reports_metrics_loss_and_step_and_writes_eval_events(
    tmp_path):
  train("graph", tmp_path, max_steps=5)
  results = evaluate("graph", tmp_path)
  assert sorted(results) == ["eval_accuracy", "global_step", "loss"]
  assert results["global_step"] == 5
  checkpoint = str(tmp_path / "model.ckpt-5")
  kernel = tf.train.load_variable(checkpoint, "dense/kernel")
  bias = tf.train.load_variable(checkpoint, "dense/bias")
  # The mean of the batches' losses: equal batches make it the full mean.
  assert results["loss"] == pytest.approx(numpy_loss(kernel, bias), abs=1e-5)
  accuracy = np.mean(np.argmax(FEATURES @ kernel + bias, axis=1) == LABELS)
  assert results["eval_accuracy"] == pytest.approx(accuracy)
  assert {"eval_accuracy", "loss"} <= event_tags(str(tmp_path / "eval"))


def test_evaluate_stops_after_the_given_number_of_batches(tmp_path):
  results = build("graph", tmp_path).evaluate(
      input_fn_builder(FEATURES, True), steps=2)
  expected = numpy_loss(INITIAL_KERNEL, 0.0, FEATURES[:8], LABELS[:8])
  assert results["loss"] == pytest.approx(expected, abs=1e-5)


def test_predict_yields_one_example_at_a_time_in_order(tmp_path):
  train("graph", tmp_path, max_steps=3)
  predictions = predict("graph", tmp_path)
  assert [int(p["id"]) for p in predictions] == list(range(NUM_EXAMPLES))
  assert predictions[0]["probabilities"].shape == (2,)
  batches = list(build("graph", tmp_path).predict(
      input_fn_builder(FEATURES, False),
      yield_single_examples=False))
  assert [len(batch["id"]) for batch in batches] == [BATCH_SIZE] * 6


def test_without_checkpoint_evaluate_and_predict_use_initial_values(tmp_path):
  results = evaluate("graph", tmp_path)
  assert results["global_step"] == 0
  assert results["loss"] == pytest.approx(numpy_loss(INITIAL_KERNEL, 0.0),
                                          abs=1e-5)
  logits = FEATURES @ INITIAL_KERNEL
  probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
  predicted = np.stack([p["probabilities"]
                        for p in predict("graph", tmp_path)])
  np.testing.assert_allclose(predicted, probabilities, atol=1e-6)


def test_training_resumes_and_is_skipped_when_already_done(tmp_path):
  # One batch, repeated: a resumed run sees the examples a single run sees.
  assert len(train("graph", tmp_path, 4, num_examples=BATCH_SIZE)) == 4
  assert train("graph", tmp_path, 4, num_examples=BATCH_SIZE) == []
  assert len(train("graph", tmp_path, 6, num_examples=BATCH_SIZE)) == 2
  resumed = tf.train.load_variable(str(tmp_path / "model.ckpt-6"),
                                   "dense/kernel")
  train("graph", tmp_path / "one_go", 6, num_examples=BATCH_SIZE)
  np.testing.assert_allclose(
      resumed, tf.train.load_variable(str(tmp_path / "one_go/model.ckpt-6"),
                                      "dense/kernel"), atol=1e-6)


def test_a_nan_loss_stops_training_naming_the_step(tmp_path):
  features = FEATURES.copy()
  features[9, 0] = np.nan  # In the third batch of 4.
  with pytest.raises(runner.NanLossError, match="loss is nan at step 3"):
    build("graph", tmp_path).train(
        input_fn_builder(features, True), max_steps=6,
        hooks=[runner.ProgressHook(6, BATCH_SIZE, every_n_steps=100)])


@needs_estimator
def test_both_runners_give_the_same_losses_metrics_and_predictions(tmp_path):
  losses = {}
  for engine in ("estimator", "graph"):
    losses[engine] = train(engine, tmp_path / engine, max_steps=6)
  np.testing.assert_allclose(losses["graph"], losses["estimator"], atol=1e-6)
  # The same checkpoint, evaluated and predicted by each runner.
  checkpoint_dir = tmp_path / "estimator"
  by_estimator = evaluate("estimator", checkpoint_dir)
  by_graph = evaluate("graph", checkpoint_dir)
  assert sorted(by_graph) == sorted(by_estimator)
  for key in by_estimator:
    assert by_graph[key] == pytest.approx(by_estimator[key], abs=1e-6)
  for ours, theirs in zip(predict("graph", checkpoint_dir),
                          predict("estimator", checkpoint_dir)):
    np.testing.assert_allclose(ours["probabilities"],
                               theirs["probabilities"], atol=1e-6)


@needs_estimator
@pytest.mark.parametrize("first,second", [("estimator", "graph"),
                                          ("graph", "estimator")])
def test_a_run_resumes_under_the_other_runner(tmp_path, first, second):
  train(first, tmp_path / "split", 4, num_examples=BATCH_SIZE)
  assert len(train(second, tmp_path / "split", 7,
                   num_examples=BATCH_SIZE)) == 3
  train(first, tmp_path / "one_go", 7, num_examples=BATCH_SIZE)
  for name in ("dense/kernel", "dense/kernel/adam_v"):
    np.testing.assert_allclose(
        tf.train.load_variable(str(tmp_path / "split/model.ckpt-7"), name),
        tf.train.load_variable(str(tmp_path / "one_go/model.ckpt-7"), name),
        atol=1e-6)


def test_engine_auto_is_the_estimator_only_where_tensorflow_has_it():
  expected = "estimator" if runner.HAS_ESTIMATOR else "graph"
  assert runner.resolve_engine(settings("auto")) == expected
  assert runner.resolve_engine(settings("graph")) == "graph"


def test_tpu_needs_the_estimator_runner():
  tpu = settings("graph")._replace(use_tpu=True)
  with pytest.raises(script_io.InputError, match="--runner=estimator"):
    runner.resolve_engine(tpu)
  if not runner.HAS_ESTIMATOR:
    with pytest.raises(script_io.InputError,
                       match=r"--use_tpu=True needs tf.estimator, which "
                       r"TensorFlow 1.15 to 2.15 provide"):
      runner.resolve_engine(tpu._replace(engine="auto"))
    with pytest.raises(script_io.InputError, match="--runner=estimator"):
      runner.resolve_engine(settings("estimator"))


def test_missing_config_names_the_flag(tmp_path):
  with pytest.raises(script_io.InputError,
                     match="--bert_config_file=.*: no such file"):
    runner.read_bert_config(str(tmp_path / "bert_config.json"))


def test_missing_checkpoint_names_the_flag(tmp_path):
  with pytest.raises(script_io.InputError,
                     match="--init_checkpoint=.*no such checkpoint"):
    runner.resolve_checkpoint(str(tmp_path / "bert_model.ckpt"))
  with pytest.raises(script_io.InputError, match="holds no checkpoint"):
    runner.resolve_checkpoint(str(tmp_path))


def _progress_messages(num_steps, every_n_steps, every_n_secs):
  with tf.Graph().as_default():
    global_step = tf.train.get_or_create_global_step()
    loss = tf.constant(1.5)
    runner.track_training_loss(loss)
    step = tf.assign_add(global_step, 1)
    hook = runner.ProgressHook(num_train_steps=num_steps, batch_size=4,
                               every_n_steps=every_n_steps,
                               every_n_secs=every_n_secs)
    messages = []
    original_info = tf.logging.info
    try:
      tf.logging.info = lambda msg, *args: messages.append(msg % args)
      with tf.train.MonitoredSession(hooks=[hook]) as sess:
        for _ in range(num_steps):
          sess.run(step)
    finally:
      tf.logging.info = original_info
  return messages


def test_progress_hook_reports_step_loss_rate_and_time_left():
  messages = _progress_messages(6, every_n_steps=2, every_n_secs=1e9)
  assert [m.split(":")[0] for m in messages] == ["step 2/6", "step 4/6",
                                                 "step 6/6"]
  assert messages[-1].startswith("step 6/6: loss = 1.5000, ")
  assert "examples/s" in messages[-1] and messages[-1].endswith("0s left")
  # The last step is reported when training ends between reports.
  last = _progress_messages(5, every_n_steps=2, every_n_secs=1e9)[-1]
  assert last.startswith("step 5/5")


def test_progress_hook_estimates_speed_and_time_left(monkeypatch):

  class Clock(object):
    """Ten seconds pass at every look."""
    now = 0.0

    def time(self):
      self.now += 10.0
      return self.now

  monkeypatch.setattr(runner, "time", Clock())
  first = _progress_messages(6, every_n_steps=2, every_n_secs=1e9)[0]
  # Looks at 10 s (start), 20 s (after step 1), 30 s (the report at step
  # 2): 2 steps of batch 4 in 20 s, and 4 steps left at that pace.
  assert first == "step 2/6: loss = 1.5000, 0.4 examples/s, 40s left"


def test_progress_hook_reports_by_time_between_step_reports():
  messages = _progress_messages(6, every_n_steps=1000, every_n_secs=0.0)
  assert len(messages) == 6


def test_no_loss_is_tracked_on_tpu():
  with tf.Graph().as_default():
    loss = tf.constant(2.0)
    runner.track_training_loss(loss, use_tpu=True)
    assert not tf.get_collection(runner.TRAINING_LOSS_COLLECTION)
    runner.track_training_loss(loss, use_tpu=False)
    assert tf.get_collection(runner.TRAINING_LOSS_COLLECTION) == [loss]
