"""Default boxes and the multibox encoder/decoder (plain xp array code).

Coordinates change form several times here; each change is commented:
corner form (y_min, x_min, y_max, x_max) and center form (cy, cx, h, w).
"""
import numpy as np
from chainer.backends import cuda

from replicate.ssd.boxes import bbox_iou
from replicate.ssd.nms import multiclass_nms


def boxes_per_location(aspect_ratios):
    """Default boxes per location for each map: 2 squares + 2 per ratio
    (the rows of :func:`box_shapes`). ((2,), (2, 3)) -> (4, 6)."""
    return tuple(2 + 2 * len(ratios) for ratios in aspect_ratios)


def box_shapes(size, next_size, ratios):
    """(h, w) of the boxes at one location, float64 (2 + 2*len(ratios), 2).

    Order: the square of side ``size``, the square of side
    sqrt(size * next_size), then for each ratio r the boxes
    (size / sqrt(r), size * sqrt(r)) and (size * sqrt(r), size / sqrt(r)).
    """
    shapes = [(size, size), (np.sqrt(size * next_size),) * 2]
    for r in ratios:
        shapes.append((size / np.sqrt(r), size * np.sqrt(r)))
        shapes.append((size * np.sqrt(r), size / np.sqrt(r)))
    return np.array(shapes, dtype=np.float64)


def default_boxes(grids, aspect_ratios, steps, sizes):
    """All default boxes in center form, float64 (K, 4) = (cy, cx, h, w).

    Order: map k, then row v, then column u, then box shape (see
    :func:`box_shapes`); centers are ((v + 0.5) * step, (u + 0.5) * step).
    """
    maps = []
    for k, grid in enumerate(grids):
        shapes = box_shapes(sizes[k], sizes[k + 1], aspect_ratios[k])
        rows, cols = np.meshgrid(np.arange(grid), np.arange(grid), indexing='ij')
        # (G, G) -> (G*G, 2) centers, row-major
        centers = np.stack([(rows.ravel() + 0.5) * steps[k],
                            (cols.ravel() + 0.5) * steps[k]], axis=1)
        # (G*G, 1, 2) with (1, n, 2) -> (G*G, n, 4) -> (G*G*n, 4)
        boxes = np.concatenate(np.broadcast_arrays(
            centers[:, None, :], shapes[None, :, :]), axis=2)
        maps.append(boxes.reshape(-1, 4))
    return np.concatenate(maps, axis=0)


def default_box_counts(grids, aspect_ratios):
    """Default boxes per map: G*G*n; SSD300: (5776, 2166, 600, 150, 36, 4)."""
    return tuple(g * g * n for g, n in
                 zip(grids, boxes_per_location(aspect_ratios), strict=True))


def _check_lengths(grids, aspect_ratios, steps, sizes):
    if not len(aspect_ratios) == len(steps) == len(grids) == len(sizes) - 1:
        raise ValueError(
            'need len(aspect_ratios) == len(steps) == len(grids) == len(sizes) - 1, '
            'got {}, {}, {}, {}'.format(
                len(aspect_ratios), len(steps), len(grids), len(sizes)))


class MultiboxCoder:
    """Encodes ground truth against default boxes; decodes network outputs.

    Offsets (the ``mb_loc`` rows) relative to a default box (m_y, m_x, m_h, m_w)
    with variance (v0, v1): dy = (b_y - m_y) / (m_h v0),
    dx = (b_x - m_x) / (m_w v0), dh = log(b_h / m_h) / v1,
    dw = log(b_w / m_w) / v1.

    Args:
        grids, aspect_ratios, steps: per source map.
        sizes: box sizes, one more than maps (SSD300: 30, 60, ..., 315).
        variance (tuple of float): (v0, v1), SSD uses (0.1, 0.2).

    Attributes:
        counts (tuple of int): default boxes per map.
    """

    def __init__(self, grids, aspect_ratios, steps, sizes, variance):
        _check_lengths(grids, aspect_ratios, steps, sizes)
        self.counts = default_box_counts(grids, aspect_ratios)
        # (cy, cx, h, w), float64 (K, 4), same name as ChainerCV's attribute
        self._default_bbox = default_boxes(grids, aspect_ratios, steps, sizes)
        self._variance = variance

    @property
    def xp(self):
        return cuda.get_array_module(self._default_bbox)

    def to_device(self, device):
        """Move the default boxes to a ``chainer.get_device`` device."""
        self._default_bbox = device.send(self._default_bbox)

    def to_cpu(self):
        self._default_bbox = cuda.to_cpu(self._default_bbox)

    def to_gpu(self, device=None):
        self._default_bbox = cuda.to_gpu(self._default_bbox, device=device)

    def _default_corners(self):
        """Default boxes in corner form, float64 (K, 4)."""
        center, size = self._default_bbox[:, :2], self._default_bbox[:, 2:]
        # (cy, cx, h, w) -> (y_min, x_min, y_max, x_max)
        return self.xp.hstack((center - size / 2, center + size / 2))

    def _match(self, iou, iou_thresh):
        """Ground-truth index of each default box, -1 for background.

        First each ground truth takes its best default box (greedily, best
        pair overall first); then every unmatched default box whose best IoU
        is >= ``iou_thresh`` takes its best ground truth.
        """
        xp = self.xp
        index = xp.full(iou.shape[0], -1, dtype=np.int64)
        masked = iou.copy()
        for _ in range(iou.shape[1]):
            i, j = xp.unravel_index(masked.argmax(), masked.shape)
            if masked[i, j] <= 1e-6:
                break
            index[i] = j
            masked[i, :] = 0
            masked[:, j] = 0
        extra = xp.logical_and(index < 0, iou.max(axis=1) >= iou_thresh)
        index[extra] = iou[extra].argmax(axis=1)
        return index

    def encode(self, bbox, label, iou_thresh=0.5):
        """Targets for the loss.

        Args:
            bbox: float (R, 4) ground truth (y_min, x_min, y_max, x_max) in
                300x300 input pixels.
            label: int (R,) foreground class ids in [0, n_fg_class).
            iou_thresh (float): IoU for a default box to match a ground truth.

        Returns:
            (mb_loc, mb_label): float32 (K, 4) offsets (dy, dx, dh, dw) and
            int32 (K,) labels, 0 = background, l + 1 = class l. Rows of
            background boxes hold the offsets of the last ground truth (as
            ChainerCV's do); the loss ignores them.
        """
        xp = self.xp
        n_box = len(self._default_bbox)
        if len(bbox) == 0:
            return (xp.zeros((n_box, 4), dtype=np.float32),
                    xp.zeros(n_box, dtype=np.int32))
        index = self._match(bbox_iou(self._default_corners(), bbox), iou_thresh)
        # index -1 (background) selects the last ground truth
        matched = bbox[index]
        # (y_min, x_min, y_max, x_max) -> (h, w), then center (cy, cx)
        size = matched[:, 2:] - matched[:, :2]
        center = matched[:, :2] + size / 2
        d_center, d_size = self._default_bbox[:, :2], self._default_bbox[:, 2:]
        mb_loc = xp.hstack((
            (center - d_center) / (self._variance[0] * d_size),
            xp.log(size / d_size) / self._variance[1]))
        mb_label = xp.where(index < 0, 0, label[index] + 1)
        return mb_loc.astype(np.float32), mb_label.astype(np.int32)

    def decode_boxes(self, mb_loc, index=None):
        """Offsets float32 (K, 4) -> float64 (K, 4) boxes (y_min, x_min, y_max, x_max).

        With ``index`` (int (R,)), ``mb_loc`` holds the offsets of those
        default boxes only, (R, 4), and so does the result (row by row the
        same values as for all boxes).
        """
        default = self._default_bbox if index is None else self._default_bbox[index]
        d_center, d_size = default[:, :2], default[:, 2:]
        # offsets -> center form (cy, cx, h, w)
        center = d_center + mb_loc[:, :2] * self._variance[0] * d_size
        size = d_size * self.xp.exp(mb_loc[:, 2:] * self._variance[1])
        # center form -> corner form
        top_left = center - size / 2
        return self.xp.hstack((top_left, top_left + size))

    def decode(self, mb_loc, mb_conf, nms_thresh=0.45, score_thresh=0.6, nms_top_k=None,
               keep_top_k=None):
        """Detections of one image, in 300x300 input pixels.

        Without caps the result is ChainerCV's, bit for bit (same boxes,
        labels, scores and order); the NMS is
        :func:`replicate.ssd.nms.multiclass_nms`, which finds the overlapping
        pairs once for all classes.

        Args:
            mb_loc: float32 (K, 4) offsets; mb_conf: float32 (K, n_class) logits.
            nms_thresh (float or None): per-class NMS IoU; None skips NMS.
            score_thresh (float): keep softmax scores >= this.
            nms_top_k, keep_top_k (int or None): Caffe-style caps, see
                :func:`replicate.ssd.nms.multiclass_nms`; None (default) = none.

        Returns:
            (bbox, label, score): float32 (R, 4) (y_min, x_min, y_max, x_max),
            int32 (R,) in [0, n_class - 1), float32 (R,); grouped by class in
            ascending order, by descending score inside a class. Arrays are
            on the coder's device; the selection itself runs on the host.
        """
        xp = self.xp
        # softmax without subtracting the row max, as ChainerCV computes it
        # (needed for bit-identical scores); float32 logits above ~88 overflow
        score = xp.exp(mb_conf)
        score /= score.sum(axis=1, keepdims=True)
        score = cuda.to_cpu(score)
        # only default boxes that some class keeps need decoding; column 0
        # is the background
        rows = np.flatnonzero((score[:, 1:] >= score_thresh).any(axis=1))
        boxes = cuda.to_cpu(self.decode_boxes(mb_loc[xp.asarray(rows)], xp.asarray(rows)))
        score = score[rows]
        index, label = multiclass_nms(boxes, score[:, 1:], nms_thresh, score_thresh,
                                      nms_top_k, keep_top_k)
        return (xp.asarray(boxes[index].astype(np.float32)),
                xp.asarray(label.astype(np.int32)),
                xp.asarray(score[index, label + 1].astype(np.float32)))
