"""Run an exported SSD with OpenVINO on the CPU, behind the same ``forward``
and ``predict`` as :class:`replicate.ort.runtime.OnnxSSD`.

The model is compiled once per batch size with a static input shape
(OpenVINO's CPU plugin is faster with static shapes than with the export's
free batch dimension), with the float32 precision hint: on processors with
bfloat16 support the plugin may otherwise compute in bfloat16, which changes
the results; here every path that says float32 computes in float32 (an int8
model keeps float32 for its non-quantized layers).
"""
import os

import numpy as np

from replicate.ort.export import INPUT, OUTPUTS

#: Compile settings of every model (``openvino.Core.compile_model`` config).
CONFIG = {'INFERENCE_PRECISION_HINT': 'f32', 'PERFORMANCE_HINT': 'LATENCY'}


class OpenVinoNetwork:
    """An exported network run by OpenVINO on the CPU: ``forward`` only.

    Args:
        network: an ``openvino.Model`` (e.g. quantized by
            :func:`replicate.ov.quantize.quantize`) or an ``onnx.ModelProto``
            (or its bytes) with input :data:`~replicate.ort.export.INPUT` and
            outputs :data:`~replicate.ort.export.OUTPUTS`.
        threads (int or None): inference threads; None: OpenVINO's default
            (one per core).

    Attributes:
        network (``openvino.Model``); threads (str): the thread setting in
        effect, for reports.
    """

    def __init__(self, network, threads=None):
        import openvino
        self.core = openvino.Core()
        if threads:
            self.core.set_property('CPU', {'INFERENCE_NUM_THREADS': int(threads)})
        if not isinstance(network, openvino.Model):
            network = read_onnx(self.core, network)
        self.network = network
        self.threads = str(threads or 'default ({} cores)'.format(os.cpu_count()))
        self._compiled = {}

    def _compiled_for(self, shape):
        batch = shape[0]
        if batch not in self._compiled:
            network = self.network.clone()
            network.reshape({INPUT: list(shape)})
            self._compiled[batch] = self.core.compile_model(network, 'CPU', CONFIG)
        return self._compiled[batch]

    def forward(self, x):
        """float32 (B, 3, H, W) -> the two outputs as numpy arrays, in the
        layout of the model that was exported."""
        x = np.ascontiguousarray(x, dtype=np.float32)
        compiled = self._compiled_for(x.shape)
        result = compiled({INPUT: x})
        return tuple(np.array(result[compiled.output(name)]) for name in OUTPUTS)


class OpenVinoSSD(OpenVinoNetwork):
    """An SSD whose network runs in OpenVINO; the rest is the Chainer model's.

    Args:
        model: a :class:`replicate.SSD` on the CPU (used for preprocessing,
            presets, decoding and NMS; exported here unless ``network`` is given).
        threads (int or None): inference threads; None: OpenVINO's default
            (one per core).
        network: as :class:`OpenVinoNetwork`'s, or None (export ``model``).

    Attributes:
        threads (str): the thread setting in effect, for reports.
    """

    def __init__(self, model, threads=None, network=None):
        if model.xp is not np:
            raise ValueError('OpenVinoSSD runs on the CPU: pass the model before to_device')
        self.model = model
        super().__init__(network if network is not None else _export(model), threads)

    # forward: float32 (B, 3, insize, insize) -> numpy (mb_locs, mb_confs)

    def predict(self, imgs):
        """Same arguments and results as :meth:`replicate.SSD.predict`."""
        x, sizes = self.model.prepare_batch(imgs)
        mb_locs, mb_confs = self.forward(x)
        return self.model.postprocess(mb_locs, mb_confs, sizes)

    def use_preset(self, preset):
        self.model.use_preset(preset)


def _export(model):
    from replicate.ort.export import export_ssd
    return export_ssd(model)


def read_onnx(core, proto):
    """``openvino.Model`` of an ONNX model (``onnx.ModelProto`` or bytes),
    read by OpenVINO's ONNX frontend."""
    import tempfile
    data = proto if isinstance(proto, bytes) else proto.SerializeToString()
    with tempfile.TemporaryDirectory(prefix='ov-') as folder:
        path = os.path.join(folder, 'model.onnx')
        with open(path, 'wb') as f:
            f.write(data)
        return core.read_model(path)
