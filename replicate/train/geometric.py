"""Geometric steps of SSD's training transform: zoom-out expansion, box
cropping, resizing and horizontal flipping.

Same names, signatures and results as the ``chainercv.transforms`` functions
ChainerCV's SSD training example uses (``random_expand``, ``translate_bbox``,
``crop_bbox``, ``resize_bbox``, ``random_flip``, ``flip_bbox``), so the
example's transform runs unchanged on them. Random draws: Python's
``random`` module in ChainerCV's order, or the ``rng`` given (see
:mod:`replicate.train.transforms`).

Images are numpy (C, H, W); boxes (R, 4) (y_min, x_min, y_max, x_max) in
pixels.
"""
import random

import numpy as np


def random_expand(img, max_ratio=4, fill=0, return_param=False, rng=None):
    """Zoom out: place ``img`` at a random spot of a canvas r times larger,
    r ~ U(1, max_ratio), filled with ``fill`` (SSD: the mean pixel).

    Args:
        img: (C, H, W) image.
        max_ratio (float): largest r; <= 1 returns ``img`` unchanged.
        fill: scalar, or (C,) / (C, 1, 1) per channel.
        return_param (bool): also return {'ratio', 'y_offset', 'x_offset'}.
        rng: random source (default: the ``random`` module).

    Returns:
        (C, int(H r), int(W r)) image of ``img``'s dtype, or ``(img, param)``;
        ``img`` sits at rows y_offset.., columns x_offset...
    """
    if max_ratio <= 1:
        param = {'ratio': 1, 'y_offset': 0, 'x_offset': 0}
        return (img, param) if return_param else img
    rng = random if rng is None else rng
    channels, height, width = img.shape
    ratio = rng.uniform(1, max_ratio)
    out_height, out_width = int(height * ratio), int(width * ratio)
    y_offset = rng.randint(0, out_height - height)
    x_offset = rng.randint(0, out_width - width)
    out = np.empty((channels, out_height, out_width), dtype=img.dtype)
    out[:] = np.reshape(fill, (-1, 1, 1))
    out[:, y_offset:y_offset + height, x_offset:x_offset + width] = img
    param = {'ratio': ratio, 'y_offset': y_offset, 'x_offset': x_offset}
    return (out, param) if return_param else out


def translate_bbox(bbox, y_offset=0, x_offset=0):
    """Boxes moved by (y_offset, x_offset): the image's origin moved there."""
    return bbox + np.array((y_offset, x_offset, y_offset, x_offset), dtype=bbox.dtype)


def _bounds(part):
    """A slice (or None) -> (start, stop) with open ends as 0 and inf."""
    if part is None:
        return 0, np.inf
    return (0 if part.start is None else part.start,
            np.inf if part.stop is None else part.stop)


def crop_bbox(bbox, y_slice=None, x_slice=None, allow_outside_center=True,
              return_param=False):
    """The boxes of an image cropped to ``img[:, y_slice, x_slice]``.

    Boxes are clipped to the crop and shifted to its origin; those left with
    no area are dropped, and so are those whose centre lies outside the crop
    unless ``allow_outside_center``.

    Returns:
        (R', 4) boxes, or ``(bbox, param)`` with param {'index': the kept
        rows of the input, 'truncated_index': rows of the output that were
        clipped}.
    """
    (top, bottom), (left, right) = _bounds(y_slice), _bounds(x_slice)
    low, high = np.array((top, left)), np.array((bottom, right))
    keep = np.ones(len(bbox), dtype=bool)
    if not allow_outside_center:
        center = (bbox[:, :2] + bbox[:, 2:]) / 2
        keep = ((low <= center) & (center < high)).all(axis=1)
    clipped = np.concatenate((np.maximum(bbox[:, :2], low),
                              np.minimum(bbox[:, 2:], high)), axis=1).astype(bbox.dtype)
    truncated = (clipped != bbox).any(axis=1)
    # crop origin -> (0, 0)
    clipped -= np.concatenate((low, low)).astype(bbox.dtype)
    keep &= (clipped[:, :2] < clipped[:, 2:]).all(axis=1)
    if not return_param:
        return clipped[keep]
    return clipped[keep], {'index': np.flatnonzero(keep),
                           'truncated_index': np.flatnonzero(truncated[keep])}


def resize_bbox(bbox, in_size, out_size):
    """Boxes of an image resized from ``in_size`` to ``out_size`` (h, w)."""
    y_scale = float(out_size[0]) / in_size[0]
    x_scale = float(out_size[1]) / in_size[1]
    out = bbox.copy()
    out[:, 0::2] = y_scale * bbox[:, 0::2]
    out[:, 1::2] = x_scale * bbox[:, 1::2]
    return out


def random_flip(img, y_random=False, x_random=False, return_param=False, copy=False,
                rng=None):
    """Flip vertically / horizontally, each with probability 1/2 where asked
    (one ``choice([True, False])`` draw each, y first).

    Returns:
        the (flipped view of the) image, or ``(img, {'y_flip', 'x_flip'})``.
    """
    rng = random if rng is None else rng
    y_flip = rng.choice([True, False]) if y_random else False
    x_flip = rng.choice([True, False]) if x_random else False
    out = img[:, ::-1 if y_flip else 1, ::-1 if x_flip else 1]
    out = out.copy() if copy else out
    return (out, {'y_flip': y_flip, 'x_flip': x_flip}) if return_param else out


def flip_bbox(bbox, size, y_flip=False, x_flip=False):
    """Boxes of an image of ``size`` (h, w) after the given flips."""
    height, width = size
    out = bbox.copy()
    if y_flip:
        # y -> H - y swaps the roles of y_min and y_max
        out[:, 0], out[:, 2] = height - bbox[:, 2], height - bbox[:, 0]
    if x_flip:
        out[:, 1], out[:, 3] = width - bbox[:, 3], width - bbox[:, 1]
    return out
