"""Run an exported SSD with ONNX Runtime on the CPU, behind the same
``predict`` as the Chainer model."""
import os

import numpy as np

from replicate.ort.export import INPUT, OUTPUTS, export_ssd


def session(proto, threads=None):
    """An ``onnxruntime.InferenceSession`` on the CPU for an ONNX model.

    Args:
        proto: ``onnx.ModelProto`` or its serialized bytes.
        threads (int or None): intra-op threads; None = ONNX Runtime's
            default (one per physical core).
    """
    import onnxruntime
    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    if threads:
        options.intra_op_num_threads = threads
    data = proto if isinstance(proto, bytes) else proto.SerializeToString()
    return onnxruntime.InferenceSession(data, options, providers=['CPUExecutionProvider'])


class OnnxNetwork:
    """An exported network run by ONNX Runtime: ``forward`` only.

    Args:
        proto: ``onnx.ModelProto`` or its serialized bytes, with input
            :data:`~replicate.ort.export.INPUT` and outputs
            :data:`~replicate.ort.export.OUTPUTS` (:func:`replicate.ort.export.export_network`).
        threads (int or None): ONNX Runtime intra-op threads (None: default).

    Attributes:
        threads (str): the intra-op thread count in effect, for reports.
    """

    def __init__(self, proto, threads=None):
        self.session = session(proto, threads)
        self.threads = str(threads or 'default ({} cores)'.format(os.cpu_count()))

    def forward(self, x):
        """float32 (B, 3, H, W) -> the two outputs as numpy arrays, in the
        layout of the model that was exported."""
        x = np.ascontiguousarray(x, dtype=np.float32)
        return tuple(self.session.run(list(OUTPUTS), {INPUT: x}))


class OnnxSSD(OnnxNetwork):
    """An SSD whose network runs in ONNX Runtime; everything else is the
    Chainer model's own (preprocessing, presets, decoding, NMS).

    Args:
        model: a :class:`replicate.SSD` on the CPU, with its weights: it is
            exported here and used for the steps around the network.
        threads (int or None): ONNX Runtime intra-op threads (None: default).
        proto: an export of ``model`` to reuse (``onnx.ModelProto``, or the
            bytes of a quantized one); exported when None.

    Attributes:
        model: the Chainer model; its ``use_preset`` sets what
            :meth:`predict` uses.
        proto: the exported model.
        threads (str): the intra-op thread count in effect, for reports.
    """

    def __init__(self, model, threads=None, proto=None):
        if model.xp is not np:
            raise ValueError('OnnxSSD runs on the CPU: pass the model before to_gpu/to_device')
        self.model = model
        self.proto = proto if proto is not None else export_ssd(model)
        super().__init__(self.proto, threads)

    # forward: float32 (B, 3, insize, insize) -> numpy (mb_locs, mb_confs), as
    # replicate.SSD.forward returns them (as arrays)

    def predict(self, imgs):
        """Same arguments and results as :meth:`replicate.SSD.predict`."""
        x, sizes = self.model.prepare_batch(imgs)
        mb_locs, mb_confs = self.forward(x)
        return self.model.postprocess(mb_locs, mb_confs, sizes)

    def use_preset(self, preset):
        self.model.use_preset(preset)
