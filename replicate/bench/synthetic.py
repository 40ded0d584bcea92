"""Network outputs with known score distributions, for timing and testing the
post-processing without a trained model.

* :func:`flat_outputs`: every class about equally likely everywhere (the
  softmax of small logits is about 1 / n_class), as from untrained weights:
  with 21 classes every score is near 0.048, so all pass the 'evaluate'
  threshold 0.01: the worst case for NMS.
* :func:`trained_like_outputs`: what a trained detector emits: background
  confident almost everywhere; a few objects, each seen by the default boxes
  that overlap it (confident in its class, less so further off, and a
  little in two look-alike classes).

Both return float32 ``(mb_loc, mb_conf)`` of shapes (K, 4) and (K, n_class),
class 0 the background.
"""
import numpy as np

from replicate.ssd.boxes import bbox_iou


def flat_outputs(n_box, n_class, rng, loc_scale=0.5, conf_scale=0.1):
    """Offsets N(0, loc_scale) and logits N(0, conf_scale)."""
    mb_loc = rng.normal(0, loc_scale, (n_box, 4)).astype(np.float32)
    mb_conf = rng.normal(0, conf_scale, (n_box, n_class)).astype(np.float32)
    return mb_loc, mb_conf


def trained_like_outputs(default_bbox, n_class, rng, n_objects=8, background=9.0):
    """Outputs of a confident detector over the given default boxes.

    Each object is a default box with a random foreground class. Default
    boxes overlapping it by IoU > 0.5 are confident in its class (logit
    +12: score about 0.95); those overlapping by 0.2-0.5 less so (+6 to +9,
    growing with the IoU: scores about 0.05-0.5), the clusters of duplicates
    NMS exists for; and two other classes, as a confusable look-alike, get
    +5 (scores about 0.02) where IoU > 0.3. Background (logit
    ``background``) elsewhere; N(0, 1) noise on every logit. Offsets
    N(0, 0.1). So a few thousand scores pass 0.01, a few hundred pass
    NMS: the load of a trained SSD300 with the 'evaluate' preset.

    Args:
        default_bbox: float (K, 4) default boxes in center form (cy, cx, h, w).
        n_class (int): classes including the background.
        rng: ``numpy.random.Generator``.

    Returns:
        (mb_loc, mb_conf): float32 (K, 4) offsets and (K, n_class) logits.
    """
    n_box = len(default_bbox)
    mb_loc = rng.normal(0, 0.1, (n_box, 4)).astype(np.float32)
    mb_conf = rng.normal(0, 1, (n_box, n_class))
    mb_conf[:, 0] += background
    # (cy, cx, h, w) -> (y_min, x_min, y_max, x_max)
    corners = np.hstack((default_bbox[:, :2] - default_bbox[:, 2:] / 2,
                         default_bbox[:, :2] + default_bbox[:, 2:] / 2))
    for box in rng.choice(n_box, n_objects, replace=False):
        iou = bbox_iou(corners[box:box + 1], corners)[0]
        label, *alike = rng.choice(np.arange(1, n_class), 3, replace=False)
        mb_conf[iou > 0.5, label] += 12
        near = (iou > 0.2) & (iou <= 0.5)
        mb_conf[near, label] += 6 + 10 * (iou[near] - 0.2)
        for other in alike:
            mb_conf[iou > 0.3, other] += 5
    return mb_loc, mb_conf.astype(np.float32)
