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
  COCO metric gets them back as crowd regions, ``iscrowd=1``, which
  pycocotools ignores and matches by intersection over the detection's
  area); ``area`` is kept as given (``areas``, NaN where absent): the COCO
  metric's small/medium/large ranges use it as pycocotools does, the box's
  ``w * h`` only where the field is absent (docs/scoring.md). ``image_id``
  is kept (``image_id``) for the COCO export. Every field used is checked:
  a malformed one is a one-line :class:`~compare.errors.UserError` naming the
  file and the field (``annotations[3].bbox``).

Files are bounded by :mod:`compare.limits` (size of one XML or JSON file,
objects per image), checked before they are parsed or used.

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
from compare.jsonnumbers import is_finite_number
from compare.limits import MAX_JSON_BYTES, MAX_OBJECTS_PER_IMAGE, MAX_XML_BYTES, mib
from replicate.errors import one_line

#: ``--annotations none``: no mAP, and no annotations looked up beside the images.
NO_ANNOTATIONS = 'none'
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
        areas: ``(K,)`` float64, COCO ``area`` of each object (NaN where the
            file gives none; all NaN for VOC XML), or None (= all NaN).
        image_id: the COCO ``images[].id`` (None for VOC XML).
    """
    image: str
    boxes: np.ndarray
    names: tuple
    difficult: np.ndarray
    size: tuple
    source: str
    areas: np.ndarray = None
    image_id: object = None

    def object_areas(self):
        """``(K,)`` float64: :attr:`areas`, NaN where unknown."""
        if self.areas is None:
            return np.full(len(self.boxes), np.nan)
        return np.asarray(self.areas, np.float64).reshape(-1)


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


def read_limited(path, limit, what):
    """The bytes of the annotation file ``path``, at most ``limit`` of them.

    Raises:
        UserError: unreadable, not a regular file, or larger than ``limit``.
    """
    try:
        if not os.path.isfile(path):
            raise UserError('{} {} is not a regular file'.format(what, path))
        if os.path.getsize(path) > limit:
            raise UserError('{} {} is larger than {} (the limit); split it or pass '
                            '--annotations none'.format(what, path, mib(limit)))
        with open(path, 'rb') as f:
            return f.read(limit + 1)
    except OSError as exc:
        raise UserError('cannot read {} {}: {}'.format(what, path, exc.strerror)) from None


def parse_xml_safely(path):
    """Root element of ``path``; malformed, dangerous or too large XML ->
    :class:`UserError`."""
    data = read_limited(path, MAX_XML_BYTES, 'XML annotation')
    try:
        return defusedxml.ElementTree.fromstring(data, forbid_dtd=False)
    except defusedxml.DefusedXmlException as exc:
        raise UserError('refused unsafe XML in {}: {} (entity declarations, external '
                        'entities and DTD fetches are not allowed)'.format(
                            path, type(exc).__name__)) from None
    except (ElementTree.ParseError, ValueError, LookupError, RecursionError) as exc:
        raise UserError('malformed XML in {}: {} (fix or remove the file)'.format(
            path, one_line(exc)[:200])) from None


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
    objects = list(root.iter('object'))
    if len(objects) > MAX_OBJECTS_PER_IMAGE:
        raise UserError('{}: {} objects, more than the limit of {} per image'.format(
            path, len(objects), MAX_OBJECTS_PER_IMAGE))
    for index, obj in enumerate(objects):
        names.append(_required_text(obj, 'name', path, index))
        difficult.append(_number(obj.findtext('difficult') or '0', path, index,
                                 'difficult') != 0)
        box = obj.find('bndbox')
        if box is None:
            raise UserError('{}: object {} has no <bndbox> (add one or remove the object)'
                            .format(path, index))
        coords = [_number(_required_text(box, key, path, index), path, index, key)
                  for key in ('ymin', 'xmin', 'ymax', 'xmax')]
        if coords[0] > coords[2] or coords[1] > coords[3]:
            raise UserError('{}: object {} has ymin {:g} > ymax {:g} or xmin {:g} > xmax {:g}; '
                            'fix its <bndbox> (or remove the object)'.format(
                                path, index, coords[0], coords[2], coords[1], coords[3]))
        # shift -1: VOC 1-based pixel indices -> 0-based (as ChainerCV's VOCBboxDataset)
        boxes.append([value + shift for value in coords])
    return GroundTruth(image, _box_array(boxes), tuple(names), np.array(difficult, bool),
                       _voc_size(root, path), path)


def _voc_size(root, path):
    """``(height, width)`` of ``<size>``, or None when absent or zero."""
    size = root.find('size')
    if size is None:
        return None
    height = _number(size.findtext('height') or '0', path, 'size', 'height')
    width = _number(size.findtext('width') or '0', path, 'size', 'width')
    return (int(height), int(width)) if height > 0 and width > 0 else None


def _required_text(element, key, path, index):
    text = element.findtext(key)
    if text is None or not text.strip():
        raise UserError('{}: object {} has no <{}> (fix the annotation)'.format(
            path, index, key))
    return text.strip()


def _number(text, path, where, field):
    """``float(text)`` of ``<field>`` of object ``where``; UserError naming both."""
    try:
        value = float(text)
    except (ValueError, TypeError):
        raise UserError('{}: object {}: <{}> {!r} is not a number (fix the annotation)'.format(
            path, where, field, str(text)[:50])) from None
    if not np.isfinite(value):
        raise UserError('{}: object {}: <{}> {!r} is not finite (fix the annotation)'.format(
            path, where, field, text))
    return value


def _box_array(boxes):
    """List of 4-lists -> ``(K, 4)`` float32 (also for K = 0)."""
    # (K*4,) -> (K, 4), keeps K = 0 two-dimensional
    return np.array(boxes, dtype=np.float32).reshape(-1, 4)


def read_coco_json(path):
    """A COCO detection JSON -> ``(ground_truths, vocabulary)``.

    One :class:`GroundTruth` per entry of ``images`` (images without
    annotations included: they count for false positives).

    Raises:
        UserError: naming the file and the field, for a file that is not
            JSON, too large or too deep, a missing or malformed field, an
            ``image_id`` or ``category_id`` the file does not define, a
            repeated id (of an image, a category or an annotation; an
            annotation without ``id`` is read, as nothing here needs it).
    """
    data = _json(path)
    images, first, names = {}, {}, {}
    for k, image in enumerate(_entries(data, 'images', path)):
        where = 'images[{}]'.format(k)
        image_id = _coco_id(image, 'id', where, path, first)
        file_name = _coco_text(image, 'file_name', where, path)
        if file_name in names:
            raise UserError('{}: {}.file_name {!r} is also images[{}]\'s (ids {!r} and {!r}): '
                            'one image file, two entries, whose objects would be split; merge '
                            'them into one (fix the annotation file)'.format(
                                path, where, file_name[:80], names[file_name][0],
                                names[file_name][1], image_id))
        names[file_name] = (k, image_id)
        images[image_id] = {'file_name': file_name, 'size': _coco_size(image, where, path)}
    categories, first = {}, {}
    for k, category in enumerate(_entries(data, 'categories', path)):
        where = 'categories[{}]'.format(k)
        categories[_coco_id(category, 'id', where, path, first)] = _coco_text(
            category, 'name', where, path)
    objects = {image_id: [] for image_id in images}
    first = {}
    for k, ann in enumerate(_entries(data, 'annotations', path, required=False)):
        where = 'annotations[{}]'.format(k)
        if ann.get('id') is not None:  # pycocotools indexes by it: a repeat counts twice
            _coco_id(ann, 'id', where, path, first)
        for key, known in (('image_id', images), ('category_id', categories)):
            value = _coco_field(ann, key, where, path)
            if isinstance(value, bool) or not isinstance(value, (int, str)) or value not in known:
                raise UserError('{}: {}.{} is {!r}, which the file does not define (fix the '
                                'annotation file)'.format(path, where, key, ann[key]))
        found = objects[ann['image_id']]
        if len(found) == MAX_OBJECTS_PER_IMAGE:
            raise UserError('{}: image_id {!r} has more than the limit of {} objects'.format(
                path, ann['image_id'], MAX_OBJECTS_PER_IMAGE))
        found.append((_coco_bbox(ann, where, path), categories[ann['category_id']],
                      _coco_crowd(ann, where, path), _coco_area(ann, where, path)))
    truths = [_coco_truth(image_id, images[image_id], objects[image_id], path)
              for image_id in sorted(images, key=str)]
    vocabulary = tuple(categories[cat_id] for cat_id in sorted(categories, key=str))
    return truths, vocabulary


def read_coco_index(path):
    """``(images, categories)`` of a COCO JSON: ``{id: file_name}`` and
    ``{id: name}`` (the export and the ``file`` detector kind map ids with
    them), validated as :func:`read_coco_json` validates them (ids unique,
    names non-empty); ``annotations`` are not read."""
    data = _json(path)
    images, categories = {}, {}
    for key, found, field in (('images', images, 'file_name'),
                              ('categories', categories, 'name')):
        first = {}
        for k, item in enumerate(_entries(data, key, path)):
            where = '{}[{}]'.format(key, k)
            found[_coco_id(item, 'id', where, path, first)] = _coco_text(item, field, where, path)
    return images, categories


def _json(path):
    data = read_limited(path, MAX_JSON_BYTES, 'COCO JSON')
    try:
        data = json.loads(data.decode('utf-8'))
    except (ValueError, RecursionError) as exc:
        raise UserError('malformed COCO JSON {}: {}: {} (needs images, categories and '
                        'annotations)'.format(path, type(exc).__name__,
                                              one_line(exc)[:200])) from None
    if not isinstance(data, dict):
        raise UserError('{}: the top level is a {}, expected a COCO object with images, '
                        'categories and annotations'.format(path, type(data).__name__))
    return data


def _entries(data, key, path, required=True):
    """``data[key]``: a list of objects."""
    if key not in data and not required:
        return []
    value = _coco_field(data, key, 'the top level', path)
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise UserError('{}: {} is not a list of objects (fix the annotation file)'.format(
            path, key))
    return value


def _coco_field(entry, key, where, path):
    if key not in entry or entry[key] is None:
        raise UserError('{}: {} has no {} (fix the annotation file)'.format(
            path, where if where != 'the top level' else 'the file', key))
    return entry[key]


def _coco_id(entry, key, where, path, first):
    """``entry[key]``, an id not seen before; ``first`` maps the ids seen to
    where they were (``images[0]``) and gets this one."""
    value = _coco_field(entry, key, where, path)
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise UserError('{}: {}.{} is {}, expected an integer id (fix the annotation '
                        'file)'.format(path, where, key, repr(value)[:50]))
    if value in first:
        raise UserError('{}: {}.{} {!r} appears twice (first at {}): ids must be unique, or '
                        'one object is counted twice and one entry hides another; give it its '
                        'own id or remove the copy (fix the annotation file)'.format(
                            path, where, key, value, first[value]))
    first[value] = where
    return value


def _coco_text(entry, key, where, path):
    value = _coco_field(entry, key, where, path)
    if not isinstance(value, str) or not value:
        raise UserError('{}: {}.{} is {!r}, expected a non-empty string'.format(
            path, where, key, value))
    return value


def _positive(value):
    return is_finite_number(value) and value > 0


def _coco_size(image, where, path):
    """``(height, width)`` if stated (both positive numbers), else None."""
    if image.get('height') is None and image.get('width') is None:
        return None
    if not (_positive(image.get('height')) and _positive(image.get('width'))):
        raise UserError('{}: {}.height / width are {!r} / {!r}, expected positive numbers'
                        .format(path, where, image.get('height'), image.get('width')))
    return int(image['height']), int(image['width'])


def _coco_bbox(ann, where, path):
    """``[x, y, w, h]`` -> ``[y_min, x_min, y_max, x_max]``."""
    box = _coco_field(ann, 'bbox', where, path)
    if not isinstance(box, list) or len(box) != 4 or not all(is_finite_number(v) for v in box):
        raise UserError('{}: {}.bbox is {}, expected [x, y, width, height]: 4 finite numbers '
                        '(fix the annotation file)'.format(path, where, str(box)[:80]))
    x, y, w, h = (float(v) for v in box)
    if w < 0 or h < 0:  # zero is kept, as pycocotools keeps it (it never matches)
        raise UserError('{}: {}.bbox {} has a negative width or height; COCO boxes are [x, y, '
                        'width, height] (fix the annotation file)'.format(path, where,
                                                                          str(box)[:80]))
    # COCO [x, y, w, h] -> (y_min, x_min, y_max, x_max)
    return [y, x, y + h, x + w]


def _coco_crowd(ann, where, path):
    crowd = ann.get('iscrowd', 0)
    if crowd not in (0, 1, True, False):
        raise UserError('{}: {}.iscrowd is {!r}, expected 0 or 1'.format(path, where, crowd))
    return bool(crowd)


def _coco_area(ann, where, path):
    """``area`` as a float, NaN when absent; a present one must be a finite
    number >= 0 (pycocotools compares it with the area ranges)."""
    if ann.get('area') is None:
        return float('nan')
    area = ann['area']
    if not is_finite_number(area) or area < 0:
        raise UserError('{}: {}.area is {!r}, expected a finite number >= 0 (or no area: '
                        'the box area is used)'.format(path, where, str(area)[:50]))
    return float(area)


def _coco_truth(image_id, image, objects, path):
    """One :class:`GroundTruth` from an image entry and its ``(box, name, crowd, area)``."""
    return GroundTruth(image['file_name'], _box_array([box for box, _, _, _ in objects]),
                       tuple(name for _, name, _, _ in objects),
                       np.array([crowd for _, _, crowd, _ in objects], bool), image['size'], path,
                       np.array([area for _, _, _, area in objects], np.float64), image_id)
