"""The greedy passes of :mod:`replicate.ssd.nms` compiled with numba: the
same selection, without Python-level steps per box.

On a trained model's outputs the NMS is ~20 short candidate lists (5-300
boxes each, ~1,500 in all); in numpy every list costs a few dozen small
calls, and that per-call overhead, not arithmetic, bounds its speed. Here one
compiled call resolves all lists:

* :func:`greedy_lists`: ChainerCV's loop itself, per list: each candidate, in
  visiting order, against the boxes kept so far, with exactly its arithmetic
  in the boxes' dtype (:mod:`replicate.ssd.overlap` states it; ``thresh`` is
  cast to that dtype first, as numpy does when it compares a float32 array
  with a Python float);
* :func:`greedy_graph`: the greedy pass over a suppression graph shared by
  all lists (an untrained model, where every box is a candidate of every
  class).

Visiting orders still come from numpy's ``argsort`` (:func:`replicate.ssd.nms.score_order`):
its tie order is ChainerCV's, which a compiled sort would not promise.

numba is optional: without it :data:`AVAILABLE` is False and
:mod:`replicate.ssd.nms` runs its numpy passes (the same detections, slower);
:func:`backend` names the one in use, for reports.
"""
import numpy as np

try:  # optional: the numpy passes give the same result
    import numba
except ImportError:  # pragma: no cover - depends on the environment
    numba = None

AVAILABLE = numba is not None


def backend():
    """``'numba <version>'`` or ``'numpy (numba not installed)'``."""
    return 'numba {}'.format(numba.__version__) if AVAILABLE else 'numpy (numba not installed)'


def _jit(fn):
    # error_model='numpy': 0 / 0 is nan (never suppresses), as in numpy
    return numba.njit(error_model='numpy', nogil=True, cache=True)(fn) if AVAILABLE else fn


@_jit
def _maximum(a, b):
    """``np.maximum`` of two scalars (nan wins)."""
    if a != a:
        return a
    if b != b:
        return b
    return a if a > b else b


@_jit
def _minimum(a, b):
    """``np.minimum`` of two scalars (nan wins)."""
    if a != a:
        return a
    if b != b:
        return b
    return a if a < b else b


@_jit
def _greedy_lists(bbox, order, starts, thresh, zero, keep):
    kept = np.empty(len(order), np.int64)
    for lst in range(len(starts) - 1):
        n_kept = 0
        for p in range(starts[lst], starts[lst + 1]):
            i = order[p]
            y0, x0, y1, x1 = bbox[i, 0], bbox[i, 1], bbox[i, 2], bbox[i, 3]
            area_i = (y1 - y0) * (x1 - x0)
            suppressed = False
            for q in range(n_kept):
                k = kept[q]
                h = _minimum(y1, bbox[k, 2]) - _maximum(y0, bbox[k, 0])
                w = _minimum(x1, bbox[k, 3]) - _maximum(x0, bbox[k, 1])
                # ChainerCV: prod(br - tl) * all(tl < br); x * 0 keeps inf -> nan
                inter = h * w
                if not (h > 0 and w > 0):
                    inter = inter * zero
                area_k = (bbox[k, 2] - bbox[k, 0]) * (bbox[k, 3] - bbox[k, 1])
                if inter / ((area_i + area_k) - inter) >= thresh:
                    suppressed = True
                    break
            if not suppressed:
                keep[p] = True
                kept[n_kept] = i
                n_kept += 1


@_jit
def _greedy_graph(indptr, indices, order, starts, n_box, keep):
    suppressed = np.zeros(n_box, np.bool_)
    for lst in range(len(starts) - 1):
        suppressed[:] = False
        for p in range(starts[lst], starts[lst + 1]):
            i = order[p]
            if suppressed[i]:
                continue
            keep[p] = True
            for e in range(indptr[i], indptr[i + 1]):
                suppressed[indices[e]] = True


def _concatenated(orders):
    order = np.concatenate(orders).astype(np.int64) if orders else np.zeros(0, np.int64)
    starts = np.zeros(len(orders) + 1, np.int64)
    np.cumsum([len(o) for o in orders], out=starts[1:])
    return order, starts


def _split(order, starts, keep):
    return [order[a:b][keep[a:b]] for a, b in zip(starts[:-1], starts[1:], strict=True)]


def greedy_lists(bbox, orders, thresh):
    """Greedy NMS of each list ``bbox[order]`` in its order, lists apart.

    Args:
        bbox: numpy float (R, 4) (y_min, x_min, y_max, x_max).
        orders: list of int arrays of box indices, each in visiting order.
        thresh (float): IoU >= thresh suppresses.

    Returns:
        list of int64 arrays: the kept subset of each list, in its order.
    """
    bbox = np.ascontiguousarray(bbox)
    order, starts = _concatenated(orders)
    keep = np.zeros(len(order), np.bool_)
    cast = np.array([thresh, 0], dtype=bbox.dtype)
    _greedy_lists(bbox, order, starts, cast[0], cast[1], keep)
    return _split(order, starts, keep)


def greedy_graph(graph, orders, n_box):
    """:func:`replicate.ssd.nms.greedy` of every list over one graph.

    Args:
        graph: (indptr, indices) over ``n_box`` boxes
            (:func:`replicate.ssd.overlap.suppression_graph`).
        orders: list of int arrays of box indices, each in visiting order.

    Returns:
        list of int64 arrays: the kept subset of each list, in its order.
    """
    order, starts = _concatenated(orders)
    keep = np.zeros(len(order), np.bool_)
    indptr, indices = (np.ascontiguousarray(a, dtype=np.int64) for a in graph)
    _greedy_graph(indptr, indices, order, starts, n_box, keep)
    return _split(order, starts, keep)
