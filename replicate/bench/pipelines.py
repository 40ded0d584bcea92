"""The systems a benchmark times, each split into the same three stages.

A pipeline has a ``name`` and three methods that together do what the
model's ``predict`` does:

* ``prepare(imgs) -> (x, sizes)``: x on the device, float32 (B, 3, 300, 300);
* ``forward(x) -> (mb_locs, mb_confs)``: device arrays (B, K, 4), (B, K, C);
* ``postprocess(outputs, sizes) -> (bboxes, labels, scores)``: lists of numpy
  arrays per image, boxes (y_min, x_min, y_max, x_max) in image pixels.

and a ``precision`` (``'fp32'`` or ``'int8'``: the peak rate its forward is
measured against, :mod:`replicate.bench.floor`).
"""
import chainer
from chainer.backends import cuda


def _inference(forward, x):
    with chainer.using_config('train', False), chainer.no_backprop_mode():
        mb_locs, mb_confs = forward(x)
    return mb_locs.array, mb_confs.array


class OursChainer:
    """``replicate.SSD300`` in Chainer: the stages ``predict`` is made of."""

    name = 'ours-chainer'
    precision = 'fp32'

    def __init__(self, model):
        self.model = model

    def prepare(self, imgs):
        return self.model.prepare_batch(imgs)

    def forward(self, x):
        return _inference(self.model.forward, x)

    def postprocess(self, outputs, sizes):
        return self.model.postprocess(outputs[0], outputs[1], sizes)


class OursOnnx:
    """Our SSD300 exported to ONNX and run by ONNX Runtime (CPU); the steps
    around the network are the Chainer model's (:class:`replicate.ort.runtime.OnnxSSD`)."""

    name = 'ours-onnx'
    precision = 'fp32'

    def __init__(self, onnx_ssd):
        self.onnx_ssd = onnx_ssd

    def prepare(self, imgs):
        return self.onnx_ssd.model.prepare_batch(imgs)

    def forward(self, x):
        return self.onnx_ssd.forward(x)

    def postprocess(self, outputs, sizes):
        return self.onnx_ssd.model.postprocess(outputs[0], outputs[1], sizes)


class OursEngine(OursOnnx):
    """Our SSD300 with its network run by another engine or in int8
    (:class:`replicate.ov.runtime.OpenVinoSSD`, or :class:`replicate.ort.runtime.OnnxSSD`
    on a quantized model): anything with ``forward(x)`` and ``model``.

    Args:
        name: the pipeline's name, e.g. ``ours-openvino``, ``ours-int8-onnx``.
        runner: the engine's SSD.
        precision: ``'fp32'`` or ``'int8'``.
        facts: dict of strings describing it (quantization, threads), for reports.
    """

    def __init__(self, name, runner, precision, facts=None):
        super().__init__(runner)
        self.name, self.precision, self.facts = name, precision, dict(facts or {})


class ChainerCVPipeline:
    """``chainercv.links.SSD300``: its ``predict`` (ChainerCV 0.13.1) cut at
    the same two points, calling its own methods in its own order.

    Args:
        model: a ChainerCV SSD on its device.
        resize_backend (str): 'cv2' or 'PIL', set as
            ``chainer.config.cv_resize_backend`` while preparing.
    """

    name = 'chainercv'
    precision = 'fp32'

    def __init__(self, model, resize_backend):
        self.model = model
        self.resize_backend = resize_backend

    def prepare(self, imgs):
        model = self.model
        with chainer.using_config('cv_resize_backend', self.resize_backend):
            x = [model.xp.array(model._prepare(img)) for img in imgs]
        return model.xp.stack(x), [img.shape[1:] for img in imgs]

    def forward(self, x):
        return _inference(self.model.forward, x)

    def postprocess(self, outputs, sizes):
        from chainercv import transforms
        model = self.model
        results = ([], [], [])
        for mb_loc, mb_conf, size in zip(outputs[0], outputs[1], sizes, strict=True):
            bbox, label, score = model.coder.decode(
                mb_loc, mb_conf, model.nms_thresh, model.score_thresh)
            bbox = transforms.resize_bbox(bbox, (model.insize, model.insize), size)
            for out, array in zip(results, (bbox, label, score), strict=True):
                out.append(cuda.to_cpu(array))
        return results
