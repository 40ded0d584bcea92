"""SSD's data augmentation, as drop-ins for ChainerCV's
``chainercv.links.model.ssd`` transforms: same names, signatures, return
values (``return_param`` included) and, given the same random state, the same
outputs.

Randomness: like ChainerCV's, each function draws from Python's ``random``
module, in the same order and with the same calls, so after
``random.seed(s)`` both give identical results. The extra keyword ``rng``
(an object with ``random.Random``'s methods, ``getstate`` and ``setstate``
included, e.g. ``random.Random(seed)``) draws from that object instead, which
the training pipeline uses to make every sample's augmentation a function of
(seed, epoch, index) alone.

Images are numpy CHW arrays; colour images are RGB with values in [0, 255].
Boxes are (R, 4) (y_min, x_min, y_max, x_max) in pixels.
"""
import random

import numpy as np

from replicate.ssd.boxes import bbox_iou

#: ChainerCV's default IoU constraints of the crop with the boxes:
#: (min_iou, max_iou), None = unbounded. The paper's "minimum jaccard overlap
#: of 0.1, 0.3, 0.5, 0.7 or 0.9", plus a crop with no constraint.
CROP_CONSTRAINTS = ((0.1, None), (0.3, None), (0.5, None), (0.7, None), (0.9, None),
                    (None, 1))


def _rng(rng):
    return random if rng is None else rng


# -- photometric distortion (OpenCV, uint8 BGR/HSV as in Caffe SSD) --------

def _affine_uint8(values, alpha=1.0, beta=0.0):
    """uint8 -> uint8 ``clip(values * alpha + beta, 0, 255)``, truncated."""
    return np.clip(values.astype(np.float64) * alpha + beta, 0, 255).astype(np.uint8)


def _brightness(bgr, rng, delta):
    return _affine_uint8(bgr, beta=rng.uniform(-delta, delta))


def _contrast(bgr, rng, low, high):
    return _affine_uint8(bgr, alpha=rng.uniform(low, high))


def _on_hsv(bgr, change):
    """Apply ``change`` (in place, HxWx3 uint8 HSV) in OpenCV's HSV space."""
    import cv2
    hsv = cv2.cvtColor(bgr, cv2.COLOR_BGR2HSV)
    change(hsv)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)


def _saturation(bgr, rng, low, high):
    alpha = rng.uniform(low, high)

    def scale_s(hsv):
        hsv[:, :, 1] = _affine_uint8(hsv[:, :, 1], alpha=alpha)
    return _on_hsv(bgr, scale_s)


def _hue(bgr, rng, delta):
    shift = rng.randint(-delta, delta)

    def rotate_h(hsv):
        # OpenCV's 8-bit hue runs over [0, 180)
        hsv[:, :, 0] = (hsv[:, :, 0].astype(int) + shift) % 180
    return _on_hsv(bgr, rotate_h)


def _maybe(rng, step, bgr, *args):
    """Apply ``step`` with probability 1/2 (one ``randrange(2)`` draw)."""
    return step(bgr, rng, *args) if rng.randrange(2) else bgr


def random_distort(img, brightness_delta=32, contrast_low=0.5, contrast_high=1.5,
                   saturation_low=0.5, saturation_high=1.5, hue_delta=18, rng=None):
    """Photometric distortion of SSD: brightness, contrast, saturation, hue.

    Each of the four happens with probability 1/2, brightness first; then
    either contrast, saturation, hue or saturation, hue, contrast (1/2 each).
    Brightness adds U(-brightness_delta, brightness_delta), contrast
    multiplies by U(contrast_low, contrast_high), both on 8-bit BGR values
    clipped to [0, 255]; saturation multiplies OpenCV's 8-bit S by
    U(saturation_low, saturation_high); hue adds an integer in
    [-hue_delta, hue_delta] to H modulo 180. Needs OpenCV.

    Args:
        img: (3, H, W) RGB image, values in [0, 255] (cast to uint8 first, as
            ChainerCV does: fractions are truncated).
        brightness_delta, contrast_low, contrast_high, saturation_low,
            saturation_high, hue_delta: ChainerCV's, same defaults.
        rng: random source (default: the ``random`` module).

    Returns:
        float32 (3, H, W) RGB image, values in [0, 255].
    """
    rng = _rng(rng)
    # CHW RGB -> HWC BGR uint8, OpenCV's layout
    bgr = img[::-1].transpose((1, 2, 0)).astype(np.uint8)
    bgr = _maybe(rng, _brightness, bgr, brightness_delta)
    colour = [(_saturation, saturation_low, saturation_high), (_hue, hue_delta)]
    contrast = [(_contrast, contrast_low, contrast_high)]
    order = contrast + colour if rng.randrange(2) else colour + contrast
    for step, *args in order:
        bgr = _maybe(rng, step, bgr, *args)
    # HWC BGR -> CHW RGB
    return bgr.astype(np.float32).transpose((2, 0, 1))[::-1]


# -- random crop with IoU constraints -------------------------------------

def _draw_crop(rng, height, width, min_scale, max_scale, max_aspect_ratio):
    """One candidate crop (top, left, bottom, right); four draws as ChainerCV.

    scale ~ U(min_scale, max_scale) of the side, aspect ratio (width/height
    relative to the image's) ~ U within [1/max_aspect_ratio, max_aspect_ratio]
    narrowed so neither side exceeds the image.
    """
    scale = rng.uniform(min_scale, max_scale)
    ratio = rng.uniform(max(1 / max_aspect_ratio, scale * scale),
                        min(max_aspect_ratio, 1 / (scale * scale)))
    crop_h = int(height * scale / np.sqrt(ratio))
    crop_w = int(width * scale * np.sqrt(ratio))
    # randrange(0) would raise where the crop spans the whole side (ChainerCV
    # then fails); such a crop can only start at 0
    top = rng.randrange(height - crop_h) if height > crop_h else 0
    left = rng.randrange(width - crop_w) if width > crop_w else 0
    return top, left, top + crop_h, left + crop_w


def _first_fit(rng, bbox, shape, min_iou, max_iou, max_trial, crop_args):
    """The first of up to ``max_trial`` crops whose IoU with every box lies in
    [min_iou, max_iou], or None; ``rng`` ends exactly where drawing one crop
    at a time and stopping at the first fit would leave it.

    All trials are drawn at once (one vectorised IoU instead of one per
    trial, the cost of this step), then the generator is rewound and only
    the trials up to the accepted one are drawn again.
    """
    state = rng.getstate()
    crops = np.array([_draw_crop(rng, *shape, *crop_args) for _ in range(max_trial)])
    with np.errstate(invalid='ignore'):  # 0/0 for empty crops over empty boxes
        iou = bbox_iou(bbox, crops)  # (R, max_trial)
    nonempty = (crops[:, 2] > crops[:, 0]) & (crops[:, 3] > crops[:, 1])
    fits = nonempty & (min_iou <= iou.min(axis=0)) & (iou.max(axis=0) <= max_iou)
    if not fits.any():
        return None
    first = int(np.argmax(fits))
    rng.setstate(state)
    for _ in range(first + 1):
        _draw_crop(rng, *shape, *crop_args)
    return crops[first]


def random_crop_with_bbox_constraints(img, bbox, min_scale=0.3, max_scale=1,
                                      max_aspect_ratio=2, constraints=None, max_trial=50,
                                      return_param=False, rng=None):
    """Crop randomly so that the crop's IoU with the boxes meets a constraint.

    For each constraint (min_iou, max_iou) (default :data:`CROP_CONSTRAINTS`;
    None is unbounded) up to ``max_trial`` crops are drawn; the first whose
    IoU with every box lies in [min_iou, max_iou] is a candidate. One
    candidate, or the whole image, is then chosen uniformly. With no boxes
    the whole image is returned. One deliberate difference from ChainerCV:
    a candidate of zero height or width (possible only for images a few
    pixels wide) is not accepted.

    Args:
        img: (C, H, W) image.
        bbox: (R, 4) boxes (y_min, x_min, y_max, x_max), R may be 0.
        min_scale, max_scale (float): crop side over image side.
        max_aspect_ratio (float): bound on the crop's aspect ratio change.
        constraints: iterable of (min_iou, max_iou).
        max_trial (int): draws per constraint.
        return_param (bool): also return the parameters.
        rng: random source (default: the ``random`` module).

    Returns:
        the cropped (C, h, w) image (a view), or ``(img, param)`` with
        ``param`` = {'constraint': the chosen (min_iou, max_iou) or None for
        the whole image, 'y_slice': slice, 'x_slice': slice}.
    """
    rng = _rng(rng)
    constraints = CROP_CONSTRAINTS if constraints is None else constraints
    _, height, width = img.shape
    params = [{'constraint': None, 'y_slice': slice(0, height), 'x_slice': slice(0, width)}]
    for min_iou, max_iou in (constraints if len(bbox) and max_trial > 0 else ()):
        min_iou = 0 if min_iou is None else min_iou
        max_iou = 1 if max_iou is None else max_iou
        crop = _first_fit(rng, bbox, (height, width), min_iou, max_iou, max_trial,
                          (min_scale, max_scale, max_aspect_ratio))
        if crop is not None:
            params.append({'constraint': (min_iou, max_iou),
                           'y_slice': slice(int(crop[0]), int(crop[2])),
                           'x_slice': slice(int(crop[1]), int(crop[3]))})
    param = rng.choice(params)
    img = img[:, param['y_slice'], param['x_slice']]
    return (img, param) if return_param else img


# -- resize with a random interpolation -----------------------------------

def _interpolations():
    import cv2
    # the order matters: it is what the random choice indexes
    return (cv2.INTER_LINEAR, cv2.INTER_AREA, cv2.INTER_NEAREST, cv2.INTER_CUBIC,
            cv2.INTER_LANCZOS4)


def resize_with_random_interpolation(img, size, return_param=False, rng=None):
    """Resize with OpenCV, the interpolation drawn uniformly from linear,
    area, nearest, cubic and Lanczos-4.

    Args:
        img: (C, H, W) image (any real dtype; float32 expected).
        size: (height, width) of the output.
        return_param (bool): also return ``{'interpolation': cv2 flag}``.
        rng: random source (default: the ``random`` module).

    Returns:
        float32 (C, height, width), or ``(img, param)``.
    """
    import cv2
    interpolation = _rng(rng).choice(_interpolations())
    height, width = size
    # (C, H, W) -> (H, W, C) for OpenCV
    out = cv2.resize(img.transpose((1, 2, 0)), (width, height), interpolation=interpolation)
    if out.ndim == 2:
        # OpenCV drops a single channel axis: (h, w) -> (h, w, 1)
        out = out[:, :, None]
    out = out.astype(np.float32).transpose((2, 0, 1))
    return (out, {'interpolation': interpolation}) if return_param else out
