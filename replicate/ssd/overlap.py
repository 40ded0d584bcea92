"""Which boxes suppress which: every pair with IoU >= a threshold, found once.

Greedy NMS asks "does a kept box overlap this candidate by IoU >= thresh?"
over and over. The answer for a pair of boxes depends on the two boxes only,
not on scores or classes, so it can be computed for all pairs at once and
reused: by every class of an image (SSD decodes one set of boxes for all
classes) and by every candidate. The result is a graph in compressed sparse
row form: the neighbours of box ``i`` are ``indices[indptr[i]:indptr[i + 1]]``.

IoU is computed with exactly the arithmetic of ChainerCV's CPU NMS, in the
boxes' own dtype::

    h = min(y_max) - max(y_min), w = min(x_max) - max(x_min)
    inter = (h * w) * (h > 0 and w > 0)
    iou = inter / ((area_a + area_b) - inter),  area = (y_max - y_min) * (x_max - x_min)

(max, min, + and * are commutative bit for bit, so IoU is symmetric), hence
``iou >= thresh`` decides every pair as ChainerCV decides it, including ties
at the threshold, zero-area boxes (0/0 = nan never suppresses) and
non-finite coordinates.

With ``thresh > 0`` a pair can only qualify if the boxes overlap (otherwise
the IoU is 0 or nan), so only overlapping pairs are computed: boxes sorted by
``y_min``, each box is compared with the boxes that start after it and
above its ``y_max`` (a band found by binary search, no arithmetic). Rows are
processed in blocks of similar height, so a block's band is not stretched by
one tall box. With ``thresh <= 0`` (then even disjoint boxes qualify) every
pair is compared.
"""
import numpy as np

#: Rows compared per step: a block of rows against its band of columns.
BLOCK = 128


def _areas(bbox):
    """(R, 4) -> (R,): (y_max - y_min) * (x_max - x_min), in bbox's dtype."""
    return (bbox[:, 2] - bbox[:, 0]) * (bbox[:, 3] - bbox[:, 1])


def _sides(a, b):
    """Intersection side lengths (h, w) of boxes ``a`` and ``b`` (broadcasting)."""
    h = np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0])
    w = np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1])
    return h, w


def _iou(inter, area_a, area_b):
    return inter / ((area_a + area_b) - inter)


def _blocks_by_height(ranked):
    """Blocks of row positions (in ``y_min`` order) whose heights are within
    a factor of 2; the grouping only affects speed, never the result."""
    height = np.log2(ranked[:, 2] - ranked[:, 0])
    # non-finite heights (zero, negative, nan) form a group of their own
    group = np.where(np.isfinite(height), np.floor(np.nan_to_num(height)), 2 ** 20)
    by_group = np.argsort(group, kind='stable')  # keeps y_min order inside a group
    bounds = np.flatnonzero(np.diff(group[by_group])) + 1
    for rows in np.split(by_group, bounds):
        for start in range(0, len(rows), BLOCK):
            yield rows[start:start + BLOCK]


def _overlapping_pairs(ranked, area, thresh):
    """Pairs (i, j), i < j positions in ``y_min`` order, with IoU >= thresh > 0."""
    # boxes j after i with y_min_j < y_max_i: the only ones that can overlap i
    reach = np.searchsorted(ranked[:, 0], ranked[:, 2], side='left')
    for rows in _blocks_by_height(ranked):
        cols = np.arange(rows[0] + 1, max(reach[rows].max(), rows[0] + 1))
        # cheap superset of the overlapping pairs, by comparisons only:
        # w > 0 implies x_min_j < x_max_i and x_min_i < x_max_j
        r, c = np.divmod(np.flatnonzero(
            (ranked[cols, 1][None, :] < ranked[rows, 3][:, None])
            & (ranked[cols, 3][None, :] > ranked[rows, 1][:, None])
            & (cols[None, :] > rows[:, None])
            & (cols[None, :] < reach[rows][:, None])), len(cols))
        i, j = rows[r], cols[c]
        # then the exact arithmetic on those pairs only
        h, w = _sides(ranked[i], ranked[j])
        inter = (h * w) * ((h > 0) & (w > 0))
        hit = _iou(inter, area[i], area[j]) >= thresh
        yield i[hit], j[hit]


def _all_pairs(ranked, area, thresh):
    """Pairs (i, j), i < j, with IoU >= thresh, every pair computed (thresh <= 0)."""
    n = len(ranked)
    cols = np.arange(n)
    for start in range(0, n, BLOCK):
        rows = np.arange(start, min(start + BLOCK, n))
        h, w = _sides(ranked[rows][:, None, :], ranked[None, :, :])
        inter = (h * w) * ((h > 0) & (w > 0))
        hit = _iou(inter, area[rows][:, None], area[None, :]) >= thresh
        r, c = np.divmod(np.flatnonzero(hit & (cols[None, :] > rows[:, None])), n)
        yield rows[r], cols[c]


def suppression_matrix(bbox_a, bbox_b=None, thresh=0.5):
    """Dense ``iou >= thresh`` between two sets of boxes: float (M, 4) and
    (N, 4) -> bool (M, N) (``bbox_b`` None: ``bbox_a`` against itself), the
    same decisions as :func:`suppression_graph` (for a few hundred boxes,
    where a dense matrix is cheaper than finding pairs). The same
    arithmetic, written in place to spare allocations."""
    bbox_b = bbox_a if bbox_b is None else bbox_b
    a, b = bbox_a.T, bbox_b.T  # rows y_min, x_min, y_max, x_max
    # (M, 1) against (1, N); callers silence floating point warnings
    h = np.minimum(a[2][:, None], b[2][None, :])
    h -= np.maximum(a[0][:, None], b[0][None, :])
    w = np.minimum(a[3][:, None], b[3][None, :])
    w -= np.maximum(a[1][:, None], b[1][None, :])
    overlap = h > 0
    overlap &= w > 0
    inter = h
    inter *= w
    inter *= overlap
    union = _areas(bbox_a)[:, None] + _areas(bbox_b)[None, :]
    union -= inter
    inter /= union
    return inter >= thresh


def suppression_graph(bbox, thresh):
    """Pairs of boxes with IoU >= ``thresh``, as a symmetric CSR graph.

    Args:
        bbox: numpy float (R, 4) boxes (y_min, x_min, y_max, x_max).
        thresh (float): IoU threshold.

    Returns:
        (indptr, indices): int64 (R + 1,) and int64 (E,): box ``i``'s
        neighbours (never ``i`` itself) are ``indices[indptr[i]:indptr[i+1]]``.
    """
    n = len(bbox)
    if n == 0:
        return np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.int64)
    order = np.argsort(bbox[:, 0], kind='stable')
    ranked = bbox[order]
    # inf - inf, 0 / 0 and friends are part of ChainerCV's arithmetic too
    with np.errstate(invalid='ignore', divide='ignore', over='ignore'):
        pairs = list((_overlapping_pairs if thresh > 0 else _all_pairs)(
            ranked, _areas(ranked), thresh))
    first, second = (np.concatenate(side) for side in zip(*pairs, strict=True))
    # positions -> box indices, both directions, grouped by source box
    source = order[np.concatenate((first, second))]
    target = order[np.concatenate((second, first))]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(source, minlength=n), out=indptr[1:])
    return indptr, target[np.argsort(source, kind='stable')]
