"""Weights from a TF1 frozen graph's constants, by name, strictly; and the
graph's ops checked against the network built from the configuration.

A frozen graph keeps each variable as a ``Const`` node under the variable's
name, read through an ``Identity`` named ``<name>/read``. The names map to
our parameters by rule (:func:`tf_name`): our link ``<prefix>/<scope>/conv``
holds ``<tf prefix><scope>/weights`` (or ``depthwise_weights``) as ``W`` and
``<scope>/biases`` as ``b``; ``<prefix>/<scope>/BatchNorm`` holds
``<scope>/BatchNorm/{gamma, beta, moving_mean, moving_variance}``; the prefixes
are :data:`PREFIXES`. Kernels are transposed from TF's (k, k, in, out) to
(out, in, k, k), depthwise kernels from (k, k, C, 1) to (C, 1, k, k).

Strict: the weights of the graph are its constants read through ``/read``
plus every floating-point constant with at least one dimension under
``FeatureExtractor/`` or ``BoxPredictor_k/``; each must fill one parameter, each
parameter must be filled, with equal shapes, or nothing is loaded and one
line names every missing, unexpected and misshapen one.

The ops are checked too (:func:`structure_problems`): each of our
convolutions has its TF op (``Conv2D`` or ``depthwise``) with the same stride
and padding and a ``BiasAdd`` exactly when it has a bias, each batch norm its
``FusedBatchNorm`` with the same epsilon, each activation its op, each
residual block its ``add``: so a ``pipeline.config`` that does not describe
the graph is refused instead of silently computing something else.
"""
import re

import numpy as np

from replicate.odapi.errors import ExportWeightsError
from replicate.odapi.slim_mobilenet_v2 import SCOPE, SlimBlock, SlimConv

#: Our link prefix -> the TF scope prefix of the same layers.
PREFIXES = (('extractor/base/', SCOPE + '/'), ('extractor/extras/', SCOPE + '/'),
            ('multibox/', ''))
BATCH_NORM = {'gamma': 'gamma', 'beta': 'beta', 'avg_mean': 'moving_mean',
              'avg_var': 'moving_variance'}
WEIGHT_SCOPES = re.compile(r'^(FeatureExtractor|BoxPredictor_\d+)/')
ACTIVATION_OPS = {'RELU_6': 'Relu6', 'RELU': 'Relu'}
SHOWN = 8


def tf_scope(path):
    """The TF scope of our link path ``extractor/base/expanded_conv_1/expand``."""
    for ours, theirs in PREFIXES:
        if path.startswith(ours):
            return theirs + path[len(ours):]
    raise ValueError('no TF scope for {}'.format(path))


def tf_name(path, attribute, link):
    """TF constant name of our parameter ``path/attribute`` (``path`` ends in
    ``/conv`` or ``/BatchNorm``)."""
    scope, _, leaf = path.rpartition('/')
    if leaf == 'conv':
        if attribute == 'b':
            return tf_scope(scope) + '/biases'
        return tf_scope(scope) + ('/depthwise_weights' if link.groups > 1 else '/weights')
    if leaf == 'BatchNorm':
        return '{}/BatchNorm/{}'.format(tf_scope(scope), BATCH_NORM[attribute])
    raise ValueError('no TF name for {}/{}'.format(path, attribute))


def expected(model):
    """{TF constant name: (link, attribute)} of every parameter and
    batch-norm statistic of ``model``."""
    found = {}
    for path, link in model.namedlinks(skipself=True):
        path = path.lstrip('/')
        names = [name.lstrip('/') for name, _ in link.namedparams(include_uninit=True)]
        names = [n for n in names if '/' not in n] + list(getattr(link, '_persistent', ()))
        for name in names:
            if getattr(link, name) is not None:
                found[tf_name(path, name, link)] = (link, name)
    return found


def graph_weights(graph):
    """Names of the graph's weight constants (module doc)."""
    names = []
    for name, node in graph.nodes.items():
        if node.op != 'Const':
            continue
        is_read = any(c == name + '/read' for c in graph.consumers[name])
        dtype, dims = node.attr['value'].tensor.dtype, node.attr['value'].tensor.tensor_shape.dim
        if is_read or (WEIGHT_SCOPES.match(name) and dtype in (1, 2, 19) and len(dims) >= 1):
            names.append(name)
    return names


def to_chainer(name, value):
    """A TF weight -> our layout (module doc)."""
    if name.endswith('/depthwise_weights'):
        # (k, k, C, 1) -> (C, 1, k, k): one group per channel
        return value.transpose(2, 3, 0, 1).reshape(-1, 1, *value.shape[:2])
    if name.endswith('/weights') and value.ndim == 4:
        # (k, k, in, out) -> (out, in, k, k)
        return value.transpose(3, 2, 0, 1)
    return value


def _current(holder):
    link, name = holder
    value = getattr(link, name)
    return value.array if hasattr(value, 'array') else value


def _listed(names):
    head = ', '.join(names[:SHOWN])
    return head + (', ... ({} more)'.format(len(names) - SHOWN) if len(names) > SHOWN else '')


def weight_problems(graph, model, accepted=()):
    """Missing, unexpected and misshapen weights, as message parts (empty: they fit).

    Args:
        accepted: names of other constants the structure check used (the
            ones / zeros of a batch norm without gamma or beta).
    """
    wanted = expected(model)
    present = [n for n in graph_weights(graph) if n not in accepted]
    problems = []
    missing = sorted(set(wanted) - set(present))
    if missing:
        problems.append('{} missing: {}'.format(len(missing), _listed(missing)))
    unexpected = sorted(set(present) - set(wanted))
    if unexpected:
        problems.append('{} unexpected: {}'.format(len(unexpected), _listed(unexpected)))
    misshapen = []
    for name in sorted(set(present) & set(wanted)):
        value = graph.constant(name)
        ours = _current(wanted[name]).shape
        if value.dtype != np.float32 or to_chainer(name, value).shape != ours:
            misshapen.append('{} ({} {} -> ours {})'.format(name, value.dtype.name, value.shape,
                                                          ours))
    if misshapen:
        problems.append('{} misshapen: {}'.format(len(misshapen), _listed(misshapen)))
    return problems


def _conv_problems(graph, scope, unit):
    conv = unit.conv
    op_name = scope + ('/depthwise' if conv.groups > 1 else '/Conv2D')
    wanted = 'DepthwiseConv2dNative' if conv.groups > 1 else 'Conv2D'
    if graph.op(op_name) != wanted:
        return ['{} is not a {} op'.format(op_name, wanted)]
    problems = []
    strides = list(graph.attr(op_name, 'strides').list.i)
    padding = graph.attr(op_name, 'padding').s.decode()
    want_padding = 'VALID' if conv.padding == 'explicit' else 'SAME'
    if strides != [1, conv.stride, conv.stride, 1] or padding != want_padding:
        problems.append('{}: strides {} padding {}, ours stride {} padding {}'.format(
            op_name, strides, padding, conv.stride, want_padding))
    has_bias = graph.op(scope + '/BiasAdd') == 'BiasAdd'
    if has_bias != (conv.b is not None):
        problems.append('{}: {} bias in the graph, {} in ours'.format(
            scope, 'a' if has_bias else 'no', 'one' if conv.b is not None else 'none'))
    return problems


def _norm_problems(graph, scope, unit, accepted):
    norms = [n for n in graph.under(scope + '/BatchNorm')
             if (graph.op(n) or '').startswith('FusedBatchNorm')]
    if not unit.has_bn:
        return ['{}: a batch norm in the graph, none in ours'.format(scope)] if norms else []
    if len(norms) != 1:
        return ['{}: no FusedBatchNorm op in the graph'.format(scope)]
    bn, problems = unit.BatchNorm, []
    epsilon = graph.attr(norms[0], 'epsilon').f
    if np.float32(epsilon) != np.float32(bn.eps):
        problems.append('{}: epsilon {!r}, ours {!r}'.format(norms[0], epsilon, bn.eps))
    for index, (present, value) in ((1, (bn.gamma is not None, 1.0)),
                                    (2, (bn.beta is not None, 0.0))):
        if present:
            continue
        node = graph.input_node(norms[0], index)
        constant = graph.constant_input(norms[0], index)
        if constant is None or not np.all(constant == value):
            problems.append('{}: input {} is not constant {:g} as ours'.format(
                norms[0], index, value))
        else:
            accepted.add(node.name)
    return problems


def _activation_problems(graph, scope, unit):
    ops = [graph.op(n) for n in graph.under(scope) if n.count('/') == scope.count('/') + 1 and
           graph.op(n) in ACTIVATION_OPS.values()]
    want = [ACTIVATION_OPS[unit.act.kind]] if unit.has_act and unit.act.kind != 'NONE' else []
    if ops != want:
        return ['{}: activation {} in the graph, ours {}'.format(
            scope, ops or 'none', want or 'none')]
    return []


def structure_problems(graph, model):
    """``(problems, accepted)``: mismatches between the graph's ops and ours
    (module doc), and the constants they used besides the weights."""
    problems, accepted = [], set()
    for path, link in model.namedlinks(skipself=True):
        path = path.lstrip('/')
        if isinstance(link, SlimConv):
            scope = tf_scope(path)
            problems += _conv_problems(graph, scope, link)
            problems += _norm_problems(graph, scope, link, accepted)
            problems += _activation_problems(graph, scope, link)
        elif isinstance(link, SlimBlock):
            scope = tf_scope(path)
            adds = [n for n in graph.under(scope) if n.count('/') == scope.count('/') + 1 and
                    graph.op(n) in ('Add', 'AddV2')]
            if bool(adds) != link.residual:
                problems.append('{}: {} residual add in the graph, {} in ours'.format(
                    scope, 'a' if adds else 'no', 'one' if link.residual else 'none'))
    return problems, accepted


def load(graph, model, what):
    """Check ``model`` against the graph and fill it from the graph's
    constants; all or nothing.

    Args:
        what (str): where the model's configuration came from, for the message.

    Raises:
        ExportWeightsError: every mismatch, in one line.
    """
    problems, accepted = structure_problems(graph, model)
    problems = weight_problems(graph, model, accepted) + problems
    if problems:
        raise ExportWeightsError('{} does not fit the network {} describes: {}'.format(
            graph.path, what, '; '.join(problems[:SHOWN]) +
            ('; ... ({} more)'.format(len(problems) - SHOWN) if len(problems) > SHOWN else '')))
    for name, (link, attribute) in expected(model).items():
        value = to_chainer(name, graph.constant(name))
        current = getattr(link, attribute)
        if hasattr(current, 'array'):
            current.array[...] = current.device.send(value.astype(current.dtype))
        else:
            setattr(link, attribute, link.device.send(value.astype(current.dtype)))
    return model
