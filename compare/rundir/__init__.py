"""The run folder and its format. `compare/rundir/` is the one owner of
every file of a run folder: it names, writes and reads them all, and its
docstring is this text, which every run copies to `raw/README.md`.

A run folder is written in two steps. `python compare/run.py IMAGES --out RUN`
runs the detectors and writes `meta.json` and `raw/`; `python -m compare.score
RUN` reads only those and writes everything else, so scoring can be re-run on
saved outputs. Boxes are always `(y_min, x_min, y_max, x_max)` in pixels of the
image as displayed (EXIF orientation applied), inside the image. A run folder
holds the truth of ONE run: what its tables show was computed by the
detectors of its last run, on the images of that run as they are now.

## Written by the run

- `lock`: held (an advisory `flock`) by the run or the scoring that is
  changing the folder; JSON `pid`, `host`, `command`, `since` (UTC). A second
  run or scoring is refused while it is held; the kernel releases it when its
  holder ends in any way, so a file left by a killed run is taken over. The
  holder deletes it on exit (`compare.rundir.lock`).
- `meta.json`: what produced the run. Keys: `provenance` (versions, commit,
  device, date: `provenance.stamp`); `args` (the command line, paths
  relative to the cwd when inside it); `images` (`folder` relative to the cwd
  of the run, `folder_from_run` relative to the run folder, `listed` images,
  `not_images` files skipped at listing); `state` (`running` while images are
  processed, then `interrupted` (Ctrl-C, SIGTERM), `failed` (an error stopped
  it) or `complete`); `detectors`, one entry per detector OF THIS RUN with
  exactly the keys `name`, `status` (`ok` or `failed: <reason>`), `loaded`
  (false when it failed to load: its raw files, if any, are from an earlier
  run and are not scored), `weights`, `weights_sha256`, `random_weights`,
  `device`, `threads`, `label_names`, `info` (details of its kind),
  `images_done` and `images_new` (null until the images are done). Written
  atomically (a temporary file renamed) once the detectors are loaded, and
  again when the run ends.
- `raw/<detector>.jsonl`: one JSON record per image, appended with one
  `write` ending in a newline, flushed and fsync'ed before the next image, so a
  killed run leaves at most a partial LAST line. A record has exactly the keys
  `image` (path relative to the images folder, posix), `sha256` (of the image
  file's bytes the detections came from), `height`, `width` (of the image as
  loaded), `detections` (list of `y_min`, `x_min`, `y_max`, `x_max`, `label` =
  the detector's own id, `name` = its class name, `score`; in the detector's
  own order; finite numbers) and `times` (`preprocess`, `inference`,
  `postprocess` seconds of this image's call, batch 1).
- `raw/<detector>.identity.json`: who wrote that detector's records
  (`compare.rundir.identity`: name, weights, vocabulary, settings); written before
  its first record.
- `raw/timings.csv`: the speed benchmark, columns `detector`, `batch_size`,
  `repeat` (0-based, after warm-up), `stage` (`preprocess`, `inference`,
  `postprocess`, `total` = wall clock of the whole call), `seconds` for the
  WHOLE batch. Absent when the run was told `--no-speed` (an older one is
  removed then).
- `raw/benchmark.csv`: one row per detector and batch size timed: `detector`,
  `batch_size`, `identity` (what the timings belong to: weights checksum or
  name, preset, device, threads, and a digest of the detector's whole
  identity and of the images timed), `repeats`, `warmup`, `load_avg_max` (the
  1-minute load average, the larger of before and after its calls),
  `cpu_count`, `rss_before_mib` and `peak_rss_mib` (the process's resident
  memory before its calls and at its peak during them; peak `nan` where the
  system cannot tell). A later run into the same folder reuses the timings of
  a detector whose row matches (same identity, repeats, warm-up) instead of
  timing it again (`--force` retimes). Absent with `--no-speed`.
- `raw/netout/<detector>/<image>.npz` (with `--keep-raw`, Chainer SSDs only):
  the network's outputs for one image, `numpy.savez_compressed` with exactly
  the arrays `locs` float32 (K, 4), `confs` float32 (K, n_class) (logits,
  column 0 the background), `size` int64 (2,) (height, width of the image),
  `insize` int64 () (the network's input side); read with
  `allow_pickle=False`. `<image>` is the image path with `%` written `%25`
  and `/` written `%2F` (the sha256 of the path when that is over 200
  bytes). Kept only beside the record it belongs to: a record dropped on
  resume, an image run again without `--keep-raw`, or `--force` removes it.
- `raw/skipped.csv`: `image`, `reason` for what was not run (not an image by
  suffix, not a regular file, a name that is not UTF-8 (shown with `\\xNN`
  escapes), a link to a folder, a run folder among the images, unreadable),
  sorted by image.
- `raw/<detector>.error.txt`: the traceback of an unexpected (non-user) error
  that failed that detector.
- `raw/README.md`: this text.
- `raw/shard.json` (a shard, `--shard K/N`: `compare.runner.shard`): `k`, `n`,
  `listed_total` (images in the whole listing), `listing_sha256` (its
  fingerprint: each image's relative path and size in bytes) and `images` (this
  shard's slice, sorted). A shard folder is `RUN/shards/K-of-N`, an ordinary run
  folder of its slice; `python -m compare.merge RUN` writes RUN from the N
  shards (`compare.shards.merge`), and `meta.json`'s `args.merged_from` then lists
  them.

## Resuming (`compare.runner.resume`)

A saved record is kept, and its image not run again for its detector, only
when the run is over the same images folder as `meta.json` names, the
detector's identity equals `raw/<detector>.identity.json`, the image is one
of this run's images and its file's sha256 equals the record's. Another
folder or identity is refused (`--force` redoes this run's detectors, or pass
another `--out`); records of images no longer in the folder, of changed files
or without `sha256` (written before it existed) are removed from the file,
rewritten atomically, and said so. `--force` deletes the records and identity
of each detector that LOADED in this run; one that failed to load keeps them.

## Reading rule (resuming and scoring alike)

Bytes after the last newline of a `.jsonl` are the partial record of a killed
run: resuming truncates them away (the image is run again), scoring leaves the
file alone and says so in its warnings. Every complete line must be UTF-8 and a
record as above (`sha256` may be absent in older files), and an image appears
at most once per file; anything else is an error naming the file and the line,
which says how to recover (rerun with `--force`, or delete the file). Any file
of the folder that cannot be read, or is a folder, is likewise a one-line
error. `meta.json` must exist and hold exactly the keys above (`loaded` may be
absent in older files: true). Scoring reads the records of the detectors
`meta.json` lists as loaded, and only those: a `.jsonl` of any other detector
(left by an earlier run into the same folder, or of a detector that failed
to load this time) is named in the warnings and not scored.

## Written by scoring

- `<table>.csv` and `<table>.md` for each table of `TABLES`, rows sorted by
  its keys, floats `%.6g` (`provenance.tables`); the per-detection tables
  (`CSV_ONLY`) are CSV only.
- `summary.md`, `report.html` (self-contained) and `figures/` (`*.png` charts,
  `*.jpg` pictures of detections)
  (`compare.report`).

The columns of every table are explained in reports/README.md.
"""
import csv
import dataclasses
import glob
import hashlib
import json
import os
import shutil
import typing
import zipfile

import numpy as np

from compare.detections import ROW_KEYS, STAGES, Detections, DetectorInfo
from compare.errors import UserError, printable_path
from provenance.tables import FLOAT_FORMAT, sorted_frame, write_table
from replicate.errors import one_line
from replicate.npz import read_arrays

META = 'meta.json'
RAW = 'raw'
SUMMARY = 'summary.md'
REPORT = 'report.html'
FIGURES = 'figures'
STATES = ('running', 'interrupted', 'failed', 'complete')
#: The lock file of a run folder (:mod:`compare.rundir.lock`).
LOCK = 'lock'
#: The stages of raw/timings.csv: the detector's own, then the whole call.
TIMING_STAGES = STAGES + ('total',)
TIMING_COLUMNS = ('detector', 'batch_size', 'repeat', 'stage', 'seconds')
SKIPPED_COLUMNS = ('image', 'reason')
_RECORD_KEYS = {'image', 'height', 'width', 'detections', 'times'}
#: Table name -> the keys its rows are sorted by (written by scoring).
TABLES = {
    'detections': ('detector', 'image', 'rank'),
    'agreement_summary': ('detector_a', 'detector_b'),
    'agreement_per_class': ('detector_a', 'detector_b', 'class'),
    'agreement_per_image': ('detector_a', 'detector_b', 'image'),
    'agreement_pairs': ('detector_a', 'detector_b', 'image', 'class', 'status', 'rank_a',
                        'rank_b'),
    'speed': ('detector', 'batch_size'),
    'map_summary': ('detector',),
    'map_per_class': ('detector', 'class'),
    'map_conventions': ('metric',),
    'coco_summary': ('detector',),
    'diagnosis': ('detector',),
    'diagnosis_per_image': ('detector', 'image'),
    'sweep': ('detector', 'score_thresh'),
    'confusion': ('detector', 'truth', 'predicted'),
    'decode_grid': ('detector', 'nms_thresh', 'score_thresh'),
    'classes': ('canonical',),
    'headline': ('position',),
    'score_warnings': (),
}
#: Per-detection tables: CSV only (hundreds of KB of Markdown nobody reads).
CSV_ONLY = ('detections', 'agreement_pairs')


def raw_path(run_dir, name):
    """``<run_dir>/raw/<name>``."""
    return os.path.join(run_dir, RAW, name)


# -- raw/<detector>.jsonl ---------------------------------------------------

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
    data = _read_file(path)
    complete = data[:data.rfind(b'\n') + 1]
    partial = len(complete) != len(data)
    if partial and truncate:
        with open(path, 'r+b') as f:
            f.truncate(len(complete))
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


def _read_file(path):
    """The bytes of a file of the run folder; UserError (naming it and the way
    out) when it is not a readable regular file."""
    try:
        if not os.path.isfile(path):
            raise UserError('{} is not a file; remove it (or rerun with --force)'.format(path))
        with open(path, 'rb') as f:
            return f.read()
    except OSError as exc:
        raise UserError('cannot read {}: {}; check its permissions or remove it'.format(
            path, exc.strerror)) from None


def write_records(path, records):
    """Replace the ``.jsonl`` ``path`` with ``records``, atomically (a
    temporary file, fsync'ed, renamed): resuming keeps only the records it
    trusts."""
    partial = path + '.part'
    with open(partial, 'w', encoding='utf-8') as f:
        f.writelines(record.to_json() + '\n' for record in records)
        f.flush()
        os.fsync(f.fileno())
    os.replace(partial, path)


class RecordWriter:
    """Appends :class:`ImageRecord` lines to a ``.jsonl`` file, one flushed,
    fsync'ed ``write`` each."""

    def __init__(self, path):
        self.path = path
        self.file = open(path, 'a', encoding='utf-8')

    def write(self, record):
        self.file.write(record.to_json() + '\n')
        self.file.flush()
        os.fsync(self.file.fileno())

    def close(self):
        self.file.close()


def records_file(run_dir, detector):
    return raw_path(run_dir, detector + '.jsonl')


def remove_detector(run_dir, name):
    """Delete the records, identity and kept network outputs of detector
    ``name`` (``--force``)."""
    for path in (records_file(run_dir, name), identity_file(run_dir, name)):
        if os.path.lexists(path):
            os.remove(path)
    remove_netout(run_dir, name)


# -- raw/<detector>.identity.json ------------------------------------------------

def identity_file(run_dir, detector):
    return raw_path(run_dir, detector + '.identity.json')


def write_identity(run_dir, detector, identity):
    """``raw/<detector>.identity.json`` (atomically): who wrote the records."""
    _write_json(identity_file(run_dir, detector), identity)


def read_identity(run_dir, detector):
    """The saved identity of ``detector`` (a dict), or None when absent.

    Raises:
        UserError: the file is not a JSON object.
    """
    path = identity_file(run_dir, detector)
    if not os.path.lexists(path):
        return None
    data = _load_json(path, 'rerun with --force to redo that detector, or delete the file')
    if not isinstance(data, dict):
        raise UserError('{} is not an identity of this harness (a {}); rerun with --force to '
                        'redo that detector'.format(path, type(data).__name__))
    return data


def _write_json(path, data):
    """``path`` holding ``data`` as JSON, written atomically (a temporary file
    renamed)."""
    partial = path + '.part'
    with open(partial, 'w', encoding='utf-8') as f:
        json.dump(data, f, indent=2, sort_keys=True)
        f.write('\n')
    os.replace(partial, path)


def _load_json(path, fix):
    """The JSON of a file of the run folder; UserError naming it and ``fix``."""
    try:
        return json.loads(_read_file(path).decode('utf-8'))
    except (ValueError, RecursionError) as exc:
        raise UserError('{} is not valid JSON ({}: {}); {}'.format(
            path, type(exc).__name__, one_line(exc)[:200], fix)) from None


# -- meta.json ----------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class DetectorEntry(DetectorInfo):
    """One detector in meta.json: what it says about itself
    (:class:`compare.detections.DetectorInfo`), then what the run saw."""
    status: str = 'ok'
    images_done: typing.Optional[int] = None
    images_new: typing.Optional[int] = None
    loaded: bool = True

    @classmethod
    def of(cls, info, status, done=None, new=None, loaded=True):
        """The entry of a detector's :class:`compare.detections.DetectorInfo`."""
        return cls(status=status, images_done=done, images_new=new, loaded=loaded,
                   **dataclasses.asdict(info))


@dataclasses.dataclass(frozen=True)
class ImagesInfo:
    """meta.json's ``images`` block."""
    folder: str
    folder_from_run: str
    listed: int
    not_images: int


@dataclasses.dataclass(frozen=True)
class RunMeta:
    """meta.json."""
    provenance: dict
    args: dict
    images: ImagesInfo
    state: str
    detectors: tuple

    def entry(self, name):
        """The :class:`DetectorEntry` called ``name``, or None."""
        return next((d for d in self.detectors if d.name == name), None)

    def images_dir(self, run_dir):
        """The images folder as a path usable from the current cwd: the one
        recorded relative to the run folder if it exists, else the one
        recorded relative to the cwd of the run (returned even if missing, so
        messages can name it)."""
        from_run = os.path.normpath(os.path.join(run_dir, self.images.folder_from_run))
        return from_run if os.path.isdir(from_run) else self.images.folder


def write_meta(run_dir, meta):
    """Write ``meta.json`` atomically; returns its path."""
    path = os.path.join(run_dir, META)
    _write_json(path, dataclasses.asdict(meta))
    return path


#: How to recover from a meta.json that cannot be read.
META_FIX = ('rerun compare/run.py with --force to redo this folder\'s detectors and rewrite it, '
            'or pass another --out')


def read_meta(run_dir):
    """``meta.json`` of ``run_dir`` as a :class:`RunMeta`, or None if absent.

    Raises:
        UserError: the file is not a meta.json of this harness (the message
            says how to recover: :data:`META_FIX`).
    """
    path = os.path.join(run_dir, META)
    if not os.path.lexists(path):
        return None
    data = _load_json(path, META_FIX)
    try:
        detectors = tuple(DetectorEntry(**dict(entry, label_names=tuple(entry['label_names'])))
                          for entry in data.pop('detectors'))
        meta = RunMeta(images=ImagesInfo(**data.pop('images')), detectors=detectors, **data)
        if not all(isinstance(d.name, str) and isinstance(d.status, str) and
                   isinstance(d.info, dict) for d in detectors):
            raise TypeError('a detector entry with a name, status or info of the wrong type')
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise UserError('{} is not a meta.json of this harness ({}: {}); {}'.format(
            path, type(exc).__name__, one_line(exc)[:200], META_FIX)) from None
    if meta.state not in STATES:
        raise UserError('{}: state {!r} is not one of {}; {}'.format(
            path, meta.state, ', '.join(STATES), META_FIX))
    return meta


# -- raw/timings.csv, raw/skipped.csv, errors, README -------------------------

@dataclasses.dataclass(frozen=True)
class Timing:
    """One row of raw/timings.csv: ``seconds`` of one stage of one timed call."""
    detector: str
    batch_size: int
    repeat: int
    stage: str
    seconds: float


def write_timings(run_dir, rows):
    """``raw/timings.csv`` from :class:`Timing` rows, in the given order;
    ``None`` removes the file (no benchmark in this run)."""
    if rows is None:
        if os.path.exists(raw_path(run_dir, 'timings.csv')):
            os.remove(raw_path(run_dir, 'timings.csv'))
        return
    with open(raw_path(run_dir, 'timings.csv'), 'w', newline='') as f:
        writer = csv.writer(f, lineterminator='\n')
        writer.writerow(TIMING_COLUMNS)
        for row in rows:
            writer.writerow([row.detector, row.batch_size, row.repeat, row.stage,
                             FLOAT_FORMAT % row.seconds])


def read_timings(run_dir):
    """The :class:`Timing` rows of ``raw/timings.csv``, or None if absent."""
    path = raw_path(run_dir, 'timings.csv')
    if not os.path.lexists(path):
        return None
    reader = csv.reader(_text_lines(path))
    header = next(reader, None)
    if tuple(header or ()) != TIMING_COLUMNS:
        raise UserError('{} has columns {} (expected {}); rerun compare/run.py (it rewrites '
                        'the file) or delete it'.format(path, header, ', '.join(TIMING_COLUMNS)))
    rows = []
    for number, row in enumerate(reader, 2):
        try:
            timing = Timing(row[0], int(row[1]), int(row[2]), row[3], float(row[4]))
        except (ValueError, IndexError):
            timing = None
        if timing is None or timing.stage not in TIMING_STAGES or len(row) != 5:
            raise UserError('{} line {} is not a timing row: {}; rerun compare/run.py (it '
                            'rewrites the file) or delete it'.format(path, number, row[:6]))
        rows.append(timing)
    return rows


def _text_lines(path):
    """The lines of a CSV file of the run folder, as text (UserError if not UTF-8)."""
    try:
        return _read_file(path).decode('utf-8').splitlines()
    except UnicodeDecodeError:
        raise UserError('{} is not UTF-8 text; rerun compare/run.py (it rewrites the file) or '
                        'delete it'.format(path)) from None


BENCHMARK_COLUMNS = ('detector', 'batch_size', 'identity', 'repeats', 'warmup', 'load_avg_max',
                     'cpu_count', 'rss_before_mib', 'peak_rss_mib')


@dataclasses.dataclass(frozen=True)
class Benchmark:
    """One row of raw/benchmark.csv: the conditions of one detector's timed calls."""
    detector: str
    batch_size: int
    identity: str
    repeats: int
    warmup: int
    load_avg_max: float
    cpu_count: int
    rss_before_mib: float
    peak_rss_mib: float


def write_benchmarks(run_dir, rows):
    """``raw/benchmark.csv`` from :class:`Benchmark` rows; ``None`` removes it."""
    path = raw_path(run_dir, 'benchmark.csv')
    if rows is None:
        if os.path.exists(path):
            os.remove(path)
        return
    with open(path, 'w', newline='') as f:
        writer = csv.writer(f, lineterminator='\n')
        writer.writerow(BENCHMARK_COLUMNS)
        for row in rows:
            writer.writerow([FLOAT_FORMAT % v if isinstance(v, float) else v
                             for v in dataclasses.astuple(row)])


def read_benchmarks(run_dir):
    """The :class:`Benchmark` rows of ``raw/benchmark.csv`` (``[]`` if absent)."""
    path = raw_path(run_dir, 'benchmark.csv')
    if not os.path.lexists(path):
        return []
    rows = list(csv.reader(_text_lines(path)))
    if not rows or tuple(rows[0]) != BENCHMARK_COLUMNS:
        raise UserError('{} is not a benchmark table of this harness; delete it or rerun with '
                        '--force'.format(path))
    found = []
    for number, row in enumerate(rows[1:], 2):
        try:
            found.append(Benchmark(row[0], int(row[1]), row[2], int(row[3]), int(row[4]),
                                   float(row[5]), int(row[6]), float(row[7]), float(row[8])))
        except (ValueError, IndexError):
            raise UserError('{} line {} is not a benchmark row: {}; delete the file or rerun '
                            'with --force'.format(path, number, row)) from None
    return found


# -- raw/netout/ (kept network outputs) ---------------------------------------

NETOUT = 'netout'
_NETOUT_KEYS = ('confs', 'insize', 'locs', 'size')
_MAX_NETOUT_NAME = 200  # bytes; file names may have 255


def netout_path(run_dir, detector, image):
    """``raw/netout/<detector>/<image, escaped>.npz``: ``%`` as ``%25`` and ``/``
    as ``%2F`` (one flat folder; two images never share a file), or the sha256
    of the image path when that name would be too long for the file system."""
    name = image.replace('%', '%25').replace('/', '%2F')
    if len(name.encode('utf-8')) > _MAX_NETOUT_NAME:
        name = hashlib.sha256(image.encode('utf-8')).hexdigest()  # no image suffix: no clash
    return raw_path(run_dir, os.path.join(NETOUT, detector, name + '.npz'))


def write_netout(run_dir, detector, image, locs, confs, size, insize):
    """Keep one image's network outputs (format: module docstring)."""
    path = netout_path(run_dir, detector, image)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    partial = path + '.part.npz'
    np.savez_compressed(partial, locs=np.asarray(locs, np.float32),
                        confs=np.asarray(confs, np.float32),
                        size=np.asarray(size, np.int64), insize=np.asarray(insize, np.int64))
    os.replace(partial, path)


def read_netout(run_dir, detector, image):
    """``(locs, confs, (height, width), insize)`` of a kept image, or None if
    not kept.

    Raises:
        UserError: the file is not one this harness wrote.
    """
    path = netout_path(run_dir, detector, image)
    if not os.path.lexists(path):
        return None
    fix = 'delete it or rerun with --keep-raw --force'
    if os.path.isfile(path):
        # not a zip, truncated, pickled: one line naming the file
        data = read_arrays(path, prefix='cannot read kept network output',
                           expected='the arrays {} written by --keep-raw; {}'.format(
                               ', '.join(_NETOUT_KEYS), fix), error=UserError)
    try:
        if not os.path.isfile(path):
            raise ValueError('not a regular file')
        if tuple(sorted(data)) != _NETOUT_KEYS:
            raise ValueError('arrays {}'.format(sorted(data)))
        locs, confs = data['locs'], data['confs']
        size, insize = tuple(int(v) for v in data['size']), int(data['insize'])
        if locs.ndim != 2 or locs.shape[1] != 4 or confs.shape[0] != locs.shape[0]:
            raise ValueError('shapes {} and {}'.format(locs.shape, confs.shape))
    except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile) as exc:
        raise UserError('{} is not kept network output of this harness ({}); {}'.format(
            path, exc, fix)) from None
    return locs, confs, size, insize


def remove_netout(run_dir, detector, images=None):
    """Delete the kept network outputs of ``detector``: of ``images`` (paths as
    in the records), or all of them when None."""
    if images is None:
        folder = raw_path(run_dir, os.path.join(NETOUT, detector))
        if os.path.isdir(folder) and not os.path.islink(folder):
            shutil.rmtree(folder)
        elif os.path.lexists(folder):
            os.remove(folder)
        return
    for image in images:
        path = netout_path(run_dir, detector, image)
        if os.path.lexists(path):
            os.remove(path)


def write_skipped(run_dir, skipped):
    """``raw/skipped.csv`` from ``(image, reason)`` pairs, sorted by image."""
    with open(raw_path(run_dir, 'skipped.csv'), 'w', newline='', encoding='utf-8') as f:
        writer = csv.writer(f, lineterminator='\n')
        writer.writerow(SKIPPED_COLUMNS)
        writer.writerows(sorted((printable_path(image), one_line(reason))
                                for image, reason in skipped))


def read_skipped(run_dir):
    """``(image, reason)`` pairs of ``raw/skipped.csv`` (``[]`` if absent)."""
    path = raw_path(run_dir, 'skipped.csv')
    if not os.path.lexists(path):
        return []
    rows = list(csv.reader(_text_lines(path)))
    if not rows or tuple(rows[0]) != SKIPPED_COLUMNS or any(len(r) != 2 for r in rows[1:]):
        raise UserError('{} is not image,reason rows; rerun compare/run.py (it rewrites the '
                        'file) or delete it'.format(path))
    return [tuple(row) for row in rows[1:]]


def write_error(run_dir, detector, text):
    """``raw/<detector>.error.txt``; returns its path."""
    path = raw_path(run_dir, detector + '.error.txt')
    with open(path, 'w') as f:
        f.write(text)
    return path


def write_readme(run_dir):
    """``raw/README.md``: this module's docstring."""
    with open(raw_path(run_dir, 'README.md'), 'w') as f:
        f.write('# The run folder (written by compare/run.py)\n\n' + __doc__)


# -- raw/shard.json ------------------------------------------------------------

SHARD = 'shard.json'
_SHARD_KEYS = {'k', 'n', 'listed_total', 'listing_sha256', 'images'}


def write_shard(run_dir, shard):
    """``raw/shard.json`` from the dict of :meth:`compare.runner.shard.Plan.describe`
    (written atomically)."""
    _write_json(raw_path(run_dir, SHARD), shard)


def read_shard(run_dir):
    """The dict of ``raw/shard.json``, or None if absent.

    Raises:
        UserError: the file is not one this harness wrote.
    """
    path = raw_path(run_dir, SHARD)
    if not os.path.lexists(path):
        return None
    fix = 'rerun that shard with --force'
    data = _load_json(path, fix)
    try:
        if not isinstance(data, dict) or set(data) != _SHARD_KEYS:
            raise ValueError('keys {}'.format(
                sorted(data) if isinstance(data, dict) else type(data).__name__))
        ints = [data[key] for key in ('k', 'n', 'listed_total')]
        if any(type(value) is not int for value in ints) or not (
                isinstance(data['listing_sha256'], str) and isinstance(data['images'], list)
                and all(isinstance(image, str) for image in data['images'])):
            raise ValueError('a value of the wrong type')
    except ValueError as exc:
        raise UserError('{} is not a shard file of this harness ({}); {}'.format(
            path, one_line(exc)[:200], fix)) from None
    return data


# -- reading a whole run for scoring -------------------------------------------

@dataclasses.dataclass
class RunFolder:
    """Everything the run wrote, as read by the reading rule.

    Attributes:
        run_dir: the folder.
        meta: :class:`RunMeta`.
        records: ``{detector: [ImageRecord]}`` for every ``raw/*.jsonl``,
            sorted by detector.
        entries: ``{detector: DetectorEntry}`` for every detector of meta.json
            or raw/, sorted by name.
        timings: :class:`Timing` rows, or None without a benchmark.
        skipped: ``(image, reason)`` pairs.
        warnings: what the reading rule noted (partial lines, unlisted files).
        benchmarks: :class:`Benchmark` rows (``[]`` without raw/benchmark.csv).
    """
    run_dir: str
    meta: RunMeta
    records: dict
    entries: dict
    timings: typing.Optional[list]
    skipped: list
    warnings: list
    benchmarks: list = dataclasses.field(default_factory=list)


def read_run(run_dir):
    """Read a run folder for scoring (nothing in it is changed).

    Raises:
        UserError: not a run folder, or a file that breaks the reading rule.
    """
    meta = read_meta(run_dir)
    if meta is None or not os.path.isdir(os.path.join(run_dir, RAW)):
        raise UserError('{} has no meta.json and raw/: not a run folder (run `python '
                        'compare/run.py IMAGES --out {}` first)'.format(run_dir, run_dir))
    warnings, records = [], {}
    entries = {entry.name: entry for entry in meta.detectors if entry.loaded}
    for entry in meta.detectors:
        if not entry.loaded:
            warnings.append('{} did not load in this run ({}); not scored (any raw/{}.jsonl is '
                            'from an earlier run)'.format(entry.name, entry.status, entry.name))
    for name in sorted(entries):
        path = records_file(run_dir, name)
        records[name], partial = read_records(path)
        if partial:
            warnings.append('{}: the last line is a partial record (a killed run); '
                            'ignored'.format(path))
    listed = {entry.name for entry in meta.detectors}
    for path in sorted(glob.glob(records_file(run_dir, '*'))):
        name = os.path.basename(path)[:-len('.jsonl')]
        if name not in listed:
            warnings.append('raw/{}.jsonl is not a detector of this run (left by an earlier run '
                            'into the same folder); not scored'.format(name))
    timings = read_timings(run_dir)
    if timings is None:
        warnings.append('raw/timings.csv missing: no speed table')
    return RunFolder(run_dir, meta, records, dict(sorted(entries.items())), timings,
                     read_skipped(run_dir), warnings, read_benchmarks(run_dir))


# -- written by scoring ---------------------------------------------------------

def write_score_table(run_dir, name, frame):
    """Table ``name`` of :data:`TABLES` under ``run_dir``, sorted by its keys;
    returns the sorted frame. CSV only for :data:`CSV_ONLY` (a stale ``.md``
    of an older scoring is removed)."""
    stem = os.path.join(run_dir, name)
    if name not in CSV_ONLY:
        return write_table(frame, stem, TABLES[name])
    frame = sorted_frame(frame, TABLES[name])
    frame.to_csv(stem + '.csv', index=False, float_format=FLOAT_FORMAT, lineterminator='\n')
    if os.path.exists(stem + '.md'):
        os.remove(stem + '.md')
    return frame


def remove_score_tables(run_dir, keep):
    """Delete the ``.csv``/``.md`` of tables of :data:`TABLES` not in ``keep``
    (left by an earlier scoring that had, e.g., annotations)."""
    for name in TABLES:
        if name in keep:
            continue
        for suffix in ('.csv', '.md'):
            if os.path.exists(os.path.join(run_dir, name + suffix)):
                os.remove(os.path.join(run_dir, name + suffix))


def write_text(run_dir, name, text):
    """``summary.md`` or ``report.html``; returns the path."""
    path = os.path.join(run_dir, name)
    with open(path, 'w', encoding='utf-8', newline='\n') as f:
        f.write(text)
    return path


def figure(name):
    """The path of figure ``name`` (e.g. ``pr_ours.png``) relative to the run folder."""
    return os.path.join(FIGURES, name)


def clear_figures(run_dir):
    """Remove the figures of an earlier scoring (each scoring draws its own set)."""
    folder = os.path.join(run_dir, FIGURES)
    if os.path.isdir(folder):
        for name in os.listdir(folder):
            if name.endswith(('.png', '.jpg')):
                os.remove(os.path.join(folder, name))
