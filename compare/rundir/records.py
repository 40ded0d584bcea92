"""``raw/<detector>.jsonl``: one record per image, and the reading rule
(the package docstring); ``raw/<detector>.error.txt``.

A record file is untrusted like any file a user gives: every record is
checked on read (resume, scoring, the merge of shards all read through
:func:`read_records`) for what a detector returns
(:mod:`compare.detections`): ``height`` and ``width`` positive integers;
at most :data:`~compare.limits.MAX_OBJECTS_PER_IMAGE` detections, each with
box coordinates, score finite JSON numbers, ``0 <= y_min <= y_max <=
height`` and ``0 <= x_min <= x_max <= width`` (zero-size boxes allowed:
clipping makes them), ``score`` in ``[0, 1]``, ``label`` an integer in
``[0, MAX_LABEL]``, ``name`` a string; ``times`` finite seconds ``>= 0``;
``sha256`` 64 hex digits. A record that breaks any of them is one line
naming the file, its line, the image and the fix; nothing is changed.
"""
import dataclasses
import json
import os
import re
import typing

import numpy as np

from compare.detections import BOX_KEYS, ROW_KEYS, STAGES, Detections
from compare.errors import UserError
from compare.jsonnumbers import is_finite_number
from compare.limits import MAX_OBJECTS_PER_IMAGE
from compare.rundir import files
from compare.rundir.files import read_file
from compare.rundir.layout import error_file, identity_file, records_file
from compare.rundir.netout import remove_netout
from replicate.errors import one_line

_RECORD_KEYS = {'image', 'height', 'width', 'detections', 'times'}
#: Largest label id of a record: far above every vocabulary (COCO's ids go to
#: 90, LVIS has 1203 classes, ImageNet-21k 21843), far below what overflows.
MAX_LABEL = 100000
#: Largest image side of a record (Pillow's pixel limit bounds real images far below).
MAX_SIDE = 2 ** 31 - 1
_SHA256 = re.compile('[0-9a-f]{64}')
#: The fix of a record that cannot be trusted: what resuming supports.
FIX = ('delete that line (a rerun with the same --out redoes only that image), or rerun with '
       '--force to redo that detector; nothing else in the folder is changed')


@dataclasses.dataclass(frozen=True)
class ImageRecord:
    """One line of ``raw/<detector>.jsonl``: one detector on one image.

    ``sha256`` is the fingerprint of the image file the detections came from
    (None only in records written before fingerprints existed).
    """
    image: str
    height: int
    width: int
    detections: Detections
    times: dict
    sha256: typing.Optional[str] = None

    def to_json(self):
        return json.dumps({'image': self.image, 'height': int(self.height),
                           'width': int(self.width), 'detections': self.detections.to_rows(),
                           'times': {key: float(self.times[key]) for key in STAGES},
                           'sha256': self.sha256}, sort_keys=True)


def _side(data, key):
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_SIDE:
        raise ValueError('{} {!r} is not a positive integer'.format(key, str(value)[:50]))
    return value


def _row_problem(row):
    """What in one detection row is not of the JSON type a record holds, or None."""
    if not isinstance(row, dict) or set(row) != set(ROW_KEYS):
        return 'not an object with exactly the keys {}'.format(', '.join(ROW_KEYS))
    for key in BOX_KEYS + ('score',):
        if not is_finite_number(row[key]):
            return '{} is {!r}, not a finite number'.format(key, str(row[key])[:50])
    label = row['label']
    if isinstance(label, bool) or not isinstance(label, int):
        return 'label is {!r}, not an integer'.format(str(label)[:50])
    if not isinstance(row['name'], str):
        return 'name is {!r}, not a string'.format(str(row['name'])[:50])
    return None


def detections_problem(detections, height, width):
    """What makes ``detections`` of an image of ``height`` x ``width`` pixels
    other than what a detector returns (:mod:`compare.detections`), or None.

    The run checks each image's detections with it before writing them, and
    the reader each record it reads, so the two agree.
    """
    boxes, scores, labels = detections.boxes, detections.scores, detections.labels
    if not detections.is_finite():
        return 'a box or score holds NaN or Inf'
    if len(detections) > MAX_OBJECTS_PER_IMAGE:
        return '{} detections, more than the limit of {} per image'.format(
            len(detections), MAX_OBJECTS_PER_IMAGE)
    # (R, 4) yxyx: corners ordered and inside the image, zero size allowed
    inside = ((boxes[:, 0] >= 0) & (boxes[:, 0] <= boxes[:, 2]) & (boxes[:, 2] <= height) &
              (boxes[:, 1] >= 0) & (boxes[:, 1] <= boxes[:, 3]) & (boxes[:, 3] <= width))
    checks = ((inside, 'box {} is not 0 <= y_min <= y_max <= {} and 0 <= x_min <= x_max <= {} '
                       '(y_min, x_min, y_max, x_max)', lambda k: (
                           [float(v) for v in boxes[k]], height, width)),
              ((scores >= 0) & (scores <= 1), 'score {} is outside [0, 1]',
               lambda k: (float(scores[k]),)),
              ((labels >= 0) & (labels <= MAX_LABEL), 'label {} is outside [0, {}]',
               lambda k: (int(labels[k]), MAX_LABEL)))
    for good, text, values in checks:
        if not good.all():
            first = int(np.argmin(good))
            return 'detection {}: {}'.format(first, text.format(*values(first)))
    return None


def _record(line, where):
    """The :class:`ImageRecord` of one complete line, or UserError naming
    ``where`` (and the image, when the line names one)."""
    image = None
    try:
        data = json.loads(line)
        keys = set(data) if isinstance(data, dict) else set()
        if keys not in (_RECORD_KEYS, _RECORD_KEYS | {'sha256'}):
            raise ValueError('keys {} (expected {})'.format(
                sorted(keys) if isinstance(data, dict) else type(data).__name__,
                sorted(_RECORD_KEYS | {'sha256'})))
        if not is_relative_image(data['image']):
            raise ValueError('image {!r} is not a path inside the images folder'.format(
                str(data['image'])[:200]))
        image = data['image']
        height, width = _side(data, 'height'), _side(data, 'width')
        rows = data['detections']
        if not isinstance(rows, list):
            raise ValueError('detections is a {}, not a list'.format(type(rows).__name__))
        if len(rows) > MAX_OBJECTS_PER_IMAGE:
            raise ValueError('{} detections, more than the limit of {} per image'.format(
                len(rows), MAX_OBJECTS_PER_IMAGE))
        for k, row in enumerate(rows):
            problem = _row_problem(row)
            if problem:
                raise ValueError('detection {}: {}'.format(k, problem))
        times = data['times']
        if not isinstance(times, dict) or set(times) != set(STAGES) or not all(
                is_finite_number(times[stage]) and times[stage] >= 0 for stage in STAGES):
            raise ValueError('times {} is not {} in seconds, finite and >= 0'.format(
                str(times)[:100], ', '.join(STAGES)))
        sha256 = data.get('sha256')
        if sha256 is not None and not (isinstance(sha256, str) and _SHA256.fullmatch(sha256)):
            raise ValueError('sha256 {!r} is not 64 hex digits'.format(str(sha256)[:80]))
        detections = Detections.from_rows(rows)
        problem = detections_problem(detections, height, width)
        if problem:
            raise ValueError(problem)
        return ImageRecord(image, height, width, detections,
                           {stage: float(times[stage]) for stage in STAGES}, sha256)
    except (ValueError, KeyError, TypeError, AttributeError, OverflowError,
            RecursionError) as exc:
        raise UserError('{} is not a record of this harness ({}{}: {}); {}'.format(
            where, '' if image is None else 'image {}: '.format(image),
            type(exc).__name__, one_line(exc)[:300], FIX)) from None


def is_relative_image(image):
    """Whether ``image`` is what a record names: a relative posix path inside
    the images folder (no leading ``/``, no ``..``, no empty part)."""
    return (isinstance(image, str) and bool(image) and not image.startswith('/') and
            all(part not in ('', '.', '..') for part in image.split('/')) and
            '\x00' not in image)


def read_records(path, truncate=False):
    """The records of one ``.jsonl`` by the reading rule (module docstring).

    Args:
        truncate: cut a partial last line off the file (resuming does).

    Returns:
        ``(records, partial)``: list of :class:`ImageRecord` in file order
        (``[]`` for a missing file), and whether a partial last line was
        found (and, with ``truncate``, removed).
    """
    if not os.path.lexists(path):
        return [], False
    data = read_file(path)
    complete = data[:data.rfind(b'\n') + 1]
    partial = len(complete) != len(data)
    if partial and truncate:
        files.truncate(path, len(complete))
    records, seen = [], set()
    for number, line in enumerate(complete.split(b'\n')[:-1], 1):
        where = '{} line {}'.format(path, number)
        try:
            text = line.decode('utf-8')
        except UnicodeDecodeError:
            raise UserError('{} is not UTF-8 text; {}'.format(where, FIX)) from None
        record = _record(text, where)
        if record.image in seen:
            raise UserError('{} repeats image {}; {}'.format(where, record.image, FIX))
        seen.add(record.image)
        records.append(record)
    return records, partial


def write_records(path, records):
    """Replace the ``.jsonl`` ``path`` with ``records``, atomically (a
    temporary file, fsync'ed, renamed): resuming keeps only the records it
    trusts."""
    files.write_text(path, ''.join(record.to_json() + '\n' for record in records), sync=True)


#: What to do when a records file changed under the run (:class:`RecordWriter`).
CHANGED_FIX = 'rerun the same command to redo the missing images'


class RecordWriter:
    """Appends :class:`ImageRecord` lines to a ``.jsonl`` file, one fsync'ed
    ``write`` each (:class:`compare.rundir.files.AppendFile`: never through a
    link; a file truncated, deleted or replaced while the run goes on raises
    UserError naming it instead of being appended to)."""

    def __init__(self, path):
        self.path = path
        self.file = files.AppendFile(path, CHANGED_FIX)

    def write(self, record):
        self.file.write((record.to_json() + '\n').encode('utf-8'))

    def close(self):
        self.file.close()


def remove_detector(run_dir, name):
    """Delete the records, identity and kept network outputs of detector
    ``name`` (``--force``)."""
    for path in (records_file(run_dir, name), identity_file(run_dir, name)):
        files.remove(path)
    remove_netout(run_dir, name)


def write_error(run_dir, detector, text):
    """``raw/<detector>.error.txt``; returns its path."""
    path = error_file(run_dir, detector)
    files.write_text(path, text)
    return path
