"""pipeline.config -> SSDConfig, and the one-line refusals naming the field."""
import numpy as np
import pytest
from odapi_paths import FROZEN, PIPELINE

from replicate.odapi import config
from replicate.odapi.errors import ConfigError
from replicate.odapi.textproto import parse


def f32(*values):
    """Proto `float` fields: TF sees them rounded to float32."""
    return tuple(float(np.float32(v)) for v in values)


@pytest.fixture(scope='module')
def text():
    with open(PIPELINE) as f:
        return f.read()


def test_fixture_config_values(text):
    c = config.from_message(parse(text))
    assert c.num_classes == 3 and c.image_size == (128, 128)
    fe = c.feature_extractor
    assert (fe.depth_multiplier, fe.min_depth, fe.num_layers) == (0.25, 16, 6)
    assert fe.override_base_hyperparams and not fe.use_explicit_padding
    assert fe.conv_hyperparams == config.ConvHyperparams(
        'RELU_6', config.BatchNorm(epsilon=f32(0.001)[0], scale=True, center=True), False)
    assert not fe.conv_hyperparams.use_bias  # a centered batch norm follows
    assert c.box_predictor == config.BoxPredictor(kernel_size=1, box_code_size=4)
    assert c.anchors.aspect_ratios == f32(1.0, 2.0, 0.5, 3.0, 0.3333)
    assert c.anchors.min_scale == f32(0.2)[0] != 0.2
    assert c.anchors.reduce_boxes_in_lowest_layer and c.anchors.strides is None
    assert c.scale_factors == (10.0, 10.0, 5.0, 5.0)
    assert c.post_processing == config.PostProcessing('SIGMOID', 1.0, *f32(1e-8, 0.6), 100, 100)
    assert c.matcher == config.Matcher(0.5, 0.5, True)
    assert c.feature_extractor.depth_multiplier == 0.25  # exact in float32


def test_proto_defaults_apply_to_absent_fields():
    minimal = parse('''model { ssd {
        num_classes: 2
        image_resizer { fixed_shape_resizer { } }
        feature_extractor { type: "ssd_mobilenet_v2_keras" conv_hyperparams { } }
        box_coder { faster_rcnn_box_coder { } }
        box_predictor { convolutional_box_predictor { } }
        anchor_generator { ssd_anchor_generator { aspect_ratios: 1.0 } }
        post_processing { score_converter: SOFTMAX }
    } }''')
    c = config.from_message(minimal)
    assert c.image_size == (300, 300)
    assert (c.feature_extractor.depth_multiplier, c.feature_extractor.min_depth) == (1.0, 16)
    # Hyperparams: activation RELU, no batch norm -> the extra convs have a bias
    assert c.feature_extractor.conv_hyperparams == config.ConvHyperparams('RELU', None, False)
    assert c.feature_extractor.conv_hyperparams.use_bias
    assert not c.feature_extractor.override_base_hyperparams
    assert (c.anchors.min_scale, c.anchors.max_scale) == f32(0.2, 0.95)
    assert c.post_processing == config.PostProcessing('SOFTMAX', 1.0, 0.0, f32(0.6)[0], 100, 100)
    assert c.matcher is None


@pytest.mark.parametrize('old, new, field', [
    ('type: "ssd_mobilenet_v2_keras"', 'type: "ssd_mobilenet_v1_keras"',
     'model.ssd.feature_extractor.type'),
    ('min_depth: 16', 'min_depth: 16 use_depthwise: true',
     'model.ssd.feature_extractor.use_depthwise'),
    ('min_depth: 16', 'min_depth: 16 fpn { min_level: 3 }', 'model.ssd.feature_extractor.fpn'),
    ('fixed_shape_resizer {', 'keep_aspect_ratio_resizer {',
     'model.ssd.image_resizer.keep_aspect_ratio_resizer'),
    ('height: 128', 'height: 128 resize_method: AREA',
     'model.ssd.image_resizer.fixed_shape_resizer.resize_method'),
    ('kernel_size: 1', 'kernel_size: 2', 'model.ssd.box_predictor.convolutional_box_predictor.'
                                          'kernel_size'),
    ('use_dropout: false', 'use_dropout: false use_depthwise: true',
     'model.ssd.box_predictor.convolutional_box_predictor.use_depthwise'),
    ('score_converter: SIGMOID', 'score_converter: IDENTITY',
     'model.ssd.post_processing.score_converter'),
    ('iou_threshold: 0.6', 'iou_threshold: 0.6 use_class_agnostic_nms: true',
     'model.ssd.post_processing.batch_non_max_suppression.use_class_agnostic_nms'),
    ('max_detections_per_class: 100', 'max_detections_per_class: 101',
     'model.ssd.post_processing.batch_non_max_suppression.max_detections_per_class'),
    ('activation: RELU_6', 'activation: SIGMOID_ISH',
     'model.ssd.feature_extractor.conv_hyperparams.activation'),
    ('epsilon: 0.001', 'epsilon: 0.001 momentum_typo: 1',
     'model.ssd.feature_extractor.conv_hyperparams.batch_norm.momentum_typo'),
    ('num_layers: 6', 'num_layers: 5', 'model.ssd.anchor_generator.ssd_anchor_generator.'
                                       'num_layers'),
    ('num_classes: 3', 'num_classes: three', 'model.ssd.num_classes'),
    ('ssd {', 'faster_rcnn {', 'model.faster_rcnn'),
])
def test_unsupported_fields_are_named(text, old, new, field):
    assert old in text
    with pytest.raises(ConfigError) as info:
        config.from_message(parse(text.replace(old, new, 1)))
    message = str(info.value)
    assert message.startswith(field + ':'), message
    assert '\n' not in message


def test_quantized_graph_and_unknown_top_level_are_refused(text):
    for extra, field in (('graph_rewriter { quantization { delay: 1 } }', 'graph_rewriter'),
                         ('tpu_magic: 1', 'tpu_magic')):
        with pytest.raises(ConfigError, match='^' + field + ':'):
            config.from_message(parse(text + extra))


def test_training_only_sections_are_ignored(text):
    extra = 'train_config { batch_size: 4 } eval_config { num_examples: 1 }'
    assert config.from_message(parse(text + extra)).num_classes == 3


def test_tf1_slim_extractor_is_refused_with_the_file_named():
    path = FROZEN + '/pipeline.config'
    with pytest.raises(ConfigError) as info:
        config.read_pipeline(path)
    assert str(info.value).startswith(path + ': model.ssd.feature_extractor.type: ')
    assert 'TF1 (slim)' in str(info.value)
