"""Ground truth from a Pascal VOC XML folder or a COCO JSON file.

Everything is converted to :class:`GroundTruth`: boxes ``(K, 4)`` float32
``(y_min, x_min, y_max, x_max)``, 0-based pixels of the image.

- VOC XML (``<object><name>, <difficult>, <bndbox>``): VOC pixel indices are
  1-based, so by default 1 is subtracted from every coordinate, as ChainerCV's
  ``VOCBboxDataset`` does (the ChainerCV evaluator later adds +1 to the max
  coordinates: integer pixel convention); ``--box-convention odapi`` keeps
  them as written, as the OD API does (``voc_shift`` here, see
  :mod:`compare.score.conventions`). XML is parsed with ``defusedxml``:
  entity declarations (billion laughs), external entities and DTD fetches are
  refused with a one-line :class:`~compare.errors.UserError` naming the file.
- COCO JSON: ``bbox`` ``[x, y, w, h]`` -> ``(y, x, y + h, x + w)``;
  ``iscrowd`` boxes are marked ``difficult`` (ignored by the VOC metric; the
  COCO metric gets them back as crowd regions).

Matching annotations to the run's images and clipping boxes to the image
lives in :mod:`compare.score.attach`.
"""
import dataclasses
import json
import os
import xml.etree.ElementTree as ElementTree

import defusedxml
import defusedxml.ElementTree
import numpy as np

from compare.errors import UserError

#: File name of a COCO annotation file found beside the images.
COCO_FILE = 'annotations.json'
#: Folder name of VOC XML annotations found beside (or above) the images.
VOC_FOLDER = 'Annotations'


@dataclasses.dataclass(frozen=True)
class GroundTruth:
    """The annotated objects of one image.

    Attributes:
        image: the image as the annotation names it (posix path, relative to
            the annotation root; for VOC the ``<filename>`` or the XML stem).
        boxes: ``(K, 4)`` float32, ``(y_min, x_min, y_max, x_max)``, 0-based.
        names: ``K`` class names in the annotation's own vocabulary.
        difficult: ``(K,)`` bool, VOC ``difficult`` or COCO ``iscrowd``.
        size: ``(height, width)`` the annotation states, or None.
        source: the file the annotation came from (for messages).
    """
    image: str
    boxes: np.ndarray
    names: tuple
    difficult: np.ndarray
    size: tuple
    source: str


def find_annotations(images_dir):
    """Path of the annotations that belong to ``images_dir``, or None.

    Looked for, in order: ``<images>/annotations.json`` (COCO),
    ``<images>/Annotations/`` and ``<images>/../Annotations/`` (VOC layout
    with ``JPEGImages/`` beside it), then ``*.xml`` anywhere under
    ``<images>`` (XML beside the images).
    """
    candidates = [os.path.join(images_dir, COCO_FILE), os.path.join(images_dir, VOC_FOLDER),
                  os.path.join(os.path.dirname(os.path.abspath(images_dir)), VOC_FOLDER)]
    for path in candidates:
        if os.path.exists(path):
            return path
    if _xml_files(images_dir):
        return images_dir
    return None


def annotation_format(path):
    """``'voc'`` (an XML file or a folder of them) or ``'coco'`` (a JSON file)."""
    return 'voc' if os.path.isdir(path) or path.lower().endswith('.xml') else 'coco'


def load_annotations(path, voc_shift=-1.0):
    """Read ``path`` (a COCO ``.json`` file, a VOC ``.xml`` file or a folder of them).

    Args:
        voc_shift: added to every VOC XML coordinate (-1: 0-based pixels, as
            ChainerCV; 0: as written, as the OD API).

    Returns:
        ``(ground_truths, vocabulary)``: list of :class:`GroundTruth`, and the
        tuple of class names the annotation defines (COCO categories in id
        order; VOC: the sorted names that occur).

    Raises:
        UserError: missing path, malformed XML/JSON, bad coordinates.
    """
    if not os.path.exists(path):
        raise UserError('annotations not found: {} (pass an existing VOC folder or COCO '
                        '.json with --annotations)'.format(path))
    if os.path.isdir(path):
        files = _xml_files(path)
        if not files:
            raise UserError('no *.xml annotations under {} (pass a VOC Annotations folder '
                            'or a COCO .json)'.format(path))
        truths = [read_voc_xml(os.path.join(path, rel), rel, voc_shift) for rel in files]
    elif path.lower().endswith('.xml'):
        truths = [read_voc_xml(path, os.path.basename(path), voc_shift)]
    else:
        return read_coco_json(path)
    vocabulary = tuple(sorted({name for truth in truths for name in truth.names}))
    return truths, vocabulary


def _xml_files(folder):
    """Sorted posix paths of ``*.xml`` files under ``folder``, relative to it."""
    found = []
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        rel_root = os.path.relpath(root, folder)
        found += [os.path.normpath(os.path.join(rel_root, f)).replace(os.sep, '/')
                  for f in files if f.lower().endswith('.xml')]
    return sorted(found)


def parse_xml_safely(path):
    """Root element of ``path``; malformed or dangerous XML -> :class:`UserError`."""
    try:
        return defusedxml.ElementTree.parse(path, forbid_dtd=False).getroot()
    except defusedxml.DefusedXmlException as exc:
        raise UserError('refused unsafe XML in {}: {} (entity declarations, external '
                        'entities and DTD fetches are not allowed)'.format(
                            path, type(exc).__name__)) from None
    except ElementTree.ParseError as exc:
        raise UserError('malformed XML in {}: {} (fix or remove the file)'.format(
            path, exc)) from None


def read_voc_xml(path, rel, shift=-1.0):
    """One VOC XML file -> :class:`GroundTruth` (see the module docstring).

    Args:
        path: the file.
        rel: its posix path relative to the annotation root; the image key is
            ``<folder of rel>/<filename>`` (or the stem of ``rel`` without a
            ``<filename>`` element).
        shift: added to every coordinate (-1: VOC 1-based -> 0-based).
    """
    root = parse_xml_safely(path)
    if root.tag != 'annotation':
        raise UserError('{}: root element is <{}>, expected <annotation> (not a VOC '
                        'annotation file)'.format(path, root.tag))
    filename = (root.findtext('filename') or '').strip()
    folder = os.path.dirname(rel)
    image = filename if filename else os.path.splitext(os.path.basename(rel))[0]
    image = '/'.join(p for p in (folder, image) if p)
    boxes, names, difficult = [], [], []
    for index, obj in enumerate(root.iter('object')):
        names.append(_required_text(obj, 'name', path, index))
        difficult.append(_number(obj.findtext('difficult') or '0', path, index) != 0)
        box = obj.find('bndbox')
        if box is None:
            raise UserError('{}: object {} has no <bndbox> (add one or remove the object)'
                            .format(path, index))
        coords = [_number(_required_text(box, key, path, index), path, index)
                  for key in ('ymin', 'xmin', 'ymax', 'xmax')]
        # shift -1: VOC 1-based pixel indices -> 0-based (as ChainerCV's VOCBboxDataset)
        boxes.append([value + shift for value in coords])
    return GroundTruth(image, _box_array(boxes), tuple(names), np.array(difficult, bool),
                       _voc_size(root, path), path)


def _voc_size(root, path):
    """``(height, width)`` of ``<size>``, or None when absent or zero."""
    size = root.find('size')
    if size is None:
        return None
    height = _number(size.findtext('height') or '0', path, 'size')
    width = _number(size.findtext('width') or '0', path, 'size')
    return (int(height), int(width)) if height > 0 and width > 0 else None


def _required_text(element, key, path, index):
    text = element.findtext(key)
    if text is None or not text.strip():
        raise UserError('{}: object {} has no <{}> (fix the annotation)'.format(
            path, index, key))
    return text.strip()


def _number(text, path, where):
    try:
        value = float(text)
    except ValueError:
        raise UserError('{}: object {}: {!r} is not a number (fix the annotation)'.format(
            path, where, text)) from None
    if not np.isfinite(value):
        raise UserError('{}: object {}: {!r} is not finite (fix the annotation)'.format(
            path, where, text))
    return value


def _box_array(boxes):
    """List of 4-lists -> ``(K, 4)`` float32 (also for K = 0)."""
    # (K*4,) -> (K, 4), keeps K = 0 two-dimensional
    return np.array(boxes, dtype=np.float32).reshape(-1, 4)


def read_coco_json(path):
    """A COCO detection JSON -> ``(ground_truths, vocabulary)``.

    One :class:`GroundTruth` per entry of ``images`` (images without
    annotations included: they count for false positives). Annotations of an
    unknown ``image_id`` or ``category_id`` raise :class:`UserError`.
    """
    try:
        with open(path, encoding='utf-8') as f:
            data = json.load(f)
        images = {img['id']: img for img in data['images']}
        categories = {cat['id']: str(cat['name']) for cat in data['categories']}
        annotations = data.get('annotations', [])
    except (ValueError, KeyError, TypeError) as exc:
        raise UserError('malformed COCO JSON {}: {}: {} (needs images, categories and '
                        'annotations)'.format(path, type(exc).__name__, exc)) from None
    objects = {image_id: [] for image_id in images}
    for index, ann in enumerate(annotations):
        if ann.get('image_id') not in images or ann.get('category_id') not in categories:
            raise UserError('{}: annotation {} names image_id {!r} / category_id {!r} that '
                            'the file does not define'.format(
                                path, index, ann.get('image_id'), ann.get('category_id')))
        objects[ann['image_id']].append(ann)
    truths = [_coco_truth(images[image_id], objects[image_id], categories, path)
              for image_id in sorted(images)]
    vocabulary = tuple(categories[cat_id] for cat_id in sorted(categories))
    return truths, vocabulary


def _coco_truth(image, anns, categories, path):
    boxes = []
    for ann in anns:
        x, y, w, h = [_number(v, path, ann.get('id')) for v in ann['bbox']]
        # COCO [x, y, w, h] -> (y_min, x_min, y_max, x_max)
        boxes.append([y, x, y + h, x + w])
    size = (int(image['height']), int(image['width'])) if 'height' in image else None
    return GroundTruth(str(image['file_name']), _box_array(boxes),
                       tuple(categories[ann['category_id']] for ann in anns),
                       np.array([bool(ann.get('iscrowd', 0)) for ann in anns], bool),
                       size, path)
