"""The OD API's ``faster_rcnn_box_coder`` on SSD's anchors, plus the
``argmax_matcher`` that assigns training targets.

Codes (ty, tx, th, tw) relative to an anchor with center (ya, xa) and size
(ha, wa), scale factors (sy, sx, sh, sw) = (10, 10, 5, 5) by default:
ty = sy (y - ya) / ha, tx = sx (x - xa) / wa, th = sh log(h / ha),
tw = sw log(w / wa). Boxes are normalized (y_min, x_min, y_max, x_max).
Decoding is float32 in TF's order of operations; arrays are numpy or cupy.
"""
import numpy as np
from chainer.backends import cuda

from replicate.odapi.errors import ConfigError
from replicate.ssd.boxes import bbox_iou

#: Added to sizes before encoding (the OD API's EPSILON), so log() stays finite.
EPSILON = 1e-8


def center_form(boxes):
    """Corners (..., 4) -> (ycenter, xcenter, h, w), each (...), TF's order:
    h = y_max - y_min, ycenter = y_min + h / 2."""
    y_min, x_min, y_max, x_max = (boxes[..., i] for i in range(4))
    h = y_max - y_min
    w = x_max - x_min
    return y_min + h / 2, x_min + w / 2, h, w


class BoxCoder:
    """Encodes targets and decodes predictions against fixed anchors.

    Args:
        anchors: float32 (K, 4) normalized corners (see
            :func:`replicate.odapi.anchors.generate`).
        scale_factors (tuple of 4 floats): (y, x, height, width).
        matcher (replicate.odapi.config.Matcher or None): for :meth:`encode`.
        image_size ((int, int)): the network input (height, width); training
            boxes come in its pixels.

    Attributes:
        anchors: float32 (K, 4) on the model's device.
    """

    def __init__(self, anchors, scale_factors, matcher=None, image_size=None):
        self.anchors = anchors
        self.scale_factors = tuple(float(s) for s in scale_factors)
        self.matcher = matcher
        self.image_size = image_size

    @property
    def xp(self):
        return cuda.get_array_module(self.anchors)

    def to_device(self, device):
        """Move the anchors to a ``chainer.get_device`` device."""
        self.anchors = device.send(self.anchors)

    def to_cpu(self):
        """Move the anchors to the host (numpy)."""
        self.anchors = cuda.to_cpu(self.anchors)

    def decode(self, codes):
        """float32 (..., K, 4) codes -> float32 (..., K, 4) normalized boxes
        (y_min, x_min, y_max, x_max), not clipped."""
        ya, xa, ha, wa = center_form(self.anchors)
        f32 = np.float32
        sy, sx, sh, sw = (f32(s) for s in self.scale_factors)
        ty, tx, th, tw = (codes[..., i] for i in range(4))
        ty, tx, th, tw = ty / sy, tx / sx, th / sh, tw / sw
        xp = self.xp
        w = xp.exp(tw) * wa
        h = xp.exp(th) * ha
        ycenter = ty * ha + ya
        xcenter = tx * wa + xa
        two = f32(2)
        # center form -> corners
        return xp.stack([ycenter - h / two, xcenter - w / two,
                         ycenter + h / two, xcenter + w / two], axis=-1)

    def encode_boxes(self, boxes, anchors):
        """Codes float32 (N, 4) of boxes (N, 4) against anchors (N, 4), both
        normalized corners; computed in float64 with the OD API's EPSILON."""
        ya, xa, ha, wa = center_form(anchors.astype(np.float64))
        y, x, h, w = center_form(boxes.astype(np.float64))
        ha, wa, h, w = ha + EPSILON, wa + EPSILON, h + EPSILON, w + EPSILON
        sy, sx, sh, sw = self.scale_factors
        xp = self.xp
        codes = xp.stack([sy * (y - ya) / ha, sx * (x - xa) / wa,
                          sh * xp.log(h / ha), sw * xp.log(w / wa)], axis=1)
        return codes.astype(np.float32)

    def match(self, iou):
        """The OD API's argmax matcher on IoU float (K anchors, R boxes).

        Returns int (K,): the matched box index, -1 for background (best IoU
        below ``unmatched_threshold``), -2 for ignored (between the
        thresholds). With ``force_match_for_each_row`` every box also takes
        its best anchor (the lowest box index wins an anchor two boxes want).
        """
        m = self.matcher
        xp = self.xp
        index = iou.argmax(axis=1)
        best = iou.max(axis=1)
        index = xp.where(best < m.matched_threshold, -2, index)
        index = xp.where(best < m.unmatched_threshold, -1, index)
        if m.force_match_for_each_row:
            forced = iou.argmax(axis=0)  # (R,) best anchor of each box
            for box in range(iou.shape[1] - 1, -1, -1):  # lowest index last = wins
                index[forced[box]] = box
        return index

    def encode(self, bbox, label):
        """Training targets of one image, for :func:`replicate.multibox_loss`.

        Args:
            bbox: float (R, 4) ground truth (y_min, x_min, y_max, x_max) in
                the network input's pixels (``image_size``).
            label: int (R,) foreground classes in [0, num_classes).

        Returns:
            (codes, labels): float32 (K, 4) and int32 (K,): label l + 1 for
            an anchor matched to a box of class l, 0 for background, -1 for
            ignored anchors (the loss skips them); background rows hold zeros.

        Raises:
            ConfigError: the pipeline.config has no argmax_matcher.
        """
        if self.matcher is None:
            raise ConfigError('model.ssd.matcher: training targets need an argmax_matcher')
        xp = self.xp
        n = len(self.anchors)
        if len(bbox) == 0:
            return xp.zeros((n, 4), np.float32), xp.zeros(n, np.int32)
        height, width = self.image_size
        # input pixels -> normalized coordinates, the frame of the anchors
        boxes = bbox / xp.array([height, width, height, width], dtype=bbox.dtype)
        index = self.match(bbox_iou(self.anchors.astype(np.float64), boxes.astype(np.float64)))
        matched = index >= 0
        codes = xp.zeros((n, 4), np.float32)
        codes[matched] = self.encode_boxes(boxes[index[matched]], self.anchors[matched])
        # matched: class + 1; background (-1): 0; ignored (-2): -1
        labels = xp.where(matched, label[xp.maximum(index, 0)] + 1,
                          xp.where(index == -2, -1, 0))
        return codes, labels.astype(np.int32)
