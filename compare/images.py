"""Reading images the same way for every detector.

:func:`load_rgb` returns ``(H, W, 3)`` uint8 RGB in the DISPLAYED frame: the
EXIF orientation tag is applied, so boxes of every detector are in the rotated
image a viewer shows (and ``height``/``width`` in the raw outputs are the
rotated ones). Conversions, all explicit:

- 16-bit images (PIL modes ``I;16*`` and ``I`` from PNG): scaled to 8 bit by
  ``round(v / 257)`` (65535 -> 255), not truncated to the low byte.
- RGBA / LA / palette with transparency: the alpha channel is DROPPED and the
  stored colour kept, which is what ``chainercv.utils.read_image`` (PIL
  ``convert('RGB')``) and ``tf.io.decode_image(channels=3)`` both do, so every
  detector sees what its own framework's reader would give it.
- CMYK (JPEG), grayscale, palette, YCbCr: PIL's conversion to RGB.
- Float images (mode ``F``) are refused: their range is not defined.

Unreadable files (not an image, truncated, corrupt, too large) raise
:class:`compare.errors.UserError` with a one-line reason; the runner records it
in ``raw/skipped.csv`` and goes on.

:func:`load_image` returns the same pixels as a :class:`LoadedImage`, an
``ndarray`` subclass that also keeps the file's own bytes (``encoded``) when a
decoder that ignores EXIF would give the same frame: 8-bit JPEG or PNG without
an EXIF rotation. The runner gives it only to adapters that ask for it
(:func:`compare.adapters.protocol.reads_files`: the TF adapters, which can let
TensorFlow decode the file as the OD API's pipelines do); every other
detector gets the plain array.
"""
import os
import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from compare.errors import UserError

#: File suffixes treated as images when walking a folder (lower case).
IMAGE_SUFFIXES = ('.bmp', '.gif', '.jpeg', '.jpg', '.png', '.ppm', '.pgm', '.tif', '.tiff',
                  '.webp')
#: Start of the raw/skipped.csv reason of a file skipped by its suffix (not read).
NOT_AN_IMAGE = 'not an image file'
_SIXTEEN_BIT_MODES = ('I;16', 'I;16B', 'I;16L', 'I;16N', 'I')
#: PIL format -> modes whose file bytes are kept in :attr:`LoadedImage.encoded`.
_ENCODED_KEPT = {'JPEG': ('RGB', 'L'), 'PNG': ('RGB', 'RGBA', 'L', 'LA', 'P')}
_EXIF_ORIENTATION = 0x0112


class LoadedImage(np.ndarray):
    """``(H, W, 3)`` uint8 RGB from :func:`load_image`.

    Attributes:
        encoded: the file's bytes when they are an 8-bit JPEG or PNG without
            EXIF rotation (so any decoder gives this frame), else None. Arrays
            derived from this one (slices, copies) have None.
        format: ``'JPEG'`` or ``'PNG'`` with ``encoded``, else None.
    """
    encoded = None
    format = None


def load_rgb(path):
    """Read ``path`` as ``(H, W, 3)`` uint8 RGB, EXIF orientation applied.

    Raises:
        UserError: the file cannot be decoded (message names it and why).
    """
    return np.asarray(load_image(path))


def load_image(path):
    """:func:`load_rgb`'s pixels as a :class:`LoadedImage` (with the file's
    bytes when they decode to the same frame)."""
    try:
        with warnings.catch_warnings():
            # a decompression-bomb warning becomes an error we report
            warnings.simplefilter('error', Image.DecompressionBombWarning)
            with Image.open(path) as image:
                image.load()  # decode now: truncated data fails here
                kept = image.format if _keeps_bytes(image) else None
                image = ImageOps.exif_transpose(image)
                return _loaded(_to_rgb_array(image, path), path, kept)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError,
            Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise UserError('cannot read image {}: {}: {}'.format(
            path, type(exc).__name__, _one_line(exc))) from None


def _keeps_bytes(image):
    """Whether ``image``'s file bytes decode to its displayed frame (module doc)."""
    modes = _ENCODED_KEPT.get(image.format, ())
    return image.mode in modes and image.getexif().get(_EXIF_ORIENTATION, 1) in (1, None)


def _loaded(array, path, kept_format):
    """``array`` as a :class:`LoadedImage`, with the bytes of ``path`` if
    ``kept_format``."""
    loaded = array.view(LoadedImage)
    if kept_format:
        with open(path, 'rb') as f:
            loaded.encoded, loaded.format = f.read(), kept_format
    return loaded


def _to_rgb_array(image, path):
    """PIL image (any mode) -> ``(H, W, 3)`` uint8 RGB."""
    if image.mode in _SIXTEEN_BIT_MODES:
        gray = _sixteen_to_eight(np.asarray(image))
        # (H, W) -> (H, W, 3)
        return np.repeat(gray[:, :, None], 3, axis=2)
    if image.mode == 'F':
        raise UserError('cannot read image {}: 32-bit float pixels (mode F) have no defined '
                        'range; convert it to 8-bit first'.format(path))
    if image.mode in ('RGBA', 'LA', 'PA') or 'transparency' in image.info:
        # alpha dropped, stored colour kept (see module doc)
        image = image.convert('RGBA')
    array = np.asarray(image.convert('RGB'), dtype=np.uint8)
    return np.ascontiguousarray(array)


def _sixteen_to_eight(values):
    """16-bit samples ``[0, 65535]`` -> uint8 by ``round(v / 257)``."""
    values = np.clip(values.astype(np.float64), 0, 65535)
    return np.round(values / 257.0).astype(np.uint8)


def _one_line(exc):
    return ' '.join(str(exc).split()) or 'no details'


def is_image_name(name):
    """Whether ``name``'s suffix is one of :data:`IMAGE_SUFFIXES`."""
    return os.path.splitext(name)[1].lower() in IMAGE_SUFFIXES


def list_images(folder):
    """Image files under ``folder``, and the files skipped by name.

    Returns:
        ``(images, skipped)``: ``images`` a sorted list of paths relative to
        ``folder`` in posix form; ``skipped`` a sorted list of
        ``(relative path, reason)`` for files that are not images by suffix.
        Hidden files and folders (name starting with ``.``) are ignored.

    Raises:
        UserError: ``folder`` does not exist, is not a folder, or holds no image.
    """
    if not os.path.exists(folder):
        raise UserError('images folder {} does not exist; pass a folder of images'.format(folder))
    if not os.path.isdir(folder):
        raise UserError('{} is not a folder; pass a folder of images'.format(folder))
    images, skipped = [], []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith('.'))
        for name in sorted(files):
            if name.startswith('.'):
                continue
            relative = os.path.relpath(os.path.join(root, name), folder).replace(os.sep, '/')
            if is_image_name(name):
                images.append(relative)
            else:
                suffix = os.path.splitext(name)[1] or '(none)'
                skipped.append((relative, '{} (suffix {})'.format(NOT_AN_IMAGE, suffix)))
    if not images:
        raise UserError('no images found in {} (looked for {}); put images there'.format(
            folder, ' '.join(IMAGE_SUFFIXES)))
    return sorted(images), sorted(skipped)
