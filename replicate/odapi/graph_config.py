"""The configuration of a TF1 OD API SSD, read from its frozen graph when no
``pipeline.config`` comes with it.

The exporter bakes every setting into the graph: as constants (the resize
size, the preprocessing's scale and offset, the box coder's scale factors,
the NMS thresholds and caps, the anchor generator's scales and aspect
ratios), as op types (the score converter, ``Relu6``), as op attributes (batch
norm epsilon, padding) and as the shapes and names of the weights (widths,
depth multiplier, depthwise layers). :func:`recover` reads each from the nodes
the OD API's TF1 code creates (names noted below), fills an
:class:`replicate.odapi.config.SSDConfig`, and records where each value came
from (:class:`Recovered`).

The anchors are checked twice: recomputed by :mod:`replicate.odapi.anchors`
from the recovered ``ssd_anchor_generator`` parameters, and computed from
the graph's own anchor ops by :mod:`replicate.odapi.const_eval`; they must be
equal bit for bit (:func:`check_anchors`, also used with a ``pipeline.config``).
Anything this port does not build is refused in one line naming it.
"""
import dataclasses
import re

import numpy as np

from replicate.odapi import anchors as anchor_lib
from replicate.odapi import const_eval
from replicate.odapi.config import (
    SLIM_FEATURE_EXTRACTOR,
    Anchors,
    BatchNorm,
    BoxPredictor,
    ConvHyperparams,
    FeatureExtractor,
    PostProcessing,
    SSDConfig,
)
from replicate.odapi.errors import ConfigError, ExportError
from replicate.odapi.feature_maps import EXTRA_DEPTHS, map_sizes
from replicate.odapi.mobilenet_v2 import KERAS_BATCH_NORM
from replicate.odapi.slim_mobilenet_v2 import SCOPE, layout

F32 = np.float32
#: The anchors tensor ``ssd_meta_arch`` concatenates from the generator's lists.
ANCHORS = 'Concatenate/concat'
NMS_SCOPE = 'Postprocessor/BatchMultiClassNonMaxSuppression'
#: Depth multipliers tried after the one the extra layers' names give.
MULTIPLIERS = (1.0, 0.75, 0.5, 0.35, 0.25, 1.4, 1.3)
#: min_depth values tried, the sample configs' 16 first.
MIN_DEPTHS = (16, 8, 0, 24, 32)
ACTIVATION_OPS = {'Relu6': 'RELU_6', 'Relu': 'RELU'}
SCORE_OPS = {'Sigmoid': 'SIGMOID', 'Softmax': 'SOFTMAX'}
MOBILENET_SCALE = F32(2.0 / 255.0)


class Recovered:
    """What was read, from where: ``items`` is a list of (setting, value text, source)."""

    def __init__(self, path):
        self.path, self.items = path, []

    def add(self, setting, value, source):
        self.items.append((setting, value, source))
        return value

    def refuse(self, why):
        raise ConfigError('{}: {}'.format(self.path, why))

    def as_dict(self):
        """{setting: 'value (from source)'}, JSON-able, in reading order."""
        return {setting: '{} (from {})'.format(value, source) if source else str(value)
                for setting, value, source in self.items}


def f32(value):
    """A float32 value as the Python float the configs hold."""
    return float(F32(value))


def _number(value):
    return np.format_float_positional(F32(value), trim='-') if float(value) >= 1e-4 else \
        np.format_float_scientific(F32(value), unique=True, trim='-')


def _scalar(graph, name, seen):
    node = graph.node(name)
    if node is None or node.op != 'Const':
        seen.refuse('{} is missing or not a constant: not the OD API exporter\'s graph'.format(
            name))
    value = graph.constant(name)
    if value.size != 1:
        seen.refuse('{} holds {} values, expected one'.format(name, value.size))
    return value.reshape(())


# --- input: resize and preprocessing -------------------------------------------------

def _image_size(graph, seen):
    resizes = [n for n in graph.under('Preprocessor') if graph.op(n).startswith('Resize')]
    if len(resizes) != 1 or graph.op(resizes[0]) != 'ResizeBilinear':
        seen.refuse('preprocessing resizes with {}: this port builds the fixed_shape_resizer '
                    '(one ResizeBilinear)'.format(', '.join(graph.op(n) for n in resizes) or
                                                  'no resize op'))
    name = resizes[0]
    for attr in ('align_corners', 'half_pixel_centers'):
        value = graph.attr(name, attr)
        if value is not None and value.b:
            seen.refuse('{}: {}=true is not the OD API resize this port builds'.format(name, attr))
    size = graph.constant_input(name, 1)
    if size is None or size.shape != (2,):
        seen.refuse('{}: its size is computed, not constant: only the fixed_shape_resizer is '
                    'built (keep_aspect_ratio_resizer is not)'.format(name))
    size = tuple(int(v) for v in size)
    if min(size) < 33:
        seen.refuse('input {}x{}: the OD API needs at least 33x33'.format(*size))
    seen.add('image_size', '{}x{} (fixed_shape_resizer, bilinear, TF1 corners)'.format(*size),
             graph.input_node(name, 1).name)
    return size


def _preprocessing(graph, seen):
    mul = _scalar(graph, 'Preprocessor/mul/x', seen)
    sub = _scalar(graph, 'Preprocessor/sub/y', seen)
    if F32(mul) != MOBILENET_SCALE or F32(sub) != F32(1.0):
        seen.refuse('preprocessing {} * x - {} is not MobileNetV2\'s (2/255) * x - 1'.format(
            _number(mul), _number(sub)))
    seen.add('preprocessing', '(2/255) * x - 1 (scale {!r})'.format(float(mul)),
             'Preprocessor/mul/x, Preprocessor/sub/y')


# --- the network ------------------------------------------------------------------------

def _hyperparams(graph, scope, seen, what):
    """ConvHyperparams of slim scope ``scope``: its batch norm (epsilon attr,
    gamma/beta constants present) and activation op."""
    norms = [n for n in graph.under(scope + '/BatchNorm') if graph.op(n).startswith(
        'FusedBatchNorm')]
    batch_norm = None
    if norms:
        epsilon = graph.attr(norms[0], 'epsilon').f
        batch_norm = BatchNorm(epsilon=f32(epsilon),
                               scale=graph.is_constant(scope + '/BatchNorm/gamma'),
                               center=graph.is_constant(scope + '/BatchNorm/beta'))
    acts = [ACTIVATION_OPS[graph.op(n)] for n in graph.under(scope)
            if graph.op(n) in ACTIVATION_OPS and n.count('/') == scope.count('/') + 1]
    activation = acts[0] if acts else 'NONE'
    others = [n for n in graph.under(scope) if graph.op(n) in ('Sigmoid', 'Elu', 'Selu', 'Tanh')]
    if others:
        seen.refuse('{}: activation {} is not ported'.format(scope, graph.op(others[0])))
    out = ConvHyperparams(activation=activation, batch_norm=batch_norm,
                          force_use_bias=batch_norm is not None and
                          graph.is_constant(scope + '/biases'))
    seen.add(what, _describe_hyperparams(out), scope)
    return out


def _describe_hyperparams(hp):
    if hp.batch_norm is None:
        norm = 'no batch norm'
    else:
        bn = hp.batch_norm
        norm = 'batch norm (epsilon {}, gamma {}, beta {})'.format(
            _number(bn.epsilon), 'yes' if bn.scale else 'no', 'yes' if bn.center else 'no')
    return '{}, {}'.format(norm, hp.activation)


def _same_batch_norm(a, b):
    """Equal batch norms, epsilons compared in float32 (as TF holds them)."""
    if a is None or b is None:
        return a is b
    return (F32(a.epsilon), a.scale, a.center) == (F32(b.epsilon), b.scale, b.center)


def _base_shapes_match(graph, multiplier, min_depth):
    """Whether slim's widths for (multiplier, min_depth) are the graph's, layer by layer."""
    for block in layout(multiplier, min_depth):
        for unit in block.units:
            scope = '/'.join(n for n in (SCOPE, block.name, unit.name) if n)
            name = scope + ('/depthwise_weights' if unit.depthwise else '/weights')
            if not graph.is_constant(name):
                return False
            shape = graph.constant(name).shape
            expected = (unit.ksize, unit.ksize, unit.in_channels,
                        1 if unit.depthwise else unit.out_channels)
            if shape != expected:
                return False
    return True


def _extra_depth(graph):
    """The depth in the name of the first extra 3x3 layer (nominal 512), or None."""
    pattern = re.compile(re.escape(SCOPE) + r'/layer_19_2_Conv2d_2_3x3_s2_(\d+)/')
    for name in graph.nodes:
        match = pattern.match(name)
        if match:
            return int(match.group(1))
    return None


def _widths(graph, num_layers, seen):
    """(depth_multiplier, min_depth) giving every base width and extra name of the graph."""
    depth = _extra_depth(graph) if num_layers > 2 else None
    candidates = ([f32(depth / EXTRA_DEPTHS[0])] if depth else []) + list(MULTIPLIERS)
    for multiplier in candidates:
        for min_depth in MIN_DEPTHS:
            if not _base_shapes_match(graph, multiplier, min_depth):
                continue
            extras = [max(int(d * multiplier), min_depth) for d in EXTRA_DEPTHS[:num_layers - 2]]
            names = ['{}/layer_19_2_Conv2d_{}_3x3_s2_{}/'.format(SCOPE, i, d)
                     for i, d in enumerate(extras, start=2)]
            if all(graph.has_scope(n) for n in names):
                seen.add('depth_multiplier', _number(multiplier), 'the widths of {}/*/weights '
                         'and the extra layers\' names'.format(SCOPE))
                seen.add('min_depth', '{} (the first value tried that gives every width; widths '
                         'above it cannot tell it)'.format(min_depth), None)
                return multiplier, min_depth
    seen.refuse('the widths of {} fit no slim MobileNetV2 (depth multipliers {} with min_depth '
                '{} tried)'.format(SCOPE, ', '.join(_number(m) for m in candidates),
                                   ', '.join(map(str, MIN_DEPTHS))))


def _num_layers(graph, seen):
    k = 0
    while graph.has_scope('BoxPredictor_{}'.format(k)):
        k += 1
    if graph.has_scope('WeightSharedConvolutionalBoxPredictor'):
        seen.refuse('WeightSharedConvolutionalBoxPredictor heads are not ported')
    if not 2 <= k <= 6:
        seen.refuse('{} BoxPredictor_k scopes: this port builds SSD-MobileNetV2 with 2 to 6 '
                    'feature maps'.format(k))
    return seen.add('num_layers', k, 'BoxPredictor_0..{}'.format(k - 1))


def _check_extractor(graph, seen):
    if not graph.has_scope(SCOPE + '/expanded_conv'):
        scopes = sorted({'/'.join(n.split('/')[:2]) for n in graph.under('FeatureExtractor')})
        seen.refuse('feature extractor {}: this port builds the slim MobileNetV2 '
                    '(FeatureExtractor/MobilenetV2/expanded_conv...) only'.format(
                        ', '.join(scopes) or 'absent'))


def _feature_extractor(graph, seen):
    seen.add('feature_extractor', SLIM_FEATURE_EXTRACTOR + ' (TF1 slim MobileNetV2)',
             SCOPE + '/expanded_conv*')
    num_layers = _num_layers(graph, seen)
    multiplier, min_depth = _widths(graph, num_layers, seen)
    padding = graph.attr(SCOPE + '/Conv/Conv2D', 'padding')
    explicit = padding is not None and padding.s == b'VALID'
    seen.add('use_explicit_padding', str(explicit).lower(), SCOPE + '/Conv/Conv2D padding')
    first = '{}/layer_19_1_Conv2d_2_1x1_{}'.format(SCOPE, max(int(256 * multiplier), min_depth))
    extra = first if num_layers > 2 else SCOPE + '/Conv'
    hyperparams = _hyperparams(graph, extra, seen, 'conv_hyperparams')
    base = _hyperparams(graph, SCOPE + '/Conv', seen, 'base_hyperparams')
    if base.activation != 'RELU_6':
        seen.refuse('{}/Conv: activation {}: slim MobileNetV2 uses ReLU6'.format(
            SCOPE, base.activation))
    override = not _same_batch_norm(base.batch_norm, KERAS_BATCH_NORM)
    if override and not _same_batch_norm(base.batch_norm, hyperparams.batch_norm):
        seen.refuse('{}/Conv: its batch norm is neither MobileNetV2\'s nor the extra '
                    'layers\''.format(SCOPE))
    seen.add('override_base_feature_extractor_hyperparams', str(override).lower(),
             'the base\'s batch norm vs MobileNetV2\'s (epsilon 0.001, gamma and beta)')
    use_depthwise = num_layers > 2 and graph.has_scope(
        '{}/layer_19_2_Conv2d_2_3x3_s2_{}_depthwise'.format(
            SCOPE, max(int(EXTRA_DEPTHS[0] * multiplier), min_depth)))
    seen.add('use_depthwise', str(use_depthwise).lower(), 'the extra layers\' _depthwise scopes')
    return FeatureExtractor(depth_multiplier=multiplier, min_depth=min_depth,
                            num_layers=num_layers, use_explicit_padding=explicit,
                            conv_hyperparams=hyperparams, override_base_hyperparams=override,
                            type=SLIM_FEATURE_EXTRACTOR, use_depthwise=use_depthwise)


def _box_predictor(graph, boxes, seen):
    scope = 'BoxPredictor_0'
    layers = [n for n in graph.under(scope) if n.startswith(scope + '/Conv2d_')]
    if layers:
        seen.refuse('{}: layers before the heads ({}) are not ported'.format(
            scope, layers[0].split('/')[1]))
    if any(graph.op(n) == 'Sigmoid' for n in graph.under(scope)):
        seen.refuse('{}: apply_sigmoid_to_scores is not ported (the score converter applies '
                    'it)'.format(scope))
    use_depthwise = graph.has_scope(scope + '/BoxEncodingPredictor_depthwise')
    name = scope + ('/BoxEncodingPredictor_depthwise/depthwise_weights' if use_depthwise else
                    '/BoxEncodingPredictor/weights')
    if not graph.is_constant(name) or not graph.is_constant(scope + '/BoxEncodingPredictor/biases'):
        seen.refuse('no {} and biases: not the OD API convolutional box predictor'.format(name))
    kernel = graph.constant(name).shape[0]
    code = graph.constant(scope + '/BoxEncodingPredictor/biases').shape[0] // boxes
    hyperparams = (_hyperparams(graph, scope + '/BoxEncodingPredictor_depthwise', seen,
                                'box_predictor.conv_hyperparams') if use_depthwise else None)
    if code != 4:
        seen.refuse('{}: box code size {} (this port decodes (ty, tx, th, tw))'.format(scope, code))
    seen.add('box_predictor', 'convolutional, kernel {}x{}, use_depthwise {}'.format(
        kernel, kernel, str(use_depthwise).lower()), name)
    return BoxPredictor(kernel_size=kernel, box_code_size=code, use_depthwise=use_depthwise,
                        conv_hyperparams=hyperparams)


def _num_classes(graph, boxes, seen):
    name = 'BoxPredictor_0/ClassPredictor/biases'
    if not graph.is_constant(name):
        seen.refuse('no {}: not the OD API convolutional box predictor'.format(name))
    slots = graph.constant(name).shape[0]
    begin = graph.constant_input('Postprocessor/Slice', 1) if graph.node(
        'Postprocessor/Slice') else None
    if begin is None or begin.tolist() != [0, 0, 1]:
        seen.refuse('Postprocessor/Slice: the scores keep no background column to drop '
                    '(this port has class 0 the background)')
    if slots % boxes or slots // boxes < 2:
        seen.refuse('{}: {} values for {} anchors per cell'.format(name, slots, boxes))
    return seen.add('num_classes', slots // boxes - 1, '{} ({} = {} anchors x (classes + '
                    'background))'.format(name, slots, boxes))


# --- anchors ------------------------------------------------------------------------------

def _anchor_layers(graph, seen):
    """Per layer (scales, aspect ratios) of ``MultipleGridAnchorGenerator``:
    ``Sqrt_k`` of the ratios constant, the ``RealDiv`` of the scales by it."""
    pattern = re.compile(r'^MultipleGridAnchorGenerator/Sqrt(?:_(\d+))?$')
    found = sorted((int(m.group(1) or 0), name) for name in graph.nodes
                   for m in [pattern.match(name)] if m and graph.op(name) == 'Sqrt')
    layers = []
    for _, sqrt in found:
        ratios = graph.constant_input(sqrt, 0)
        divs = [c for c in graph.consumers[sqrt] if graph.op(c) == 'RealDiv']
        muls = [c for c in graph.consumers[sqrt] if graph.op(c) == 'Mul']
        scales = [graph.constant_input(op, 0) for op in divs] + \
            [graph.constant_input(op, 1 - graph.inputs(op).index(sqrt)) for op in muls]
        if ratios is None or len(scales) != 2 or any(s is None for s in scales) or \
                not np.array_equal(scales[0], scales[1]) or scales[0].shape != ratios.shape:
            seen.refuse('{}: not the anchor generator\'s scales / sqrt(aspect ratios)'.format(sqrt))
        layers.append([(f32(s), f32(r)) for s, r in zip(scales[0], ratios, strict=True)])
    if not layers:
        seen.refuse('no MultipleGridAnchorGenerator/Sqrt ops: the anchors are not the '
                    'ssd_anchor_generator\'s')
    return layers


def _generator(layers, base_size, seen):
    """ssd_anchor_generator parameters that give these per-layer (scale, ratio) lists."""
    n = len(layers)
    reduce = len(layers[0]) == 3 and layers[0][0] == (f32(0.1), 1.0) and \
        [r for _, r in layers[0][1:]] == [2.0, 0.5]
    full = layers[1] if reduce and n > 1 else layers[0]
    scales = [layer[1][0] if (reduce and k == 0) else layer[0][0]
              for k, layer in enumerate(layers)]
    # an interpolated box: the last one, with a scale of its own
    interpolated = len(full) > 1 and full[-1][0] != full[0][0]
    ratios = tuple(r for _, r in (full[:-1] if interpolated else full))
    config = Anchors(num_layers=n, min_scale=scales[0], max_scale=scales[-1], scales=(),
                     aspect_ratios=ratios,
                     interpolated_scale_aspect_ratio=full[-1][1] if interpolated else 0.0,
                     reduce_boxes_in_lowest_layer=reduce, base_anchor_size=base_size,
                     strides=None, offsets=None)
    if n > 1 and _specs(config) != layers:
        config = dataclasses.replace(config, scales=tuple(scales))
    if _specs(config) != layers:
        seen.refuse('the anchor generator\'s per-layer scales and aspect ratios fit no '
                    'ssd_anchor_generator (e.g. layer 0: {})'.format(layers[0]))
    return config


def _specs(config):
    return [[(f32(s), f32(r)) for s, r in layer] for layer in anchor_lib.box_specs(config)]


def _base_anchor_size(graph, image_size, seen):
    """The generator's base anchor size (height, width): ``tile_anchors``
    multiplies ``scales / sqrt(ratios)`` by ``min_side / height * base_height``
    (and the widths likewise); that factor is computed from the graph's
    constants (:mod:`replicate.odapi.const_eval`) and the base size solved from it."""
    factors = []
    for op in ('RealDiv', 'Mul'):
        layer0 = [c for c in graph.consumers['MultipleGridAnchorGenerator/Sqrt']
                  if graph.op(c) == op]
        users = [c for c in graph.consumers[layer0[0]] if graph.op(c) == 'Mul'] if layer0 else []
        if len(users) != 1:
            seen.refuse('MultipleGridAnchorGenerator: no base anchor size (the anchor '
                        'generator is not the ssd_anchor_generator\'s)')
        other = [i for i in graph.inputs(users[0]) if i.split(':')[0] != layer0[0]]
        factors.append(F32(const_eval.evaluate(graph, other[0])))
    shorter = F32(min(image_size))
    return tuple(f32(factor * F32(side) / shorter)
                 for factor, side in zip(factors, image_size, strict=True))


def _anchors(graph, num_layers, image_size, seen):
    layers = _anchor_layers(graph, seen)
    if len(layers) != num_layers:
        seen.refuse('{} anchor layers for {} feature maps'.format(len(layers), num_layers))
    config = _generator(layers, _base_anchor_size(graph, image_size, seen), seen)
    seen.add('anchor_generator', describe_anchors(config),
             'MultipleGridAnchorGenerator/Sqrt_k/x (aspect ratios), the scales divided by '
             'them, the base anchor size')
    return config


def describe_anchors(config):
    scales = ('scales ' + ' '.join(_number(s) for s in config.scales) if config.scales else
              'min_scale {} max_scale {}'.format(_number(config.min_scale),
                                                  _number(config.max_scale)))
    return ('ssd_anchor_generator: {} layers, {}, aspect_ratios {}, interpolated_scale_'
            'aspect_ratio {}, reduce_boxes_in_lowest_layer {}, base_anchor_size {}x{}, default '
            'strides and offsets'.format(
                config.num_layers, scales, ' '.join(_number(r) for r in config.aspect_ratios),
                _number(config.interpolated_scale_aspect_ratio),
                str(config.reduce_boxes_in_lowest_layer).lower(),
                *(_number(v) for v in config.base_anchor_size)))


def check_anchors(graph, anchors):
    """Raise ExportError unless ``anchors`` (K, 4) equal, bit for bit, the
    graph's own (``Concatenate/concat`` computed from its constants); returns
    a sentence saying so."""
    if graph.node(ANCHORS) is None:
        raise ExportError('{}: no {} node (the anchors): not an OD API SSD export'.format(
            graph.path, ANCHORS))
    theirs = const_eval.evaluate(graph, ANCHORS)
    if theirs.shape != anchors.shape or theirs.dtype != anchors.dtype:
        raise ExportError('{}: the graph has {} anchors {}, the configuration gives {}'.format(
            graph.path, theirs.shape[0] if theirs.ndim else 0, theirs.shape, anchors.shape))
    if not np.array_equal(theirs, anchors):
        raise ExportError('{}: the anchors of the configuration differ from the graph\'s own by '
                          'up to {:.3g} (anchor strides, offsets or another generator are not '
                          'recovered)'.format(graph.path, float(np.abs(theirs - anchors).max())))
    return ('{} anchors, equal bit for bit to the graph\'s own ({} computed from its '
            'constants)'.format(len(anchors), ANCHORS))


# --- post-processing ------------------------------------------------------------------------

def _box_coder(graph, seen):
    scales = []
    for k in range(4):
        unstack = 'Postprocessor/Decode/unstack' + (':{}'.format(k) if k else '')
        divs = [n for n in graph.consumers['Postprocessor/Decode/unstack']
                if graph.op(n) == 'RealDiv' and graph.inputs(n)[0] in (unstack, unstack + ':0')]
        value = graph.constant_input(divs[0], 1) if len(divs) == 1 else None
        if value is None:
            seen.refuse('Postprocessor/Decode: no faster_rcnn_box_coder scale for code {} (this '
                        'port decodes with the faster_rcnn_box_coder)'.format(k))
        scales.append(f32(value))
    seen.add('box_coder', 'faster_rcnn_box_coder y_scale {} x_scale {} height_scale {} '
             'width_scale {}'.format(*(_number(s) for s in scales)),
             'Postprocessor/Decode/truediv*/y')
    return tuple(scales)


def _nms(graph, num_classes, seen):
    ops = [n for n in graph.under(NMS_SCOPE) if graph.op(n).startswith('NonMaxSuppression')]
    if not ops:
        seen.refuse('no NonMaxSuppression op under {}: this port builds the OD API\'s batch '
                    'non-max suppression'.format(NMS_SCOPE))
    values = set()
    for op in ops:
        kind = graph.op(op)
        if kind not in ('NonMaxSuppressionV3', 'NonMaxSuppressionV5'):
            seen.refuse('{}: {} is not ported (V3 and V5 are)'.format(op, kind))
        limit = graph.input_node(op, 2)
        per_class = graph.constant_input(limit.name, 0) if limit is not None and \
            limit.op == 'Minimum' else graph.constant_input(op, 2)
        iou, score = graph.constant_input(op, 3), graph.constant_input(op, 4)
        sigma = graph.constant_input(op, 5) if kind == 'NonMaxSuppressionV5' else F32(0)
        if any(v is None for v in (per_class, iou, score, sigma)):
            seen.refuse('{}: thresholds that are not constants'.format(op))
        if F32(sigma) != 0:
            seen.refuse('{}: soft NMS (sigma {}) is not ported'.format(op, float(sigma)))
        values.add((int(per_class), f32(iou), f32(score)))
    if len(values) != 1 or len(ops) != num_classes:
        seen.refuse('{} NMS ops with settings {} for {} classes: only per-class NMS with one '
                    'setting is ported'.format(len(ops), sorted(values), num_classes))
    per_class, iou, score = values.pop()
    ranges = [n for n in graph.under(NMS_SCOPE) if graph.op(n) == 'Range' and
              n.endswith('/MultiClassNonMaxSuppression/range')]
    total = graph.input_node(ranges[0], 1) if len(ranges) == 1 else None
    total = graph.constant_input(total.name, 0) if total is not None and \
        total.op == 'Minimum' else None
    if total is None:
        seen.refuse('{}: no constant max_total_detections (MultiClassNonMaxSuppression/range)'
                    .format(NMS_SCOPE))
    seen.add('nms', 'per class ({}), IoU > {} suppresses, score > {}, at most {} per class and '
             '{} in all'.format(graph.op(ops[0]), _number(iou), _number(score), per_class,
                                int(total)),
             '{}/.../{} inputs and MultiClassNonMaxSuppression/range'.format(
                 NMS_SCOPE, ops[0].split('/')[-2]))
    return dict(score_threshold=score, iou_threshold=iou, max_detections_per_class=per_class,
                max_total_detections=int(total))


def _post_processing(graph, num_classes, seen):
    op = graph.op('Postprocessor/convert_scores')
    if op not in SCORE_OPS:
        seen.refuse('Postprocessor/convert_scores is {}: this port converts scores with '
                    '{}'.format(op or 'absent', ' or '.join(SCORE_OPS)))
    logit_scale = f32(_scalar(graph, 'Postprocessor/scale_logits/y', seen))
    if logit_scale <= 0:
        seen.refuse('Postprocessor/scale_logits/y: logit scale {} must be > 0'.format(
            logit_scale))
    seen.add('score_converter', '{}, logit_scale {}'.format(SCORE_OPS[op], _number(logit_scale)),
             'Postprocessor/convert_scores op, Postprocessor/scale_logits/y')
    return PostProcessing(score_converter=SCORE_OPS[op], logit_scale=logit_scale,
                          **_nms(graph, num_classes, seen))


def recover(graph):
    """``(SSDConfig, Recovered)`` of a
    :class:`replicate.odapi.frozen_graph.FrozenGraph` without pipeline.config.

    Raises:
        ConfigError: the first thing this port does not build, named.
        ExportError: the recovered anchors differ from the graph's own.
    """
    seen = Recovered(graph.path)
    seen.add('configuration', 'recovered from the frozen graph (no pipeline.config beside it)',
             None)
    _check_extractor(graph, seen)
    image_size = _image_size(graph, seen)
    _preprocessing(graph, seen)
    feature_extractor = _feature_extractor(graph, seen)
    anchors = _anchors(graph, feature_extractor.num_layers, image_size, seen)
    boxes = len(anchor_lib.box_specs(anchors)[0])
    num_classes = _num_classes(graph, boxes, seen)
    config = SSDConfig(num_classes=num_classes, image_size=image_size,
                       feature_extractor=feature_extractor,
                       box_predictor=_box_predictor(graph, boxes, seen), anchors=anchors,
                       scale_factors=_box_coder(graph, seen),
                       post_processing=_post_processing(graph, num_classes, seen), matcher=None,
                       source=graph.path)
    grids = map_sizes(image_size, feature_extractor.num_layers)
    seen.add('anchors', check_anchors(graph, anchor_lib.generate(anchors, grids, image_size)),
             None)
    return config, seen


def differences(config, recovered):
    """What a ``pipeline.config`` says that its frozen graph does not do: a
    list of 'field: config X, graph Y' (empty when they agree)."""
    found = []
    for name in ('num_classes', 'image_size', 'scale_factors', 'post_processing'):
        mine, theirs = getattr(config, name), getattr(recovered, name)
        if mine != theirs:
            found.append('{}: pipeline.config {}, graph {}'.format(name, mine, theirs))
    return found
