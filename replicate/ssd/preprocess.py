"""Input checks and image preprocessing for :meth:`replicate.SSD.predict`.

Images are numpy CHW RGB arrays with values in [0, 255]. The resize backend
(``SSD.resize_backend``) is chosen as ChainerCV chooses it
(``chainercv.transforms.resize``), so ours and ChainerCV's give the same
input under the same settings:

- ``None`` (the default): follow ``chainer.config.cv_resize_backend`` at
  each call: ``None`` -> 'cv2' when OpenCV is importable, else 'PIL';
  'cv2' -> 'cv2' (a ValueError without OpenCV); 'PIL' -> 'PIL';
- 'cv2' or 'PIL' given to the model: that backend, whatever the config says.

One deliberate difference: a config value other than None, 'cv2' and 'PIL'
is a ValueError here, where ChainerCV's resize silently returns None.
The two backends differ by up to a few grey levels.
"""
import chainer
import numpy as np
from PIL import Image

from replicate.errors import InputError


def resize_cv2(img, size):
    """Bilinear resize with OpenCV: float32 (C, H, W) -> float32 (C, h, w)."""
    import cv2
    height, width = size
    # (C, H, W) -> (H, W, C) for OpenCV, and back
    out = cv2.resize(img.transpose(1, 2, 0), dsize=(width, height),
                     interpolation=cv2.INTER_LINEAR)
    if out.ndim == 2:
        # OpenCV drops a single channel axis: (h, w) -> (h, w, 1)
        out = out[:, :, None]
    return out.transpose(2, 0, 1)


def resize_pil(img, size):
    """Bilinear resize with Pillow, channel by channel in mode 'F'."""
    height, width = size
    out = np.empty((len(img), height, width), dtype=img.dtype)
    for channel, out_channel in zip(img, out, strict=True):
        resized = Image.fromarray(channel, mode='F').resize(
            (width, height), resample=Image.BILINEAR)
        out_channel[:] = np.asarray(resized)
    return out


RESIZE_BACKENDS = {'cv2': resize_cv2, 'PIL': resize_pil}


def _cv2_available():
    try:
        import cv2  # noqa: F401
    except ImportError:
        return False
    return True


def check_resize_backend(name, source='resize_backend'):
    """Return ``name`` (None, 'cv2' or 'PIL') if usable, else raise ValueError.

    Args:
        source (str): what set ``name``, for the message.
    """
    if name is not None and name not in RESIZE_BACKENDS:
        raise ValueError('unknown resize backend {}={!r}; valid: None, {}'.format(
            source, name, ', '.join(sorted(RESIZE_BACKENDS))))
    if name == 'cv2' and not _cv2_available():
        raise ValueError(
            "{}='cv2' needs OpenCV: pip install opencv-python-headless, or use 'PIL' "
            "(results differ slightly from cv2's)".format(source))
    return name


def resize_backend_in_use(name):
    """The backend a resize uses now: ``name`` if given, else ChainerCV's rule
    on ``chainer.config.cv_resize_backend`` (module docstring)."""
    if name is not None:
        return name
    configured = check_resize_backend(getattr(chainer.config, 'cv_resize_backend', None),
                                      'chainer.config.cv_resize_backend')
    if configured is None:
        return 'cv2' if _cv2_available() else 'PIL'
    return configured


def _image_problem(img):
    """Why ``img`` is not a CHW RGB image, or None when it is one."""
    if not isinstance(img, np.ndarray):
        return 'is a {}, expected a numpy.ndarray'.format(type(img).__name__)
    if img.dtype == bool or img.dtype.kind not in 'uif':
        return 'has dtype {}, expected a real number type such as float32'.format(
            img.dtype)
    if img.ndim != 3:
        return 'has shape {}, expected (3, H, W) (CHW, RGB)'.format(img.shape)
    if img.shape[0] == 1:
        return ('has 1 channel (grayscale), expected 3: use '
                'np.repeat(img, 3, axis=0)')
    if img.shape[0] != 3 and img.shape[2] == 3:
        return ('has shape {} which looks like HWC, expected CHW: use '
                'img.transpose(2, 0, 1)'.format(img.shape))
    if img.shape[0] != 3 or 0 in img.shape:
        return 'has shape {}, expected (3, H, W) with H, W >= 1'.format(img.shape)
    if img.dtype.kind == 'f' and not np.isfinite(img).all():
        return ('holds NaN or Inf pixel values: the network would output NaN scores and no '
                'detection; fix the image')
    return None


def check_images(imgs):
    """Raise :class:`InputError` (a ValueError) unless ``imgs`` is a non-empty
    list/tuple of CHW RGB numpy images (or a (B, 3, H, W) array)."""
    if isinstance(imgs, np.ndarray) and imgs.ndim != 4:
        raise InputError('imgs is one array of shape {}: pass a list of (3, H, W) '
                         'images, e.g. [img]'.format(imgs.shape))
    if not isinstance(imgs, (list, tuple, np.ndarray)):
        raise InputError('imgs is a {}, expected a list of (3, H, W) numpy '
                         'images'.format(type(imgs).__name__))
    if len(imgs) == 0:
        raise InputError('imgs is empty: pass at least one (3, H, W) image')
    for i, img in enumerate(imgs):
        problem = _image_problem(img)
        if problem:
            raise InputError('image {} {}'.format(i, problem))


def prepare(img, insize, mean, resize):
    """One image -> network input.

    Args:
        img: (3, H, W) RGB numpy image, values in [0, 255].
        insize (int): side of the square network input.
        mean: float32 (3, 1, 1) RGB mean to subtract.
        resize (callable): (img, (h, w)) -> resized img.

    Returns:
        float32 (3, insize, insize).
    """
    img = resize(img.astype(np.float32), (insize, insize))
    img -= mean
    return img
