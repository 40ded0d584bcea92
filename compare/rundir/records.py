"""``raw/<detector>.jsonl``: one record per image, and the reading rule
(the package docstring); ``raw/<detector>.error.txt``."""
import dataclasses
import json
import os
import typing

from compare.detections import ROW_KEYS, STAGES, Detections
from compare.errors import UserError
from compare.rundir import files
from compare.rundir.files import read_file
from compare.rundir.layout import error_file, identity_file, records_file
from compare.rundir.netout import remove_netout
from replicate.errors import one_line

_RECORD_KEYS = {'image', 'height', 'width', 'detections', 'times'}


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


def _record(line, where):
    """The :class:`ImageRecord` of one complete line, or UserError naming ``where``."""
    try:
        data = json.loads(line)
        keys = set(data) if isinstance(data, dict) else set()
        if keys not in (_RECORD_KEYS, _RECORD_KEYS | {'sha256'}):
            raise ValueError('keys {} (expected {})'.format(
                sorted(keys) if isinstance(data, dict) else type(data).__name__,
                sorted(_RECORD_KEYS | {'sha256'})))
        rows = data['detections']
        if any(set(row) != set(ROW_KEYS) for row in rows):
            raise ValueError('a detection without exactly the keys {}'.format(', '.join(ROW_KEYS)))
        times = {stage: float(data['times'][stage]) for stage in STAGES}
        sha256 = data.get('sha256')
        if sha256 is not None and not isinstance(sha256, str):
            raise ValueError('sha256 {!r} is not a string'.format(sha256))
        detections = Detections.from_rows(rows)
        if not detections.is_finite():
            raise ValueError('a detection holds NaN or Inf')
        image = data['image']
        if not is_relative_image(image):
            raise ValueError('image {!r} is not a path inside the images folder'.format(image))
        return ImageRecord(image, int(data['height']), int(data['width']), detections, times,
                           sha256)
    except (ValueError, KeyError, TypeError, AttributeError, OverflowError,
            RecursionError) as exc:
        raise UserError('{} is not a record of this harness ({}: {}); rerun with --force to '
                        'redo that detector, or delete the file'.format(
                            where, type(exc).__name__, one_line(exc)[:200])) \
            from None


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
            raise UserError('{} is not UTF-8 text; rerun with --force to redo that detector, or '
                            'delete the file'.format(where)) from None
        record = _record(text, where)
        if record.image in seen:
            raise UserError('{} repeats image {}; rerun with --force to redo that detector, or '
                            'delete the file'.format(where, record.image))
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
