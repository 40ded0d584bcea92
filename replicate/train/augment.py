"""SSD's training transform, the five steps of ChainerCV's
``examples/ssd/train.py`` (``Transform``), built from our drop-ins:

1. photometric distortion (:func:`random_distort`);
2. zoom out with probability 1/2: the image on a canvas up to 4x larger
   (``max_zoom_out``), filled with the mean pixel (:func:`random_expand`);
3. a random crop meeting an IoU constraint with the boxes
   (:func:`random_crop_with_bbox_constraints`); boxes are clipped to it and
   those whose centre falls outside are dropped;
4. resize to the network's input with a random interpolation;
5. horizontal flip with probability 1/2;

then the mean is subtracted (or the model's own normalisation applied) and
the boxes encoded against the default boxes.

Random draws follow ChainerCV's example exactly: step 2's coin is numpy's
``np.random.randint(2)``, every other draw Python's ``random``; so, seeded
alike, the output equals the example's. :class:`SSDAugmentation` takes
``rng`` and ``coin`` to draw from private generators instead.

Degenerate boxes need no special case: the crop step drops boxes left with
no area (zero-area or inverted boxes, boxes wholly outside the image).
"""
import numpy as np

from replicate.train.geometric import (
    crop_bbox,
    flip_bbox,
    random_expand,
    random_flip,
    resize_bbox,
    translate_bbox,
)
from replicate.train.transforms import (
    random_crop_with_bbox_constraints,
    random_distort,
    resize_with_random_interpolation,
)


def _numpy_coin():
    return np.random.randint(2)


def augment(img, bbox, label, size, mean, rng=None, coin=None, max_zoom_out=4):
    """Steps 1-5 on one sample (see the module docstring).

    Args:
        img: float (3, H, W) RGB image, values in [0, 255].
        bbox: float32 (R, 4) (y_min, x_min, y_max, x_max) in ``img``'s pixels.
        label: int32 (R,) classes.
        size (int): the network's input side.
        mean: (3, 1, 1) RGB mean, the zoom-out canvas colour.
        rng: random source for everything but the zoom-out coin (default:
            the ``random`` module).
        coin: callable () -> 0 or 1 deciding the zoom out (default:
            ``np.random.randint(2)``).
        max_zoom_out (float): largest canvas side over the image's
            (ChainerCV's 4; at small inputs 4 makes objects of a few pixels).

    Returns:
        (img, bbox, label): float32 (3, size, size) (mean not subtracted),
        float32 (R', 4) in its pixels, int32 (R',).
    """
    coin = _numpy_coin if coin is None else coin
    img = random_distort(img, rng=rng)
    if coin():
        img, param = random_expand(img, max_zoom_out, mean, return_param=True, rng=rng)
        bbox = translate_bbox(bbox, y_offset=param['y_offset'], x_offset=param['x_offset'])
    img, param = random_crop_with_bbox_constraints(img, bbox, return_param=True, rng=rng)
    bbox, param = crop_bbox(bbox, y_slice=param['y_slice'], x_slice=param['x_slice'],
                            allow_outside_center=False, return_param=True)
    label = label[param['index']]
    _, height, width = img.shape
    img = resize_with_random_interpolation(img, (size, size), rng=rng)
    bbox = resize_bbox(bbox, (height, width), (size, size))
    img, param = random_flip(img, x_random=True, return_param=True, rng=rng)
    bbox = flip_bbox(bbox, (size, size), x_flip=param['x_flip'])
    return img, bbox, label


class SSDAugmentation:
    """(img, bbox, label) -> (x, gt_mb_loc, gt_mb_label) with augmentation.

    Args:
        coder: the model's :class:`replicate.MultiboxCoder` (used on the CPU:
            a CPU copy is made when the model lives on a GPU).
        size (int): the model's ``insize``; mean: its (3, 1, 1) mean.
        max_zoom_out (float): see :func:`augment`.
        normalize: None (subtract ``mean``: SSD's input), or a function
            float32 (3, size, size) in [0, 255] -> the network input (the OD
            API's MobileNetV2 takes [-1, 1]: ``mean`` is then the pixel that
            maps to 0, the zoom-out canvas colour).

    Calling it returns float32 (3, size, size) normalized, float32 (K, 4)
    offsets and int32 (K,) labels (0 = background), numpy arrays.
    """

    def __init__(self, coder, size, mean, max_zoom_out=4, normalize=None):
        self.coder = coder
        self.size = size
        self.mean = np.asarray(mean, dtype=np.float32)
        self.max_zoom_out = max_zoom_out
        self.normalize = normalize

    def __call__(self, in_data, rng=None, coin=None):
        img, bbox, label = in_data
        img, bbox, label = augment(img, bbox, label, self.size, self.mean, rng, coin,
                                   self.max_zoom_out)
        if self.normalize is None:
            img -= self.mean
        else:
            img = self.normalize(img)
        mb_loc, mb_label = self.coder.encode(bbox, label)
        return img, mb_loc, mb_label


class PlainTransform:
    """(img, bbox, label) -> (x, gt_mb_loc, gt_mb_label) without augmentation:
    the model's own resize and mean (as :func:`replicate.encode_sample`), on
    the CPU. Takes and ignores the iterator's ``rng`` and ``coin``."""

    def __init__(self, coder, size, mean, prepare):
        self.coder = coder
        self.size = size
        self.mean = mean
        self.prepare = prepare

    def __call__(self, in_data, rng=None, coin=None):
        img, bbox, label = in_data
        height, width = img.shape[1:]
        # image pixels -> size x size input pixels
        scale = np.array([self.size / height, self.size / width] * 2, np.float32)
        mb_loc, mb_label = self.coder.encode(bbox * scale, label)
        return self.prepare(img), mb_loc, mb_label
