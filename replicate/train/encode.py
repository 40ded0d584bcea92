"""One training sample -> network input and loss targets (no augmentation)."""
import numpy as np

from replicate.errors import InputError
from replicate.ssd.preprocess import check_images


def check_boxes(bbox, label, n_fg_class):
    """Raise InputError unless bbox is (R, 4) and label (R,) in [0, n_fg_class)."""
    if bbox.ndim != 2 or bbox.shape[1] != 4:
        raise InputError('bbox has shape {}, expected (R, 4) (y_min, x_min, '
                         'y_max, x_max)'.format(bbox.shape))
    if label.shape != (len(bbox),):
        raise InputError('label has shape {}, expected ({},), one per box'.format(
            label.shape, len(bbox)))
    if len(label) and (label.min() < 0 or label.max() >= n_fg_class):
        raise InputError('labels must lie in [0, {}), got {}..{}'.format(
            n_fg_class, label.min(), label.max()))


def encode_sample(model, img, bbox, label):
    """One training sample -> network input and loss targets.

    Args:
        model: an :class:`replicate.SSD` (SSD300: insize 300, K = 8732).
        img: numpy (3, H, W) RGB image, values in [0, 255].
        bbox: float (R, 4) boxes (y_min, x_min, y_max, x_max) in ``img``'s
            pixels; R may be 0.
        label: int (R,) classes in [0, n_fg_class).

    Returns:
        (x, gt_mb_loc, gt_mb_label): float32 (3, insize, insize) prepared
        exactly as :meth:`SSD.predict` prepares images (resize, minus mean),
        float32 (K, 4) offsets (dy, dx, dh, dw) and int32 (K,) labels
        (0 = background), from ``model.coder.encode`` on the model's device.

    Raises:
        replicate.errors.InputError: bad image, boxes or labels.
    """
    check_images([img])
    bbox = np.asarray(bbox, dtype=np.float32)
    label = np.asarray(label, dtype=np.int32)
    check_boxes(bbox, label, model.n_fg_class)
    height, width = img.shape[1:]
    # image pixels -> insize x insize input pixels, the frame the coder uses
    scale = np.array([model.insize / height, model.insize / width] * 2, np.float32)
    gt_mb_loc, gt_mb_label = model.coder.encode(
        model.device.send(bbox * scale), model.device.send(label))
    return model.device.send(model._prepare(img)), gt_mb_loc, gt_mb_label
