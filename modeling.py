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
"""The main BERT model and related functions.

Variable names, shapes and numerics are those of Google's original
`modeling.py`, so its released checkpoints load here and ours load there.
Runs on TensorFlow 1.15 and, through `tf.compat.v1` graph mode, on 2.x.
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import collections
import copy
import json
import math
import re

import numpy as np
import six
import tensorflow.compat.v1 as tf

# The type every known config key must have (int also accepted for floats).
_CONFIG_KEY_TYPES = collections.OrderedDict([
    ("vocab_size", int),
    ("hidden_size", int),
    ("num_hidden_layers", int),
    ("num_attention_heads", int),
    ("intermediate_size", int),
    ("hidden_act", six.string_types + (type(None),)),
    ("hidden_dropout_prob", (float, int)),
    ("attention_probs_dropout_prob", (float, int)),
    ("max_position_embeddings", int),
    ("type_vocab_size", int),
    ("initializer_range", (float, int)),
])


class BertConfig(object):
  """The hyperparameters of a `BertModel`, as held in `bert_config.json`."""

  def __init__(self,
               vocab_size,
               hidden_size=768,
               num_hidden_layers=12,
               num_attention_heads=12,
               intermediate_size=3072,
               hidden_act="gelu",
               hidden_dropout_prob=0.1,
               attention_probs_dropout_prob=0.1,
               max_position_embeddings=512,
               type_vocab_size=16,
               initializer_range=0.02):
    """Holds the given hyperparameters (the defaults are BERT-Base's).

    Args:
      vocab_size: int, number of WordPiece ids `input_ids` may hold.
      hidden_size: int, width of every encoder layer and of the pooler.
      num_hidden_layers: int, number of Transformer blocks.
      num_attention_heads: int, heads per self-attention layer; must divide
        `hidden_size`.
      intermediate_size: int, width of the feed-forward layer inside each
        block.
      hidden_act: activation of the feed-forward layer, a name understood
        by `get_activation` or a function.
      hidden_dropout_prob: float, dropout rate after the embeddings and
        after each dense projection of the encoder.
      attention_probs_dropout_prob: float, dropout rate applied to the
        attention probabilities.
      max_position_embeddings: int, rows of the position embedding table:
        the longest sequence the model accepts.
      type_vocab_size: int, number of distinct `token_type_ids` (segments).
      initializer_range: float, standard deviation of the truncated normal
        draws that initialize the weight matrices.
    """
    self.vocab_size = vocab_size
    self.hidden_size = hidden_size
    self.num_hidden_layers = num_hidden_layers
    self.num_attention_heads = num_attention_heads
    self.hidden_act = hidden_act
    self.intermediate_size = intermediate_size
    self.hidden_dropout_prob = hidden_dropout_prob
    self.attention_probs_dropout_prob = attention_probs_dropout_prob
    self.max_position_embeddings = max_position_embeddings
    self.type_vocab_size = type_vocab_size
    self.initializer_range = initializer_range

  @classmethod
  def from_dict(cls, json_object, source="the config"):
    """Constructs a `BertConfig` from a Python dictionary of parameters.

    Args:
      json_object: dict of config keys to values. `vocab_size` is required;
        keys the model does not use are kept (and logged), never fatal.
      source: where the dict came from, named in errors.

    Returns:
      A `BertConfig`.

    Raises:
      ValueError: if `vocab_size` is missing, a known key has a value of the
        wrong type, or the hidden size is not a multiple of the head count.
    """
    if not isinstance(json_object, dict):
      raise ValueError("%s must hold a JSON object, not %s." %
                       (source, type(json_object).__name__))
    if "vocab_size" not in json_object:
      raise ValueError("%s has no `vocab_size`." % source)
    config = BertConfig(vocab_size=None)
    for (key, value) in six.iteritems(json_object):
      expected = _CONFIG_KEY_TYPES.get(key)
      if expected is None:
        tf.logging.info("%s: key `%s` is not used by BertModel; kept.",
                        source, key)
      elif isinstance(value, bool) or not isinstance(value, expected):
        raise ValueError("%s: `%s` is %r, which is not of type %s." %
                         (source, key, value, _type_names(expected)))
      config.__dict__[key] = value
    defaulted = sorted(set(_CONFIG_KEY_TYPES) - set(json_object))
    for key in defaulted:
      tf.logging.warning("%s has no `%s`: the default %r is used.", source,
                         key, config.__dict__[key])
    hidden_size, num_heads = config.hidden_size, config.num_attention_heads
    if num_heads <= 0 or hidden_size % num_heads != 0:
      raise ValueError(
          "%s: `hidden_size` %d is not a multiple of `num_attention_heads` "
          "%d%s." % (source, hidden_size, num_heads, "".join(
              " (the file has no `%s`: %d is the default)" % (key, value)
              for (key, value) in (("hidden_size", hidden_size),
                                   ("num_attention_heads", num_heads))
              if key in defaulted)))
    return config

  @classmethod
  def from_json_file(cls, json_file):
    """Reads a `BertConfig` from a JSON file (local or `gs://`).

    Raises:
      ValueError: the file is not JSON, or `from_dict` rejects its content;
        the message names the file.
    """
    with tf.gfile.GFile(json_file, "r") as reader:
      text = reader.read()
    try:
      json_object = json.loads(text)
    except ValueError as e:
      raise ValueError("%s is not valid JSON: %s" % (json_file, e))
    return cls.from_dict(json_object, source=json_file)

  def to_dict(self):
    """Returns a deep copy of every attribute, unknown keys included."""
    return copy.deepcopy(self.__dict__)

  def to_json_string(self):
    """Returns the config as JSON: sorted keys, 2-space indent, end newline."""
    return json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"


def _type_names(types):
  if not isinstance(types, tuple):
    types = (types,)
  names = ["str" if t in six.string_types else t.__name__ for t in types]
  return " or ".join(sorted(set(n for n in names if n != "NoneType")))


def _float32_variable_getter(getter, *args, **kwargs):
  """Stores reduced-precision variables as float32 and casts their reads.

  A custom getter for `tf.variable_scope`: checkpoints keep the float32
  variables of the original, and the gradients flow back through the cast.
  """
  wanted = tf.as_dtype(kwargs.get("dtype") or tf.float32)
  if wanted in (tf.float16, tf.bfloat16):
    kwargs["dtype"] = tf.float32
    return tf.cast(getter(*args, **kwargs), wanted)
  return getter(*args, **kwargs)


class BertModel(object):
  """The BERT encoder: embeddings, a stack of Transformer blocks, a pooler.

  Builds its variables under the scope "bert" (by default) with the names of
  Google's released checkpoints. For instance, to classify sentence pairs:

  ```python
  config = modeling.BertConfig.from_json_file("bert_config.json")
  model = modeling.BertModel(
      config=config, is_training=True, input_ids=input_ids,
      input_mask=input_mask, token_type_ids=segment_ids)
  pooled = model.get_pooled_output()  # [batch_size, hidden_size]
  logits = tf.matmul(pooled, class_weights, transpose_b=True)
  ```
  """

  def __init__(self,
               config,
               is_training,
               input_ids,
               input_mask=None,
               token_type_ids=None,
               use_one_hot_embeddings=False,
               scope=None,
               compute_dtype=tf.float32,
               gradient_checkpointing=False):
    """Builds the model's graph.

    Args:
      config: `BertConfig`.
      is_training: bool; dropout is applied only when True.
      input_ids: int32 Tensor [batch_size, seq_length] of WordPiece ids.
      input_mask: (optional) int32 Tensor [batch_size, seq_length], 1 for
        real tokens and 0 for padding; all ones when None.
      token_type_ids: (optional) int32 Tensor [batch_size, seq_length] of
        segment ids; all zeros when None.
      use_one_hot_embeddings: (optional) bool; look words up by a one-hot
        matmul (the fast way on TPUs) instead of `tf.gather`. Both give the
        same values.
      scope: (optional) variable scope name, "bert" when None.
      compute_dtype: (optional) tf.float32 (the original), tf.float16 or
        tf.bfloat16: the dtype of the Transformer blocks' matmuls, dropout
        and activations. Variables stay float32 (reads are cast), and the
        embeddings, layer norms, softmax and outputs are float32.
      gradient_checkpointing: (optional) bool; keep only each block's input
        for the backward pass and recompute its activations there, which
        saves memory for about one more forward pass of compute.

    Raises:
      ValueError: `input_ids` is not rank 2, the sequence is longer than
        `max_position_embeddings`, or the config is inconsistent.
    """
    config = copy.deepcopy(config)
    if not is_training:
      config.hidden_dropout_prob = 0.0
      config.attention_probs_dropout_prob = 0.0

    input_shape = get_shape_list(input_ids, expected_rank=2)
    batch_size = input_shape[0]
    seq_length = input_shape[1]
    if (isinstance(seq_length, int) and
        seq_length > config.max_position_embeddings):
      raise ValueError(
          "The sequence length %d is longer than the model's "
          "max_position_embeddings %d (see the BERT config)." %
          (seq_length, config.max_position_embeddings))

    if input_mask is None:
      input_mask = tf.ones(shape=[batch_size, seq_length], dtype=tf.int32)

    if token_type_ids is None:
      token_type_ids = tf.zeros(shape=[batch_size, seq_length], dtype=tf.int32)

    compute_dtype = tf.as_dtype(compute_dtype)
    reduced_precision = compute_dtype != tf.float32
    with tf.variable_scope(
        scope, default_name="bert",
        custom_getter=_float32_variable_getter if reduced_precision else None):
      with tf.variable_scope("embeddings"):
        # Word embeddings of the ids: [batch_size, seq_length, hidden_size].
        (self.embedding_output, self.embedding_table) = embedding_lookup(
            input_ids=input_ids,
            vocab_size=config.vocab_size,
            embedding_size=config.hidden_size,
            initializer_range=config.initializer_range,
            word_embedding_name="word_embeddings",
            use_one_hot_embeddings=use_one_hot_embeddings)

        # Plus segment and position embeddings, then LayerNorm and dropout.
        self.embedding_output = embedding_postprocessor(
            input_tensor=self.embedding_output,
            use_token_type=True,
            token_type_ids=token_type_ids,
            token_type_vocab_size=config.type_vocab_size,
            token_type_embedding_name="token_type_embeddings",
            use_position_embeddings=True,
            position_embedding_name="position_embeddings",
            initializer_range=config.initializer_range,
            max_position_embeddings=config.max_position_embeddings,
            dropout_prob=config.hidden_dropout_prob)

      with tf.variable_scope("encoder"):
        # Every position may attend to every real token:
        # [batch_size, seq_length] -> [batch_size, seq_length, seq_length].
        attention_mask = create_attention_mask_from_input_mask(
            input_ids, input_mask)

        encoder_input = self.embedding_output
        if reduced_precision:
          encoder_input = tf.cast(encoder_input, compute_dtype)

        # One [batch_size, seq_length, hidden_size] output per block.
        self.all_encoder_layers = transformer_model(
            input_tensor=encoder_input,
            attention_mask=attention_mask,
            hidden_size=config.hidden_size,
            num_hidden_layers=config.num_hidden_layers,
            num_attention_heads=config.num_attention_heads,
            intermediate_size=config.intermediate_size,
            intermediate_act_fn=get_activation(config.hidden_act),
            hidden_dropout_prob=config.hidden_dropout_prob,
            attention_probs_dropout_prob=config.attention_probs_dropout_prob,
            initializer_range=config.initializer_range,
            do_return_all_layers=True,
            gradient_checkpointing=gradient_checkpointing)
        if reduced_precision:
          self.all_encoder_layers = [
              tf.cast(layer, tf.float32) for layer in self.all_encoder_layers
          ]

      self.sequence_output = self.all_encoder_layers[-1]
      # Sequence-level tasks need one vector per sequence: the pooler maps
      # the final hidden state of the first token ([CLS]) through a tanh
      # layer that next-sentence pre-training has trained for this purpose.
      with tf.variable_scope("pooler"):
        first_token_tensor = tf.squeeze(self.sequence_output[:, 0:1, :], axis=1)
        self.pooled_output = dense_layer(
            first_token_tensor,
            config.hidden_size,
            activation=tf.tanh,
            kernel_initializer=create_initializer(config.initializer_range))

  def get_pooled_output(self):
    """Returns the pooled `[CLS]` output, [batch_size, hidden_size]."""
    return self.pooled_output

  def get_sequence_output(self):
    """Returns the last block's output, [batch_size, seq_length, hidden]."""
    return self.sequence_output

  def get_all_encoder_layers(self):
    """Returns every layer's output, each [batch_size, seq_length, hidden]."""
    return self.all_encoder_layers

  def get_embedding_output(self):
    """Returns the Transformer's input, [batch_size, seq_length, hidden].

    That is the sum of the word, segment and position embeddings after
    LayerNorm (and dropout when training).
    """
    return self.embedding_output

  def get_embedding_table(self):
    """Returns the word embedding table, [vocab_size, hidden_size]."""
    return self.embedding_table


def gelu(x):
  """GELU activation in its tanh approximation, as the original computes it.

  See https://arxiv.org/abs/1606.08415. The exact form, x * Phi(x) with the
  erf, differs by up to ~1e-3 on trained checkpoints, so it is not used.

  Args:
    x: float Tensor.

  Returns:
    float Tensor of the same shape, `x` times the approximate normal CDF.
  """
  cdf = 0.5 * (1.0 + tf.tanh(
      (np.sqrt(2 / np.pi) * (x + 0.044715 * tf.pow(x, 3)))))
  return x * cdf


def get_activation(activation_string):
  """Resolves the `hidden_act` of a config to a function.

  Args:
    activation_string: "gelu", "relu", "tanh" or "linear" (any case); an
      empty string or None for no activation; anything that is not a string
      is taken to be the function itself.

  Returns:
    The activation function, or None for a linear layer.

  Raises:
    ValueError: an unknown activation name.
  """
  # A non-string is already a function (or None): pass it through.
  if not isinstance(activation_string, six.string_types):
    return activation_string

  if not activation_string:
    return None

  act = activation_string.lower()
  activations = {"linear": None, "relu": tf.nn.relu, "gelu": gelu,
                 "tanh": tf.tanh}
  if act not in activations:
    raise ValueError("Unsupported activation: %s (known: gelu, relu, tanh, "
                     "linear)" % act)
  return activations[act]


def get_assignment_map_from_checkpoint(tvars, init_checkpoint):
  """Matches the graph's variables with a checkpoint's, by name.

  Variables present on one side only are left out: the caller initializes
  those itself (e.g. a new classifier layer).

  Args:
    tvars: list of the graph's variables.
    init_checkpoint: checkpoint path (prefix).

  Returns:
    (assignment_map, initialized_variable_names): an `OrderedDict` mapping
    each checkpoint variable that the graph also has to its own name, and a
    dict whose keys are those names, with and without the ":0" suffix.
  """
  initialized_variable_names = {}

  name_to_variable = collections.OrderedDict()
  for var in tvars:
    name = var.name
    m = re.match("^(.*):\\d+$", name)
    if m is not None:
      name = m.group(1)
    name_to_variable[name] = var

  init_vars = tf.train.list_variables(init_checkpoint)

  assignment_map = collections.OrderedDict()
  for (name, _) in init_vars:
    if name not in name_to_variable:
      continue
    assignment_map[name] = name
    initialized_variable_names[name] = 1
    initialized_variable_names[name + ":0"] = 1

  return (assignment_map, initialized_variable_names)


def dropout(input_tensor, dropout_prob):
  """Zeroes values at random with probability `dropout_prob`.

  Kept values are scaled by 1 / (1 - dropout_prob).

  Args:
    input_tensor: float Tensor.
    dropout_prob: float, the fraction dropped (not kept); 0.0 or None
      returns `input_tensor` itself.

  Returns:
    float Tensor of the same shape.
  """
  if dropout_prob is None or dropout_prob == 0.0:
    return input_tensor
  return tf.nn.dropout(input_tensor, rate=dropout_prob)


def layer_norm(input_tensor, name=None):
  """Normalizes over the last axis, with a learned scale and offset.

  Same variables (`LayerNorm/beta`, `LayerNorm/gamma`) and the same numerics
  as the original's layer_norm (from TF 1.x's contrib): moments over the
  last axis, then `tf.nn.batch_normalization` with epsilon 1e-12.

  Args:
    input_tensor: float Tensor [..., width].
    name: variable scope name; "LayerNorm" when None.

  Returns:
    The normalized tensor, same shape as `input_tensor`.
  """
  if input_tensor.dtype != tf.float32:
    # Reduced precision: the moments need float32's range and resolution.
    output = layer_norm(tf.cast(input_tensor, tf.float32), name)
    return tf.cast(output, input_tensor.dtype)
  with tf.variable_scope(name, default_name="LayerNorm"):
    params_shape = input_tensor.shape[-1:]
    beta = tf.get_variable(
        "beta", shape=params_shape, dtype=input_tensor.dtype,
        initializer=tf.zeros_initializer())
    gamma = tf.get_variable(
        "gamma", shape=params_shape, dtype=input_tensor.dtype,
        initializer=tf.ones_initializer())
    rank = input_tensor.shape.ndims
    mean, variance = tf.nn.moments(input_tensor, [rank - 1], keep_dims=True)
    return tf.nn.batch_normalization(
        input_tensor, mean, variance, offset=beta, scale=gamma,
        variance_epsilon=1e-12)


def layer_norm_and_dropout(input_tensor, dropout_prob, name=None):
  """`layer_norm`, then `dropout` with rate `dropout_prob`."""
  output_tensor = layer_norm(input_tensor, name)
  output_tensor = dropout(output_tensor, dropout_prob)
  return output_tensor


def create_initializer(initializer_range=0.02):
  """A truncated normal initializer with stddev `initializer_range`.

  Draws beyond two standard deviations are redrawn.
  """
  return tf.truncated_normal_initializer(stddev=initializer_range)


def dense_layer(input_tensor, units, activation=None, kernel_initializer=None,
                name=None):
  """A fully connected layer, as `tf.layers.dense` builds it.

  Same variables (`<name>/kernel`, `<name>/bias`, the name "dense" by default
  and made unique in its scope) and numerics (matmul, bias_add, activation),
  without the Keras machinery that TensorFlow 2.16 removed.

  Args:
    input_tensor: float Tensor [..., width].
    units: output width.
    activation: (optional) function applied to the output.
    kernel_initializer: (optional) initializer of the kernel.
    name: (optional) variable scope name.

  Returns:
    float Tensor [..., units].
  """
  with tf.variable_scope(name, default_name="dense"):
    width = input_tensor.shape.as_list()[-1]
    kernel = tf.get_variable(
        "kernel", shape=[width, units], dtype=input_tensor.dtype,
        initializer=kernel_initializer)
    bias = tf.get_variable(
        "bias", shape=[units], dtype=input_tensor.dtype,
        initializer=tf.zeros_initializer())
    if input_tensor.shape.ndims == 2:
      output = tf.matmul(input_tensor, kernel)
    else:
      output = tf.tensordot(input_tensor, kernel, [[-1], [0]])
    output = tf.nn.bias_add(output, bias)
    if activation is not None:
      output = activation(output)
    return output


def embedding_lookup(input_ids,
                     vocab_size,
                     embedding_size=128,
                     initializer_range=0.02,
                     word_embedding_name="word_embeddings",
                     use_one_hot_embeddings=False):
  """Creates the word embedding table and looks the ids up in it.

  Args:
    input_ids: int32 Tensor [batch_size, seq_length] of word ids (or
      [batch_size, seq_length, num_inputs], whose embeddings are then
      concatenated along the last axis).
    vocab_size: int, rows of the table.
    embedding_size: int, width of each embedding.
    initializer_range: float, stddev of the table's initial values.
    word_embedding_name: string, name of the table variable.
    use_one_hot_embeddings: bool; True multiplies one-hot rows by the table
      (quicker on TPUs), False uses `tf.gather`. The values are the same.

  Returns:
    (output, table): float Tensor [batch_size, seq_length, embedding_size]
    and the table, [vocab_size, embedding_size].
  """
  # The lookup below works on [batch_size, seq_length, num_inputs] ids; plain
  # [batch_size, seq_length] ids get a trailing axis of size 1.
  if input_ids.shape.ndims == 2:
    input_ids = tf.expand_dims(input_ids, axis=[-1])

  embedding_table = tf.get_variable(
      name=word_embedding_name,
      shape=[vocab_size, embedding_size],
      initializer=create_initializer(initializer_range))

  flat_input_ids = tf.reshape(input_ids, [-1])
  if use_one_hot_embeddings:
    one_hot_input_ids = tf.one_hot(flat_input_ids, depth=vocab_size)
    output = tf.matmul(one_hot_input_ids, embedding_table)
  else:
    output = tf.gather(embedding_table, flat_input_ids)

  input_shape = get_shape_list(input_ids)

  output = tf.reshape(output,
                      input_shape[0:-1] + [input_shape[-1] * embedding_size])
  return (output, embedding_table)


def embedding_postprocessor(input_tensor,
                            use_token_type=False,
                            token_type_ids=None,
                            token_type_vocab_size=16,
                            token_type_embedding_name="token_type_embeddings",
                            use_position_embeddings=True,
                            position_embedding_name="position_embeddings",
                            initializer_range=0.02,
                            max_position_embeddings=512,
                            dropout_prob=0.1):
  """Adds segment and position embeddings, then LayerNorm and dropout.

  Args:
    input_tensor: float Tensor [batch_size, seq_length, embedding_size], the
      word embeddings.
    use_token_type: bool, whether to add an embedding per `token_type_ids`.
    token_type_ids: (optional) int32 Tensor [batch_size, seq_length];
      required when `use_token_type` is True.
    token_type_vocab_size: int, rows of the segment embedding table.
    token_type_embedding_name: string, name of that table variable.
    use_position_embeddings: bool, whether to add a learned embedding per
      position (0 to seq_length - 1).
    position_embedding_name: string, name of the position table variable.
    initializer_range: float, stddev of the tables' initial values.
    max_position_embeddings: int, rows of the position table; sequences may
      be shorter, never longer.
    dropout_prob: float, dropout rate applied to the result.

  Returns:
    float Tensor of the same shape as `input_tensor`.

  Raises:
    ValueError: `input_tensor` is not rank 3, `token_type_ids` is missing, or
      the sequence is longer than `max_position_embeddings`.
  """
  input_shape = get_shape_list(input_tensor, expected_rank=3)
  batch_size = input_shape[0]
  seq_length = input_shape[1]
  width = input_shape[2]

  output = input_tensor

  if use_token_type:
    if token_type_ids is None:
      raise ValueError("`use_token_type` is True but `token_type_ids` "
                       "is None.")
    token_type_table = tf.get_variable(
        name=token_type_embedding_name,
        shape=[token_type_vocab_size, width],
        initializer=create_initializer(initializer_range))
    # With a handful of segment ids a one-hot matmul beats a gather.
    flat_token_type_ids = tf.reshape(token_type_ids, [-1])
    one_hot_ids = tf.one_hot(flat_token_type_ids, depth=token_type_vocab_size)
    token_type_embeddings = tf.matmul(one_hot_ids, token_type_table)
    token_type_embeddings = tf.reshape(token_type_embeddings,
                                       [batch_size, seq_length, width])
    output += token_type_embeddings

  if use_position_embeddings:
    if (isinstance(seq_length, int) and
        seq_length > max_position_embeddings):
      raise ValueError(
          "The sequence length %d is longer than max_position_embeddings %d."
          % (seq_length, max_position_embeddings))
    assert_op = tf.assert_less_equal(seq_length, max_position_embeddings)
    with tf.control_dependencies([assert_op]):
      full_position_embeddings = tf.get_variable(
          name=position_embedding_name,
          shape=[max_position_embeddings, width],
          initializer=create_initializer(initializer_range))
      # The table has a row for each position up to the longest sequence
      # the model supports; this sequence uses the first `seq_length` rows.
      position_embeddings = tf.slice(full_position_embeddings, [0, 0],
                                     [seq_length, -1])
      num_dims = len(output.shape.as_list())

      # [seq_length, width], with leading 1s to broadcast over the batch.
      position_broadcast_shape = []
      for _ in range(num_dims - 2):
        position_broadcast_shape.append(1)
      position_broadcast_shape.extend([seq_length, width])
      position_embeddings = tf.reshape(position_embeddings,
                                       position_broadcast_shape)
      output += position_embeddings

  output = layer_norm_and_dropout(output, dropout_prob)
  return output


def create_attention_mask_from_input_mask(from_tensor, to_mask):
  """Turns a padding mask of the keys into a mask of attention scores.

  Args:
    from_tensor: Tensor [batch_size, from_seq_length] or [batch_size,
      from_seq_length, width]; only its shape is used.
    to_mask: int32 Tensor [batch_size, to_seq_length], 1 for real tokens.

  Returns:
    float Tensor of shape [batch_size, from_seq_length, to_seq_length]: 1.0
    where a query may attend to a key, 0.0 for padded keys. Padded queries
    are not masked (quirk of the original: their outputs are computed too).
  """
  from_shape = get_shape_list(from_tensor, expected_rank=[2, 3])
  batch_size = from_shape[0]
  from_seq_length = from_shape[1]

  to_shape = get_shape_list(to_mask, expected_rank=2)
  to_seq_length = to_shape[1]

  to_mask = tf.cast(
      tf.reshape(to_mask, [batch_size, 1, to_seq_length]), tf.float32)

  # Only the keys are masked: a padded query still attends to the real
  # tokens, and what it computes is ignored downstream.
  broadcast_ones = tf.ones(
      shape=[batch_size, from_seq_length, 1], dtype=tf.float32)

  # [batch, from, 1] * [batch, 1, to] broadcasts to [batch, from, to].
  mask = broadcast_ones * to_mask

  return mask


def attention_layer(from_tensor,
                    to_tensor,
                    attention_mask=None,
                    num_attention_heads=1,
                    size_per_head=512,
                    query_act=None,
                    key_act=None,
                    value_act=None,
                    attention_probs_dropout_prob=0.0,
                    initializer_range=0.02,
                    do_return_2d_tensor=False,
                    batch_size=None,
                    from_seq_length=None,
                    to_seq_length=None,
                    dropout_fn=None):
  """Multi-head scaled dot-product attention of `from_tensor` over `to_tensor`.

  As in "Attention Is All You Need" (https://arxiv.org/abs/1706.03762); with
  the same tensor on both sides it is self-attention. Queries come from
  `from_tensor`, keys and values from `to_tensor`, each projected by a dense
  layer ("query", "key", "value") and split into heads. Each head's scores,
  query . key / sqrt(size_per_head), are masked, turned into probabilities
  by a softmax and used to average that head's values; the heads are then
  put side by side again. All heads run as one batched matmul.

  Args:
    from_tensor: float Tensor [batch_size, from_seq_length, from_width], or
      [batch_size * from_seq_length, from_width] with the sizes below given.
    to_tensor: float Tensor [batch_size, to_seq_length, to_width], or its
      rank-2 form likewise.
    attention_mask: (optional) int32 or float Tensor [batch_size,
      from_seq_length, to_seq_length] of 1 (may attend) and 0 (may not);
      a 0 adds -10000 to the score, which the softmax turns into ~0.
    num_attention_heads: int, number of heads.
    size_per_head: int, width of each head.
    query_act: (optional) activation of the query projection.
    key_act: (optional) activation of the key projection.
    value_act: (optional) activation of the value projection.
    attention_probs_dropout_prob: (optional) float, dropout rate of the
      attention probabilities.
    initializer_range: float, stddev of the projection kernels' initial
      values.
    do_return_2d_tensor: bool; return [batch_size * from_seq_length,
      num_attention_heads * size_per_head] instead of the rank-3 shape.
    batch_size: (optional) int, required with rank-2 inputs.
    from_seq_length: (optional) int, required with rank-2 inputs.
    to_seq_length: (optional) int, required with rank-2 inputs.
    dropout_fn: (optional) `fn(tensor, rate)` applying dropout; `dropout`
      when None.

  Returns:
    float Tensor [batch_size, from_seq_length, num_attention_heads *
    size_per_head], or its rank-2 form when `do_return_2d_tensor`.

  Raises:
    ValueError: the two inputs differ in rank, or rank-2 inputs come
      without the sizes.
  """

  def transpose_for_scores(input_tensor, batch_size, num_attention_heads,
                           seq_length, width):
    """[batch * seq, heads * width] -> [batch, heads, seq, width]."""
    output_tensor = tf.reshape(
        input_tensor, [batch_size, seq_length, num_attention_heads, width])
    output_tensor = tf.transpose(output_tensor, [0, 2, 1, 3])
    return output_tensor

  from_shape = get_shape_list(from_tensor, expected_rank=[2, 3])
  to_shape = get_shape_list(to_tensor, expected_rank=[2, 3])

  if len(from_shape) != len(to_shape):
    raise ValueError(
        "attention_layer: `from_tensor` has rank %d but `to_tensor` rank %d."
        % (len(from_shape), len(to_shape)))

  if len(from_shape) == 3:
    batch_size = from_shape[0]
    from_seq_length = from_shape[1]
    to_seq_length = to_shape[1]
  elif len(from_shape) == 2:
    if (batch_size is None or from_seq_length is None or
        to_seq_length is None):
      raise ValueError(
          "attention_layer: rank-2 inputs need `batch_size`, "
          "`from_seq_length` and `to_seq_length`.")

  # Shapes in the comments below: B sequences, F query positions, T key
  # positions, N heads of width H.

  from_tensor_2d = reshape_to_matrix(from_tensor)
  to_tensor_2d = reshape_to_matrix(to_tensor)

  initializer = create_initializer(initializer_range)
  # [B*F, N*H]
  query_layer = dense_layer(from_tensor_2d, num_attention_heads * size_per_head,
                            activation=query_act, name="query",
                            kernel_initializer=initializer)
  # [B*T, N*H] each.
  key_layer = dense_layer(to_tensor_2d, num_attention_heads * size_per_head,
                          activation=key_act, name="key",
                          kernel_initializer=initializer)
  value_layer = dense_layer(to_tensor_2d, num_attention_heads * size_per_head,
                            activation=value_act, name="value",
                            kernel_initializer=initializer)

  # [B, N, F, H]
  query_layer = transpose_for_scores(query_layer, batch_size,
                                     num_attention_heads, from_seq_length,
                                     size_per_head)
  # [B, N, T, H]
  key_layer = transpose_for_scores(key_layer, batch_size, num_attention_heads,
                                   to_seq_length, size_per_head)

  # Scaled dot products of queries and keys: [B, N, F, T].
  attention_scores = tf.matmul(query_layer, key_layer, transpose_b=True)
  attention_scores = tf.multiply(attention_scores,
                                 1.0 / math.sqrt(float(size_per_head)))
  compute_dtype = attention_scores.dtype
  if compute_dtype != tf.float32:
    # Reduced precision: the mask's -10000 and the softmax need float32.
    attention_scores = tf.cast(attention_scores, tf.float32)

  if attention_mask is not None:
    # [B, 1, F, T], the same mask for every head.
    attention_mask = tf.expand_dims(attention_mask, axis=[1])

    # 0 where attending is allowed, -10000 where not: after the softmax a
    # masked key gets a weight of about exp(-10000), i.e. none. (A finite
    # value, not -inf, so a fully masked row cannot produce NaNs.)
    adder = (1.0 - tf.cast(attention_mask, tf.float32)) * -10000.0
    attention_scores += adder

  # [B, N, F, T], each row summing to 1.
  attention_probs = tf.nn.softmax(attention_scores)
  if compute_dtype != tf.float32:
    attention_probs = tf.cast(attention_probs, compute_dtype)

  # Dropout on the probabilities removes whole keys from a query's view, as
  # in the Transformer paper.
  attention_probs = (dropout_fn or dropout)(attention_probs,
                                            attention_probs_dropout_prob)

  # [B, N, T, H]
  value_layer = transpose_for_scores(value_layer, batch_size,
                                     num_attention_heads, to_seq_length,
                                     size_per_head)

  # Probability-weighted values, [B, N, F, H], then heads side by side.
  context_layer = tf.matmul(attention_probs, value_layer)
  context_layer = tf.transpose(context_layer, [0, 2, 1, 3])  # [B, F, N, H]

  if do_return_2d_tensor:
    # [B*F, N*H]
    context_layer = tf.reshape(
        context_layer,
        [batch_size * from_seq_length, num_attention_heads * size_per_head])
  else:
    # [B, F, N*H]
    context_layer = tf.reshape(
        context_layer,
        [batch_size, from_seq_length, num_attention_heads * size_per_head])

  return context_layer


def transformer_model(input_tensor,
                      attention_mask=None,
                      hidden_size=768,
                      num_hidden_layers=12,
                      num_attention_heads=12,
                      intermediate_size=3072,
                      intermediate_act_fn=gelu,
                      hidden_dropout_prob=0.1,
                      attention_probs_dropout_prob=0.1,
                      initializer_range=0.02,
                      do_return_all_layers=False,
                      gradient_checkpointing=False):
  """The stack of Transformer encoder blocks (https://arxiv.org/abs/1706.03762).

  Each block `layer_<i>` is self-attention, a dense projection, dropout, a
  residual sum and LayerNorm, then a feed-forward layer (`intermediate`) and
  a projection back to `hidden_size` (`output`), again with dropout, a
  residual sum and LayerNorm: the encoder of the paper, normalizing after
  each residual sum.

  Args:
    input_tensor: float Tensor [batch_size, seq_length, hidden_size].
    attention_mask: (optional) int32 or float Tensor [batch_size,
      seq_length, seq_length], 1 where a position may attend, 0 elsewhere.
    hidden_size: int, width of the blocks (and of `input_tensor`).
    num_hidden_layers: int, number of blocks.
    num_attention_heads: int, heads per self-attention; divides
      `hidden_size`.
    intermediate_size: int, width of the feed-forward layer.
    intermediate_act_fn: function, activation of the feed-forward layer.
    hidden_dropout_prob: float, dropout rate after each dense projection.
    attention_probs_dropout_prob: float, dropout rate of the attention
      probabilities.
    initializer_range: float, stddev of the kernels' initial values.
    do_return_all_layers: bool; return the list of every block's output
      instead of the last one only.
    gradient_checkpointing: bool; recompute each block's activations in the
      backward pass instead of keeping them (see `_recompute_in_backward`).

  Returns:
    float Tensor [batch_size, seq_length, hidden_size], the last block's
    output, or the list of all blocks' outputs.

  Raises:
    ValueError: `hidden_size` is not a multiple of `num_attention_heads`,
      or the input is not [batch_size, seq_length, hidden_size].
  """
  if hidden_size % num_attention_heads != 0:
    raise ValueError(
        "The hidden size %d is not a multiple of the number of attention "
        "heads %d (see the BERT config)." % (hidden_size, num_attention_heads))

  attention_head_size = int(hidden_size / num_attention_heads)
  input_shape = get_shape_list(input_tensor, expected_rank=3)
  batch_size = input_shape[0]
  seq_length = input_shape[1]
  input_width = input_shape[2]

  # Residual sums add each block's input to its output: widths must agree.
  if input_width != hidden_size:
    raise ValueError("The input's width %d differs from hidden_size %d." %
                     (input_width, hidden_size))

  # The blocks work on [batch_size * seq_length, hidden_size] matrices and
  # reshape only at the end: reshapes are not free on TPUs.
  prev_output = reshape_to_matrix(input_tensor)

  def block(layer_input, dropout_fn):
    """One encoder block: [batch_size * seq_length, hidden_size], twice."""
    with tf.variable_scope("attention"):
      with tf.variable_scope("self"):
        attention_output = attention_layer(
            from_tensor=layer_input,
            to_tensor=layer_input,
            attention_mask=attention_mask,
            num_attention_heads=num_attention_heads,
            size_per_head=attention_head_size,
            attention_probs_dropout_prob=attention_probs_dropout_prob,
            initializer_range=initializer_range,
            do_return_2d_tensor=True,
            batch_size=batch_size,
            from_seq_length=seq_length,
            to_seq_length=seq_length,
            dropout_fn=dropout_fn)

      # Mix the heads, then the residual sum with the block's input.
      with tf.variable_scope("output"):
        attention_output = dense_layer(
            attention_output,
            hidden_size,
            kernel_initializer=create_initializer(initializer_range))
        attention_output = dropout_fn(attention_output, hidden_dropout_prob)
        attention_output = layer_norm(attention_output + layer_input)

    # The only non-linearity of the block besides the softmax.
    with tf.variable_scope("intermediate"):
      intermediate_output = dense_layer(
          attention_output,
          intermediate_size,
          activation=intermediate_act_fn,
          kernel_initializer=create_initializer(initializer_range))

    # Back to `hidden_size`, and the second residual sum.
    with tf.variable_scope("output"):
      layer_output = dense_layer(
          intermediate_output,
          hidden_size,
          kernel_initializer=create_initializer(initializer_range))
      layer_output = dropout_fn(layer_output, hidden_dropout_prob)
      layer_output = layer_norm(layer_output + attention_output)
      return layer_output

  all_layer_outputs = []
  for layer_idx in range(num_hidden_layers):
    with tf.variable_scope(
        "layer_%d" % layer_idx,
        use_resource=True if gradient_checkpointing else None) as scope:
      if gradient_checkpointing:
        prev_output = _recompute_in_backward(block, prev_output, scope)
      else:
        prev_output = block(prev_output, dropout)
      all_layer_outputs.append(prev_output)

  if do_return_all_layers:
    final_outputs = []
    for layer_output in all_layer_outputs:
      final_output = reshape_from_matrix(layer_output, input_shape)
      final_outputs.append(final_output)
    return final_outputs
  else:
    final_output = reshape_from_matrix(prev_output, input_shape)
    return final_output


def _recompute_in_backward(block, layer_input, scope):
  """Runs `block`, keeping only its input for the backward pass.

  The backward pass runs the block again (under `scope`, reusing its
  variables) and differentiates that copy, so the block's activations need
  not live from the forward pass to the backward pass. Dropout draws from a
  seed fixed in the forward pass, so the copy drops the same units.

  Args:
    block: `block(layer_input, dropout_fn)`, building the block's graph in
      the current variable scope.
    layer_input: float Tensor [batch_size * seq_length, hidden_size].
    scope: the block's `tf.VariableScope`, with resource variables (which
      `tf.custom_gradient` needs to find them).

  Returns:
    The block's output, like `layer_input`.
  """
  seed = tf.random.uniform([2], maxval=2**31 - 1, dtype=tf.int32)

  def seeded_block(block_input, block_seed):
    draws = []

    def seeded_dropout(input_tensor, dropout_prob):
      if dropout_prob is None or dropout_prob == 0.0:
        return input_tensor
      draws.append(None)
      keep = tf.random.stateless_uniform(
          tf.shape(input_tensor), seed=block_seed + [0, len(draws)])
      keep = tf.cast(keep >= dropout_prob, input_tensor.dtype)
      return input_tensor * keep * (1.0 / (1.0 - dropout_prob))

    return block(block_input, seeded_dropout)

  @tf.custom_gradient
  def forward(block_input, block_seed):
    output = seeded_block(block_input, block_seed)

    def backward(d_output, variables=None):
      variables = list(variables or [])
      # Not before the backward pass reaches this block: recomputed early,
      # the activations would all be alive at once again.
      with tf.variable_scope(scope, reuse=True), \
           tf.control_dependencies([d_output]):
        recomputed = seeded_block(block_input, block_seed)
      grads = tf.gradients(recomputed, [block_input] + variables,
                           grad_ys=d_output)
      return [grads[0], None], grads[1:]

    return output, backward

  return forward(layer_input, seed)


def get_shape_list(tensor, expected_rank=None, name=None):
  """Returns the dimensions of `tensor`, static where known.

  Args:
    tensor: a `tf.Tensor`.
    expected_rank: (optional) int or list of ints; a tensor of another rank
      raises ValueError.
    name: (optional) name of the tensor in the error message.

  Returns:
    A list with one entry per dimension: a Python int when the graph knows
    it, otherwise a scalar int32 Tensor giving it at run time.
  """
  if name is None:
    name = tensor.name

  if expected_rank is not None:
    assert_rank(tensor, expected_rank, name)

  shape = tensor.shape.as_list()

  non_static_indexes = []
  for (index, dim) in enumerate(shape):
    if dim is None:
      non_static_indexes.append(index)

  if not non_static_indexes:
    return shape

  dyn_shape = tf.shape(tensor)
  for index in non_static_indexes:
    shape[index] = dyn_shape[index]
  return shape


def reshape_to_matrix(input_tensor):
  """Folds the leading dimensions: [..., width] -> [-1, width] (rank >= 2)."""
  ndims = input_tensor.shape.ndims
  if ndims < 2:
    raise ValueError("reshape_to_matrix needs a tensor of rank 2 or more, "
                     "not shape %s." % (input_tensor.shape))
  if ndims == 2:
    return input_tensor

  width = input_tensor.shape[-1]
  output_tensor = tf.reshape(input_tensor, [-1, width])
  return output_tensor


def reshape_from_matrix(output_tensor, orig_shape_list):
  """Inverse of `reshape_to_matrix`, given the original shape list.

  The last dimension is the matrix's own width.
  """
  if len(orig_shape_list) == 2:
    return output_tensor

  output_shape = get_shape_list(output_tensor)

  orig_dims = orig_shape_list[0:-1]
  width = output_shape[-1]

  return tf.reshape(output_tensor, orig_dims + [width])


def assert_rank(tensor, expected_rank, name=None):
  """Checks the static rank of `tensor`.

  Args:
    tensor: a `tf.Tensor`.
    expected_rank: int, or list of ints for several accepted ranks.
    name: (optional) name of the tensor in the error message.

  Raises:
    ValueError: the rank is not one of `expected_rank`.
  """
  if name is None:
    name = tensor.name

  if isinstance(expected_rank, six.integer_types):
    expected_rank = [expected_rank]

  actual_rank = tensor.shape.ndims
  if actual_rank not in expected_rank:
    scope_name = tf.get_variable_scope().name
    raise ValueError(
        "The tensor `%s` (variable scope `%s`) has rank %s, shape %s; "
        "expected rank %s." %
        (name, scope_name, actual_rank, tensor.shape,
         " or ".join(str(rank) for rank in expected_rank)))
