"""The command's datasets: a VOC folder split or a COCO JSON, by path."""
import os

from replicate.datasets import DetectionDataset, read_coco, read_voc
from replicate.errors import UserError


def read_records(path, split, classes=None, image_dir=None):
    """(records, label_names) of a VOC folder's ``split`` or a COCO ``.json``."""
    if path.lower().endswith('.json'):
        if not os.path.isfile(path):
            raise UserError('{} not found: pass a COCO annotation JSON or a VOC folder'.format(
                path))
        records, names = read_coco(path, image_dir)
        if classes and tuple(classes) != names:
            raise UserError('--classes {} differ from the categories of {} ({}): leave '
                            '--classes out for COCO files'.format(
                                ','.join(classes), path, ','.join(names)))
        return records, names
    if not os.path.isdir(path):
        raise UserError('{} not found: pass a Pascal VOC folder (Annotations/, JPEGImages/, '
                        'ImageSets/Main/) or a COCO .json'.format(path))
    return read_voc(path, split, classes)


def load_dataset(path, split, classes=None, image_dir=None, evaluation=False):
    """A :class:`DetectionDataset`; for evaluation it keeps difficult boxes
    and returns their flags."""
    records, names = read_records(path, split, classes, image_dir)
    if not records:
        raise UserError('{} (split {!r}) has no images: pass a split with images'.format(
            path, split))
    return DetectionDataset(records, names, use_difficult=evaluation,
                            return_difficult=evaluation)
