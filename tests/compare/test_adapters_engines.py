"""Detector kinds ``ours-openvino`` and ``ours-int8``: our SSD300's export run
by OpenVINO, and quantized to int8 at load. float32: the detections of
``ours`` up to float32 rounding (the tolerance of tests/replicate/test_ort.py);
int8 on random weights: only that it runs and says what it is (its
accuracy is measured on trained weights, reports/bench/int8_trained.md)."""
import numpy as np
import pytest
from conftest import CHAINER_THRESH, contract_images, loaded, score_thresh

from compare.adapters import build
from compare.errors import UserError

pytest.importorskip('openvino', reason='the openvino extra is not installed')


pytestmark = pytest.mark.xdist_group('tf')  # one worker builds its fixtures


def test_engine_option_checked():
    with pytest.raises(UserError, match='engine=tf'):
        build('ours-int8:random:3,engine=tf')
    with pytest.raises(UserError, match='unknown option'):
        build('ours-openvino:random:3,engine=onnx')
    assert build('ours-int8:random:3,engine=onnx').engine == 'onnx'
    assert build('ours-int8:random:3').engine == 'openvino'


@pytest.mark.slow
def test_openvino_beside_ours(chainer_predictions):
    fast = loaded('ours-openvino:random:3')
    with score_thresh(fast, CHAINER_THRESH):
        got = fast.predict(contract_images()).detections
    for a, b in zip(got, chainer_predictions['ours'][0].detections, strict=True):
        assert len(a) == len(b) > 0 and list(a.labels) == list(b.labels)
        np.testing.assert_allclose(a.boxes, b.boxes, atol=1e-3)
        np.testing.assert_allclose(a.scores, b.scores, atol=1e-5)
    assert fast.info().device == 'CPU (OpenVINO)'


@pytest.mark.slow
def test_int8_runs_and_says_so():
    int8 = loaded('ours-int8:random:3')
    prediction = int8.predict(contract_images())
    assert len(prediction.detections) == len(contract_images())
    info = int8.info()
    assert info.device == 'CPU (int8, openvino, calibrated on 16 generated images)'
    assert 'nncf' in info.info['stages']
