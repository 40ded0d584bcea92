"""OpenCV's DNN module running a Caffe SSD: the reference side of the parity
(:mod:`replicate.caffe.parity`) and of the harness's ``opencv-dnn`` kind.

Two configurations:

- ``exact=True`` (the layer-by-layer reference): layer fusion off (so every
  layer's own output exists: OpenCV otherwise folds BatchNorm, Scale and
  ReLU into the convolution before them) and Winograd off (OpenCV's 3x3
  convolutions otherwise use the Winograd transform, whose rounding differs
  from a direct convolution's by up to ~1e-5 of a layer's scale);
- ``exact=False``: OpenCV's defaults, the detector as people run it.

``net.forward(names)`` returns the first output of each named layer.
OpenCV's DetectionOutput writes ``(1, 1, keep_top_k * B, 7)`` rows
``[image, label, score, x_min, y_min, x_max, y_max]``, the kept ones first
(sorted by score over all classes), zeros after them.
"""
import numpy as np

from replicate.caffe.errors import CaffeError
from replicate.errors import one_line


def load_net(prototxt_path, caffemodel_path, exact):
    """A ``cv2.dnn.Net`` on the CPU (see the module doc for ``exact``)."""
    import cv2
    try:
        net = cv2.dnn.readNetFromCaffe(prototxt_path, caffemodel_path)
    except cv2.error as exc:
        raise CaffeError('OpenCV cannot read {} / {}: {}'.format(
            prototxt_path, caffemodel_path, one_line(exc)[-300:])) from None
    net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
    net.setPreferableTarget(cv2.dnn.DNN_TARGET_CPU)
    if exact:
        net.enableFusion(False)
        net.enableWinograd(False)
    return net


def forward(net, blob, names, quiet=False):
    """``{name: float32 array}``: the first output of each named layer for
    the prepared batch ``blob`` (B, 3, h, w); ``quiet``: OpenCV's own log
    lines are silenced for the call (its failure is raised here in one line)."""
    import cv2
    net.setInput(blob)
    level = cv2.getLogLevel()
    if quiet:
        cv2.setLogLevel(0)  # silent
    try:
        outputs = net.forward(list(names))
    except cv2.error as exc:
        raise CaffeError('OpenCV failed to run the network: {}'.format(
            one_line(exc)[-300:])) from None
    finally:
        cv2.setLogLevel(level)
    return {name: np.asarray(out) for name, out in zip(names, outputs, strict=True)}


def detections(rows, batch):
    """OpenCV's DetectionOutput rows -> per image ``{labels, scores, boxes}``
    in Caffe's order (grouped by class ascending, by descending score within
    a class: a stable sort of OpenCV's score order by class).

    Args:
        rows: float32 (1, 1, N, 7) the layer's output.
        batch (int): images in the batch.
    """
    rows = np.asarray(rows, dtype=np.float32).reshape(-1, 7)
    rows = rows[np.any(rows != 0, axis=1)]  # the zero rows after the kept ones
    found = []
    for i in range(batch):
        mine = rows[rows[:, 0] == i]
        mine = mine[np.argsort(mine[:, 1], kind='stable')]
        found.append({'labels': mine[:, 1].astype(np.int32), 'scores': mine[:, 2].copy(),
                      'boxes': mine[:, 3:7].copy()})
    return found
