"""Greedy non-maximum suppression, equal to ChainerCV's CPU implementation
(same selection, same order, same tie behaviour), for one class or for all
classes of an image at once.

ChainerCV visits boxes by descending score and keeps a box unless a kept box
overlaps it with IoU >= thresh, testing each candidate against the kept boxes
(quadratic in Python-level steps). Here the pairs that suppress each other
are computed once, vectorised (:func:`replicate.overlap.suppression_graph`),
and the greedy pass only looks them up; with many classes the graph is
shared by all of them. The kept set and its order are the same: a candidate
is dropped exactly when one of its graph neighbours was kept before it.
"""
import numpy as np
from chainer.backends import cuda

from replicate.overlap import suppression_graph


def score_order(score, n):
    """Visiting order: highest score first, or index order without scores.

    Ties: numpy's default (quicksort) argsort of the same array, reversed -
    what ChainerCV's CPU NMS does, so equal scores are visited alike.
    """
    if score is None:
        return np.arange(n)
    return np.argsort(score)[::-1]


def greedy(order, graph, limit=None):
    """Greedy selection over a suppression graph.

    Args:
        order: int (R,) box indices in visiting order (a subset of the
            graph's boxes).
        graph: (indptr, indices) from :func:`suppression_graph`.
        limit (int or None): stop after this many kept boxes (at least one
            is kept when ``order`` is not empty, as ChainerCV does).

    Returns:
        int64 (K,) the kept box indices, in visiting order.
    """
    indptr, indices = graph
    suppressed = np.zeros(len(indptr) - 1, dtype=bool)
    kept = []
    for i in order.tolist():
        if suppressed[i]:
            continue
        kept.append(i)
        if limit is not None and len(kept) >= limit:
            break
        suppressed[indices[indptr[i]:indptr[i + 1]]] = True
    return np.array(kept, dtype=np.int64)


def non_maximum_suppression(bbox, thresh, score=None, limit=None):
    """Keep boxes whose IoU with every higher-ranked kept box is < ``thresh``.

    Same arguments and result as ``chainercv.utils.non_maximum_suppression``
    on the CPU.

    Args:
        bbox: float (R, 4) numpy or cupy array, (y_min, x_min, y_max, x_max).
        thresh (float): IoU threshold.
        score: float (R,) or None (then boxes are visited by index).
        limit (int or None): keep at most this many boxes.

    Returns:
        int32 (K,) indices into ``bbox`` of the kept boxes, by descending
        score, on the device of ``bbox``. The selection itself runs on the
        host (numpy); a cupy input is copied there and back.
    """
    xp = cuda.get_array_module(bbox)
    bbox = cuda.to_cpu(bbox)
    order = score_order(None if score is None else cuda.to_cpu(score), len(bbox))
    kept = greedy(order, suppression_graph(bbox, thresh), limit)
    return xp.asarray(kept.astype(np.int32))


def multiclass_nms(bbox, score, nms_thresh, score_thresh, nms_top_k=None, keep_top_k=None):
    """Per-class score threshold and NMS over one shared set of boxes.

    For each class ``l``: the boxes with ``score[:, l] >= score_thresh``,
    visited by descending score (ChainerCV's order), greedy NMS; without caps
    the result equals ChainerCV's ``MultiboxCoder.decode`` loop bit for bit.

    Caffe-style caps (the original SSD's test settings are 400 and 200):
    ``nms_top_k`` keeps only the that many highest-scoring candidates of a
    class before NMS; ``keep_top_k`` keeps only that many detections of the
    image after NMS, the highest scores over all classes (ties: lower class,
    then higher rank within the class, first).

    Args:
        bbox: numpy float (R, 4) boxes (y_min, x_min, y_max, x_max).
        score: numpy float (R, L) per-class scores (background excluded).
        nms_thresh (float or None): IoU threshold; None skips NMS.
        score_thresh (float): keep scores >= this.
        nms_top_k, keep_top_k (int or None): the caps; None = no cap.

    Returns:
        (index, label): int64 (D,) box indices and int64 (D,) classes,
        grouped by class in ascending order, by descending score inside
        (by box index when ``nms_thresh`` is None and nothing is capped).
    """
    candidates = (score >= score_thresh).any(axis=1)
    graph = None
    if nms_thresh is not None:
        # only boxes that some class keeps can suppress anything
        subset = np.flatnonzero(candidates)
        local = suppression_graph(bbox[subset], nms_thresh)
        graph = _embed(local, subset, len(bbox))
    index, label = [], []
    for l in range(score.shape[1]):
        mask = np.flatnonzero(score[:, l] >= score_thresh)
        order = mask[score_order(score[mask, l], len(mask))]
        if nms_top_k is not None:
            order = order[:nms_top_k]
        if graph is not None:
            kept = greedy(order, graph)
        else:  # no NMS: ChainerCV keeps index order; a capped set stays by score
            kept = mask if nms_top_k is None else order
        index.append(kept)
        label.append(np.full(len(kept), l, dtype=np.int64))
    index, label = np.concatenate(index), np.concatenate(label)
    if keep_top_k is not None and len(index) > keep_top_k:
        best = np.argsort(-score[index, label], kind='stable')[:keep_top_k]
        index, label = index[np.sort(best)], label[np.sort(best)]
    return index, label


def _embed(graph, subset, n):
    """A graph over ``bbox[subset]`` as a graph over all ``n`` boxes (boxes
    outside ``subset`` get no neighbours)."""
    indptr, indices = graph
    counts = np.zeros(n, dtype=np.int64)
    counts[subset] = np.diff(indptr)
    full = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=full[1:])
    return full, subset[indices]
