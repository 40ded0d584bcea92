"""Shared by the TF Object Detection API adapter (:mod:`compare.adapters.tf_odapi`):
importing TensorFlow, finding label maps, and converting OD API outputs to the
common format.

# TF OD API emits: detection_boxes [1, N, 4] normalized [ymin, xmin, ymax, xmax]
# relative to the image FED (so scaling by the original size is exact, the
# model resizes internally), detection_classes [1, N] 1-based class ids as
# float32, detection_scores [1, N] sorted by descending score (its NMS sorts),
# num_detections [1] (float) valid rows.
"""
import hashlib
import os

import numpy as np

from compare.adapters.label_map import COCO_LABEL_MAP, read_label_map
from compare.detections import Detections
from compare.errors import UserError
from provenance.stamp import file_sha256
from replicate.errors import one_line

OUTPUT_KEYS = ('detection_boxes', 'detection_classes', 'detection_scores', 'num_detections')
INSTALL_HINT = 'install with: uv pip install tensorflow==2.20.0 (or pip install tensorflow)'


def import_tensorflow():
    """``tensorflow`` module, or UserError saying why not and how to install."""
    try:
        import tensorflow as tf
    except Exception as exc:  # ImportError, or a broken install raising anything
        raise UserError('tensorflow not importable: {}: {}; {}'.format(
            type(exc).__name__, one_line(exc), INSTALL_HINT)) from None
    return tf


def od_outputs_to_detections(boxes, classes, scores, num, size, label_names):
    """OD API outputs of ONE image -> :class:`Detections` in original pixels,
    clipped to the image (the OD API clips to its window already; this only
    removes float rounding past the border).

    Args:
        boxes: ``(N, 4)`` float, normalized ``(y_min, x_min, y_max, x_max)``.
        classes: ``(N,)`` float, 1-based class ids.
        scores: ``(N,)`` float.
        num: number of valid rows (``num_detections``).
        size: ``(H, W)`` of the image fed.
        label_names: ``{id: name}``; ids missing from it are named
            ``unlisted_id_<id>`` (visible in the outputs, never dropped).
    """
    count = int(np.asarray(num).reshape(-1)[0])
    height, width = size
    # normalized yxyx -> pixel yxyx of the original image
    pixels = np.asarray(boxes, np.float32)[:count] * np.array([height, width, height, width],
                                                               np.float32)
    labels = np.rint(np.asarray(classes)[:count]).astype(np.int32)
    names = [label_names.get(int(i), 'unlisted_id_{}'.format(int(i))) for i in labels]
    return Detections(pixels, labels, names, np.asarray(scores)[:count]).clipped(height, width)


def find_label_map(option, search_dirs, owner):
    """``(path, LabelMap)`` of the label map to use
    (:class:`compare.adapters.label_map.LabelMap`).

    Args:
        option: ``'coco'`` (the shipped COCO map), a path, or None to look
            for ``label_map.pbtxt`` in ``search_dirs``.
        owner: the model path, for the error message.
    """
    if option == 'coco':
        return COCO_LABEL_MAP, read_label_map(COCO_LABEL_MAP)
    if option:
        if not os.path.isfile(option):
            raise UserError('label map {} does not exist (given for {})'.format(option, owner))
        return os.path.abspath(option), read_label_map(option)
    for folder in search_dirs:
        candidate = os.path.join(folder, 'label_map.pbtxt')
        if os.path.isfile(candidate):
            return os.path.abspath(candidate), read_label_map(candidate)
    raise UserError('no label_map.pbtxt for {} (looked in {}); place one there or add '
                    ',labels=PATH or ,labels=coco to the detector spec'.format(
                        owner, ', '.join(search_dirs)))


def tree_sha256(path):
    """sha256 of a file, or of a folder: over sorted (relative path, file sha256)."""
    if os.path.isfile(path):
        return file_sha256(path)
    digest = hashlib.sha256()
    for root, dirs, files in os.walk(path):
        dirs.sort()
        for name in sorted(files):
            full = os.path.join(root, name)
            relative = os.path.relpath(full, path).replace(os.sep, '/')
            digest.update('{}\0{}\n'.format(relative, file_sha256(full)).encode())
    return digest.hexdigest()


def tf_runtime_info(tf):
    """Device and thread settings TensorFlow runs with."""
    intra = tf.config.threading.get_intra_op_parallelism_threads()
    inter = tf.config.threading.get_inter_op_parallelism_threads()
    devices = [d.name for d in tf.config.list_logical_devices()]
    threads = 'intra_op={} inter_op={} (0 = TF default, all {} cores)'.format(
        intra, inter, os.cpu_count())
    return ', '.join(devices) or 'unknown', threads


def slug(path):
    """Filename-safe short name from a path (its last non-generic component)."""
    parts = [p for p in os.path.normpath(path).split(os.sep) if p not in ('', '.', 'saved_model')]
    base = parts[-1] if parts else 'model'
    base = os.path.splitext(base)[0] if base.endswith('.pb') else base
    return ''.join(c if c.isalnum() or c in '-_.' else '_' for c in base)


#: The OD API's pre-NMS outputs (SSD exports): boxes normalized like
#: ``detection_boxes`` but not clipped, scores with column 0 the background.
RAW_KEYS = ('raw_detection_boxes', 'raw_detection_scores')


def call_raw(model, value):
    """Run a loaded export (``session``, ``input``, ``raw_fetches``, ``where``)
    for its pre-NMS outputs: ``{key of RAW_KEYS: numpy array}``, or UserError
    when it has none."""
    if model.raw_fetches is None:
        raise UserError('{} has no {} outputs: no candidates for --common-nms (the OD API '
                        'exports them for SSD models)'.format(model.where, ', '.join(RAW_KEYS)))
    values = model.session.run(model.raw_fetches, {model.input: value})
    return dict(zip(RAW_KEYS, values, strict=True))


def raw_to_candidates(boxes, scores, size, label_names):
    """Pre-NMS outputs of ONE image -> :class:`compare.adapters.common_nms.Candidates`.

    Args:
        boxes: ``(N, 4)`` normalized ``(y_min, x_min, y_max, x_max)``.
        scores: ``(N, C + 1)``, column 0 the background, column ``k`` label id ``k``.
        size: ``(H, W)`` of the image fed (unused: candidates stay normalized).
        label_names: ``{id: name}`` (missing ids: ``unlisted_id_<id>``).
    """
    from compare.adapters.common_nms import Candidates
    ids = tuple(range(1, np.asarray(scores).shape[1]))
    return Candidates(np.asarray(boxes, np.float64), np.asarray(scores, np.float32)[:, 1:], ids,
                      tuple(label_names.get(i, 'unlisted_id_{}'.format(i)) for i in ids))
