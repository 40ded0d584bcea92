"""Pascal VOC folders (ChainerCV's ``VOCBboxDataset`` layout), read and written.

Layout under ``root``: ``ImageSets/Main/<split>.txt`` (one image id a line),
``Annotations/<id>.xml`` and ``JPEGImages/<id>.jpg``. Class names: the
``label_names.txt`` beside them (one a line, the order gives the labels) when
present, else VOC's 20 classes, or as given.

VOC pixel indices are 1-based: 1 is subtracted from every coordinate, as
ChainerCV's ``VOCBboxDataset`` does (and :func:`write_voc` adds it back).
XML is parsed with ``defusedxml`` (no entities, no DTD fetches).
"""
import os
import xml.etree.ElementTree as ElementTree

import defusedxml
import defusedxml.ElementTree
import numpy as np

from replicate.datasets.records import Record
from replicate.errors import UserError

#: ChainerCV's ``voc_bbox_label_names``.
VOC_LABEL_NAMES = (
    'aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus', 'car', 'cat', 'chair', 'cow',
    'diningtable', 'dog', 'horse', 'motorbike', 'person', 'pottedplant', 'sheep', 'sofa',
    'train', 'tvmonitor')
LABEL_FILE = 'label_names.txt'


def _split_ids(root, split):
    path = os.path.join(root, 'ImageSets', 'Main', split + '.txt')
    if not os.path.isfile(path):
        folder = os.path.join(root, 'ImageSets', 'Main')
        found = sorted(f[:-4] for f in os.listdir(folder) if f.endswith('.txt')) \
            if os.path.isdir(folder) else []
        raise UserError('{} not found: pass a split that exists ({}) or a VOC folder with '
                        'ImageSets/Main/'.format(path, ', '.join(found) or 'none found'))
    with open(path, encoding='utf-8') as f:
        return [line.split()[0] for line in f if line.strip()]


def read_label_names(root):
    """The names in ``root/label_names.txt``, else VOC's 20."""
    path = os.path.join(root, LABEL_FILE)
    if not os.path.isfile(path):
        return VOC_LABEL_NAMES
    with open(path, encoding='utf-8') as f:
        names = tuple(line.strip() for line in f if line.strip())
    if not names or len(set(names)) != len(names):
        raise UserError('{}: needs distinct class names, one a line (fix the file)'.format(path))
    return names


def _parse(path):
    try:
        return defusedxml.ElementTree.parse(path, forbid_dtd=True).getroot()
    except defusedxml.DefusedXmlException as error:
        raise UserError('refused unsafe XML in {}: {} (remove entity declarations / DTDs)'
                        .format(path, type(error).__name__)) from None
    except (ElementTree.ParseError, OSError) as error:
        raise UserError('cannot read annotation {}: {} (fix or regenerate it)'.format(
            path, error)) from None


def _number(obj, key, path, index):
    text = obj.findtext('bndbox/' + key)
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise UserError('{}: object {} has no numeric <bndbox><{}> (fix the annotation)'
                        .format(path, index, key)) from None
    if not np.isfinite(value):
        raise UserError('{}: object {}: <{}> is {} (fix the annotation)'.format(
            path, index, key, text))
    return value


def read_voc_annotation(path, label_names):
    """One ``Annotations/<id>.xml`` -> (bbox, label, difficult) arrays."""
    root = _parse(path)
    index_of = {name: i for i, name in enumerate(label_names)}
    bbox, label, difficult = [], [], []
    for i, obj in enumerate(root.iter('object')):
        name = (obj.findtext('name') or '').strip()
        if name not in index_of:
            raise UserError('{}: object {} has class {!r}, not among the {} classes ({}); '
                            'list it in {} or pass --classes'.format(
                                path, i, name, len(label_names),
                                ', '.join(label_names[:5]) + (', ...' if len(label_names) > 5
                                                              else ''), LABEL_FILE))
        # 1-based VOC pixel indices -> 0-based, (y_min, x_min, y_max, x_max)
        bbox.append([_number(obj, key, path, i) - 1 for key in ('ymin', 'xmin', 'ymax', 'xmax')])
        label.append(index_of[name])
        difficult.append((obj.findtext('difficult') or '0').strip() not in ('0', ''))
    return (np.array(bbox, dtype=np.float32).reshape(-1, 4), np.array(label, dtype=np.int32),
            np.array(difficult, dtype=bool))


def read_voc(root, split, label_names=None):
    """The records of one split of a VOC folder.

    Returns:
        (records, label_names): list of :class:`Record`, tuple of str.

    Raises:
        UserError: missing split, annotation or image; malformed XML; an
            unknown class name.
    """
    if not os.path.isdir(os.path.join(root, 'Annotations')):
        raise UserError('{} is not a Pascal VOC folder (no Annotations/ inside): pass the '
                        'folder holding Annotations/, JPEGImages/ and ImageSets/'.format(root))
    label_names = tuple(label_names) if label_names else read_label_names(root)
    records = []
    for image_id in _split_ids(root, split):
        xml = os.path.join(root, 'Annotations', image_id + '.xml')
        image = os.path.join(root, 'JPEGImages', image_id + '.jpg')
        if not os.path.isfile(image):
            raise UserError('{} is missing (listed in split {!r} of {}): add it or remove the '
                            'id from ImageSets/Main/{}.txt'.format(image, split, root, split))
        records.append(Record(image, *read_voc_annotation(xml, label_names), xml))
    return records, label_names


def _element(parent, tag, text=None):
    child = ElementTree.SubElement(parent, tag)
    if text is not None:
        child.text = str(text)
    return child


def write_voc_annotation(path, filename, size, bbox, label, label_names):
    """Write one VOC XML: ``size`` (H, W), 0-based float boxes rounded to
    integer pixels and written 1-based."""
    root = ElementTree.Element('annotation')
    _element(root, 'filename', filename)
    size_el = _element(root, 'size')
    for tag, value in (('width', size[1]), ('height', size[0]), ('depth', 3)):
        _element(size_el, tag, value)
    for box, l in zip(np.round(bbox).astype(int), label, strict=True):
        obj = _element(root, 'object')
        _element(obj, 'name', label_names[l])
        _element(obj, 'difficult', 0)
        box_el = _element(obj, 'bndbox')
        for tag, value in zip(('ymin', 'xmin', 'ymax', 'xmax'), box, strict=True):
            _element(box_el, tag, value + 1)
    ElementTree.indent(root)
    ElementTree.ElementTree(root).write(path, encoding='utf-8', xml_declaration=True)


def write_voc(root, splits, label_names):
    """Create the folder skeleton and the split lists and class names.

    Args:
        splits: dict split name -> list of image ids.
    """
    os.makedirs(os.path.join(root, 'ImageSets', 'Main'), exist_ok=True)
    os.makedirs(os.path.join(root, 'Annotations'), exist_ok=True)
    os.makedirs(os.path.join(root, 'JPEGImages'), exist_ok=True)
    for split, ids in splits.items():
        with open(os.path.join(root, 'ImageSets', 'Main', split + '.txt'), 'w') as f:
            f.writelines(image_id + '\n' for image_id in ids)
    with open(os.path.join(root, LABEL_FILE), 'w') as f:
        f.writelines(name + '\n' for name in label_names)
