"""The input of a Caffe SSD, prepared as OpenCV's ``cv2.dnn.blobFromImage``
prepares it (``scalefactor=1, swapRB=False, crop=False``):

1. the (H, W, 3) uint8 BGR image resized to the network's input size with
   ``cv2.resize(..., INTER_LINEAR)`` in uint8 (the resize rounds to integers);
2. converted to float32 and the per-channel mean subtracted, in BGR order;
3. (H, W, 3) -> (3, H, W), stacked into a batch.

Both sides of a comparison (ours in Chainer, OpenCV's DNN) get this input;
a test checks it equals ``blobFromImage`` bit for bit.
"""
import numpy as np

from replicate.errors import InputError


def check_bgr(images):
    """Raise InputError unless ``images`` is a non-empty list of (H, W, 3) uint8 arrays."""
    if not isinstance(images, (list, tuple)) or not images:
        raise InputError('give a non-empty list of (H, W, 3) uint8 BGR images')
    for i, image in enumerate(images):
        image = np.asarray(image)
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3 or \
                min(image.shape[:2]) < 1:
            raise InputError('image {}: {} {} is not an (H, W, 3) uint8 BGR image'.format(
                i, image.dtype, image.shape))


def prepare(images, size, mean):
    """float32 (B, 3, h, w) network input.

    Args:
        images: list of (H, W, 3) uint8 BGR images.
        size: (h, w) of the network input.
        mean: three floats, B, G, R.
    """
    import cv2
    check_bgr(images)
    height, width = size
    batch = np.empty((len(images), 3, height, width), dtype=np.float32)
    mean = np.asarray(mean, dtype=np.float32).reshape(3, 1, 1)
    for i, image in enumerate(images):
        image = np.ascontiguousarray(image)
        if image.shape[:2] != (height, width):
            image = cv2.resize(image, (width, height), interpolation=cv2.INTER_LINEAR)
        # (h, w, 3) uint8 -> (3, h, w) float32, minus the BGR mean
        batch[i] = image.transpose(2, 0, 1).astype(np.float32) - mean
    return batch


def rgb_to_bgr(image):
    """(H, W, 3) RGB -> (H, W, 3) BGR (a copy, C-contiguous)."""
    return np.ascontiguousarray(np.asarray(image)[:, :, ::-1])
