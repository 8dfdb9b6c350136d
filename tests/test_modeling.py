"""Tests of modeling.py: they read as the specification of BertModel.

The golden fixtures in ../shared/golden/modeling were produced by the
original code; tests that need them skip when ../shared is absent.
"""

import json
import os
import re

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

import modeling
from helpers import SHARED
from helpers import tiny_config_dict

# The hidden-state outputs of BertModel in golden/modeling/expected.npz.
GOLDEN_OUTPUTS = ("embedding_output", "all_encoder_layers_0",
                  "all_encoder_layers_1", "sequence_output", "pooled_output")


def tiny_config(**overrides):
  """A small BertConfig (hidden 32, 2 layers, 4 heads, vocab 99)."""
  config_dict = tiny_config_dict(99)
  config_dict.update(overrides)
  return modeling.BertConfig.from_dict(config_dict)


def random_ids(shape, vocab_size, seed=0):
  return np.random.RandomState(seed).randint(
      0, vocab_size, size=shape).astype(np.int32)


def run_initialized(fetches, feed_dict=None):
  """Initializes the default graph's variables and evaluates `fetches`."""
  with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    return sess.run(fetches, feed_dict=feed_dict)


def model_outputs(model):
  """The golden-comparable outputs of `model`, by their expected.npz name."""
  layers = model.get_all_encoder_layers()
  outputs = {"embedding_output": model.get_embedding_output(),
             "sequence_output": model.get_sequence_output(),
             "pooled_output": model.get_pooled_output()}
  for (index, layer) in enumerate(layers):
    outputs["all_encoder_layers_%d" % index] = layer
  return outputs


def variable_shapes(variables):
  return {v.op.name: v.shape.as_list() for v in variables}


# --------------------------------------------------------------------------
# Golden outputs of the original.


@pytest.mark.parametrize("use_one_hot_embeddings", [False, True])
def test_golden_outputs_match_the_original(golden, use_one_hot_embeddings):
  model_dir = os.path.join(golden, "modeling")
  config = modeling.BertConfig.from_json_file(
      os.path.join(model_dir, "bert_config.json"))
  checkpoint = os.path.join(model_dir, "bert_model.ckpt")
  inputs = np.load(os.path.join(model_dir, "inputs.npz"))
  expected = np.load(os.path.join(model_dir, "expected.npz"))
  assert sorted(expected.files) == sorted(GOLDEN_OUTPUTS)
  with tf.Graph().as_default():
    model = modeling.BertModel(
        config, is_training=False,
        input_ids=tf.constant(inputs["input_ids"]),
        input_mask=tf.constant(inputs["input_mask"]),
        token_type_ids=tf.constant(inputs["token_type_ids"]),
        use_one_hot_embeddings=use_one_hot_embeddings)
    tvars = tf.trainable_variables()
    (assignment_map, initialized_names) = (
        modeling.get_assignment_map_from_checkpoint(tvars, checkpoint))
    # Every variable of the model is found in the checkpoint.
    assert sorted(assignment_map) == sorted(v.op.name for v in tvars)
    for var in tvars:
      assert var.name in initialized_names
      assert var.op.name in initialized_names
    tf.train.init_from_checkpoint(checkpoint, assignment_map)
    got = run_initialized(model_outputs(model))
  for name in GOLDEN_OUTPUTS:
    np.testing.assert_allclose(got[name], expected[name], rtol=1e-5,
                               atol=1e-5, err_msg=name)


def test_golden_checkpoint_variables_are_the_model_variables(golden):
  """Names and shapes of BertModel's variables are the original's."""
  model_dir = os.path.join(golden, "modeling")
  config = modeling.BertConfig.from_json_file(
      os.path.join(model_dir, "bert_config.json"))
  with tf.Graph().as_default():
    modeling.BertModel(config, False, tf.zeros([2, 16], tf.int32))
    got = variable_shapes(tf.global_variables())
  in_checkpoint = {
      name: shape for (name, shape) in tf.train.list_variables(
          os.path.join(model_dir, "bert_model.ckpt"))
      if name.startswith("bert/")}
  assert got == in_checkpoint


def read_reference_variables(path, num_layers):
  """Parses checkpoint_variables.md into {name: shape}, all layers expanded."""
  with open(path) as f:
    text = f.read()
  first_block = text.split("```")[1]
  variables = {}
  for line in first_block.splitlines():
    match = re.match(r"^(\S+)\s+\[([\d, ]+)\]$", line.strip())
    if not match:
      continue
    shape = [int(d) for d in match.group(2).split(",")]
    name = match.group(1)
    if "/layer_0/" in name:
      for layer in range(num_layers):
        variables[name.replace("/layer_0/", "/layer_%d/" % layer)] = shape
    else:
      variables[name] = shape
  return variables


def test_bert_base_variables_are_those_of_released_checkpoints():
  """Built, not initialized: listing variables allocates nothing."""
  reference = os.path.join(SHARED, "reference", "checkpoint_variables.md")
  if not os.path.exists(reference):
    pytest.skip("../shared/reference is absent")
  expected = {
      name: shape for (name, shape) in
      read_reference_variables(reference, num_layers=12).items()
      if name.startswith("bert/")}
  config = modeling.BertConfig(
      vocab_size=30522, hidden_size=768, num_hidden_layers=12,
      num_attention_heads=12, intermediate_size=3072,
      max_position_embeddings=512, type_vocab_size=2)
  with tf.Graph().as_default():
    modeling.BertModel(config, True, tf.placeholder(tf.int32, [None, 128]))
    got = variable_shapes(tf.global_variables())
    assert len(tf.trainable_variables()) == len(tf.global_variables())
  assert len(expected) == 5 + 12 * 16 + 2
  assert got == expected


# --------------------------------------------------------------------------
# Shapes, ranks and dynamic dimensions.


def test_output_shapes_and_ranks():
  config = tiny_config()
  with tf.Graph().as_default():
    model = modeling.BertModel(
        config, is_training=True,
        input_ids=tf.constant(random_ids([3, 7], config.vocab_size)),
        input_mask=tf.constant(np.ones([3, 7], np.int32)),
        token_type_ids=tf.constant(np.zeros([3, 7], np.int32)))
    layers = model.get_all_encoder_layers()
    assert len(layers) == config.num_hidden_layers
    assert model.get_embedding_table().shape.as_list() == [99, 32]
    for tensor in layers + [model.get_sequence_output(),
                            model.get_embedding_output()]:
      assert tensor.shape.as_list() == [3, 7, 32]
    assert model.get_pooled_output().shape.as_list() == [3, 32]
    assert model.get_sequence_output() is layers[-1]
    pooled = run_initialized(model.get_pooled_output())
  # The pooler is a tanh layer.
  assert np.all(np.abs(pooled) <= 1.0)


def test_dynamic_batch_size_builds_and_runs():
  config = tiny_config()
  with tf.Graph().as_default():
    input_ids = tf.placeholder(tf.int32, [None, 6])
    model = modeling.BertModel(config, False, input_ids)
    assert model.get_sequence_output().shape.as_list() == [None, 6, 32]
    assert model.get_pooled_output().shape.as_list() == [None, 32]
    (sequence, pooled) = run_initialized(
        [model.get_sequence_output(), model.get_pooled_output()],
        feed_dict={input_ids: random_ids([5, 6], config.vocab_size)})
  assert sequence.shape == (5, 6, 32)
  assert pooled.shape == (5, 32)


def test_get_shape_list_gives_ints_for_static_and_tensors_for_dynamic():
  with tf.Graph().as_default():
    tensor = tf.placeholder(tf.float32, [None, 4, None])
    shape = modeling.get_shape_list(tensor, expected_rank=3)
    assert shape[1] == 4 and isinstance(shape[1], int)
    assert isinstance(shape[0], tf.Tensor)
    assert isinstance(shape[2], tf.Tensor)
    with tf.Session() as sess:
      dims = sess.run([shape[0], shape[2]],
                      feed_dict={tensor: np.zeros([2, 4, 9], np.float32)})
    assert dims == [2, 9]
    assert modeling.get_shape_list(tf.zeros([2, 3])) == [2, 3]


def test_assert_rank_names_the_tensor_and_the_ranks():
  with tf.Graph().as_default():
    tensor = tf.zeros([2, 3], name="my_tensor")
    modeling.assert_rank(tensor, 2)
    modeling.assert_rank(tensor, [2, 3])
    with pytest.raises(ValueError, match=r"my_tensor.*rank 2.*rank 3 or 4"):
      modeling.assert_rank(tensor, [3, 4])
    with pytest.raises(ValueError):
      modeling.BertModel(tiny_config(), False, tf.zeros([2, 3, 4], tf.int32))


def test_reshape_to_matrix_and_back():
  with tf.Graph().as_default():
    tensor = tf.reshape(tf.range(24, dtype=tf.float32), [2, 3, 4])
    matrix = modeling.reshape_to_matrix(tensor)
    assert matrix.shape.as_list() == [6, 4]
    restored = modeling.reshape_from_matrix(matrix, [2, 3, 4])
    assert restored.shape.as_list() == [2, 3, 4]
    assert modeling.reshape_to_matrix(matrix) is matrix
    with pytest.raises(ValueError):
      modeling.reshape_to_matrix(tf.zeros([3]))
    with tf.Session() as sess:
      (got, original) = sess.run([restored, tensor])
  np.testing.assert_array_equal(got, original)


# --------------------------------------------------------------------------
# Attention masks and padding.


def test_attention_mask_hides_padded_keys_only():
  with tf.Graph().as_default():
    from_tensor = tf.zeros([2, 3, 5])
    to_mask = tf.constant([[1, 1, 0, 0], [1, 1, 1, 1]])
    mask = modeling.create_attention_mask_from_input_mask(from_tensor, to_mask)
    assert mask.dtype == tf.float32
    with tf.Session() as sess:
      got = sess.run(mask)
  # [batch, from_seq_length, to_seq_length]: every query row (padded
  # queries too) repeats the key mask.
  expected = np.array([[[1, 1, 0, 0]] * 3, [[1, 1, 1, 1]] * 3], np.float32)
  np.testing.assert_array_equal(got, expected)


def test_padded_tokens_do_not_change_the_real_positions():
  """What sits behind input_mask 0 is invisible to the real tokens."""
  config = tiny_config()
  input_ids = random_ids([2, 8], config.vocab_size)
  other_ids = input_ids.copy()
  other_ids[:, 5:] = random_ids([2, 3], config.vocab_size, seed=1)
  assert (other_ids != input_ids).any()
  input_mask = np.array([[1] * 5 + [0] * 3] * 2, np.int32)
  with tf.Graph().as_default():
    ids = tf.placeholder(tf.int32, [2, 8])
    model = modeling.BertModel(config, False, ids, tf.constant(input_mask))
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      first = sess.run(model.get_sequence_output(), {ids: input_ids})
      second = sess.run(model.get_sequence_output(), {ids: other_ids})
  np.testing.assert_allclose(first[:, :5], second[:, :5], atol=1e-6)
  assert np.abs(first[:, 5:] - second[:, 5:]).max() > 1e-3


def test_default_mask_and_token_types_are_all_ones_and_zeros():
  config = tiny_config()
  input_ids = random_ids([2, 5], config.vocab_size)
  with tf.Graph().as_default():
    defaulted = modeling.BertModel(config, False, tf.constant(input_ids))
    with tf.variable_scope(tf.get_variable_scope(), reuse=True):
      explicit = modeling.BertModel(
          config, False, tf.constant(input_ids),
          input_mask=tf.constant(np.ones([2, 5], np.int32)),
          token_type_ids=tf.constant(np.zeros([2, 5], np.int32)),
          scope="bert")
    (first, second) = run_initialized(
        [defaulted.get_sequence_output(), explicit.get_sequence_output()])
  np.testing.assert_allclose(first, second, atol=1e-6)


def test_attention_layer_needs_sizes_for_rank_2_inputs():
  with tf.Graph().as_default():
    with pytest.raises(ValueError, match="batch_size"):
      modeling.attention_layer(tf.zeros([6, 8]), tf.zeros([6, 8]),
                               num_attention_heads=2, size_per_head=4)
    output = modeling.attention_layer(
        tf.zeros([6, 8]), tf.zeros([6, 8]), num_attention_heads=2,
        size_per_head=4, batch_size=2, from_seq_length=3, to_seq_length=3)
    assert output.shape.as_list() == [2, 3, 8]


# --------------------------------------------------------------------------
# Dropout, activations, layer normalization.


def test_dropout_only_when_training():
  config = tiny_config(hidden_dropout_prob=0.5,
                       attention_probs_dropout_prob=0.5)
  input_ids = random_ids([2, 6], config.vocab_size)
  for (is_training, expect_equal) in [(False, True), (True, False)]:
    with tf.Graph().as_default():
      model = modeling.BertModel(config, is_training, tf.constant(input_ids))
      with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        first = sess.run(model.get_sequence_output())
        second = sess.run(model.get_sequence_output())
    assert np.array_equal(first, second) == expect_equal
  # The caller's config is left alone.
  assert config.hidden_dropout_prob == 0.5


def test_dropout_helper():
  with tf.Graph().as_default():
    ones = tf.ones([1000])
    assert modeling.dropout(ones, 0.0) is ones
    assert modeling.dropout(ones, None) is ones
    with tf.Session() as sess:
      got = sess.run(modeling.dropout(ones, 0.25))
  # Kept values are scaled by 1 / (1 - dropout_prob).
  assert set(np.unique(got)) <= {0.0, np.float32(1 / 0.75)}
  assert 150 < np.sum(got == 0.0) < 350


def test_gelu_is_the_tanh_approximation():
  x = np.linspace(-6, 6, 101).astype(np.float32)
  expected = 0.5 * x * (1 + np.tanh(
      np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))
  with tf.Graph().as_default():
    with tf.Session() as sess:
      got = sess.run(modeling.gelu(tf.constant(x)))
  np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_get_activation():
  assert modeling.get_activation("gelu") is modeling.gelu
  assert modeling.get_activation("GeLU") is modeling.gelu
  assert modeling.get_activation("relu") is tf.nn.relu
  assert modeling.get_activation("tanh") is tf.tanh
  assert modeling.get_activation("linear") is None
  assert modeling.get_activation("") is None
  assert modeling.get_activation(None) is None
  assert modeling.get_activation(tf.sigmoid) is tf.sigmoid
  with pytest.raises(ValueError, match="swish"):
    modeling.get_activation("swish")


def test_layer_norm_variables_and_numerics():
  x = np.random.RandomState(0).normal(size=[4, 6]).astype(np.float32) * 3 + 1
  # Rows whose variance is about the epsilon's: there it shows.
  x[2:] = (x[2:] - 1) / 3 * 1e-6
  with tf.Graph().as_default():
    with tf.variable_scope("block"):
      output = modeling.layer_norm(tf.constant(x))
    assert variable_shapes(tf.global_variables()) == {
        "block/LayerNorm/beta": [6], "block/LayerNorm/gamma": [6]}
    got = run_initialized(output)
  x = x.astype(np.float64)
  mean = x.mean(axis=-1, keepdims=True)
  variance = x.var(axis=-1, keepdims=True)
  np.testing.assert_allclose(got, (x - mean) / np.sqrt(variance + 1e-12),
                             rtol=1e-3, atol=1e-5)


def test_dense_layer_variables_are_named_like_tf_layers_dense():
  with tf.Graph().as_default():
    with tf.variable_scope("output"):
      modeling.dense_layer(tf.zeros([2, 3]), 4)
      modeling.dense_layer(tf.zeros([2, 3]), 5)
    modeling.dense_layer(tf.zeros([2, 3]), 4, name="query")
    assert variable_shapes(tf.global_variables()) == {
        "output/dense/kernel": [3, 4], "output/dense/bias": [4],
        "output/dense_1/kernel": [3, 5], "output/dense_1/bias": [5],
        "query/kernel": [3, 4], "query/bias": [4]}


def test_create_initializer_is_a_truncated_normal():
  with tf.Graph().as_default():
    variable = tf.get_variable(
        "w", [200, 200], initializer=modeling.create_initializer(0.5))
    values = run_initialized(variable)
  # Truncated at two standard deviations.
  assert np.abs(values).max() <= 1.0
  assert 0.3 < values.std() < 0.5


# --------------------------------------------------------------------------
# Checkpoints.


def test_checkpoint_round_trip_into_a_fresh_graph(tmp_path):
  config = tiny_config()
  input_ids = random_ids([2, 6], config.vocab_size)
  checkpoint = str(tmp_path / "model.ckpt")
  with tf.Graph().as_default():
    tf.set_random_seed(1)
    model = modeling.BertModel(config, False, tf.constant(input_ids))
    names = sorted(v.op.name for v in tf.global_variables())
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      saved_output = sess.run(model.get_sequence_output())
      tf.train.Saver().save(sess, checkpoint)
  # The checkpoint holds the model's variables and nothing else.
  assert sorted(n for (n, _) in tf.train.list_variables(checkpoint)) == names
  with tf.Graph().as_default():
    tf.set_random_seed(2)
    model = modeling.BertModel(config, False, tf.constant(input_ids))
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      fresh_output = sess.run(model.get_sequence_output())
      tf.train.Saver().restore(sess, checkpoint)
      restored_output = sess.run(model.get_sequence_output())
  assert np.abs(fresh_output - saved_output).max() > 1e-3
  np.testing.assert_array_equal(restored_output, saved_output)


def test_assignment_map_keeps_only_variables_in_both(tiny_bert):
  config = modeling.BertConfig.from_json_file(tiny_bert["config_file"])
  with tf.Graph().as_default():
    modeling.BertModel(config, False, tf.zeros([1, 4], tf.int32))
    extra = tf.get_variable("not_in_checkpoint", [3])
    tvars = tf.trainable_variables()
    (assignment_map, initialized_names) = (
        modeling.get_assignment_map_from_checkpoint(
            tvars, tiny_bert["checkpoint"]))
  model_names = [v.op.name for v in tvars if v is not extra]
  assert sorted(assignment_map) == sorted(model_names)
  assert all(assignment_map[name] == name for name in assignment_map)
  assert extra.op.name not in assignment_map
  assert "not_in_checkpoint:0" not in initialized_names
  assert set(initialized_names) == set(
      model_names + [name + ":0" for name in model_names])


# --------------------------------------------------------------------------
# BertConfig.


def test_config_defaults_are_the_originals():
  config = modeling.BertConfig(vocab_size=100)
  assert config.to_dict() == {
      "vocab_size": 100, "hidden_size": 768, "num_hidden_layers": 12,
      "num_attention_heads": 12, "intermediate_size": 3072,
      "hidden_act": "gelu", "hidden_dropout_prob": 0.1,
      "attention_probs_dropout_prob": 0.1, "max_position_embeddings": 512,
      "type_vocab_size": 16, "initializer_range": 0.02}


def test_config_json_round_trip(tmp_path):
  config_dict = tiny_config_dict(50)
  config_dict["architectures"] = ["BertForMaskedLM"]  # written by other tools
  config = modeling.BertConfig.from_dict(config_dict)
  assert config.to_dict() == config_dict
  text = config.to_json_string()
  # Sorted keys, two-space indent, a final newline.
  assert text == json.dumps(config_dict, indent=2, sort_keys=True) + "\n"
  path = tmp_path / "bert_config.json"
  path.write_text(text)
  reread = modeling.BertConfig.from_json_file(str(path))
  assert reread.to_dict() == config_dict
  assert reread.architectures == ["BertForMaskedLM"]
  # to_dict is a copy.
  reread.to_dict()["architectures"].append("x")
  assert reread.architectures == ["BertForMaskedLM"]


def test_config_from_dict_needs_only_vocab_size():
  config = modeling.BertConfig.from_dict({"vocab_size": 7})
  assert config.to_dict() == modeling.BertConfig(vocab_size=7).to_dict()


# --------------------------------------------------------------------------
# Bad input: one clear ValueError naming the value and the file.


def write_config(tmp_path, text):
  path = tmp_path / "my_config.json"
  path.write_text(text)
  return str(path)


def test_config_file_that_is_not_json(tmp_path):
  path = write_config(tmp_path, "vocab_size = 12\n")
  with pytest.raises(ValueError, match="my_config.json.*not valid JSON"):
    modeling.BertConfig.from_json_file(path)


def test_config_file_that_is_not_an_object(tmp_path):
  path = write_config(tmp_path, "[1, 2]")
  with pytest.raises(ValueError, match="my_config.json.*JSON object"):
    modeling.BertConfig.from_json_file(path)


def test_config_file_without_vocab_size(tmp_path):
  config_dict = tiny_config_dict(10)
  del config_dict["vocab_size"]
  path = write_config(tmp_path, json.dumps(config_dict))
  with pytest.raises(ValueError, match="my_config.json.*vocab_size"):
    modeling.BertConfig.from_json_file(path)


@pytest.mark.parametrize("key,value", [
    ("hidden_size", "768"), ("num_hidden_layers", 2.5),
    ("hidden_dropout_prob", "0.1"), ("vocab_size", True),
    ("hidden_act", 3)])
def test_config_value_of_the_wrong_type(tmp_path, key, value):
  config_dict = tiny_config_dict(10)
  config_dict[key] = value
  path = write_config(tmp_path, json.dumps(config_dict))
  with pytest.raises(ValueError) as error:
    modeling.BertConfig.from_json_file(path)
  message = str(error.value)
  assert "my_config.json" in message
  assert key in message
  assert repr(value) in message


def test_config_float_fields_accept_integers(tmp_path):
  config_dict = tiny_config_dict(10)
  config_dict["hidden_dropout_prob"] = 0
  config_dict["hidden_act"] = None
  path = write_config(tmp_path, json.dumps(config_dict))
  config = modeling.BertConfig.from_json_file(path)
  assert config.hidden_dropout_prob == 0
  assert config.hidden_act is None


def test_hidden_size_not_divisible_by_heads(tmp_path):
  config_dict = tiny_config_dict(10)
  config_dict["num_attention_heads"] = 5
  path = write_config(tmp_path, json.dumps(config_dict))
  with pytest.raises(ValueError, match=r"my_config.json.*32.*5"):
    modeling.BertConfig.from_json_file(path)
  # Configs built in code are checked when the graph is built.
  config = modeling.BertConfig(vocab_size=10, hidden_size=32,
                               num_attention_heads=5)
  with tf.Graph().as_default():
    with pytest.raises(ValueError, match=r"32.*5"):
      modeling.BertModel(config, False, tf.zeros([1, 4], tf.int32))


def test_sequence_longer_than_max_position_embeddings():
  config = tiny_config(max_position_embeddings=8)
  with tf.Graph().as_default():
    with pytest.raises(ValueError, match=r"\b9\b.*max_position_embeddings.*8"):
      modeling.BertModel(config, False, tf.zeros([1, 9], tf.int32))
    # Exactly max_position_embeddings is fine.
    modeling.BertModel(config, False, tf.zeros([1, 8], tf.int32))


def test_dynamic_sequence_longer_than_max_position_fails_at_run_time():
  config = tiny_config(max_position_embeddings=8)
  with tf.Graph().as_default():
    input_ids = tf.placeholder(tf.int32, [1, None])
    model = modeling.BertModel(config, False, input_ids)
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      sess.run(model.get_sequence_output(),
               {input_ids: np.zeros([1, 8], np.int32)})
      with pytest.raises(tf.errors.InvalidArgumentError):
        sess.run(model.get_sequence_output(),
                 {input_ids: np.zeros([1, 9], np.int32)})


def loss_and_gradients(**model_kwargs):
  """A tiny model's loss, gradients and variables, from fixed weights."""
  config = tiny_config(hidden_dropout_prob=0.0,
                       attention_probs_dropout_prob=0.0)
  with tf.Graph().as_default():
    model = modeling.BertModel(
        config, is_training=True,
        input_ids=tf.constant(random_ids([3, 9], 99)),
        input_mask=tf.constant([[1] * 9, [1] * 5 + [0] * 4, [1] * 9]),
        **model_kwargs)
    loss = (tf.reduce_sum(tf.square(model.get_pooled_output())) +
            tf.reduce_sum(model.get_sequence_output()[:, 1:3, :5]))
    variables = tf.trainable_variables()
    grads = [tf.convert_to_tensor(g) for g in tf.gradients(loss, variables)]
    matmuls = sum(1 for op in tf.get_default_graph().get_operations()
                  if op.type == "MatMul")
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      for (index, variable) in enumerate(variables):
        variable.load(0.1 * np.random.RandomState(index).normal(
            size=variable.shape.as_list()), sess)
      (loss_value, grad_values) = sess.run([loss, grads])
  names = [(v.op.name, v.dtype.base_dtype) for v in variables]
  return (loss_value, grad_values, names, matmuls)


def test_gradient_checkpointing_gives_the_same_gradients():
  (loss, grads, names, matmuls) = loss_and_gradients()
  (loss_ckpt, grads_ckpt, names_ckpt, matmuls_ckpt) = loss_and_gradients(
      gradient_checkpointing=True)
  assert names_ckpt == names
  np.testing.assert_allclose(loss_ckpt, loss, rtol=1e-6)
  for (got, expected, (name, _)) in zip(grads_ckpt, grads, names):
    np.testing.assert_allclose(got, expected, atol=1e-5, err_msg=name)
  # The backward pass builds the 6 dense matmuls of each block again.
  assert matmuls_ckpt == matmuls + 2 * 6


def test_recomputed_block_drops_the_same_units_as_the_forward_pass():
  with tf.Graph().as_default():
    inputs = tf.ones([2000])
    with tf.variable_scope("block", use_resource=True) as scope:

      def block(block_input, dropout_fn):
        weight = tf.get_variable("weight", initializer=2.0)
        return dropout_fn(block_input * weight, 0.5)

      outputs = modeling._recompute_in_backward(block, inputs, scope)
    weight = tf.global_variables()[0]
    (grad,) = tf.gradients(tf.reduce_sum(outputs), [weight])
    # The recomputation waits for the backward pass (else it could run, and
    # hold its activations, as early as the forward pass).
    recomputed_reads = [
        op for op in tf.get_default_graph().get_operations()
        if op.name.startswith("gradients") and op.type == "ReadVariableOp"]
    assert recomputed_reads
    assert all(op.control_inputs for op in recomputed_reads)
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      (output_values, grad_value) = sess.run([outputs, grad])
  # Each kept unit is 2 * 2 (weight, then the 1 / keep_prob scaling).
  kept = np.count_nonzero(output_values)
  assert 800 < kept < 1200
  np.testing.assert_allclose(grad_value, 2.0 * kept, rtol=1e-6)


@pytest.mark.parametrize("dtype,tolerance", [(tf.float16, 5e-3),
                                             (tf.bfloat16, 5e-2)])
def test_reduced_precision_keeps_float32_variables_and_close_results(
    dtype, tolerance):
  (loss, grads, names, _) = loss_and_gradients()
  (loss_low, grads_low, names_low, _) = loss_and_gradients(compute_dtype=dtype)
  assert names_low == names
  assert all(variable_dtype == tf.float32 for (_, variable_dtype) in names)
  np.testing.assert_allclose(loss_low, loss, rtol=tolerance)
  assert loss_low != loss  # The blocks did compute in `dtype`.
  for (got, expected, (name, _)) in zip(grads_low, grads, names):
    assert got.dtype == np.float32
    scale = max(np.abs(expected).max(), 1e-3)
    np.testing.assert_allclose(got / scale, expected / scale,
                               atol=10 * tolerance, err_msg=name)
