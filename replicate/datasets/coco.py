"""COCO detection JSON: ``images`` (id, file_name), ``annotations`` (image_id,
bbox [x, y, w, h], category_id, iscrowd) and ``categories`` (id, name).

Labels are the categories in ascending id order; ``iscrowd`` boxes are marked
difficult (dropped for training, ignored by the VOC metric). Image files are
``file_name`` relative to ``image_dir`` (default: the JSON's folder).
"""
import json
import os

import numpy as np

from replicate.datasets.records import Record
from replicate.errors import UserError


def _load(path):
    try:
        with open(path, encoding='utf-8') as f:
            data = json.load(f)
        images = {image['id']: str(image['file_name']) for image in data['images']}
        categories = sorted((cat['id'], str(cat['name'])) for cat in data['categories'])
        return images, categories, list(data.get('annotations', []))
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise UserError('cannot read COCO JSON {}: {}: {} (needs images with id and '
                        'file_name, categories with id and name, annotations)'.format(
                            path, type(error).__name__, error)) from None


def _box(ann, path, index):
    try:
        x, y, w, h = (float(v) for v in ann['bbox'])
    except (KeyError, TypeError, ValueError):
        raise UserError('{}: annotation {} has no bbox [x, y, w, h] (fix the file)'.format(
            path, index)) from None
    if not np.isfinite([x, y, w, h]).all():
        raise UserError('{}: annotation {} has a non-finite bbox (fix the file)'.format(
            path, index))
    # [x, y, w, h] -> (y_min, x_min, y_max, x_max)
    return [y, x, y + h, x + w]


def read_coco(path, image_dir=None):
    """The records of a COCO JSON; (records, label_names), one record per
    image in ascending image id (images without annotations included)."""
    images, categories, annotations = _load(path)
    image_dir = os.path.dirname(os.path.abspath(path)) if image_dir is None else image_dir
    label_of = {cat_id: i for i, (cat_id, _) in enumerate(categories)}
    objects = {image_id: [] for image_id in images}
    for index, ann in enumerate(annotations):
        if ann.get('image_id') not in images or ann.get('category_id') not in label_of:
            raise UserError('{}: annotation {} names image_id {!r} / category_id {!r} that the '
                            'file does not define (fix the file)'.format(
                                path, index, ann.get('image_id'), ann.get('category_id')))
        objects[ann['image_id']].append((_box(ann, path, index), label_of[ann['category_id']],
                                         bool(ann.get('iscrowd', 0))))
    records = []
    for image_id in sorted(images):
        image = os.path.join(image_dir, images[image_id])
        if not os.path.isfile(image):
            raise UserError('{} is missing (image {} of {}): place it there or pass the image '
                            'folder with --image-dir'.format(image, image_id, path))
        found = objects[image_id]
        boxes, labels, crowd = zip(*found, strict=True) if found else ((), (), ())
        records.append(Record(image, np.array(boxes, dtype=np.float32).reshape(-1, 4),
                              np.array(labels, dtype=np.int32), np.array(crowd, dtype=bool),
                              path))
    return records, tuple(name for _, name in categories)
