"""Attach ground truth to the images of a run, and clip its boxes.

- An annotation is matched to a run image by, in order: the same relative
  path; the same path without suffix; a unique same base name; a unique same
  stem. An annotation naming no image of the run is logged and skipped.
- Boxes are checked against the image size the run recorded (the size the
  detectors saw, EXIF orientation applied): a box partly outside the image is
  CLIPPED to ``[0, height] x [0, width]`` with a warning (a COCO ``area``
  stays as given, as pycocotools reads it); an inverted box
  (max < min) or one wholly outside the image is REJECTED with a warning.
- A stated annotation size that differs from the run's is warned about (a
  rotated EXIF image or the wrong annotation file).

Warnings are returned as strings (the score report lists them) and logged.
"""
import dataclasses
import logging
import posixpath

import numpy as np

LOG = logging.getLogger('compare.score')


def match_images(truths, run_images):
    """Pair ground truths with run images.

    Args:
        truths: list of :class:`compare.score.ground_truth.GroundTruth`.
        run_images: iterable of image paths of the run (posix, relative).

    Returns:
        ``(matched, warnings)``: ``{run image: GroundTruth}`` and a list of str.
    """
    run_images = sorted(set(run_images))
    keys = [_index(run_images, fn) for fn in (_same, _no_suffix, _basename, _stem)]
    matched, warnings = {}, []
    for truth in truths:
        image = _lookup(truth.image, keys)
        if image is None:
            warnings.append('{}: annotation for {} names no image of the run; skipped'.format(
                truth.source, truth.image))
        elif image in matched:
            warnings.append('{}: second annotation for {} (first: {}); skipped'.format(
                truth.source, image, matched[image].source))
        else:
            matched[image] = truth
    for message in warnings:
        LOG.warning(message)
    return matched, warnings


def _same(path):
    return path


def _no_suffix(path):
    return posixpath.splitext(path)[0]


def _basename(path):
    return posixpath.basename(path)


def _stem(path):
    return posixpath.splitext(posixpath.basename(path))[0]


def _index(run_images, key_fn):
    """``(key_fn, {key: image})`` keeping only keys that name one image."""
    table = {}
    for image in run_images:
        table.setdefault(key_fn(image), []).append(image)
    return key_fn, {key: found[0] for key, found in table.items() if len(found) == 1}


def _lookup(name, keys):
    for key_fn, table in keys:
        image = table.get(key_fn(name))
        if image is not None:
            return image
    return None


def clip_to_image(truth, height, width):
    """``truth`` with boxes clipped to the image, bad boxes dropped.

    Args:
        truth: :class:`compare.score.ground_truth.GroundTruth`.
        height, width: the image size the run recorded.

    Returns:
        ``(GroundTruth, warnings)``.
    """
    warnings = []
    if truth.size is not None and tuple(truth.size) != (height, width):
        warnings.append('{}: annotation says {}x{} (HxW) but the image is {}x{}; boxes '
                        'used as given'.format(truth.source, truth.size[0], truth.size[1],
                                               height, width))
    boxes = truth.boxes
    inverted = (boxes[:, 2] < boxes[:, 0]) | (boxes[:, 3] < boxes[:, 1])
    outside = ((boxes[:, 0] >= height) | (boxes[:, 1] >= width) |
               (boxes[:, 2] <= 0) | (boxes[:, 3] <= 0))
    clipped = boxes.copy()
    clipped[:, 0::2] = np.clip(clipped[:, 0::2], 0, height)
    clipped[:, 1::2] = np.clip(clipped[:, 1::2], 0, width)
    keep = ~(inverted | outside)
    for index in np.flatnonzero(~keep):
        why = 'inverted (max < min)' if inverted[index] else 'wholly outside the image'
        warnings.append('{}: object {} ({}) box {} is {}; rejected'.format(
            truth.source, index, truth.names[index], _fmt(boxes[index]), why))
    for index in np.flatnonzero(keep & np.any(clipped != boxes, axis=1)):
        warnings.append('{}: object {} ({}) box {} extends outside the {}x{} image; '
                        'clipped to {}'.format(truth.source, index, truth.names[index],
                                               _fmt(boxes[index]), height, width,
                                               _fmt(clipped[index])))
    for message in warnings:
        LOG.warning(message)
    result = dataclasses.replace(
        truth, boxes=clipped[keep], names=tuple(np.array(truth.names, object)[keep]),
        difficult=truth.difficult[keep], areas=truth.object_areas()[keep])
    return result, warnings


def _fmt(box):
    return '(' + ', '.join('%g' % v for v in box) + ')'


def attach(truths, sizes):
    """Match ``truths`` to the run images and clip them.

    Args:
        truths: list of :class:`compare.score.ground_truth.GroundTruth`.
        sizes: ``{run image: (height, width)}``.

    Returns:
        ``({run image: GroundTruth}, warnings)``.
    """
    matched, warnings = match_images(truths, sizes)
    result = {}
    for image in sorted(matched):
        result[image], more = clip_to_image(matched[image], *sizes[image])
        warnings += more
    return result, warnings
