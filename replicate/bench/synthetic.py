"""Network outputs with known score distributions, for timing and testing the
post-processing without a trained model.

* :func:`flat_outputs`: every class about equally likely everywhere (the
  softmax of small logits is about 1 / n_class), as from untrained weights:
  with 21 classes every score is near 0.048, so all pass the 'evaluate'
  threshold 0.01: the worst case for NMS.
* :func:`trained_like_outputs`: what a trained detector emits: background
  confident almost everywhere, a few objects, each seen by the default boxes
  that overlap it, with one confident class; plus noise that lets a few
  percent of the scores pass 0.01.

Both return float32 ``(mb_loc, mb_conf)`` of shapes (K, 4) and (K, n_class),
class 0 the background.
"""
import numpy as np

from replicate.boxes import bbox_iou


def flat_outputs(n_box, n_class, rng, loc_scale=0.5, conf_scale=0.1):
    """Offsets N(0, loc_scale) and logits N(0, conf_scale)."""
    mb_loc = rng.normal(0, loc_scale, (n_box, 4)).astype(np.float32)
    mb_conf = rng.normal(0, conf_scale, (n_box, n_class)).astype(np.float32)
    return mb_loc, mb_conf


def trained_like_outputs(default_bbox, n_class, rng, n_objects=5, background=7.0,
                         confident=10.0):
    """Outputs of a confident detector over the given default boxes.

    Args:
        default_bbox: float (K, 4) default boxes in center form (cy, cx, h, w).
        n_class (int): classes including the background.
        rng: ``numpy.random.Generator``.
        n_objects (int): objects; each is a default box chosen at random
            with a random foreground class.
        background (float): logit added to the background everywhere.
        confident (float): logit added to an object's class on the default
            boxes with IoU > 0.5 against the object.

    Returns:
        (mb_loc, mb_conf): float32 (K, 4) offsets N(0, 0.1), float32
        (K, n_class) logits N(0, 1) plus the terms above.
    """
    n_box = len(default_bbox)
    mb_loc = rng.normal(0, 0.1, (n_box, 4)).astype(np.float32)
    mb_conf = rng.normal(0, 1, (n_box, n_class))
    mb_conf[:, 0] += background
    # (cy, cx, h, w) -> (y_min, x_min, y_max, x_max)
    corners = np.hstack((default_bbox[:, :2] - default_bbox[:, 2:] / 2,
                         default_bbox[:, :2] + default_bbox[:, 2:] / 2))
    for box in rng.choice(n_box, n_objects, replace=False):
        seen = bbox_iou(corners[box:box + 1], corners)[0] > 0.5
        mb_conf[seen, rng.integers(1, n_class)] += confident
    return mb_loc, mb_conf.astype(np.float32)
