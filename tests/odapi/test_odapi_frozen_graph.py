"""A TF1 frozen graph read as data: hostile files refused in one line, bounded
constants, the anchors computed from the graph's constants, and the
configuration recovered from the graph (packaged SSDLite, committed fixture)."""
import os

import numpy as np
import pytest
from frozen_helpers import FROZEN_GRAPH, node, run_tf, set_constant, write_changed
from odapi_paths import FROZEN

from replicate.odapi import anchors, const_eval, frozen_graph, graph_config
from replicate.odapi.errors import ConfigError, ExportError
from replicate.odapi.frozen_graph import FrozenGraph, tensor_array
from replicate.odapi.frozen_ssd import SlimSSDMobileNetV2, is_frozen_graph, locate

pytestmark = pytest.mark.tf


def _one_line(exc, *words):
    message = str(exc)
    assert '\n' not in message and 'Traceback' not in message
    for word in words:
        assert word in message, message


@pytest.mark.parametrize('content, words', [
    (lambda data: data[:len(data) // 2], ('not a TF GraphDef', 'truncated')),
    (lambda data: b'model {\n  ssd { num_classes: 1 }\n}\n', ('not a TF GraphDef',)),
    (lambda data: b'\x89PNG\r\n\x1a\n' + bytes(range(256)) * 4, ('not a TF GraphDef',)),
    (lambda data: b'', ('holds no graph nodes',)),
])
def test_hostile_graph_files_are_refused_in_one_line(tmp_path, content, words):
    with open(FROZEN_GRAPH, 'rb') as f:
        data = f.read()
    path = tmp_path / 'frozen_inference_graph.pb'
    path.write_bytes(content(data))
    with pytest.raises(ExportError) as info:
        SlimSSDMobileNetV2.from_frozen_graph(str(path))
    _one_line(info.value, str(path), *words)


def test_a_huge_file_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / 'huge.pb'
    with open(path, 'wb') as f:  # sparse: no disk used
        f.truncate(frozen_graph.MAX_GRAPH_BYTES + 1)
    with pytest.raises(ExportError) as info:
        frozen_graph.read_graph_def(str(path))
    _one_line(info.value, str(path), 'MiB, more than the 512 MiB')


def test_a_graph_without_the_exporter_nodes_is_not_an_export(tmp_path):
    path = write_changed(str(tmp_path), lambda g: setattr(node(g, 'num_detections'), 'name',
                                                          'renamed'))
    with pytest.raises(ExportError) as info:
        SlimSSDMobileNetV2.from_frozen_graph(path)
    _one_line(info.value, 'not an OD API TF1 detection export', 'no num_detections node')


def test_constants_are_bounded_and_checked_against_their_shape():
    import tensorflow as tf
    huge = tf.make_tensor_proto(1.0, shape=[1 << 20, 1 << 10])  # one value, 2^30 elements
    with pytest.raises(ExportError, match='1073741824 elements, more than'):
        tensor_array(huge, 'x')
    short = tf.make_tensor_proto(np.zeros(6, np.float32))
    short.tensor_shape.dim[0].size = 7
    with pytest.raises(ExportError, match='24 bytes of data for a float32 constant of shape'):
        tensor_array(short, 'x')
    # TF's rule: fewer values than elements repeat the last one
    repeated = tf.make_tensor_proto(np.zeros(4, np.int32))
    repeated.ClearField('tensor_content')
    repeated.ClearField('int_val')
    repeated.int_val.extend([1, 2])
    np.testing.assert_array_equal(tensor_array(repeated, 'x'), [1, 2, 2, 2])
    value = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    np.testing.assert_array_equal(tensor_array(tf.make_tensor_proto(value), 'x'), value)


def test_graph_anchors_from_its_constants_equal_tensorflows():
    """The numpy evaluation of the anchor ops equals TF running them, bit for
    bit, and equals the anchors recomputed from the recovered parameters."""
    graph = FrozenGraph(FROZEN_GRAPH)
    ours = const_eval.evaluate(graph, 'Concatenate/concat')
    theirs = run_tf(FROZEN_GRAPH, np.zeros((8, 8, 3), np.uint8), {'a': 'Concatenate/concat:0'})
    assert ours.shape == (330, 4) and ours.dtype == np.float32
    np.testing.assert_array_equal(ours, theirs['a'])
    config, _ = graph_config.recover(graph)
    np.testing.assert_array_equal(anchors.generate(config.anchors, ((8, 8), (4, 4), (2, 2),
                                                                    (1, 1), (1, 1), (1, 1)),
                                                   (128, 128)), ours)


def test_the_evaluator_refuses_ops_it_does_not_compute():
    graph = FrozenGraph(FROZEN_GRAPH)
    with pytest.raises(ExportError, match='computed by a Placeholder op'):
        const_eval.evaluate(graph, 'Preprocessor/map/Shape')


def test_ssdlite_configuration_recovered_from_the_graph(packaged_graph):
    """Every value of the packaged SSDLite's configuration, read from its
    graph (no pipeline.config ships with it), as its package describes it."""
    config, seen = graph_config.recover(FrozenGraph(packaged_graph))
    fe, bp, pp = config.feature_extractor, config.box_predictor, config.post_processing
    assert config.num_classes == 1 and config.image_size == (300, 300)
    assert (fe.type, fe.depth_multiplier, fe.num_layers, fe.use_depthwise) == \
        ('ssd_mobilenet_v2', 1.0, 6, True)
    assert not fe.use_explicit_padding and fe.conv_hyperparams.activation == 'RELU_6'
    assert fe.conv_hyperparams.batch_norm.epsilon == np.float32(0.001)
    assert (bp.use_depthwise, bp.kernel_size, bp.box_code_size) == (True, 3, 4)
    assert config.scale_factors == (10.0, 10.0, 5.0, 5.0)
    assert (pp.score_converter, pp.logit_scale) == ('SIGMOID', 1.0)
    assert (pp.iou_threshold, pp.max_detections_per_class, pp.max_total_detections) == \
        (np.float32(0.6), 100, 100)
    assert pp.score_threshold == np.float32(1e-8)
    a = config.anchors
    assert (a.num_layers, a.min_scale, a.max_scale) == (6, np.float32(0.2), np.float32(0.95))
    assert a.aspect_ratios == tuple(float(np.float32(r)) for r in (1, 2, 0.5, 3, 0.3333))
    assert a.reduce_boxes_in_lowest_layer and a.interpolated_scale_aspect_ratio == 1.0
    record = seen.as_dict()
    assert record['anchors'].startswith('1917 anchors, equal bit for bit')
    assert 'Postprocessor/Decode/truediv' in record['box_coder']
    assert record['nms'].startswith('per class (NonMaxSuppressionV3), IoU > 0.6')


def test_fixture_configuration_from_the_graph_equals_its_pipeline_config():
    from replicate.odapi.config import read_pipeline
    recovered, _ = graph_config.recover(FrozenGraph(FROZEN_GRAPH))
    written = read_pipeline(os.path.join(FROZEN, 'pipeline.config'), frozen=True)
    assert graph_config.differences(written, recovered) == []
    for name in ('num_classes', 'image_size', 'anchors', 'scale_factors', 'post_processing'):
        assert getattr(recovered, name) == getattr(written, name), name
    fe = recovered.feature_extractor
    assert (fe.depth_multiplier, fe.min_depth, fe.use_depthwise) == (0.25, 16, False)
    assert not recovered.box_predictor.use_depthwise and recovered.box_predictor.kernel_size == 1


def _changed(tmp_path, change):
    return write_changed(str(tmp_path), change)


def _scores_by(op):
    return lambda g: setattr(node(g, 'Postprocessor/convert_scores'), 'op', op)


def _align_corners(g):
    next(n for n in g.node if n.op == 'ResizeBilinear').attr['align_corners'].b = True


def _nms_op(g):
    for n in g.node:
        if n.op == 'NonMaxSuppressionV5':
            n.op = 'NonMaxSuppressionV4'


@pytest.mark.parametrize('change, words', [
    (_scores_by('Identity'), ('Postprocessor/convert_scores is Identity',
                              'Sigmoid or Softmax')),
    (lambda g: set_constant(g, 'Preprocessor/mul/x', np.float32(1 / 128)),
     ('preprocessing 0.0078125 * x - 1', "MobileNetV2's (2/255) * x - 1")),
    (_nms_op, ('NonMaxSuppressionV4 is not ported',)),
    (_align_corners, ('align_corners=true',)),
    (lambda g: set_constant(g, 'Postprocessor/Decode/truediv_2/y', np.float32(4)),
     ('does not describe', 'scale_factors: pipeline.config (10.0, 10.0, 5.0, 5.0), graph '
                           '(10.0, 10.0, 4.0, 5.0)')),
])
def test_what_the_port_does_not_build_is_refused_in_one_line(tmp_path, change, words):
    _changed(tmp_path, change)
    if 'does not describe' in words:  # with the fixture's pipeline.config beside it
        with open(os.path.join(FROZEN, 'pipeline.config')) as f:
            (tmp_path / 'pipeline.config').write_text(f.read())
    with pytest.raises((ConfigError, ExportError)) as info:
        SlimSSDMobileNetV2.from_frozen_graph(str(tmp_path))
    _one_line(info.value, *words)


def test_anchors_that_do_not_fit_the_recovered_generator_are_refused(tmp_path):
    """An anchor offset changed in the graph: the recomputed anchors differ
    from the graph's own, and the graph is refused rather than run with others."""
    path = _changed(tmp_path, lambda g: set_constant(g, 'MultipleGridAnchorGenerator/mul/x',
                                                     np.float32(0.4)))
    with pytest.raises(ExportError) as info:
        SlimSSDMobileNetV2.from_frozen_graph(path)
    _one_line(info.value, "the anchors of the configuration differ from the graph's own")


def test_paths_a_frozen_graph_is_given_by(tmp_path):
    graph, pipeline = locate(FROZEN)
    assert os.path.samefile(graph, FROZEN_GRAPH)
    assert os.path.samefile(pipeline, os.path.join(FROZEN, 'pipeline.config'))
    assert locate(FROZEN_GRAPH)[0] == FROZEN_GRAPH
    assert is_frozen_graph(FROZEN) and is_frozen_graph(FROZEN_GRAPH)
    assert not is_frozen_graph(os.path.join(FROZEN, '..', 'odapi_ssd_mobilenet_v2'))
    with pytest.raises(ExportError, match='holds no frozen_inference_graph.pb'):
        locate(str(tmp_path))
    with pytest.raises(ExportError, match='does not exist'):
        locate(str(tmp_path / 'missing.pb'))
