"""The OD API ``pipeline.config`` of an SSD-MobileNetV2, read into plain
dataclasses; whatever this port does not build is refused, naming the field.

Every field of the messages this port interprets is either *read* (its value,
or the OD API proto default written here, shapes the model), *ignored* because
it only matters to training in TF (initializers, regularizers, losses, batch
norm decay; listed in ``_TRAINING_ONLY``), or *refused* with a
:class:`~replicate.odapi.errors.ConfigError` whose message starts with the
field's path, e.g. ``model.ssd.feature_extractor.use_depthwise: true is not
supported (...)``. A field this module does not know at all is refused too,
so a config never silently means something else here than in TF.

Defaults are those of the OD API protos (``object_detection/protos/*.proto``,
v2.8): a field absent from the file takes them, exactly as in TF. Numbers of
the protos' ``float`` fields are rounded to float32, as TF reads them.
"""
import dataclasses
import math

import numpy as np

from replicate.odapi import textproto
from replicate.odapi.errors import ConfigError

#: The feature extractor this port builds (TF2 Keras MobileNetV2).
FEATURE_EXTRACTOR = 'ssd_mobilenet_v2_keras'
#: The TF1 (slim) extractor, built for frozen graphs (:mod:`replicate.odapi.frozen_ssd`).
SLIM_FEATURE_EXTRACTOR = 'ssd_mobilenet_v2'
#: Activations of ``conv_hyperparams.activation`` the port applies.
ACTIVATIONS = ('NONE', 'RELU', 'RELU_6', 'SWISH')
SCORE_CONVERTERS = ('SIGMOID', 'SOFTMAX')
_TRAINING_ONLY = {
    'pipeline': ('train_config', 'train_input_reader', 'eval_config', 'eval_input_reader',
                 'eval_input_readers'),
    'ssd': ('encode_background_as_zeros', 'negative_class_weight',
            'normalize_loss_by_num_matches', 'normalize_loc_loss_by_codesize', 'loss',
            'freeze_batchnorm', 'inplace_batchnorm_update', 'use_confidences_as_targets',
            'implicit_example_weight', 'return_raw_detections_during_predict',
            'similarity_calculator'),
    'hyperparams': ('regularizer', 'initializer', 'regularize_depthwise'),
    'batch_norm': ('decay', 'train'),
    'box_predictor': ('use_dropout', 'dropout_keep_probability', 'class_prediction_bias_init'),
    'nms': ('use_cpu_nms', 'max_classes_per_detection'),
    'matcher': ('use_matmul_gather',),
}


@dataclasses.dataclass(frozen=True)
class BatchNorm:
    """Inference batch norm: ``y = gamma (x - mean) / sqrt(var + epsilon) + beta``;
    ``gamma`` exists only with ``scale``, ``beta`` only with ``center``."""
    epsilon: float = 0.001
    scale: bool = False
    center: bool = True


@dataclasses.dataclass(frozen=True)
class ConvHyperparams:
    """What ``conv_hyperparams`` means at inference."""
    activation: str = 'RELU'            # one of ACTIVATIONS
    batch_norm: BatchNorm = None        # None: no normalization layer at all
    force_use_bias: bool = False

    @property
    def use_bias(self):
        """Convolutions added by the OD API (not the Keras base) carry a bias
        unless a centered batch norm follows them (OD API's rule)."""
        return self.force_use_bias or not (self.batch_norm and self.batch_norm.center)


@dataclasses.dataclass(frozen=True)
class FeatureExtractor:
    depth_multiplier: float
    min_depth: int
    num_layers: int                     # feature maps: 2 base taps + extras
    use_explicit_padding: bool
    conv_hyperparams: ConvHyperparams
    #: base (Keras MobileNetV2) layers use ``conv_hyperparams`` too; else
    #: Keras' own: batch norm with gamma and beta, epsilon 1e-3, ReLU6
    override_base_hyperparams: bool
    type: str = FEATURE_EXTRACTOR       # or SLIM_FEATURE_EXTRACTOR (TF1 frozen graphs)
    #: extra layers as depthwise 3x3 + 1x1 (SSDLite); slim extractor only
    use_depthwise: bool = False


@dataclasses.dataclass(frozen=True)
class BoxPredictor:
    kernel_size: int
    box_code_size: int
    #: heads as depthwise kxk + batch norm + activation, then a 1x1 (SSDLite); TF1 only
    use_depthwise: bool = False
    #: batch norm and activation of the depthwise head layers (None: unread)
    conv_hyperparams: ConvHyperparams = None


@dataclasses.dataclass(frozen=True)
class Anchors:
    """``ssd_anchor_generator`` (see :mod:`replicate.odapi.anchors`)."""
    num_layers: int
    min_scale: float
    max_scale: float
    scales: tuple
    aspect_ratios: tuple
    interpolated_scale_aspect_ratio: float
    reduce_boxes_in_lowest_layer: bool
    base_anchor_size: tuple             # (height, width)
    strides: tuple                      # per layer (y, x) in pixels, or None
    offsets: tuple                      # per layer (y, x) in pixels, or None


@dataclasses.dataclass(frozen=True)
class PostProcessing:
    score_converter: str                # one of SCORE_CONVERTERS
    logit_scale: float
    score_threshold: float
    iou_threshold: float
    max_detections_per_class: int
    max_total_detections: int


@dataclasses.dataclass(frozen=True)
class Matcher:
    """``argmax_matcher``, used only to encode training targets."""
    matched_threshold: float
    unmatched_threshold: float
    force_match_for_each_row: bool


@dataclasses.dataclass(frozen=True)
class SSDConfig:
    """One SSD-MobileNetV2 as its pipeline.config describes it."""
    num_classes: int                    # foreground classes (no background)
    image_size: tuple                   # fixed_shape_resizer (height, width)
    feature_extractor: FeatureExtractor
    box_predictor: BoxPredictor
    anchors: Anchors
    scale_factors: tuple                # faster_rcnn_box_coder (y, x, h, w)
    post_processing: PostProcessing
    matcher: Matcher                    # None when not an argmax_matcher
    source: str = '<text>'


class _Fields:
    """Checked, typed access to one message at ``path``; records what is read."""

    def __init__(self, message, path, training_only=()):
        self.message = message
        self.path = path
        self.read = set(training_only)

    def where(self, name):
        return '{}.{}'.format(self.path, name) if self.path else name

    def refuse(self, name, why):
        raise ConfigError('{}: {}'.format(self.where(name), why))

    def values(self, name):
        self.read.add(name)
        return self.message.get(name, [])

    def one(self, name):
        values = self.values(name)
        if len(values) > 1:
            self.refuse(name, 'given {} times, expected once'.format(len(values)))
        return values[0] if values else None

    def sub(self, name, required=False, training_only=()):
        value = self.one(name)
        if value is None and required:
            self.refuse(name, 'missing')
        if value is not None and not isinstance(value, textproto.Message):
            self.refuse(name, 'expected a message {{...}}, got {!r}'.format(value))
        return None if value is None else _Fields(value, self.where(name), training_only)

    def scalar(self, name, kind, default):
        value = self.one(name)
        if value is None:
            return float(np.float32(default)) if kind is float else default
        return self.convert(name, value, kind)

    def repeated(self, name, kind):
        return tuple(self.convert(name, v, kind) for v in self.values(name))

    def convert(self, name, value, kind):
        if isinstance(value, textproto.Message):
            self.refuse(name, 'expected a value, got a message')
        try:
            if kind is bool:
                if value not in ('true', 'false', 'True', 'False', '1', '0', 't', 'f'):
                    raise ValueError(value)
                return value in ('true', 'True', '1', 't')
            if kind is int:
                return int(value, 0)
            if kind is float:
                # text format allows a C-style suffix: 1.0f
                suffixed = value[-1:] in 'fF' and not value.lower().endswith('inf')
                number = float(value[:-1] if suffixed else value)
                if not math.isfinite(number):
                    raise ValueError(value)
                # the OD API protos declare these fields `float` (32 bits): TF
                # sees the value rounded to float32, and so must we (the
                # anchors' scales differ in the last bit otherwise)
                return float(np.float32(number))
            if kind is str and isinstance(value, textproto.Token):
                return str(value)  # an enum name
            if kind is str:
                return value
        except ValueError:
            pass
        self.refuse(name, '{!r} is not a valid {}'.format(value, kind.__name__))

    def oneof(self, names, supported):
        """The single set member of a oneof group; refuse others."""
        present = [n for n in names if n in self.message]
        if len(present) != 1:
            self.refuse('/'.join(names), 'expected exactly one of these, found {}'.format(
                ', '.join(present) or 'none'))
        if present[0] not in supported:
            self.refuse(present[0], 'not supported: this port builds only {}'.format(
                ' or '.join(supported)))
        return present[0]

    def require(self, name, value, allowed, why):
        if value not in allowed:
            self.refuse(name, '{} is not supported ({})'.format(_text(value), why))
        return value

    def done(self):
        """Refuse every field present that nothing read or excused."""
        for name in self.message:
            if name not in self.read:
                self.refuse(name, 'a field this port does not know; it builds SSD with '
                            'ssd_mobilenet_v2_keras only')


def _text(value):
    return str(value).lower() if isinstance(value, bool) else repr(value)


def _batch_norm(fields):
    bn = fields.sub('batch_norm', training_only=_TRAINING_ONLY['batch_norm'])
    sync = fields.sub('sync_batch_norm', training_only=_TRAINING_ONLY['batch_norm'])
    if fields.one('group_norm') is not None:
        fields.refuse('group_norm', 'group normalization is not supported')
    if bn and sync:
        fields.refuse('sync_batch_norm', 'given together with batch_norm')
    bn = bn or sync  # a synchronized batch norm is the same at inference
    if bn is None:
        return None
    out = BatchNorm(epsilon=bn.scalar('epsilon', float, 0.001),
                    scale=bn.scalar('scale', bool, False),
                    center=bn.scalar('center', bool, True))
    bn.done()
    return out


def _hyperparams(fields):
    hp = fields.sub('conv_hyperparams', required=True,
                    training_only=_TRAINING_ONLY['hyperparams'])
    hp.require('op', hp.scalar('op', str, 'CONV'), ('CONV',), 'only convolutions')
    activation = hp.require('activation', hp.scalar('activation', str, 'RELU'), ACTIVATIONS,
                            'known activations: ' + ', '.join(ACTIVATIONS))
    out = ConvHyperparams(activation=activation, batch_norm=_batch_norm(hp),
                          force_use_bias=hp.scalar('force_use_bias', bool, False))
    hp.done()
    return out


def _feature_extractor(ssd, frozen=False):
    fe = ssd.sub('feature_extractor', required=True)
    kind = fe.scalar('type', str, '')
    if kind == SLIM_FEATURE_EXTRACTOR and not frozen:
        fe.refuse('type', "'ssd_mobilenet_v2' is the TF1 (slim) extractor: this port builds it "
                  "from a TF1 frozen graph (frozen_inference_graph.pb), not from a TF2 export's "
                  "variables; for those it builds '{}'".format(FEATURE_EXTRACTOR))
    known = (FEATURE_EXTRACTOR, SLIM_FEATURE_EXTRACTOR) if frozen else (FEATURE_EXTRACTOR,)
    fe.require('type', kind, known, 'this port builds ' + ' or '.join(known))
    if frozen and kind != SLIM_FEATURE_EXTRACTOR:
        fe.refuse('type', '{!r} is a TF2 extractor: a TF1 frozen graph holds the slim '
                  "'{}'".format(kind, SLIM_FEATURE_EXTRACTOR))
    for name in ('fpn', 'bifpn'):
        if fe.one(name) is not None:
            fe.refuse(name, 'feature pyramids are not supported')
    fe.require('spaghettinet_arch_name', fe.scalar('spaghettinet_arch_name', str, ''), ('',),
               'not a MobileNetV2 option')
    use_depthwise = fe.require('use_depthwise', fe.scalar('use_depthwise', bool, False),
                               (False, True) if frozen else (False,),
                               'depthwise extra layers (SSDLite) are built for TF1 frozen '
                               'graphs only')
    fe.require('pad_to_multiple', fe.scalar('pad_to_multiple', int, 1), (1,),
               'inputs are not padded')
    fe.values('replace_preprocessor_with_placeholder')  # a TF1 export option
    out = FeatureExtractor(
        depth_multiplier=fe.scalar('depth_multiplier', float, 1.0),
        min_depth=fe.scalar('min_depth', int, 16),
        num_layers=fe.scalar('num_layers', int, 6),
        use_explicit_padding=fe.scalar('use_explicit_padding', bool, False),
        conv_hyperparams=_hyperparams(fe),
        override_base_hyperparams=fe.scalar('override_base_feature_extractor_hyperparams',
                                            bool, False),
        type=kind, use_depthwise=use_depthwise)
    if not 2 <= out.num_layers <= 6:
        fe.refuse('num_layers', '{} is not supported: MobileNetV2 gives 2 base maps and '
                  'up to 4 extra ones'.format(out.num_layers))
    if out.depth_multiplier <= 0 or out.min_depth < 0:
        fe.refuse('depth_multiplier', 'must be > 0 (min_depth >= 0)')
    fe.done()
    return out


def _image_size(ssd):
    resizer = ssd.sub('image_resizer', required=True)
    resizer.oneof(('keep_aspect_ratio_resizer', 'fixed_shape_resizer', 'identity_resizer',
                   'conditional_shape_resizer', 'pad_to_multiple_resizer'),
                  ('fixed_shape_resizer',))
    fixed = resizer.sub('fixed_shape_resizer')
    size = (fixed.scalar('height', int, 300), fixed.scalar('width', int, 300))
    fixed.require('resize_method', fixed.scalar('resize_method', str, 'BILINEAR'),
                  ('BILINEAR',), 'only bilinear resizing')
    fixed.require('convert_to_grayscale', fixed.scalar('convert_to_grayscale', bool, False),
                  (False,), 'RGB inputs only')
    if min(size) < 33:
        fixed.refuse('height', 'the OD API needs inputs of at least 33x33, got {}x{}'.format(
            *size))
    fixed.done()
    resizer.done()
    return size


def _box_predictor(ssd, frozen=False):
    bp = ssd.sub('box_predictor', required=True)
    bp.oneof(('convolutional_box_predictor', 'mask_rcnn_box_predictor', 'rfcn_box_predictor',
              'weight_shared_convolutional_box_predictor'), ('convolutional_box_predictor',))
    # the heads' own convolutions have a bias and no batch norm: conv_hyperparams
    # shape only SSDLite's depthwise head layers, built for frozen graphs
    conv = bp.sub('convolutional_box_predictor', training_only=_TRAINING_ONLY['box_predictor'] +
                  (() if frozen else ('conv_hyperparams',)))
    layers = conv.scalar('num_layers_before_predictor', int, 0)
    depth = max(conv.scalar('min_depth', int, 0), conv.scalar('max_depth', int, 0))
    if layers > 0 and depth > 0:
        conv.refuse('num_layers_before_predictor', 'shared 1x1 layers before the heads '
                    'are not built (set it to 0 or max_depth and min_depth to 0)')
    use_depthwise = conv.require('use_depthwise', conv.scalar('use_depthwise', bool, False),
                                 (False, True) if frozen else (False,),
                                 'depthwise heads (SSDLite) are built for TF1 frozen graphs only')
    hyperparams = _hyperparams(conv) if frozen and 'conv_hyperparams' in conv.message else None
    conv.require('apply_sigmoid_to_scores', conv.scalar('apply_sigmoid_to_scores', bool, False),
                 (False,), 'the score converter applies the sigmoid')
    if conv.one('box_encodings_clip_range') is not None:
        conv.refuse('box_encodings_clip_range', 'clipping box encodings is not supported')
    out = BoxPredictor(kernel_size=conv.scalar('kernel_size', int, 1),
                       box_code_size=conv.require('box_code_size',
                                                  conv.scalar('box_code_size', int, 4), (4,),
                                                  'boxes are (ty, tx, th, tw)'),
                       use_depthwise=use_depthwise, conv_hyperparams=hyperparams)
    if use_depthwise and hyperparams is None:
        conv.refuse('conv_hyperparams', 'missing (the depthwise heads need it)')
    if out.kernel_size < 1 or out.kernel_size % 2 == 0:
        conv.refuse('kernel_size', '{} is not supported: an odd size >= 1'.format(
            out.kernel_size))
    conv.done()
    bp.done()
    return out


def _pairs(fields, first, second):
    a, b = fields.repeated(first, int), fields.repeated(second, int)
    if len(a) != len(b):
        fields.refuse(first, 'needs as many values as {}'.format(second))
    return tuple(zip(a, b, strict=True)) or None


def _anchors(ssd):
    ag = ssd.sub('anchor_generator', required=True)
    ag.oneof(('grid_anchor_generator', 'ssd_anchor_generator', 'multiscale_anchor_generator',
              'flexible_grid_anchor_generator'), ('ssd_anchor_generator',))
    g = ag.sub('ssd_anchor_generator')
    out = Anchors(
        num_layers=g.scalar('num_layers', int, 6),
        min_scale=g.scalar('min_scale', float, 0.2),
        max_scale=g.scalar('max_scale', float, 0.95),
        scales=g.repeated('scales', float),
        aspect_ratios=g.repeated('aspect_ratios', float),
        interpolated_scale_aspect_ratio=g.scalar('interpolated_scale_aspect_ratio', float, 1.0),
        reduce_boxes_in_lowest_layer=g.scalar('reduce_boxes_in_lowest_layer', bool, True),
        base_anchor_size=(g.scalar('base_anchor_height', float, 1.0),
                          g.scalar('base_anchor_width', float, 1.0)),
        strides=_pairs(g, 'height_stride', 'width_stride'),
        offsets=_pairs(g, 'height_offset', 'width_offset'))
    for name, pairs in (('height_stride', out.strides), ('height_offset', out.offsets)):
        if pairs is not None and len(pairs) != out.num_layers:
            g.refuse(name, 'needs one value per layer ({})'.format(out.num_layers))
    if out.scales and len(out.scales) != out.num_layers:
        g.refuse('scales', 'needs one value per layer ({})'.format(out.num_layers))
    if not out.aspect_ratios:
        g.refuse('aspect_ratios', 'missing')
    g.done()
    ag.done()
    return out


def _scale_factors(ssd):
    coder = ssd.sub('box_coder', required=True)
    coder.oneof(('faster_rcnn_box_coder', 'mean_stddev_box_coder', 'square_box_coder',
                 'keypoint_box_coder'), ('faster_rcnn_box_coder',))
    f = coder.sub('faster_rcnn_box_coder')
    out = tuple(f.scalar(name, float, default) for name, default in (
        ('y_scale', 10.0), ('x_scale', 10.0), ('height_scale', 5.0), ('width_scale', 5.0)))
    if min(out) <= 0:
        f.refuse('y_scale', 'scale factors must be > 0')
    f.done()
    coder.done()
    return out


def _nms(pp):
    nms = pp.sub('batch_non_max_suppression', training_only=_TRAINING_ONLY['nms']) or \
        _Fields(textproto.Message(), pp.where('batch_non_max_suppression'))
    for name, why in (('use_static_shapes', 'padded outputs'),
                      ('use_class_agnostic_nms', 'class-agnostic NMS'),
                      ('use_partitioned_nms', 'partitioned NMS'),
                      ('use_combined_nms', 'combined NMS'),
                      ('use_hard_nms', 'the V3 NMS op')):
        nms.require(name, nms.scalar(name, bool, False), (False,), why + ' is not ported')
    nms.require('soft_nms_sigma', nms.scalar('soft_nms_sigma', float, 0.0), (0.0,),
                'soft NMS is not ported')
    # The clip window is [0, 0, 1, 1] (fixed_shape_resizer): a change of
    # coordinate frame to it is the identity, so either value means the same.
    nms.values('change_coordinate_frame')
    out = dict(score_threshold=nms.scalar('score_threshold', float, 0.0),
               iou_threshold=nms.scalar('iou_threshold', float, 0.6),
               max_detections_per_class=nms.scalar('max_detections_per_class', int, 100),
               max_total_detections=nms.scalar('max_total_detections', int, 100))
    if not 0 <= out['iou_threshold'] <= 1:
        nms.refuse('iou_threshold', 'not in [0, 1]')
    if out['max_detections_per_class'] > out['max_total_detections']:
        nms.refuse('max_detections_per_class', 'greater than max_total_detections')
    nms.done()
    return out


def _post_processing(ssd):
    pp = ssd.sub('post_processing', required=True)
    if pp.one('calibration_config') is not None:
        pp.refuse('calibration_config', 'score calibration is not ported')
    converter = pp.require('score_converter', pp.scalar('score_converter', str, 'IDENTITY'),
                           SCORE_CONVERTERS, 'this port converts scores with ' +
                           ' or '.join(SCORE_CONVERTERS))
    out = PostProcessing(score_converter=converter, logit_scale=pp.scalar('logit_scale',
                                                                        float, 1.0),
                         **_nms(pp))
    if out.logit_scale <= 0:
        pp.refuse('logit_scale', 'must be > 0')
    pp.done()
    return out


def _matcher(ssd):
    matcher = ssd.sub('matcher')
    if matcher is None or 'argmax_matcher' not in matcher.message:
        if matcher is not None:
            matcher.read.update(matcher.message)
        return None
    argmax = matcher.sub('argmax_matcher', training_only=_TRAINING_ONLY['matcher'])
    argmax.read.update(('ignore_thresholds', 'negatives_lower_than_unmatched'))
    out = Matcher(matched_threshold=argmax.scalar('matched_threshold', float, 0.5),
                  unmatched_threshold=argmax.scalar('unmatched_threshold', float, 0.5),
                  force_match_for_each_row=argmax.scalar('force_match_for_each_row', bool,
                                                         False))
    argmax.done()
    matcher.done()
    return out


def _background(ssd):
    ssd.require('add_background_class', ssd.scalar('add_background_class', bool, True),
                (True,), 'class slot 0 is the background')
    ssd.require('explicit_background_class', ssd.scalar('explicit_background_class', bool,
                                                        False), (False,),
                'class slot 0 is the background')
    if ssd.one('mask_head_config') is not None:
        ssd.refuse('mask_head_config', 'mask heads are not built')


def from_message(message, source='<text>', frozen=False):
    """An :class:`SSDConfig` from a parsed pipeline (see :mod:`textproto`).

    Args:
        frozen (bool): the config of a TF1 frozen graph: the slim extractor
            and SSDLite's depthwise layers are built too.

    Raises:
        ConfigError: the first field this port does not build, by path.
    """
    top = _Fields(message, '', _TRAINING_ONLY['pipeline'])
    if top.one('graph_rewriter') is not None:
        top.refuse('graph_rewriter', 'quantized graphs are not ported')
    model = top.sub('model', required=True)
    model.oneof(('ssd', 'faster_rcnn', 'experimental_model', 'center_net'), ('ssd',))
    ssd = model.sub('ssd', training_only=_TRAINING_ONLY['ssd'])
    num_classes = ssd.scalar('num_classes', int, 0)
    if num_classes < 1:
        ssd.refuse('num_classes', 'must be >= 1')
    _background(ssd)
    feature_extractor = _feature_extractor(ssd, frozen)
    anchors = _anchors(ssd)
    if anchors.num_layers != feature_extractor.num_layers:
        ssd.refuse('anchor_generator.ssd_anchor_generator.num_layers',
                   '{} anchor layers for {} feature maps'.format(
                       anchors.num_layers, feature_extractor.num_layers))
    out = SSDConfig(num_classes=num_classes, image_size=_image_size(ssd),
                    feature_extractor=feature_extractor,
                    box_predictor=_box_predictor(ssd, frozen),
                    anchors=anchors, scale_factors=_scale_factors(ssd),
                    post_processing=_post_processing(ssd), matcher=_matcher(ssd),
                    source=source)
    ssd.done()
    model.done()
    top.done()
    return out


def read_pipeline(path, frozen=False):
    """Read and check an OD API ``pipeline.config`` (text format).

    Args:
        frozen (bool): see :func:`from_message`.

    Raises:
        ConfigError: unreadable file, or a field this port does not build.
    """
    try:
        return from_message(textproto.read(path), path, frozen)
    except ConfigError as exc:
        if str(exc).startswith(path):
            raise
        raise ConfigError('{}: {}'.format(path, exc)) from None
