"""The packaged SSDLite person detector (our port) exported to ONNX
(replicate.ort.export.export_network): ONNX Runtime and OpenVINO in float32
equal the Chainer port within the ONNX tolerance (replicate.tolerances.ONNX
of each output's largest magnitude) at two batch sizes, and the export's
batch dimension is free."""
import numpy as np
import pytest
from frozen_helpers import photo

from replicate.ort.export import export_network
from replicate.ort.runtime import OnnxNetwork
from replicate.tolerances import ONNX

pytestmark = pytest.mark.tf
ov_runtime = pytest.importorskip('replicate.ov.runtime', reason='openvino extra not installed')


def _forward(model, x):
    import chainer
    with chainer.using_config('train', False), chainer.no_backprop_mode():
        return [v.array for v in model.forward(x)]


def test_ssdlite_export_equals_the_port(ssdlite):
    proto = export_network(ssdlite, ssdlite.image_size)
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == 'batch'
    images = [photo('astronaut.jpg'), photo('grace_hopper.jpg')]
    x = np.stack([ssdlite._prepare(image.transpose(2, 0, 1)) for image in images])
    engines = (OnnxNetwork(proto), ov_runtime.OpenVinoNetwork(proto))
    for batch in (x[:1], x):
        expected = _forward(ssdlite, batch)
        for engine in engines:
            got = engine.forward(batch)
            for g, e in zip(got, expected, strict=True):
                assert g.shape == e.shape
                assert np.abs(g - e).max() <= ONNX * np.abs(e).max()
