"""Weights from an OD API TF2 export, by variable name, strictly.

An export folder (``exporter_main_v2.py``) holds ``pipeline.config``,
``saved_model/`` (its weights in ``saved_model/variables/variables.*``) and
often ``checkpoint/`` (``ckpt-0.*``, the same weights). Both are TF
checkpoints whose object graph records every variable's Keras name
(``block_1_expand/kernel``, ``.../FeatureMaps/layer_19_1_Conv2d_2_1x1_256_conv/
kernel``, ``BoxPredictor/ConvolutionalBoxHead_0/BoxEncodingPredictor/bias``);
they are read with ``tf.train.load_checkpoint`` (no code from the export runs).

Names map to our parameters by rule (:func:`expected_variables`): a Keras
layer ``L`` of the base is our ``extractor/base/L``, of the extra layers
``extractor/extras/L``, of the box predictor ``multibox/L``; ``kernel`` ->
``W`` (transposed from TF's (k, k, in, out) to (out, in, k, k)),
``depthwise_kernel`` -> ``W`` ((k, k, C, 1) -> (C, 1, k, k)), ``bias`` ->
``b``, ``gamma``/``beta`` -> themselves, ``moving_mean``/``moving_variance``
-> ``avg_mean``/``avg_var``. An export's name may carry a scope before these
(``ssd_mobile_net_v2_keras_feature_extractor_1/``); matching is by the
longest such suffix. Every variable of the detection model must be used and
every parameter filled, with equal shapes, or nothing is loaded.
"""
import os

import numpy as np

from replicate.odapi.errors import ExportError, ExportWeightsError

#: Our link prefix -> the TF scope the variable names carry.
SCOPES = (('extractor/base/', ''), ('extractor/extras/', 'FeatureMaps/'),
          ('multibox/', 'BoxPredictor/'))
#: Our attribute -> TF variable suffix(es).
ATTRIBUTES = {'b': ('bias',), 'gamma': ('gamma',), 'beta': ('beta',),
              'avg_mean': ('moving_mean',), 'avg_var': ('moving_variance',),
              'W': ('kernel', 'depthwise_kernel')}
#: Names of the detection model under the checkpoint's root object.
MODEL_NODES = ('_model', 'model')


def find_variables(export_dir):
    """The checkpoint prefix holding an export's weights.

    ``saved_model/variables/variables`` if present, else the latest
    ``checkpoint/ckpt-N``.

    Raises:
        ExportError: neither exists (a TF1 frozen graph is named as such).
    """
    prefix = os.path.join(export_dir, 'saved_model', 'variables', 'variables')
    if os.path.isfile(prefix + '.index'):
        return prefix
    ckpt_dir = os.path.join(export_dir, 'checkpoint')
    if os.path.isdir(ckpt_dir):
        indexes = sorted((f for f in os.listdir(ckpt_dir) if f.endswith('.index')),
                         key=lambda f: (len(f), f))
        if indexes:
            return os.path.join(ckpt_dir, indexes[-1][:-len('.index')])
    if os.path.isfile(os.path.join(export_dir, 'frozen_inference_graph.pb')):
        raise ExportError('{} is a TF1 frozen-graph export: its weights are constants inside '
                          'frozen_inference_graph.pb, not variables; load it with '
                          'replicate.odapi.SlimSSDMobileNetV2.from_frozen_graph (in the harness: '
                          'ours-odapi:{})'.format(export_dir, export_dir))
    raise ExportError('{} holds no saved_model/variables/variables.index and no checkpoint/'
                      'ckpt-*.index: pass an OD API TF2 export folder'.format(export_dir))


def _model_keys(graph):
    """{checkpoint key: full variable name} of the variables under the
    detection model node of a TrackableObjectGraph."""
    root = graph.nodes[0]
    starts = [child.node_id for child in root.children if child.local_name in MODEL_NODES]
    seen, stack, keys = set(starts), list(starts), {}
    while stack:
        node = graph.nodes[stack.pop()]
        for attribute in node.attributes:
            if attribute.name == 'VARIABLE_VALUE':
                keys[attribute.checkpoint_key] = attribute.full_name
        for child in node.children:
            if child.node_id not in seen:
                seen.add(child.node_id)
                stack.append(child.node_id)
    return keys


def read_variables(prefix):
    """{variable name: float32 numpy array} of the detection model.

    Raises:
        ExportError: unreadable checkpoint, or no detection model in it.
    """
    import tensorflow as tf
    from tensorflow.core.protobuf import trackable_object_graph_pb2
    try:
        reader = tf.train.load_checkpoint(prefix)
        graph = trackable_object_graph_pb2.TrackableObjectGraph()
        graph.ParseFromString(reader.get_tensor('_CHECKPOINTABLE_OBJECT_GRAPH'))
        keys = _model_keys(graph)
        arrays = {name: reader.get_tensor(key) for key, name in keys.items()}
    except Exception as exc:  # TF raises many types for a bad file
        raise ExportError('cannot read the checkpoint {}: {}'.format(
            prefix, str(exc).splitlines()[0] if str(exc) else type(exc).__name__)) from None
    if not arrays:
        raise ExportError('{} holds no detection model (no {} object): not an OD API '
                          'export'.format(prefix, ' or '.join(MODEL_NODES)))
    return {name: np.asarray(value) for name, value in arrays.items()}


def _tf_names(path, attribute):
    """TF variable names our parameter ``path/attribute`` may be stored under."""
    for ours, theirs in SCOPES:
        if path.startswith(ours):
            layer = theirs + path[len(ours):]
            return tuple('{}/{}'.format(layer, suffix) for suffix in ATTRIBUTES[attribute])
    raise ValueError('no TF scope for {}'.format(path))


def expected_variables(model):
    """{our key: (candidate TF names, our array holder)} for every parameter
    and batch-norm statistic of ``model`` (keys like ``extractor/base/Conv1/W``)."""
    expected = {}
    for path, link in model.namedlinks(skipself=True):
        path = path.lstrip('/')
        for name, _ in link.namedparams(include_uninit=True):
            name = name.lstrip('/')
            if '/' not in name:  # the link's own parameters, not its children's
                expected['{}/{}'.format(path, name)] = (_tf_names(path, name), (link, name))
        for name in getattr(link, '_persistent', ()):
            expected['{}/{}'.format(path, name)] = (_tf_names(path, name), (link, name))
    return expected


def _match(tf_names, expected):
    """{our key: TF name} by longest-suffix match, plus the unused TF names."""
    wanted = {}
    for key, (names, _) in expected.items():
        for name in names:
            wanted[name] = key
    found, unused = {}, []
    for tf_name in sorted(tf_names):
        parts = tf_name.split('/')
        suffix = next(('/'.join(parts[i:]) for i in range(len(parts))
                       if '/'.join(parts[i:]) in wanted), None)
        if suffix is None or wanted[suffix] in found:
            unused.append(tf_name)
        else:
            found[wanted[suffix]] = tf_name
    return found, unused


def to_chainer(tf_name, value):
    """A TF variable -> our layout (see the module doc)."""
    if tf_name.endswith('/depthwise_kernel'):
        # (k, k, C, 1) -> (C, 1, k, k): one group per channel
        return value.transpose(2, 3, 0, 1).reshape(-1, 1, *value.shape[:2])
    if tf_name.endswith('/kernel'):
        # (k, k, in, out) -> (out, in, k, k)
        return value.transpose(3, 2, 0, 1)
    return value


def _current(holder):
    link, name = holder
    value = getattr(link, name)
    return value.array if hasattr(value, 'array') else value


def _set(holder, value):
    link, name = holder
    current = getattr(link, name)
    if hasattr(current, 'array'):
        current.array[...] = current.device.send(value.astype(current.dtype))
    else:
        setattr(link, name, link.device.send(value.astype(current.dtype)))


def _problems(model, found, unused, arrays, expected):
    problems = []
    missing = sorted(set(expected) - set(found))
    if missing:
        problems.append('{} missing (looked for {}): {}'.format(
            len(missing), ', '.join(expected[missing[0]][0]), ', '.join(missing)))
    if unused:
        problems.append('{} unexpected: {}'.format(len(unused), ', '.join(unused)))
    misshapen = ['{} (export {} -> {}, model {})'.format(
        name, arrays[name].shape, to_chainer(name, arrays[name]).shape,
        _current(expected[key][1]).shape)
        for key, name in sorted(found.items())
        if to_chainer(name, arrays[name]).shape != _current(expected[key][1]).shape]
    if misshapen:
        problems.append('{} misshapen: {}'.format(len(misshapen), ', '.join(misshapen)))
    return problems


def load_variables(model, arrays, source):
    """Fill ``model`` from ``{TF name: array}``; all or nothing.

    Raises:
        ExportWeightsError: missing, unexpected or misshapen variables, all
            named in one line.
    """
    expected = expected_variables(model)
    found, unused = _match(arrays, expected)
    problems = _problems(model, found, unused, arrays, expected)
    if problems:
        raise ExportWeightsError('{} does not fit the model its pipeline.config describes: {}'
                                 .format(source, '; '.join(problems)))
    for key, name in found.items():
        _set(expected[key][1], to_chainer(name, arrays[name]))
    return model
