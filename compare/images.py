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

What is listed (:func:`list_images`) and read (:func:`read_image`) is only
ever a regular file: a named pipe or a device called ``x.jpg`` (which would
block a reader forever, or never end), a link that loops or leads nowhere, a
file name that is not valid UTF-8, a link to a folder (not followed) and a run
folder of this harness inside the images folder (its figures are not
images) are skipped with the reason, listed in ``raw/skipped.csv``. A file is
opened without blocking and checked again on the open descriptor, so nothing
swapped in between listing and reading can hang the run. Each image is read
once into memory: its bytes give both the pixels and the content fingerprint
(sha256) that ties a saved record to the file it came from.

:func:`load_image` returns the same pixels as a :class:`LoadedImage`, an
``ndarray`` subclass that also keeps the file's own bytes (``encoded``) when a
decoder that ignores EXIF would give the same frame: 8-bit JPEG or PNG without
an EXIF rotation. The runner gives it only to adapters that ask for it
(:func:`compare.adapters.protocol.reads_files`: the TF adapters, which can let
TensorFlow decode the file as the OD API's pipelines do); every other
detector gets the plain array.
"""
import hashlib
import io
import os
import stat
import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from compare.errors import UserError, is_text, printable_path
from compare.limits import MAX_IMAGE_BYTES, mib
from compare.rundir.layout import is_run_folder
from replicate.errors import one_line

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


def read_bytes(path, limit=None):
    """The bytes of the regular file ``path`` (at most ``limit`` of them,
    default :data:`compare.limits.MAX_IMAGE_BYTES`).

    Opened with ``O_NONBLOCK`` and checked on the descriptor: a named pipe,
    a device or a folder is refused, never waited on.

    Raises:
        UserError: not a regular file, too large, or unreadable (names it).
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, 'O_NONBLOCK', 0) |
                     getattr(os, 'O_CLOEXEC', 0))
    except OSError as exc:
        raise UserError('cannot read {}: {}'.format(printable_path(path), exc.strerror)) from None
    limit = MAX_IMAGE_BYTES if limit is None else limit
    with os.fdopen(fd, 'rb') as f:
        mode = os.fstat(f.fileno()).st_mode
        if not stat.S_ISREG(mode):
            raise UserError('{} is not a regular file ({}); not read'.format(
                printable_path(path), file_kind(mode)))
        try:
            data = f.read(limit + 1)
        except OSError as exc:
            raise UserError('cannot read {}: {}'.format(printable_path(path),
                                                        exc.strerror)) from None
    if len(data) > limit:
        raise UserError('{} is larger than {} (the limit); not read'.format(
            printable_path(path), mib(limit)))
    return data


def file_kind(mode):
    """``'named pipe'``, ``'folder'``, ... for an ``st_mode``."""
    kinds = ((stat.S_ISDIR, 'folder'), (stat.S_ISFIFO, 'named pipe'),
             (stat.S_ISCHR, 'character device'), (stat.S_ISBLK, 'block device'),
             (stat.S_ISSOCK, 'socket'), (stat.S_ISLNK, 'symbolic link'))
    return next((name for test, name in kinds if test(mode)), 'special file')


def read_image(path):
    """``(image, sha256)``: the :class:`LoadedImage` of :func:`load_image` and
    the sha256 (hex) of the file's bytes, from one read of the file."""
    data = read_bytes(path)
    return decode_image(data, path), hashlib.sha256(data).hexdigest()


def image_sha256(path):
    """sha256 (hex) of the image file ``path`` (read as :func:`read_bytes`)."""
    return hashlib.sha256(read_bytes(path)).hexdigest()


def load_rgb(path):
    """Read ``path`` as ``(H, W, 3)`` uint8 RGB, EXIF orientation applied.

    Raises:
        UserError: the file cannot be read or decoded (message names it and why).
    """
    return np.asarray(load_image(path))


def load_image(path):
    """:func:`load_rgb`'s pixels as a :class:`LoadedImage` (with the file's
    bytes when they decode to the same frame)."""
    return decode_image(read_bytes(path), path)


def decode_image(data, path):
    """The bytes of an image file -> :class:`LoadedImage` (see the module doc).

    Args:
        data: the file's bytes.
        path: the file, for messages.

    Raises:
        UserError: the bytes cannot be decoded (message names ``path`` and why).
    """
    try:
        with warnings.catch_warnings():
            # a decompression-bomb warning becomes an error we report
            warnings.simplefilter('error', Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                image.load()  # decode now: truncated data fails here
                kept = image.format if _keeps_bytes(image) else None
                image = ImageOps.exif_transpose(image)
                return _loaded(_to_rgb_array(image, path), data, kept)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError,
            Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        # PIL names the in-memory file with its address: not part of the reason
        why = ('cannot identify image file' if isinstance(exc, UnidentifiedImageError)
               else one_line(exc) or 'no details')
        raise UserError('cannot read image {}: {}: {}'.format(
            printable_path(path), type(exc).__name__, why)) from None


def _keeps_bytes(image):
    """Whether ``image``'s file bytes decode to its displayed frame (module doc)."""
    modes = _ENCODED_KEPT.get(image.format, ())
    return image.mode in modes and image.getexif().get(_EXIF_ORIENTATION, 1) in (1, None)


def _loaded(array, data, kept_format):
    """``array`` as a :class:`LoadedImage`, with the file's bytes ``data`` if
    ``kept_format``."""
    loaded = array.view(LoadedImage)
    if kept_format:
        loaded.encoded, loaded.format = data, kept_format
    return loaded


def _to_rgb_array(image, path):
    """PIL image (any mode) -> ``(H, W, 3)`` uint8 RGB."""
    if image.mode in _SIXTEEN_BIT_MODES:
        gray = _sixteen_to_eight(np.asarray(image))
        # (H, W) -> (H, W, 3)
        return np.repeat(gray[:, :, None], 3, axis=2)
    if image.mode == 'F':
        raise UserError('cannot read image {}: 32-bit float pixels (mode F) have no defined '
                        'range; convert it to 8-bit first'.format(printable_path(path)))
    if image.mode in ('RGBA', 'LA', 'PA') or 'transparency' in image.info:
        # alpha dropped, stored colour kept (see module doc)
        image = image.convert('RGBA')
    array = np.asarray(image.convert('RGB'), dtype=np.uint8)
    return np.ascontiguousarray(array)


def _sixteen_to_eight(values):
    """16-bit samples ``[0, 65535]`` -> uint8 by ``round(v / 257)``."""
    values = np.clip(values.astype(np.float64), 0, 65535)
    return np.round(values / 257.0).astype(np.uint8)


def is_image_name(name):
    """Whether ``name``'s suffix is one of :data:`IMAGE_SUFFIXES`."""
    return os.path.splitext(name)[1].lower() in IMAGE_SUFFIXES


def list_images(folder, exclude=()):
    """Image files under ``folder``, and the files skipped by name or kind.

    Args:
        folder: the images folder (walked recursively, links to folders not
            followed).
        exclude: folders not to walk (the run's own output folder).

    Returns:
        ``(images, skipped)``: ``images`` a sorted list of paths relative to
        ``folder`` in posix form, each a regular file (or a link to one) with
        an image suffix and a UTF-8 name; ``skipped`` a sorted list of
        ``(relative path, reason)`` for everything else found (see the module
        doc). Hidden files and folders (name starting with ``.``) are ignored.

    Raises:
        UserError: ``folder`` does not exist, is not a folder, cannot be
        listed, or holds no image.
    """
    if not os.path.exists(folder):
        raise UserError('images folder {} does not exist; pass a folder of images'.format(folder))
    if not os.path.isdir(folder):
        raise UserError('{} is not a folder; pass a folder of images'.format(folder))
    excluded = {os.path.realpath(path) for path in exclude}
    images, skipped = [], []

    def unlistable(exc):
        if os.path.realpath(exc.filename or folder) == os.path.realpath(folder):
            raise UserError('cannot list {}: {}; check its permissions'.format(
                printable_path(folder), exc.strerror))
        skipped.append((printable_path(os.path.relpath(exc.filename, folder)),
                        'cannot list folder: {}'.format(exc.strerror)))
    for root, dirs, files in os.walk(folder, onerror=unlistable):
        kept = []
        for name in sorted(d for d in dirs if not d.startswith('.')):
            reason = _folder_skipped(os.path.join(root, name), excluded)
            if reason:
                skipped.append((_relative(root, name, folder), reason))
            else:
                kept.append(name)
        dirs[:] = kept
        for name in sorted(files):
            if not name.startswith('.'):
                relative = _relative(root, name, folder)
                reason = _file_skipped(os.path.join(root, name), relative)
                if reason:
                    skipped.append((printable_path(relative), reason))
                else:
                    images.append(relative)
    if not images:  # nothing is written yet: the message itself says what was skipped
        raise UserError('no images found in {} (looked for {}; {}); put images there'.format(
            folder, ' '.join(IMAGE_SUFFIXES), _skipped_words(sorted(skipped))))
    return sorted(images), sorted(skipped)


def _skipped_words(skipped):
    """What an image-less folder held instead, in words, for one line."""
    if not skipped:
        return 'the folder holds no files'
    first = '{}: {}'.format(*skipped[0])
    if len(skipped) == 1:
        return 'skipped 1 entry, {}'.format(first)
    return 'skipped {} entries, the first {}'.format(len(skipped), first)


#: Start of the raw/skipped.csv reason of a run folder found among the images.
RUN_FOLDER = 'a run folder of compare/run.py'


def _relative(root, name, folder):
    return os.path.relpath(os.path.join(root, name), folder).replace(os.sep, '/')


def _folder_skipped(path, excluded):
    """Why the folder ``path`` is not walked, or None."""
    if os.path.islink(path):
        return 'link to a folder (not followed)'
    if os.path.realpath(path) in excluded:
        return RUN_FOLDER + ' (this run\'s output folder); not read as images'
    if is_run_folder(path):
        return RUN_FOLDER + ' (meta.json and raw/); not read as images'
    return None


def _file_skipped(path, relative):
    """Why the file ``path`` is not an image to read, or None."""
    if not is_text(relative):
        return 'file name is not valid UTF-8; rename it to read it'
    if not is_image_name(relative):
        suffix = os.path.splitext(relative)[1] or '(none)'
        return '{} (suffix {})'.format(NOT_AN_IMAGE, suffix)
    try:
        mode = os.stat(path).st_mode  # follows links: what a reader would open
    except OSError as exc:
        return 'cannot open: {}'.format(exc.strerror)
    if not stat.S_ISREG(mode):
        return 'not a regular file ({}); not read'.format(file_kind(mode))
    return None
