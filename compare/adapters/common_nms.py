"""One post-processing for every detector (``--common-nms``): the same NMS on
each detector's boxes BEFORE its own post-processing.

Each detector keeps its own post-processing (its native variant) and, with
``--common-nms``, gains a variant named ``<name>.common_nms`` whose
detections come from :class:`Candidates` (every box the network proposes,
with a score per class) put through ONE non-maximum suppression with one IoU
threshold, one score threshold and one cap per image (:class:`NMSParams`):
:func:`replicate.ssd.nms.multiclass_nms` (per class, greedy by descending score,
IoU >= the threshold suppresses, ChainerCV's arithmetic), then the cap keeps
the highest scores of the image, then boxes are scaled to pixels and clipped
to the image. The NMS runs in coordinates normalized to the image, where
both the SSD300s (their 300x300 input) and the OD API (normalized boxes) run
their own, so IoUs are those each detector's own NMS sees. So the report
separates what the network sees from what its post-processing keeps.

Candidates per detector (an adapter offers them through
``predict_candidates(images) -> (list of Candidates, times)``):

- Chainer SSDs: the 8732 boxes decoded from the network's offsets
  (:meth:`replicate.ssd.coder.MultiboxCoder.decode_boxes`, SSD300's default
  boxes) and the softmax of its logits, background column dropped;
- TF OD API exports: ``raw_detection_boxes`` (normalized, before NMS) and
  ``raw_detection_scores`` (column 0 the background, column ``k`` the label
  id ``k``), as the TF2 exporter writes them for SSD models; for a TF1 frozen
  graph the same tensors inside its post-processor
  (``Postprocessor/raw_box_locations``, ``Postprocessor/raw_box_scores``).
  An export with neither fails at load (``check_candidates``).

The variant runs the network again (its own call), so its times are those of
a full call with this post-processing.
"""
import dataclasses

import numpy as np

from compare.adapters.protocol import StageTimer
from compare.detections import Detections, Prediction

SUFFIX = '.common_nms'


@dataclasses.dataclass(frozen=True)
class NMSParams:
    """The one post-processing: IoU threshold, score threshold, cap per image."""
    iou: float = 0.45
    score: float = 0.01
    cap: int = 100

    def describe(self):
        return ('common NMS: per class, IoU >= {:g} suppresses, score >= {:g}, at most {} per '
                'image'.format(self.iou, self.score, self.cap))


@dataclasses.dataclass(frozen=True)
class Candidates:
    """Every box of one image before NMS.

    Attributes:
        boxes: ``(N, 4)`` float64, ``(y_min, x_min, y_max, x_max)`` normalized
            to the image (1 = its height or width; not clipped).
        scores: ``(N, C)`` float, one column per class.
        labels: C label ids (the detector's own), one per column.
        names: C class names, one per column.
    """
    boxes: np.ndarray
    scores: np.ndarray
    labels: tuple
    names: tuple


def suppress(candidates, params, size):
    """:class:`compare.detections.Detections` of ``candidates`` under ``params``,
    in pixels of an image of ``size`` = (H, W), clipped to it."""
    from replicate.ssd.nms import multiclass_nms
    boxes = np.asarray(candidates.boxes, np.float64)
    scores = np.asarray(candidates.scores, np.float32)
    index, column = multiclass_nms(boxes, scores, params.iou, params.score,
                                   keep_top_k=params.cap)
    height, width = size
    # normalized yxyx -> pixel yxyx
    pixels = boxes[index] * np.array([height, width, height, width], np.float64)
    return Detections(pixels, [candidates.labels[c] for c in column],
                      [candidates.names[c] for c in column],
                      scores[index, column]).clipped(*size)


class CommonNMS:
    """The ``.common_nms`` variant of an adapter that offers candidates.

    Args:
        base: the adapter (loaded by the runner before this one).
        params: :class:`NMSParams`.
    """

    def __init__(self, base, params):
        self.base, self.params = base, params
        self.name = base.name + SUFFIX
        self.order = 'class_then_score'
        # what the base adapter takes (compare.adapters.protocol.inputs_for)
        self.reads_files = getattr(base, 'reads_files', False)

    def load(self):
        """Nothing of its own: it uses the base adapter's model, loaded just
        before; a base that turns out to have no candidates (an export without
        pre-NMS tensors) is refused here, at load, not on the first image."""
        check = getattr(self.base, 'check_candidates', None)
        if check is not None:
            check()

    def predict(self, images):
        """``images``: list of ``(H, W, 3)`` uint8 RGB -> :class:`Prediction`."""
        candidates, times = self.base.predict_candidates(images)
        timer = StageTimer()
        timer.times.update(times)
        with timer('postprocess'):
            detections = [suppress(c, self.params, image.shape[:2])
                          for c, image in zip(candidates, images, strict=True)]
        return Prediction(detections, timer.times)

    def info(self):
        info = self.base.info()
        details = dict(info.info, variant_of=self.base.name, common_nms=self.params.describe(),
                       preset='common_nms iou={:g} score={:g} cap={}'.format(
                           self.params.iou, self.params.score, self.params.cap))
        source = getattr(self.base, 'candidates_source', lambda: None)()
        if source:
            details['candidates'] = source
        return dataclasses.replace(info, name=self.name, info=details)


def variants(adapters, params):
    """``adapters`` with a :class:`CommonNMS` after each one that offers
    candidates (``params`` None: unchanged)."""
    if params is None:
        return list(adapters)
    found = []
    for adapter in adapters:
        found.append(adapter)
        if hasattr(adapter, 'predict_candidates'):
            found.append(CommonNMS(adapter, params))
    return found

