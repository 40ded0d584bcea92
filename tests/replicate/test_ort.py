"""The ONNX Runtime path against the Chainer model it was exported from.

Tolerance (replicate.tolerances): raw outputs within ONNX of their largest
magnitude (measured about 1e-6: ONNX Runtime sums convolutions in another
order than numpy's BLAS); detections then agree except where a score sits within rounding of
the threshold or two boxes of a class tie within rounding.
"""
import types

import chainer
import numpy as np
import pytest

import replicate
from replicate.ort import export
from replicate.ort.runtime import OnnxSSD
from replicate.ssd.weights import seeded_random_weights
from replicate.tolerances import DETECTIONS_BOX_PX, DETECTIONS_SCORE, ONNX


@pytest.fixture(scope='module')
def pair():
    model = seeded_random_weights(replicate.SSD300(n_fg_class=5), seed=3)
    return model, OnnxSSD(model, threads=2)


def chainer_forward(model, x):
    with chainer.using_config('train', False), chainer.no_backprop_mode():
        return [v.array for v in model.forward(x)]


@pytest.mark.parametrize('batch', [2])
def test_outputs_close_at_any_batch_size(pair, batch):
    """Exported at batch 3 (export.TRACE_BATCH), run at 2 (and at 1 by predict below)."""
    model, fast = pair
    x = np.random.default_rng(batch).uniform(-120, 130, (batch, 3, 300, 300)).astype(np.float32)
    for got, expected in zip(fast.forward(x), chainer_forward(model, x), strict=True):
        assert got.shape == expected.shape == (batch, 8732, got.shape[2])
        scale = np.abs(expected).max()
        assert scale > 1 and np.abs(got - expected).max() <= ONNX * scale


def test_graph_has_free_batch_and_no_parameter_inputs(pair):
    proto = pair[1].proto
    assert [i.name for i in proto.graph.input] == [export.INPUT]
    assert [o.name for o in proto.graph.output] == list(export.OUTPUTS)
    for value in list(proto.graph.input) + list(proto.graph.output):
        assert value.type.tensor_type.shape.dim[0].dim_param == 'batch'
    ops = {node.op_type for node in proto.graph.node}
    assert 'LpNormalization' not in ops and {'Conv', 'MaxPool', 'Sqrt', 'Div'} <= ops


def test_predict_agrees(pair, smooth_image):
    model, fast = pair
    model.use_preset('evaluate')
    imgs = [smooth_image(7, 240, 320)]
    (bbox,), (label,), (score,) = fast.predict(imgs)
    (ref_bbox,), (ref_label,), (ref_score,) = model.predict(imgs)
    assert len(ref_label) > 50 and abs(len(label) - len(ref_label)) <= 2
    # detections matched by class and rank: same boxes and scores to rounding
    for cls in np.unique(ref_label):
        a, b = bbox[label == cls][:5], ref_bbox[ref_label == cls][:5]
        np.testing.assert_allclose(a, b, atol=DETECTIONS_BOX_PX)
        np.testing.assert_allclose(score[label == cls][:5], ref_score[ref_label == cls][:5],
                                   atol=DETECTIONS_SCORE)


def test_gpu_model_is_refused():
    on_gpu = types.SimpleNamespace(xp=object())  # any array module but numpy
    with pytest.raises(ValueError, match='runs on the CPU'):
        OnnxSSD(on_gpu)
