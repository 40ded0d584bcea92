"""The images both models are fed: generated (seeded) or read from files.

All images are float32 arrays of shape ``(3, H, W)``, RGB, values in
``[0, 255]``, the layout ChainerCV's ``predict`` takes; :func:`read_rgb`
alone gives a photograph as it is stored, ``(H, W, 3)`` uint8.
"""
import os

import numpy as np

from replicate.parity.errors import ParityError

#: Sizes (H, W) of the generated raw images for ``predict``: odd on purpose,
#: so that resizing to 300x300 really interpolates.
RAW_SIZES = ((217, 311), (401, 283), (300, 300), (123, 457))


def random_image(rng, size):
    """Uniform noise, float32 ``(3, H, W)`` with integer values 0..255."""
    return rng.randint(0, 256, size=(3,) + tuple(size)).astype(np.float32)


def structured_image(rng, size):
    """A smooth gradient background with a few flat rectangles: large
    uniform regions and sharp edges, unlike noise. float32 ``(3, H, W)``."""
    H, W = size
    yy, xx = np.meshgrid(np.linspace(0, 1, H), np.linspace(0, 1, W), indexing='ij')
    img = np.stack([255 * yy, 255 * xx, 127.5 * (yy + xx)]).astype(np.float32)
    for _ in range(4):
        y0, x0 = rng.randint(0, H // 2), rng.randint(0, W // 2)
        # rectangle corners (y_min, x_min, y_max, x_max), max exclusive
        y1, x1 = y0 + rng.randint(H // 8, H // 2), x0 + rng.randint(W // 8, W // 2)
        img[:, y0:y1, x0:x1] = rng.randint(0, 256, size=(3, 1, 1))
    return np.round(img)


def generated_images(n, seed, sizes):
    """``n`` images alternating noise / structured, of the given sizes
    (cycled). Returns a list of float32 ``(3, H, W)`` arrays."""
    rng = np.random.RandomState(seed)
    makers = (random_image, structured_image)
    return [makers[i % 2](rng, sizes[i % len(sizes)]) for i in range(n)]


def read_images(paths):
    """Image files -> list of float32 ``(3, H, W)`` RGB arrays.

    Raises:
        ParityError: a file is missing or unreadable.
    """
    from chainercv.utils import read_image
    images = []
    for path in paths:
        if not os.path.isfile(path):
            raise ParityError('image file {} not found: pass existing files to --images'
                              .format(path))
        try:
            images.append(read_image(path, dtype=np.float32, color=True))
        except Exception as exc:
            raise ParityError('cannot read image {} ({}): pass a JPEG/PNG file'
                              .format(path, exc)) from exc
    return images


def read_rgb(path):
    """(H, W, 3) uint8 RGB of an image file, its EXIF orientation applied
    (as compare/ decodes images).

    Raises:
        OSError, ValueError: PIL's, for a missing or unreadable file (the
            callers turn them into their own one-line errors).
    """
    from PIL import Image, ImageOps
    with Image.open(path) as image:
        return np.asarray(ImageOps.exif_transpose(image).convert('RGB'))


def prepared_batch(images, mean, insize=300):
    """The network input both models get for the layer-by-layer run: each
    image resized to ``insize`` (must already be that size) minus ``mean``.

    Args:
        images (list of numpy.ndarray): float32 ``(3, insize, insize)``.
        mean (numpy.ndarray): ``(3, 1, 1)`` per-channel RGB mean.

    Returns:
        numpy.ndarray: float32 ``(B, 3, insize, insize)``.
    """
    for img in images:
        if img.shape != (3, insize, insize):
            raise ValueError('prepared_batch takes {0}x{0} images, got {1}'
                             .format(insize, img.shape))
    return np.stack([img - mean for img in images]).astype(np.float32)
