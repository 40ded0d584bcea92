"""Greedy non-maximum suppression, equal to ChainerCV's CPU implementation
(same selection, same order, same tie behaviour)."""
import numpy as np
from chainer.backends import cuda

from replicate.boxes import box_area, intersection


def _score_order(score, n):
    """Visiting order: highest score first, or index order without scores.

    Ties: numpy's default (quicksort) argsort, reversed - the order
    ChainerCV's CPU NMS uses, so equal scores are visited alike.
    """
    if score is None:
        return np.arange(n)
    return np.argsort(score)[::-1]


def non_maximum_suppression(bbox, thresh, score=None, limit=None):
    """Keep boxes whose IoU with every higher-ranked kept box is < ``thresh``.

    A box is dropped when IoU >= thresh with a kept box. Rather than testing
    each candidate against all kept boxes, each kept box suppresses the
    remaining candidates in one vectorised step; IoU is symmetric (bit for
    bit), so the kept set and its order are the same.

    Args:
        bbox: float (R, 4) numpy or cupy array, (y_min, x_min, y_max, x_max).
        thresh (float): IoU threshold.
        score: float (R,) or None (then boxes are visited by index).
        limit (int or None): keep at most this many boxes.

    Returns:
        int32 (K,) indices into ``bbox`` of the kept boxes, by descending
        score, on the device of ``bbox``. The selection itself is sequential
        and runs on the host (numpy); a cupy input is copied there and back.
    """
    xp = cuda.get_array_module(bbox)
    bbox = cuda.to_cpu(bbox)
    order = _score_order(None if score is None else cuda.to_cpu(score), len(bbox))
    ranked = bbox[order]
    area = box_area(ranked)
    alive = np.ones(len(ranked), dtype=bool)
    kept = []
    for i in range(len(ranked)):
        if not alive[i]:
            continue
        kept.append(i)
        if limit is not None and len(kept) >= limit:
            break
        rest = ranked[i + 1:]
        inter = intersection(ranked[i], rest)
        iou = inter / (area[i] + area[i + 1:] - inter)
        alive[i + 1:] &= ~(iou >= thresh)
    return xp.asarray(order[np.array(kept, dtype=np.int64)].astype(np.int32))
