"""Greedy non-maximum suppression, equal to ChainerCV's CPU implementation
(same selection, same order, same tie behaviour), for one class or for all
classes of an image at once.

ChainerCV visits boxes by descending score and keeps a box unless a kept box
overlaps it with IoU >= thresh, testing each candidate against the kept boxes
(quadratic in Python-level steps). Here the pairs that suppress each other
are computed once, vectorised (:func:`replicate.ssd.overlap.suppression_graph`),
and the greedy pass only looks them up; with many classes the graph is
shared by all of them. The kept set and its order are the same: a candidate
is dropped exactly when one of its graph neighbours was kept before it.

Where numba is installed, :func:`suppress_all` (the NMS of
:func:`multiclass_nms`) runs both passes compiled
(:mod:`replicate.ssd.nms_compiled`; the same selection); :data:`COMPILED`
says whether it does.
"""
import numpy as np
from chainer.backends import cuda

from replicate.ssd import nms_compiled
from replicate.ssd.overlap import suppression_graph, suppression_matrix

#: :func:`suppress_all` uses the compiled passes (numba installed). Tests set
#: it False to compare them with the numpy passes.
COMPILED = nms_compiled.AVAILABLE

#: Up to this many boxes, one class's NMS uses a dense IoU matrix; above it,
#: the pairs that suppress each other are found first (a sparse graph).
DENSE_SIZE = 1024
#: Candidates resolved per step of the dense NMS.
CHUNK = 96
#: Boxes of short lists (classes) resolved together in one dense matrix.
PACK = 64


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
    kept = nms_of_list(bbox, order, thresh)
    if limit is not None:
        # greedy is sequential: the first kept boxes do not depend on later ones
        kept = kept[:max(limit, 1)]
    return xp.asarray(kept.astype(np.int32))


def _resolve(suppress):
    """Greedy selection among boxes in visiting order, given their dense
    suppression matrix; returns a bool mask of the kept ones.

    Only boxes that suppress a later one can change anything, so only they
    are visited one by one; the others are kept unless suppressed.
    """
    later = np.triu(suppress, 1)
    removed = np.zeros(len(suppress), dtype=bool)
    for i in np.flatnonzero(later.any(axis=1)).tolist():
        if not removed[i]:
            removed |= later[i]
    return ~removed


def dense_greedy(bbox, thresh, chunk=None):
    """Greedy NMS of boxes already in visiting order, with dense IoU
    matrices (cheaper than a graph for a few hundred boxes).

    Candidates are taken ``chunk`` at a time: first the boxes kept so far
    remove the candidates they suppress (one matrix, candidates x kept),
    then the rest of the chunk is resolved in order (one small matrix). So
    IoU is computed only against kept boxes and within a chunk, as the
    sequential rule needs.

    Returns:
        int64 (K,) positions of the kept boxes, ascending.
    """
    chunk = chunk or CHUNK
    kept = np.zeros(0, dtype=np.int64)
    with np.errstate(invalid='ignore', divide='ignore', over='ignore'):
        for start in range(0, len(bbox), chunk):
            alive = np.arange(start, min(start + chunk, len(bbox)))
            if len(kept):
                alive = alive[~suppression_matrix(bbox[alive], bbox[kept], thresh).any(axis=1)]
            alive = alive[_resolve(suppression_matrix(bbox[alive], None, thresh))]
            kept = np.concatenate((kept, alive))
    return kept


def nms_of_list(bbox, order, thresh):
    """Greedy NMS of the boxes ``bbox[order]`` visited in that order; returns
    the kept subset of ``order``."""
    ranked = bbox[order]
    if len(order) <= DENSE_SIZE:
        return order[dense_greedy(ranked, thresh)]
    return order[greedy(np.arange(len(order)), suppression_graph(ranked, thresh))]


def _packs(orders, size):
    """Indices of the short lists (at most ``size`` boxes), grouped so that
    each group holds at most ``size`` boxes in all."""
    packs, current, total = [], [], 0
    for i, order in enumerate(orders):
        if 0 < len(order) <= size:
            if total + len(order) > size:
                packs.append(current)
                current, total = [], 0
            current.append(i)
            total += len(order)
    return packs + [current] if current else packs


def nms_of_short_lists(bbox, orders, thresh):
    """Greedy NMS of several short lists in one dense matrix: the lists are
    concatenated and boxes of different lists never suppress each other.
    Returns the kept subset of each list."""
    order = np.concatenate(orders)
    group = np.repeat(np.arange(len(orders)), [len(o) for o in orders])
    with np.errstate(invalid='ignore', divide='ignore', over='ignore'):
        suppress = suppression_matrix(bbox[order], None, thresh)
    suppress &= group[:, None] == group[None, :]
    keep = _resolve(suppress)
    return [order[keep & (group == g)] for g in range(len(orders))]


def suppress_all(bbox, orders, thresh):
    """Greedy NMS of each candidate list (one per class) over shared boxes.

    Lists that overlap heavily (an untrained model: every box a candidate of
    every class) share one suppression graph of the boxes any list holds.
    Otherwise (a trained model: each class has its own few candidates) pairs
    between lists are never computed: short lists are resolved together in
    one block-diagonal matrix, longer ones one by one.
    Returns the kept indices of each list.
    """
    if not any(len(o) for o in orders):
        return orders
    # only boxes that some list holds can suppress anything
    subset = np.unique(np.concatenate(orders))
    if sum(len(o) ** 2 for o in orders) >= len(subset) ** 2:
        graph = _embed(suppression_graph(bbox[subset], thresh), subset, len(bbox))
        if COMPILED:
            return nms_compiled.greedy_graph(graph, orders, len(bbox))
        return [greedy(order, graph) for order in orders]
    if COMPILED:
        return nms_compiled.greedy_lists(bbox, orders, thresh)
    kept = list(orders)
    for pack in _packs(orders, PACK):
        for i, result in zip(pack, nms_of_short_lists(bbox, [orders[i] for i in pack], thresh),
                             strict=True):
            kept[i] = result
    for i, order in enumerate(orders):
        if len(order) > PACK:
            kept[i] = nms_of_list(bbox, order, thresh)
    return kept


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
    # (L, R): one contiguous row per class
    by_class = np.ascontiguousarray(score.T)
    masks, orders = [], []
    for class_score in by_class:
        mask = np.flatnonzero(class_score >= score_thresh)
        order = mask[score_order(class_score[mask], len(mask))]
        masks.append(mask)
        orders.append(order if nms_top_k is None else order[:nms_top_k])
    if nms_thresh is not None:
        kept = suppress_all(bbox, orders, nms_thresh)
    else:  # no NMS: ChainerCV keeps index order; a capped set stays by score
        kept = masks if nms_top_k is None else orders
    index = np.concatenate(kept).astype(np.int64)
    label = np.repeat(np.arange(len(kept)), [len(k) for k in kept])
    if keep_top_k is not None and len(index) > keep_top_k:
        best = np.sort(np.argsort(-score[index, label], kind='stable')[:keep_top_k])
        index, label = index[best], label[best]
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
