"""Our port of TF1 frozen graphs: weights read strictly from the graph's
constants, SSDLite's depthwise heads, and the packaged SSDLite person detector
(and the committed slim fixture) against TensorFlow running the same graph on
a real photograph.

Tolerance: ODAPI_PARITY (replicate/tolerances.py) of each output's largest
magnitude (scaled_err), the default of ``python -m replicate.odapi.parity``;
the committed report reports/parity/odapi_ssdlite_mobilenet_v2_person_cpu.md
measures at most 6e-6 end to end on six photographs.
"""
import chainer
import numpy as np
import pytest
from frozen_helpers import (
    FROZEN_GRAPH,
    add_constant,
    node,
    photo,
    run_tf,
    set_constant,
    write_changed,
)

from replicate.odapi import SlimSSDMobileNetV2, frozen_weights
from replicate.odapi.config import BatchNorm, ConvHyperparams
from replicate.odapi.errors import ExportWeightsError
from replicate.odapi.ssdlite_predictor import SlimPredictionHeads
from replicate.parity.metrics import errors
from replicate.tolerances import ODAPI_PARITY

pytestmark = pytest.mark.tf
RTOL = ODAPI_PARITY
FETCHES = {'input': 'FeatureExtractor/MobilenetV2/MobilenetV2/input:0',
           'box_encodings': 'Postprocessor/raw_box_encodings:0', 'class_predictions': 'concat_1:0',
           'boxes': 'detection_boxes:0', 'scores': 'detection_scores:0',
           'classes': 'detection_classes:0', 'num': 'num_detections:0'}


def _forward(model, x):
    with chainer.using_config('train', False), chainer.no_backprop_mode():
        locs, confs = model.forward(x)
    return locs.array, confs.array


def _same_as_tensorflow(model, graph, image):
    """Raw outputs within RTOL, then the same detections in the same order."""
    tf_out = run_tf(graph, image, FETCHES)
    x = tf_out['input'].transpose(0, 3, 1, 2)
    assert errors(model._prepare(image.transpose(2, 0, 1)), x[0])['scaled_err'] < RTOL
    locs, confs = _forward(model, x)
    for ours, key in ((locs, 'box_encodings'), (confs, 'class_predictions')):
        assert ours.shape == tf_out[key].shape
        assert errors(ours, tf_out[key])['scaled_err'] < RTOL, key
    found = model.detect(locs[0], confs[0])
    n = int(tf_out['num'][0])
    assert n > 0 and len(found['scores']) == n
    np.testing.assert_array_equal(found['classes'] + 1, tf_out['classes'][0, :n])
    np.testing.assert_allclose(found['scores'], tf_out['scores'][0, :n], rtol=0, atol=RTOL)
    np.testing.assert_allclose(found['boxes'], tf_out['boxes'][0, :n], rtol=0, atol=RTOL)
    return found


def test_packaged_ssdlite_equals_tensorflow_on_a_photograph(ssdlite, packaged_graph):
    found = _same_as_tensorflow(ssdlite, packaged_graph, photo('astronaut.jpg'))
    # the astronaut is found, with a box around her, well above every other box
    assert found['scores'][0] > 0.8 and found['scores'][1] < 0.2
    y0, x0, y1, x1 = found['boxes'][0]
    assert y1 - y0 > 0.5 and x1 - x0 > 0.3


def test_slim_fixture_graph_loads_and_equals_tensorflow(slim_fixture):
    """The committed TF1 fixture (slim ssd_mobilenet_v2, convolutional heads,
    depth multiplier 0.25) through its pipeline.config."""
    assert not slim_fixture.config.box_predictor.use_depthwise
    assert slim_fixture.record['configuration'].startswith('from ')
    _same_as_tensorflow(slim_fixture, FROZEN_GRAPH, photo('grace_hopper.jpg'))


def test_every_constant_is_used_with_its_shape(ssdlite, packaged_graph):
    from replicate.odapi.frozen_graph import FrozenGraph
    graph = FrozenGraph(packaged_graph)
    wanted = frozen_weights.expected(ssdlite)
    assert sorted(wanted) == sorted(frozen_weights.graph_weights(graph))
    assert len(wanted) == 404
    params = {k.lstrip('/'): p.array for k, p in ssdlite.namedparams()}
    kernel = graph.constant('FeatureExtractor/MobilenetV2/expanded_conv_1/expand/weights')
    np.testing.assert_array_equal(params['extractor/base/expanded_conv_1/expand/conv/W'],
                                  kernel.transpose(3, 2, 0, 1))  # (1,1,16,96) -> (96,16,1,1)
    depthwise = graph.constant('BoxPredictor_0/ClassPredictor_depthwise/depthwise_weights')
    np.testing.assert_array_equal(
        params['multibox/BoxPredictor_0/ClassPredictor_depthwise/conv/W'][7, 0],
        depthwise[:, :, 7, 0])
    np.testing.assert_array_equal(
        ssdlite.extractor.extras['layer_19_2_Conv2d_5_3x3_s2_128'].BatchNorm.avg_var,
        graph.constant('FeatureExtractor/MobilenetV2/layer_19_2_Conv2d_5_3x3_s2_128/BatchNorm/'
                       'moving_variance'))


def _remove(name):
    def change(graph):
        del graph.node[[n.name for n in graph.node].index(name)]
    return change


@pytest.mark.parametrize('change, words', [
    (_remove('FeatureExtractor/MobilenetV2/expanded_conv_3/expand/BatchNorm/gamma'),
     '1 missing: FeatureExtractor/MobilenetV2/expanded_conv_3/expand/BatchNorm/gamma'),
    (lambda g: add_constant(g, 'FeatureExtractor/MobilenetV2/extra_layer/weights',
                            np.ones((1, 1, 8, 8), np.float32)),
     '1 unexpected: FeatureExtractor/MobilenetV2/extra_layer/weights'),
    (lambda g: set_constant(g, 'BoxPredictor_2/ClassPredictor/weights',
                            np.ones((1, 1, 128, 25), np.float32)),
     '1 misshapen: BoxPredictor_2/ClassPredictor/weights (float32 (1, 1, 128, 25) -> ours '
     '(24, 128, 1, 1))'),
    (lambda g: setattr(node(g, 'FeatureExtractor/MobilenetV2/expanded_conv_4/project/BatchNorm/'
                              'FusedBatchNormV3').attr['epsilon'], 'f', 0.01),
     'expanded_conv_4/project/BatchNorm/FusedBatchNormV3: epsilon 0.009999'),
])
def test_a_graph_that_does_not_fit_is_refused_and_nothing_loaded(tmp_path, change, words):
    path = write_changed(str(tmp_path), change)
    with pytest.raises(ExportWeightsError) as info:
        SlimSSDMobileNetV2.from_frozen_graph(path)
    message = str(info.value)
    assert '\n' not in message and message.startswith(path + ' does not fit the network ')
    assert words in message


def test_all_or_nothing(slim_fixture, tmp_path):
    """A refused graph changes no parameter of the model it was loaded into."""
    import copy

    from replicate.odapi.frozen_graph import FrozenGraph
    model = copy.deepcopy(slim_fixture)
    before = model.multibox['BoxPredictor_0'].ClassPredictor.conv.W.array.copy()
    path = write_changed(str(tmp_path), _remove('BoxPredictor_5/BoxEncodingPredictor/biases'))
    with pytest.raises(ExportWeightsError, match='1 missing: BoxPredictor_5/BoxEncodingPre'):
        frozen_weights.load(FrozenGraph(path), model, 'the test')
    np.testing.assert_array_equal(model.multibox['BoxPredictor_0'].ClassPredictor.conv.W.array,
                                  before)


def _depthwise_reference(x, w, bn, eps):
    """numpy: depthwise 3x3 'SAME' conv (stride 1), batch norm, ReLU6; x (C, H, W)."""
    c, h, wd = x.shape
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1)))
    out = np.zeros_like(x, dtype=np.float64)
    for dy in range(3):
        for dx in range(3):
            out += w[:, 0, dy, dx][:, None, None] * padded[:, dy:dy + h, dx:dx + wd]
    gamma, beta, mean, var = bn
    out = gamma[:, None, None] * (out - mean[:, None, None]) / np.sqrt(
        var[:, None, None] + eps) + beta[:, None, None]
    return np.clip(out, 0, 6)


def test_depthwise_heads_compute_ssdlites_layers_in_tfs_row_order():
    """SSDLite heads: depthwise 3x3 + batch norm + ReLU6 + 1x1 with bias, one
    row per (row, column, anchor) of the map, checked against numpy."""
    rng = np.random.RandomState(0)
    channels, boxes, classes = 5, 2, 3
    hp = ConvHyperparams('RELU_6', BatchNorm(epsilon=1e-3, scale=True, center=True))
    heads = SlimPredictionHeads(channels, boxes, classes, 3, 4, True, hp)
    reference = {}
    for head, values in (('BoxEncodingPredictor', 4), ('ClassPredictor', classes)):
        dw = heads[head + '_depthwise']
        dw.conv.W.array[...] = rng.randn(*dw.conv.W.shape)
        bn = (rng.rand(channels) + 0.5, rng.randn(channels), rng.randn(channels),
              rng.rand(channels) + 0.5)
        for link_name, value in zip(('gamma', 'beta'), bn[:2], strict=True):
            getattr(dw.BatchNorm, link_name).array[...] = value
        dw.BatchNorm.avg_mean[...], dw.BatchNorm.avg_var[...] = bn[2], bn[3]
        pw = heads[head].conv
        pw.W.array[...] = rng.randn(*pw.W.shape)
        pw.b.array[...] = rng.randn(*pw.b.shape)
        reference[head] = (dw.conv.W.array.astype(np.float64), bn, pw.W.array[:, :, 0, 0],
                           pw.b.array, values)
    x = rng.randn(1, channels, 4, 6).astype(np.float32) * 3
    with chainer.using_config('train', False):
        rows = heads(x)
    assert [r.shape for r in rows] == [(1, 4 * 6 * boxes, 4), (1, 4 * 6 * boxes, classes)]
    for out, head in zip(rows, ('BoxEncodingPredictor', 'ClassPredictor'), strict=True):
        w, bn, pw, b, values = reference[head]
        h = _depthwise_reference(x[0].astype(np.float64), w, bn, 1e-3)
        y = np.einsum('oc,chw->ohw', pw, h) + b[:, None, None]  # (boxes*values, H, W)
        # row r = (i * W + j) * boxes + a holds channels a*values .. a*values+values-1 at (i, j)
        expected = y.transpose(1, 2, 0).reshape(-1, values)
        np.testing.assert_allclose(out.array[0], expected, rtol=1e-5, atol=1e-5)
