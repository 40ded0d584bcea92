"""Detections made elsewhere, from a COCO results JSON: kind ``file``.

``file:RESULTS.json,images=COCO.json`` reads a COCO detection results file
(``[{"image_id", "category_id", "bbox": [x, y, w, h], "score"}, ...]``, what
pycocotools' ``loadRes`` takes and detectron2, mmdetection, YOLO exporters
and ``python -m compare.export --coco`` write) with the COCO JSON that
defines its ids: ``images[].id`` -> ``file_name`` and ``categories[].id`` ->
``name`` (the annotation file itself, or the ``ground_truth.json`` the
export writes for VOC ground truth). The detections join a comparison as a
detector: scored, compared, resumed like any other.

# A COCO results file: boxes [x, y, w, h] in pixels of the image as the
# producer read it, category ids of the images file, scores as written (in [0, 1]).
# Here: (y, x, y + h, x + w), clipped to the image (as every adapter clips),
# labels = the category's position among the file's categories sorted by
# id, names = the categories' names, ordered by descending score.

Images are matched to ``file_name`` by the rules scoring uses for
annotations (:mod:`compare.score.attach`): the same relative path, else
the same path without suffix, a unique base name, a unique stem. An image of
the run that the images file does not list fails the detector (its status
says which; the file cannot speak for it); one listed without detections has
none.

The detector's classes are every category of the images file, or those
``classes=NAME+NAME`` names (by canonical name; a detector of fewer classes than the ground
truth: ``python -m compare.export`` writes this option for each such
detector in ``detectors.json``); detections of other categories are then
left out and counted (``detections_outside_classes`` in meta.json).

The file is untrusted: read once, at most :data:`compare.limits.MAX_JSON_BYTES`,
every field used checked (a one-line :class:`~compare.errors.UserError`
naming the file and the entry, ``[12].bbox``), at most
:data:`compare.limits.MAX_OBJECTS_PER_IMAGE` detections per image, never
executed or unpickled. Identity (:mod:`compare.rundir.identity`): the SHA-256 of the
results file's bytes (``weights_sha256``) and of the images file
(``images_sha256``), and the vocabulary: a run folder resumes this detector
only on the same two files, and ``--force`` is needed otherwise, as for a
model whose weights changed. Not benchmarked (``timed = False``): reading a
file says nothing about a model's speed.
"""
import collections
import hashlib
import json
import os
import posixpath

import numpy as np

from compare.adapters.protocol import StageTimer
from compare.detections import Detections, DetectorInfo, Prediction
from compare.errors import UserError
from compare.jsonnumbers import is_finite_number
from compare.limits import MAX_JSON_BYTES, MAX_OBJECTS_PER_IMAGE, mib
from compare.paths import display_path
from compare.score.classes import canonical
from replicate.errors import one_line

FORMAT = 'COCO results JSON'
#: Joins the names of ``classes=`` (``,`` separates a spec's options).
CLASS_SEPARATOR = '+'


def read_bytes(path, what):
    """The bytes of ``path`` (at most :data:`MAX_JSON_BYTES`), one read."""
    try:
        if not os.path.isfile(path):
            raise UserError('{} {} is not a file (file:RESULTS.json,images=COCO.json)'.format(
                what, path))
        if os.path.getsize(path) > MAX_JSON_BYTES:
            raise UserError('{} {} is larger than {} (the limit)'.format(
                what, path, mib(MAX_JSON_BYTES)))
        with open(path, 'rb') as f:
            data = f.read(MAX_JSON_BYTES + 1)
    except OSError as exc:
        raise UserError('cannot read {} {}: {}'.format(what, path, exc.strerror)) from None
    if len(data) > MAX_JSON_BYTES:
        raise UserError('{} {} is larger than {} (the limit)'.format(
            what, path, mib(MAX_JSON_BYTES)))
    return data


def parse_results(data, path, images, categories):
    """``{image_id: [(y_min, x_min, y_max, x_max, category_id, score), ...]}``
    from the bytes of a results file; every entry checked."""
    try:
        entries = json.loads(data.decode('utf-8'))
    except (ValueError, RecursionError) as exc:
        raise UserError('malformed COCO results JSON {}: {}: {}'.format(
            path, type(exc).__name__, one_line(exc)[:200])) from None
    if not isinstance(entries, list):
        raise UserError('{}: the top level is a {}, expected a COCO results list '
                        '[{{"image_id", "category_id", "bbox", "score"}}, ...]'.format(
                            path, type(entries).__name__))
    found = collections.defaultdict(list)
    for k, entry in enumerate(entries):
        where = '{}: [{}]'.format(path, k)
        if not isinstance(entry, dict):
            raise UserError('{} is not an object with image_id, category_id, bbox, score'
                            .format(where))
        for key, known, what in (('image_id', images, 'images'),
                                 ('category_id', categories, 'categories')):
            value = entry.get(key)
            if isinstance(value, bool) or not isinstance(value, (int, str)) or value not in known:
                raise UserError('{}.{} is {!r}, which the images file does not define in {} '
                                '(pass its COCO JSON as images=)'.format(
                                    where, key, str(value)[:50], what))
        box = entry.get('bbox')
        if not (isinstance(box, list) and len(box) == 4 and all(is_finite_number(v) for v in box)
                and box[2] >= 0 and box[3] >= 0):
            raise UserError('{}.bbox is {}, expected [x, y, width, height]: 4 finite numbers, '
                            'width and height >= 0'.format(where, str(box)[:80]))
        if not is_finite_number(entry.get('score')) or not 0 <= entry['score'] <= 1:
            raise UserError('{}.score is {!r}, expected a finite number in [0, 1] (a '
                            'confidence)'.format(where, str(entry.get('score'))[:50]))
        rows = found[entry['image_id']]
        if len(rows) == MAX_OBJECTS_PER_IMAGE:
            raise UserError('{}: image_id {!r} has more than the limit of {} detections'.format(
                path, entry['image_id'], MAX_OBJECTS_PER_IMAGE))
        x, y, w, h = (float(v) for v in box)
        # COCO [x, y, w, h] -> (y_min, x_min, y_max, x_max)
        rows.append((y, x, y + h, x + w, entry['category_id'], float(entry['score'])))
    return dict(found)


def _id_order(value):
    """Sort key of COCO ids: integers numerically, then strings."""
    return (0, value, '') if isinstance(value, int) else (1, 0, value)


class NameIndex:
    """Run image path -> the images file's id, by the matching rules of
    :mod:`compare.score.attach` (exact, no suffix, unique base name, unique
    stem)."""

    KEYS = (lambda p: p, lambda p: posixpath.splitext(p)[0], posixpath.basename,
            lambda p: posixpath.splitext(posixpath.basename(p))[0])

    def __init__(self, images):
        self.tables = []
        for key in self.KEYS:
            table = collections.defaultdict(list)
            for image_id, file_name in images.items():
                table[key(file_name.replace('\\', '/'))].append(image_id)
            self.tables.append((key, {k: v[0] for k, v in table.items() if len(v) == 1}))

    def lookup(self, name):
        for key, table in self.tables:
            if key(name) in table:
                return table[key(name)]
        return None


class CocoResultsAdapter:
    """A COCO results file behind the adapter interface
    (:mod:`compare.adapters.protocol`)."""
    order = 'score'
    reads_names = True
    timed = False

    def __init__(self, name, path, images_path, classes=None):
        if not path:
            raise UserError('detector {}: give the file, file:RESULTS.json,images=COCO.json'
                            .format(name))
        if not images_path:
            raise UserError('detector {}: file:{} needs images=COCO.json, the COCO JSON '
                            'whose images and categories its ids refer to (the annotation '
                            'file, or ground_truth.json of python -m compare.export)'.format(
                                name, path))
        self.name, self.path, self.images_path = name, path, images_path
        self.classes = classes
        self.sha256 = self.images_sha256 = None
        self.by_image, self.index, self.label_of, self.label_names = {}, None, {}, ()
        self.count = self.outside = 0

    def load(self):
        from compare.score.ground_truth import read_coco_index
        images, categories = read_coco_index(self.images_path)
        self.images_sha256 = hashlib.sha256(
            read_bytes(self.images_path, 'images file')).hexdigest()
        data = read_bytes(self.path, 'COCO results file')
        self.sha256 = hashlib.sha256(data).hexdigest()
        self.by_image = parse_results(data, self.path, images, categories)
        ordered = _chosen(sorted(categories, key=_id_order), categories, self.classes,
                          self.name, self.images_path)
        kept = set(ordered)
        total = sum(len(rows) for rows in self.by_image.values())
        self.by_image = {image: [row for row in rows if row[4] in kept]
                         for image, rows in self.by_image.items()}
        self.count = sum(len(rows) for rows in self.by_image.values())
        self.outside = total - self.count
        self.label_of = {cat_id: label for label, cat_id in enumerate(ordered)}
        self.label_names = tuple(categories[cat_id] for cat_id in ordered)
        self.index = NameIndex(images)

    def predict(self, images):
        """``images``: :class:`compare.adapters.protocol.NamedImage` list ->
        :class:`Prediction` (the file's detections of each, see module doc)."""
        timer = StageTimer()
        found = []
        with timer('inference'):
            for image in images:
                image_id = self.index.lookup(image.name) if image.name is not None else None
                if image_id is None:
                    raise UserError('image {} is not among the images of {} (its detections '
                                    'are unknown); run on the images the file covers'.format(
                                        image.name, self.images_path))
                found.append(self._detections(image_id, image.shape[:2]))
        return Prediction(found, timer.times)

    def _detections(self, image_id, size):
        rows = sorted(self.by_image.get(image_id, []), key=lambda row: -row[5])
        boxes = np.array([row[:4] for row in rows], np.float32).reshape(-1, 4)
        labels = [self.label_of[row[4]] for row in rows]
        return Detections(boxes, labels, [self.label_names[k] for k in labels],
                          [row[5] for row in rows]).clipped(*size)

    def info(self):
        return DetectorInfo(
            self.name, display_path(self.path), self.sha256, False,
            'none (detections read from a file)', '-', self.label_names,
            {'format': FORMAT, 'weights_path': display_path(self.path),
             'label_map': display_path(self.images_path), 'images_sha256': self.images_sha256,
             'detections_in_file': self.count + self.outside,
             'detections_outside_classes': self.outside})


def build_file(arg, options, settings):
    """``file:RESULTS.json,images=COCO.json[,classes=NAME+NAME][,name=NAME]``."""
    name = options.pop('name', None) or 'file_' + _stem(arg)
    classes = options.pop('classes', None)
    if classes is not None:
        classes = tuple(part.strip() for part in classes.split(CLASS_SEPARATOR))
        if not all(classes) or len({canonical(c) for c in classes}) != len(classes):
            raise UserError('detector {}: classes= takes distinct category names joined by '
                            '"{}", e.g. classes=face+person'.format(name, CLASS_SEPARATOR))
    return CocoResultsAdapter(name, arg, options.pop('images', None), classes)


def _chosen(ordered, categories, classes, name, images_path):
    """The category ids of the detector's classes, in id order: all of
    ``ordered``, or those ``classes`` names (matched by canonical name, as
    scoring matches classes: ``tvmonitor`` is ``tv``), every name one of them."""
    if classes is None:
        return ordered
    known = {canonical(categories[cat]) for cat in ordered}
    missing = [c for c in classes if canonical(c) not in known]
    if missing:
        raise UserError('detector {}: classes= names {} that {} does not define (its '
                        'categories: {}); name its categories'.format(
                            name, ', '.join(repr(c) for c in missing), images_path,
                            ', '.join(sorted(set(categories.values())))[:400]))
    chosen = {canonical(c) for c in classes}
    return [cat for cat in ordered if canonical(categories[cat]) in chosen]


def _stem(path):
    """A detector name from a file name: letters, digits, ``_``, ``-``, ``.``."""
    stem = os.path.splitext(os.path.basename(path or 'results'))[0]
    return ''.join(c if c.isalnum() or c in '_-.' else '_' for c in stem)[:80] or 'results'
