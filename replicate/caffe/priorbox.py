"""Prior (default) boxes of a Caffe ``PriorBox`` layer, from its parameters.

The arithmetic follows the original SSD implementation's
``prior_box_layer.cpp`` (W. Liu's Caffe fork), read there:

- aspect ratios: 1 first, then each given ratio not already present (within
  1e-6), followed by its reciprocal when ``flip``;
- per location (rows, then columns), for each ``min_size`` s (truncated to an
  integer, as the reference stores it in an ``int``): the square of side s,
  then (with ``max_size`` m, also truncated) the square of side sqrt(s m),
  then for each ratio r != 1 the box of width s sqrt(r) and height s / sqrt(r);
- centres ``((w + offset) step_w, (h + offset) step_h)`` in float32, the
  step defaulting to ``image side / feature side``; corners
  ``(centre -+ side / 2) / image side`` computed in double precision and
  stored as float32; ``clip`` clamps them to [0, 1];
- a second channel holds the variances (one value for all four
  coordinates, or four).

Boxes here are Caffe's ``(x_min, y_min, x_max, y_max)``, normalized to the
image (not the project's y-first order: they are compared with Caffe's and
OpenCV's blobs as they are). Output: float32 ``(1, 2, H * W * n * 4)``.
"""
import dataclasses
import math

import numpy as np

from replicate.caffe.errors import CaffeError

#: Most priors at one feature-map location.
MAX_PER_LOCATION = 256
KNOWN_FIELDS = ('min_size', 'max_size', 'aspect_ratio', 'flip', 'clip', 'variance',
                'img_size', 'img_h', 'img_w', 'step', 'step_h', 'step_w', 'offset')


@dataclasses.dataclass(frozen=True)
class PriorBoxParams:
    """A PriorBox layer's settings, as the reference's ``LayerSetUp`` leaves them.

    Attributes:
        min_sizes, max_sizes (tuple of int): truncated to integers.
        aspect_ratios (tuple of float32): 1 first, then the given ratios and
            (with flip) their reciprocals.
        clip (bool); variance (tuple of float32, 1 or 4 values).
        img_h, img_w (int): 0 = the image input's size.
        step_h, step_w (float32): 0 = image side / feature side.
        offset (float32).
    """
    min_sizes: tuple
    max_sizes: tuple
    aspect_ratios: tuple
    clip: bool
    variance: tuple
    img_h: int = 0
    img_w: int = 0
    step_h: float = 0.0
    step_w: float = 0.0
    offset: float = 0.5

    @property
    def per_location(self):
        """Priors at each feature-map location."""
        return len(self.aspect_ratios) * len(self.min_sizes) + len(self.max_sizes)


def expand_aspect_ratios(ratios, flip):
    """1, then each new ratio (within 1e-6) and, with ``flip``, its reciprocal
    (computed in double, stored as float32)."""
    out = [np.float32(1.0)]
    for ratio in ratios:
        ratio = np.float32(ratio)
        if any(abs(float(np.float32(ratio - known))) < 1e-6 for known in out):
            continue
        out.append(ratio)
        if flip:
            out.append(np.float32(1.0 / float(ratio)))
    return tuple(out)


def from_params(params):
    """:class:`PriorBoxParams` from a layer's ``prior_box_param``
    (:class:`replicate.caffe.prototxt.Params`), checked as the reference checks it."""
    where = params.where
    mins, maxs = params.many('min_size', 'float'), params.many('max_size', 'float')
    if not mins or any(m <= 0 for m in mins):
        raise CaffeError('{}: needs min_size > 0 (given {})'.format(where, mins))
    if maxs and len(maxs) != len(mins):
        raise CaffeError('{}: {} max_size for {} min_size'.format(where, len(maxs), len(mins)))
    if any(b <= a for a, b in zip(mins, maxs, strict=False)):  # lengths checked
        raise CaffeError('{}: max_size must be greater than min_size'.format(where))
    ratios = params.many('aspect_ratio', 'float')
    if any(r <= 0 for r in ratios):
        raise CaffeError('{}: aspect_ratio must be positive (given {})'.format(where, ratios))
    variance = params.many('variance', 'float') or [0.1]
    if len(variance) not in (1, 4) or any(v <= 0 for v in variance):
        raise CaffeError('{}: variance needs 1 or 4 positive values, got {}'.format(
            where, variance))
    img_h, img_w, step_h, step_w = _img_and_step(params)
    result = PriorBoxParams(
        tuple(int(m) for m in mins), tuple(int(m) for m in maxs),
        expand_aspect_ratios(ratios, params.get('flip', 'bool', True)),
        params.get('clip', 'bool', False), tuple(np.float32(v) for v in variance),
        img_h, img_w, np.float32(step_h), np.float32(step_w),
        np.float32(params.get('offset', 'float', 0.5)))
    if result.per_location > MAX_PER_LOCATION:
        raise CaffeError('{}: {} priors per location, more than {}'.format(
            where, result.per_location, MAX_PER_LOCATION))
    return result


def _img_and_step(params):
    where = params.where
    if params.has('img_size') and (params.has('img_h') or params.has('img_w')):
        raise CaffeError('{}: give img_size or img_h/img_w, not both'.format(where))
    if params.has('img_h') or params.has('img_w'):
        img_h, img_w = params.get('img_h', 'int', 0), params.get('img_w', 'int', 0)
    else:
        img_h = img_w = params.get('img_size', 'int', 0)
    if (params.has('img_size') or params.has('img_h') or params.has('img_w')) and \
            min(img_h, img_w) <= 0:
        raise CaffeError('{}: img_size/img_h/img_w must be positive'.format(where))
    if params.has('step') and (params.has('step_h') or params.has('step_w')):
        raise CaffeError('{}: give step or step_h/step_w, not both'.format(where))
    if params.has('step_h') or params.has('step_w'):
        step_h, step_w = params.get('step_h', 'float', 0), params.get('step_w', 'float', 0)
    else:
        step_h = step_w = params.get('step', 'float', 0)
    if (params.has('step') or params.has('step_h') or params.has('step_w')) and \
            min(step_h, step_w) <= 0:
        raise CaffeError('{}: step/step_h/step_w must be positive'.format(where))
    return img_h, img_w, step_h, step_w


def box_sides(params):
    """(width, height) of the priors at one location, float32 (n, 2), in order."""
    sides = []
    for s, min_size in enumerate(params.min_sizes):
        sides.append((np.float32(min_size),) * 2)
        if params.max_sizes:
            side = np.float32(math.sqrt(min_size * params.max_sizes[s]))
            sides.append((side, side))
        for ratio in params.aspect_ratios:
            if abs(float(ratio) - 1.0) < 1e-6:
                continue
            root = np.float32(math.sqrt(ratio))
            sides.append((np.float32(np.float32(min_size) * root),
                          np.float32(np.float32(min_size) / root)))
    return np.array(sides, dtype=np.float32)


def prior_boxes(params, feature_hw, image_hw):
    """The layer's output: float32 ``(1, 2, H * W * n * 4)``.

    Args:
        params (PriorBoxParams).
        feature_hw: (H, W) of the feature map (the first bottom).
        image_hw: (H, W) of the image input (the second bottom), used where
            ``img_h``/``img_w`` are not given.

    Channel 0 holds, location by location (row-major) and prior by prior,
    ``(x_min, y_min, x_max, y_max)`` normalized to the image; channel 1 the
    variances of each coordinate.
    """
    height, width = feature_hw
    img_h = params.img_h or image_hw[0]
    img_w = params.img_w or image_hw[1]
    if params.step_h and params.step_w:
        step_h, step_w = np.float32(params.step_h), np.float32(params.step_w)
    else:
        step_h, step_w = np.float32(img_h) / np.float32(height), \
            np.float32(img_w) / np.float32(width)
    # float32 centres, as the reference computes them: (h + offset) * step
    cy = (np.arange(height, dtype=np.float32) + params.offset) * step_h
    cx = (np.arange(width, dtype=np.float32) + params.offset) * step_w
    sides = box_sides(params).astype(np.float64)
    # (H, 1, 1) and (1, W, 1) centres against (1, 1, n) half sides -> (H, W, n), in double
    cy = cy.astype(np.float64)[:, None, None]
    cx = cx.astype(np.float64)[None, :, None]
    half_w, half_h = sides[None, None, :, 0] / 2.0, sides[None, None, :, 1] / 2.0
    corners = np.stack(np.broadcast_arrays(
        (cx - half_w) / img_w, (cy - half_h) / img_h,
        (cx + half_w) / img_w, (cy + half_h) / img_h), axis=-1).astype(np.float32)
    boxes = corners.reshape(-1)
    if params.clip:
        boxes = np.minimum(np.maximum(boxes, np.float32(0)), np.float32(1))
    variance = np.resize(np.array(params.variance, dtype=np.float32), boxes.shape)
    return np.stack([boxes, variance])[None]
