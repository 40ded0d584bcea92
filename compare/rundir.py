"""The run folder and its format. `compare/rundir.py` is the one owner of
every file of a run folder: it names, writes and reads them all, and its
docstring is this text, which every run copies to `raw/README.md`.

A run folder is written in two steps. `python compare/run.py IMAGES --out RUN`
runs the detectors and writes `meta.json` and `raw/`; `python -m compare.score
RUN` reads only those and writes everything else, so scoring can be re-run on
saved outputs. Boxes are always `(y_min, x_min, y_max, x_max)` in pixels of the
image as displayed (EXIF orientation applied), inside the image.

## Written by the run

- `meta.json`: what produced the run. Keys: `provenance` (versions, commit,
  device, date: `reporting.provenance`); `args` (the command line, paths
  relative to the cwd when inside it); `images` (`folder` relative to the cwd
  of the run, `folder_from_run` relative to the run folder, `listed` images,
  `not_images` files skipped by suffix); `state` (`running` while images are
  processed, then `interrupted` or `complete`); `detectors`, one entry per
  detector with exactly the keys `name`, `status` (`ok` or `failed: <reason>`),
  `weights`, `weights_sha256`, `random_weights`, `device`, `threads`,
  `label_names`, `info` (details of its kind; `info.preset` is part of what
  must not change on resume), `images_done` and `images_new` (null until the
  images are done). Written atomically (a temporary file renamed) once the
  detectors are loaded, and again when the run is interrupted or complete.
- `raw/<detector>.jsonl`: one JSON record per image, appended with one
  `write` ending in a newline, flushed and fsync'ed before the next image, so a
  killed run leaves at most a partial LAST line. A record has exactly the keys
  `image` (path relative to the images folder, posix), `height`, `width` (of
  the image as loaded), `detections` (list of `y_min`, `x_min`, `y_max`,
  `x_max`, `label` = the detector's own id, `name` = its class name, `score`;
  in the detector's own order) and `times` (`preprocess`, `inference`,
  `postprocess` seconds of this image's call, batch 1).
- `raw/timings.csv`: the speed benchmark, columns `detector`, `batch_size`,
  `repeat` (0-based, after warm-up), `stage` (`preprocess`, `inference`,
  `postprocess`, `total` = wall clock of the whole call), `seconds` for the
  WHOLE batch. Absent when the run was told `--no-speed` (an older one is
  removed then).
- `raw/benchmark.csv`: one row per detector and batch size timed: `detector`,
  `batch_size`, `identity` (what the timings belong to: weights checksum or
  name, preset, device, threads), `repeats`, `warmup`, `load_avg_max` (the
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
  `allow_pickle=False`. `<image>` is the image path with `/` replaced by
  `__`.
- `raw/skipped.csv`: `image`, `reason` for the files not run (not an image by
  suffix, unreadable), sorted by image.
- `raw/<detector>.error.txt`: the traceback of an unexpected (non-user) error
  that failed that detector.
- `raw/README.md`: this text.

## Reading rule (resuming and scoring alike)

Bytes after the last newline of a `.jsonl` are the partial record of a killed
run: resuming truncates them away (the image is run again), scoring leaves the
file alone and says so in its warnings. Every complete line must be a record
as above, and an image appears at most once per file; anything else is an
error naming the file and the line (the fix: delete the file, or rerun with
`--force`). `meta.json` must exist and hold exactly the keys above. A `.jsonl`
of a detector that `meta.json` does not list (left by an earlier run into the
same folder) is scored under its file name, with a warning.

## Written by scoring

- `<table>.csv` and `<table>.md` for each table of `TABLES`, rows sorted by
  its keys, floats `%.6g` (`reporting.tables`); the per-detection tables
  (`CSV_ONLY`) are CSV only.
- `summary.md`, `report.html` (self-contained) and `figures/` (`*.png` charts,
  `*.jpg` pictures of detections)
  (`compare.report`).

The columns of every table are explained in reports/README.md.
"""
import csv
import dataclasses
import glob
import json
import os
import typing

import numpy as np

from compare.detections import ROW_KEYS, STAGES, Detections, DetectorInfo
from compare.errors import UserError
from reporting.tables import FLOAT_FORMAT, sorted_frame, write_table

META = 'meta.json'
RAW = 'raw'
SUMMARY = 'summary.md'
REPORT = 'report.html'
FIGURES = 'figures'
STATES = ('running', 'interrupted', 'complete')
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
    """One line of ``raw/<detector>.jsonl``: one detector on one image."""
    image: str
    height: int
    width: int
    detections: Detections
    times: dict

    def to_json(self):
        return json.dumps({'image': self.image, 'height': int(self.height),
                           'width': int(self.width), 'detections': self.detections.to_rows(),
                           'times': {key: float(self.times[key]) for key in STAGES}},
                          sort_keys=True)


def _record(line, where):
    """The :class:`ImageRecord` of one complete line, or UserError naming ``where``."""
    try:
        data = json.loads(line)
        if not isinstance(data, dict) or set(data) != _RECORD_KEYS:
            raise ValueError('keys {} (expected {})'.format(
                sorted(data) if isinstance(data, dict) else type(data).__name__,
                sorted(_RECORD_KEYS)))
        rows = data['detections']
        if any(set(row) != set(ROW_KEYS) for row in rows):
            raise ValueError('a detection without exactly the keys {}'.format(', '.join(ROW_KEYS)))
        times = {stage: float(data['times'][stage]) for stage in STAGES}
        return ImageRecord(str(data['image']), int(data['height']), int(data['width']),
                           Detections.from_rows(rows), times)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise UserError('{} is not a record of this harness ({}: {}); delete the file or rerun '
                        'with --force'.format(where, type(exc).__name__, exc)) from None


def read_records(path, truncate=False):
    """The records of one ``.jsonl`` by the reading rule (module docstring).

    Args:
        truncate: cut a partial last line off the file (resuming does).

    Returns:
        ``(records, partial)``: list of :class:`ImageRecord` in file order
        (``[]`` for a missing file), and whether a partial last line was
        found (and, with ``truncate``, removed).
    """
    if not os.path.exists(path):
        return [], False
    with open(path, 'rb') as f:
        data = f.read()
    complete = data[:data.rfind(b'\n') + 1]
    partial = len(complete) != len(data)
    if partial and truncate:
        with open(path, 'r+b') as f:
            f.truncate(len(complete))
    records, seen = [], set()
    for number, line in enumerate(complete.decode('utf-8').split('\n')[:-1], 1):
        record = _record(line, '{} line {}'.format(path, number))
        if record.image in seen:
            raise UserError('{} line {} repeats image {}; delete the file or rerun with '
                            '--force'.format(path, number, record.image))
        seen.add(record.image)
        records.append(record)
    return records, partial


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


def open_records(run_dir, names, force):
    """Resume (or restart) the records of ``names``: ``{name: set of images done}``.

    Creates ``raw/``; with ``force`` the detectors' files are deleted first,
    otherwise a partial last line is truncated away.
    """
    os.makedirs(os.path.join(run_dir, RAW), exist_ok=True)
    done = {}
    for name in names:
        path = records_file(run_dir, name)
        if force and os.path.exists(path):
            os.remove(path)
        done[name] = {record.image for record in read_records(path, truncate=True)[0]}
    return done


# -- meta.json ----------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class DetectorEntry(DetectorInfo):
    """One detector in meta.json: what it says about itself
    (:class:`compare.detections.DetectorInfo`), then what the run saw."""
    status: str = 'ok'
    images_done: typing.Optional[int] = None
    images_new: typing.Optional[int] = None

    @classmethod
    def of(cls, info, status, done=None, new=None):
        """The entry of a detector's :class:`compare.detections.DetectorInfo`."""
        return cls(status=status, images_done=done, images_new=new,
                   **dataclasses.asdict(info))

    @classmethod
    def unrecorded(cls, name):
        """A ``raw/<name>.jsonl`` that meta.json does not list."""
        return cls(name, 'unknown (not in meta.json)', None, False, None, None, (), {})


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
    partial = path + '.part'
    with open(partial, 'w') as f:
        json.dump(dataclasses.asdict(meta), f, indent=2, sort_keys=True)
        f.write('\n')
    os.replace(partial, path)
    return path


def read_meta(run_dir):
    """``meta.json`` of ``run_dir`` as a :class:`RunMeta`, or None if absent.

    Raises:
        UserError: the file is not a meta.json of this harness.
    """
    path = os.path.join(run_dir, META)
    if not os.path.exists(path):
        return None
    try:
        with open(path, encoding='utf-8') as f:
            data = json.load(f)
        detectors = tuple(DetectorEntry(**dict(entry, label_names=tuple(entry['label_names'])))
                          for entry in data.pop('detectors'))
        meta = RunMeta(images=ImagesInfo(**data.pop('images')), detectors=detectors, **data)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise UserError('{} is not a meta.json of this harness ({}: {}); rerun compare/run.py'
                        .format(path, type(exc).__name__, exc)) from None
    if meta.state not in STATES:
        raise UserError('{}: state {!r} is not one of {}'.format(path, meta.state,
                                                                 ', '.join(STATES)))
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
    if not os.path.exists(path):
        return None
    with open(path, newline='') as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if tuple(header or ()) != TIMING_COLUMNS:
            raise UserError('{} has columns {} (expected {}); rerun compare/run.py'.format(
                path, header, ', '.join(TIMING_COLUMNS)))
        rows = []
        for number, row in enumerate(reader, 2):
            try:
                timing = Timing(row[0], int(row[1]), int(row[2]), row[3], float(row[4]))
            except (ValueError, IndexError):
                timing = None
            if timing is None or timing.stage not in TIMING_STAGES or len(row) != 5:
                raise UserError('{} line {} is not a timing row: {}'.format(path, number, row))
            rows.append(timing)
    return rows


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
    if not os.path.exists(path):
        return []
    with open(path, newline='') as f:
        rows = list(csv.reader(f))
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


def netout_path(run_dir, detector, image):
    """``raw/netout/<detector>/<image with / as __>.npz``."""
    return raw_path(run_dir, os.path.join(NETOUT, detector, image.replace('/', '__') + '.npz'))


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
    if not os.path.exists(path):
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            if tuple(sorted(data.files)) != _NETOUT_KEYS:
                raise ValueError('arrays {}'.format(sorted(data.files)))
            locs, confs = data['locs'], data['confs']
            size, insize = tuple(int(v) for v in data['size']), int(data['insize'])
        if locs.ndim != 2 or locs.shape[1] != 4 or confs.shape[0] != locs.shape[0]:
            raise ValueError('shapes {} and {}'.format(locs.shape, confs.shape))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UserError('{} is not kept network output of this harness ({}); delete it or '
                        'rerun with --keep-raw --force'.format(path, exc)) from None
    return locs, confs, size, insize


def write_skipped(run_dir, skipped):
    """``raw/skipped.csv`` from ``(image, reason)`` pairs, sorted by image."""
    with open(raw_path(run_dir, 'skipped.csv'), 'w', newline='') as f:
        writer = csv.writer(f, lineterminator='\n')
        writer.writerow(SKIPPED_COLUMNS)
        writer.writerows(sorted(skipped))


def read_skipped(run_dir):
    """``(image, reason)`` pairs of ``raw/skipped.csv`` (``[]`` if absent)."""
    path = raw_path(run_dir, 'skipped.csv')
    if not os.path.exists(path):
        return []
    with open(path, newline='') as f:
        rows = list(csv.reader(f))
    if not rows or tuple(rows[0]) != SKIPPED_COLUMNS or any(len(r) != 2 for r in rows[1:]):
        raise UserError('{} is not image,reason rows; rerun compare/run.py'.format(path))
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
    entries = {entry.name: entry for entry in meta.detectors}
    for path in sorted(glob.glob(records_file(run_dir, '*'))):
        name = os.path.basename(path)[:-len('.jsonl')]
        records[name], partial = read_records(path)
        if partial:
            warnings.append('{}: the last line is a partial record (a killed run); '
                            'ignored'.format(path))
        if name not in entries:
            warnings.append('raw/{}.jsonl has no entry in meta.json; scored with the names '
                            'it emitted as its vocabulary'.format(name))
            entries[name] = DetectorEntry.unrecorded(name)
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
