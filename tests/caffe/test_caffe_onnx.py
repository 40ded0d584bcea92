"""The packaged Caffe face SSD exported to ONNX (replicate.ort.export.export_network):
ONNX Runtime and OpenVINO in float32 equal our Chainer port within the ONNX
tolerance (replicate.tolerances.ONNX of each output's largest magnitude), and
its int8 models, calibrated on photographs with no face, still find the face
in a portrait (reports/bench/int8_packaged.md measures the rest)."""
import os

import numpy as np
import pytest

from replicate.bench.int8_detectors import FaceSSD, calibration_photos, views
from replicate.ort.export import export_network
from replicate.ort.quantize import quantize
from replicate.ort.runtime import OnnxNetwork
from replicate.parity.inputs import read_rgb
from replicate.tolerances import ONNX

IMAGES = os.path.join(os.path.dirname(__file__), os.pardir, os.pardir, 'images')
ov_runtime = pytest.importorskip('replicate.ov.runtime', reason='openvino extra not installed')


@pytest.fixture(scope='module')
def face():
    detector = FaceSSD()
    return detector, export_network(detector.model, detector.size)


@pytest.fixture(scope='module')
def portrait(face):
    detector, _ = face
    image = read_rgb(os.path.join(IMAGES, 'grace_hopper.jpg'))
    return image, detector.prepare(image)


def test_float32_engines_equal_chainer(face, portrait):
    detector, proto = face
    x = np.concatenate([portrait[1], detector.prepare(views(portrait[0])[3])])
    expected = detector.forward(x)
    for engine in (OnnxNetwork(proto), ov_runtime.OpenVinoNetwork(proto)):
        got = engine.forward(x)
        for g, e in zip(got, expected, strict=True):
            assert g.shape == e.shape
            assert np.abs(g - e).max() <= ONNX * np.abs(e).max()


def test_int8_keeps_the_face(face, portrait):
    from replicate.ov.quantize import quantize as nncf_quantize
    detector, proto = face
    image, x = portrait
    calibration = [detector.prepare(v) for photo in calibration_photos() for v in views(photo)]
    assert len(calibration) == 12
    reference = detector.detect(detector.forward(x), image.shape[:2])
    ort8, facts = quantize(proto, calibration)
    assert facts['calibration_images'] == '12'
    ov8, _ = nncf_quantize(ov_runtime.OpenVinoNetwork(proto).network, calibration)
    top = reference[0][0]
    assert reference[2][0] > 0.99  # the portrait's face, annotated at (133, 156, 327, 375)
    for engine in (OnnxNetwork(ort8), ov_runtime.OpenVinoNetwork(ov8)):
        outputs = engine.forward(x)
        assert max(np.abs(o - r).max() for o, r in zip(outputs, detector.forward(x),
                                                      strict=True)) > 1e-3  # really int8
        boxes, labels, scores = detector.detect(outputs, image.shape[:2])
        assert scores[0] > 0.9 and labels[0] == 0
        assert np.abs(boxes[0] - top).max() < 0.05 * image.shape[0]


def test_views_are_three_crops_and_their_mirrors():
    image = np.arange(8 * 4 * 3, dtype=np.uint8).reshape(8, 4, 3)
    out = views(image)
    assert [v.shape for v in out] == [(8, 4, 3)] * 2 + [(6, 3, 3)] * 2 + [(4, 2, 3)] * 2
    np.testing.assert_array_equal(out[1], image[:, ::-1])
    np.testing.assert_array_equal(out[4], image[2:6, 1:3])
    assert all(v.flags.c_contiguous for v in out)
