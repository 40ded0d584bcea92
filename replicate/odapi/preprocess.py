"""The OD API's SSD preprocessing: pixels to [-1, 1], then the
``fixed_shape_resizer`` (bilinear), in that order, as the exported graph does.

The resize is TF1's ``tf.image.resize_images`` (``align_corners=False``,
legacy ``half_pixel_centers=False``): output pixel i samples the input at
i * in / out, i.e. corners aligned at the top-left, *not* OpenCV's or PIL's
pixel-center convention. Reproduced here in float32 with TF's interpolation
order (horizontal, then vertical).
"""
import numpy as np

F32 = np.float32


def normalize(img):
    """Pixels in [0, 255] -> (2 / 255) x - 1, float32 (MobileNetV2's input range)."""
    return F32(2.0 / 255.0) * img.astype(F32) - F32(1.0)


def _weights(out_size, in_size):
    """Per output index: lower and upper source index and the lerp weight."""
    scale = F32(in_size) / F32(out_size)
    position = np.arange(out_size, dtype=F32) * scale
    lower = np.floor(position)
    upper = np.minimum(np.ceil(position).astype(np.int64), in_size - 1)
    return lower.astype(np.int64), upper, (position - lower).astype(F32)


def resize_bilinear(img, size):
    """TF1 bilinear resize of an HWC image.

    Args:
        img: float32 (H, W, C). size: (height, width) of the output.

    Returns:
        float32 (height, width, C).
    """
    y0, y1, y_lerp = _weights(size[0], img.shape[0])
    x0, x1, x_lerp = _weights(size[1], img.shape[1])
    x_lerp = x_lerp[None, :, None]
    top_left, top_right = img[y0][:, x0], img[y0][:, x1]
    bottom_left, bottom_right = img[y1][:, x0], img[y1][:, x1]
    top = top_left + (top_right - top_left) * x_lerp
    bottom = bottom_left + (bottom_right - bottom_left) * x_lerp
    return top + (bottom - top) * y_lerp[:, None, None]


def prepare(img, image_size):
    """One RGB image -> the network input.

    Args:
        img: numpy (3, H, W), values in [0, 255] (CHW, as ``predict`` takes).
        image_size ((int, int)): the resizer's (height, width).

    Returns:
        float32 (3, height, width) in [-1, 1].
    """
    # (3, H, W) -> (H, W, 3): TF's layout for the resize, and back
    hwc = normalize(img).transpose(1, 2, 0)
    return resize_bilinear(hwc, image_size).transpose(2, 0, 1).copy()
