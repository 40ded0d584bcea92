"""Read a run directory (see notes/compare_contract.md) into tables.

Only the files of the contract are read, so scoring can be re-run on saved
outputs: ``raw/<detector>.jsonl``, ``raw/timings.csv``, ``raw/skipped.csv``
and ``meta.json``. Every problem with them is either a one-line
:class:`~compare.errors.UserError` naming the file, or a warning returned in
:attr:`Run.warnings` (and printed in the summary) -- never silently ignored.
"""
import dataclasses
import glob
import json
import os

import pandas as pd

from compare.adapters.base import STAGES as ADAPTER_STAGES
from compare.classmap import canonical
from compare.detections import BOX_KEYS
from compare.errors import UserError

#: Columns of the detections table, in order.
DETECTION_COLUMNS = ('detector', 'image', 'rank') + BOX_KEYS + ('label', 'name', 'class',
                                                                'score')
#: Columns of the per-image table.
IMAGE_COLUMNS = ('detector', 'image', 'height', 'width', 'preprocess', 'inference',
                 'postprocess')
#: the adapters' stages plus ``total`` (wall clock of a whole predict call)
STAGES = ADAPTER_STAGES + ('total',)


@dataclasses.dataclass
class Run:
    """Everything scoring needs from one run directory.

    Attributes:
        run_dir: the directory.
        meta: ``meta.json`` as read (``{}`` if absent, with a warning).
        detectors: ``{name: meta entry}`` for every detector of meta.json or
            raw/ (sorted by name); entries missing from meta.json are ``{}``.
        detections: one row per detection, columns :data:`DETECTION_COLUMNS`,
            boxes ``(y_min, x_min, y_max, x_max)`` pixels; ``rank`` is 1 for
            the highest score of a (detector, image).
        images: one row per (detector, image) processed, :data:`IMAGE_COLUMNS`.
        timings: ``raw/timings.csv`` (empty frame if absent, with a warning).
        skipped: ``raw/skipped.csv`` (image, reason), empty if absent.
        warnings: messages for the summary.
    """
    run_dir: str
    meta: dict
    detectors: dict
    detections: pd.DataFrame
    images: pd.DataFrame
    timings: pd.DataFrame
    skipped: pd.DataFrame
    warnings: list

    def ok_detectors(self):
        """Names of detectors with outputs in raw/ and status ok (or unknown)."""
        present = set(self.images['detector'])
        return [name for name, entry in self.detectors.items()
                if name in present and str(entry.get('status', 'ok')) == 'ok']

    def label_names(self, detector):
        """The detector's vocabulary from meta.json, else the names it emitted."""
        names = self.detectors.get(detector, {}).get('label_names')
        if names:
            return tuple(str(n) for n in names)
        frame = self.detections[self.detections['detector'] == detector]
        return tuple(sorted(set(frame['name'])))

    def sizes(self):
        """``{image: (height, width)}`` over all detectors (first one wins)."""
        first = self.images.drop_duplicates('image')
        return {row.image: (int(row.height), int(row.width)) for row in first.itertuples()}


def read_run(run_dir):
    """Read ``run_dir`` into a :class:`Run`."""
    if not os.path.isdir(os.path.join(run_dir, 'raw')):
        raise UserError('{} has no raw/ folder: not a run directory (run '
                        '`python compare/run.py IMAGES --out DIR` first)'.format(run_dir))
    warnings = []
    meta = _read_meta(os.path.join(run_dir, 'meta.json'), warnings)
    detectors = detector_entries(meta)
    det_rows, image_rows = [], []
    for path in sorted(glob.glob(os.path.join(run_dir, 'raw', '*.jsonl'))):
        name = os.path.splitext(os.path.basename(path))[0]
        if name not in detectors:
            warnings.append('raw/{}.jsonl has no entry in meta.json; scored with the names '
                            'it emitted as its vocabulary'.format(name))
            detectors[name] = {}
        for record in read_jsonl(path, warnings):
            image_rows.append(_image_row(name, record))
            det_rows += _detection_rows(name, record, path)
    detections = pd.DataFrame(det_rows, columns=list(DETECTION_COLUMNS))
    detections = detections.sort_values(['detector', 'image', 'rank'], kind='mergesort')
    images = pd.DataFrame(image_rows, columns=list(IMAGE_COLUMNS))
    images = images.sort_values(['detector', 'image'], kind='mergesort')
    return Run(run_dir, meta, dict(sorted(detectors.items())),
               detections.reset_index(drop=True), images.reset_index(drop=True),
               _read_timings(run_dir, warnings), _read_skipped(run_dir), warnings)


def _read_meta(path, warnings):
    if not os.path.exists(path):
        warnings.append('meta.json missing: no provenance, no detector vocabularies')
        return {}
    try:
        with open(path, encoding='utf-8') as f:
            return json.load(f)
    except ValueError as exc:
        raise UserError('malformed {}: {} (rerun compare/run.py or fix the file)'.format(
            path, exc)) from None


def detector_entries(meta):
    """``{name: entry}`` from meta.json's ``detectors`` (a list or a dict)."""
    entries = meta.get('detectors', {})
    if isinstance(entries, dict):
        return {str(name): dict(entry, name=name) for name, entry in entries.items()}
    return {str(entry['name']): dict(entry) for entry in entries}


def read_jsonl(path, warnings):
    """Records of one ``raw/<detector>.jsonl``, the last one per image kept.

    A truncated LAST line (a run killed mid-write) is dropped with a warning;
    a bad line elsewhere raises :class:`UserError`.
    """
    with open(path, encoding='utf-8') as f:
        lines = [line for line in f.read().split('\n')]
    while lines and not lines[-1].strip():
        lines.pop()
    records = {}
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as exc:
            if number == len(lines):
                warnings.append('{}: last line {} is truncated ({}); dropped'.format(
                    path, number, exc))
                continue
            raise UserError('{}: line {} is not JSON ({}); fix or delete the line, or rerun '
                            'that detector'.format(path, number, exc)) from None
        if record['image'] in records:
            warnings.append('{}: image {} appears twice; the later record is used'.format(
                path, record['image']))
        records[record['image']] = record
    return [records[image] for image in sorted(records)]


def _image_row(detector, record):
    times = record.get('times', {})
    return [detector, record['image'], int(record['height']), int(record['width'])] + [
        float(times.get(stage, float('nan'))) for stage in ADAPTER_STAGES]


def _detection_rows(detector, record, path):
    rows = record['detections']
    try:
        # rank 1 = highest score; ties keep the file's order
        order = sorted(range(len(rows)), key=lambda i: -float(rows[i]['score']))
        return [[detector, record['image'], rank] + [float(rows[i][k]) for k in BOX_KEYS] +
                [int(rows[i]['label']), str(rows[i]['name']), canonical(rows[i]['name']),
                 float(rows[i]['score'])] for rank, i in enumerate(order, 1)]
    except (KeyError, TypeError, ValueError) as exc:
        raise UserError('{}: bad detection in image {}: {}: {} (rerun that detector)'.format(
            path, record['image'], type(exc).__name__, exc)) from None


def _read_timings(run_dir, warnings):
    path = os.path.join(run_dir, 'raw', 'timings.csv')
    columns = ['detector', 'batch_size', 'repeat', 'stage', 'seconds']
    if not os.path.exists(path):
        warnings.append('raw/timings.csv missing: no speed table')
        return pd.DataFrame(columns=columns)
    frame = pd.read_csv(path)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise UserError('{} lacks columns {} (expected {})'.format(path, missing, columns))
    return frame[columns]


def _read_skipped(run_dir):
    path = os.path.join(run_dir, 'raw', 'skipped.csv')
    if not os.path.exists(path):
        return pd.DataFrame(columns=['image', 'reason'])
    return pd.read_csv(path, dtype=str, keep_default_na=False)
