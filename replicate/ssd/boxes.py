"""Box geometry shared by the coder and NMS.

Boxes are (y_min, x_min, y_max, x_max) rows; arrays are numpy or cupy.
"""
from chainer.backends import cuda


def box_area(bbox):
    """(R, 4) -> (R,): height * width."""
    return (bbox[:, 2] - bbox[:, 0]) * (bbox[:, 3] - bbox[:, 1])


def intersection(bbox_a, bbox_b):
    """Intersection areas: (N, 4), (K, 4) -> (N, K); 0 where boxes do not overlap.

    (N, 4) and (K, 4) broadcast; both (K, 4) gives the element-wise (K,).
    """
    xp = cuda.get_array_module(bbox_a)
    top_left = xp.maximum(bbox_a[..., :2], bbox_b[..., :2])
    bottom_right = xp.minimum(bbox_a[..., 2:], bbox_b[..., 2:])
    side = bottom_right - top_left
    overlap = (side > 0).all(axis=-1)
    return xp.where(overlap, side[..., 0] * side[..., 1], 0)


def bbox_iou(bbox_a, bbox_b):
    """Pairwise IoU: (N, 4), (K, 4) -> (N, K), in the inputs' promoted dtype.

    IoU = inter / (area_a + area_b - inter); 0/0 (two empty boxes) gives nan.
    """
    # (N, 4) -> (N, 1, 4) so that it broadcasts against (K, 4)
    inter = intersection(bbox_a[:, None, :], bbox_b)
    return inter / (box_area(bbox_a)[:, None] + box_area(bbox_b) - inter)
