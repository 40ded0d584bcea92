"""A run folder as the tables every scorer reads.

The files are read by :func:`compare.rundir.read_run` (the run folder's one
reading rule); this module only arranges them into pandas tables: one row per
detection (ranked, with its canonical class) and one per (detector, image).
"""
import dataclasses

import pandas as pd

from compare import rundir
from compare.detections import BOX_KEYS, STAGES
from compare.rundir import precision
from compare.score.classes import canonical

#: Columns of the detections table, in order.
DETECTION_COLUMNS = ('detector', 'image', 'rank') + BOX_KEYS + ('label', 'name', 'class',
                                                                'score')
#: Columns of the per-image table.
IMAGE_COLUMNS = ('detector', 'image', 'height', 'width') + STAGES


@dataclasses.dataclass
class Run:
    """Everything scoring needs from one run folder.

    Attributes:
        run_dir: the folder.
        meta: :class:`compare.rundir.RunMeta`.
        detectors: ``{name: DetectorEntry}`` for every detector of meta.json
            or raw/, sorted by name.
        detections: one row per detection, columns :data:`DETECTION_COLUMNS`,
            boxes ``(y_min, x_min, y_max, x_max)`` pixels; ``rank`` is 1 for
            the highest score of a (detector, image) (:func:`rank_key`).
        images: one row per (detector, image) processed, :data:`IMAGE_COLUMNS`.
        timings: :class:`compare.rundir.Timing` rows (``[]`` without a benchmark).
        skipped: ``raw/skipped.csv`` as a table (image, reason).
        warnings: messages for the summary.
        benchmarks: :class:`compare.rundir.Benchmark` rows.
        redecoded: ``{name: (NMS IoU, score threshold)}`` of the detectors
            whose detections scoring re-decoded (:mod:`compare.score.redecode`).
    """
    run_dir: str
    meta: rundir.RunMeta
    detectors: dict
    detections: pd.DataFrame
    images: pd.DataFrame
    timings: list
    skipped: pd.DataFrame
    warnings: list
    benchmarks: list = dataclasses.field(default_factory=list)
    redecoded: dict = dataclasses.field(default_factory=dict)

    def run_order(self):
        """Detector names in the order of the run (meta.json), then the
        others (raw files meta.json does not list) by name."""
        listed = [entry.name for entry in self.meta.detectors]
        return [n for n in listed if n in self.detectors] + [
            n for n in self.detectors if n not in listed]

    def ok_detectors(self):
        """Names of detectors with outputs in raw/ and status ok."""
        present = set(self.images['detector'])
        return [name for name, entry in self.detectors.items()
                if name in present and entry.status == 'ok']

    def label_names(self, detector):
        """The detector's vocabulary from meta.json, else the names it emitted."""
        names = self.detectors[detector].label_names
        if names:
            return tuple(str(n) for n in names)
        frame = self.detections[self.detections['detector'] == detector]
        return tuple(sorted(set(frame['name'])))

    def sizes(self):
        """``{image: (height, width)}`` over all detectors (first one wins)."""
        first = self.images.drop_duplicates('image')
        return {row.image: (int(row.height), int(row.width)) for row in first.itertuples()}


def detection_frame(rows):
    """The detections table from rows of :data:`DETECTION_COLUMNS`, sorted."""
    frame = pd.DataFrame(rows, columns=list(DETECTION_COLUMNS))
    frame = frame.sort_values(['detector', 'image', 'rank'], kind='mergesort')
    return frame.reset_index(drop=True)


def rank_key(score, box):
    """The sort key of a detection within its (detector, image): highest
    score first AT THE PRECISION THE TABLES ARE WRITTEN (scores 1e-5, boxes
    0.01 px: :mod:`compare.rundir.precision`), then by its rounded box. Two
    detections whose scores differ only by float noise between machines thus
    keep their order on every machine (ties at that precision go by the box,
    then by the detector's own order)."""
    decimals = precision.DECIMALS
    return (-round(float(score), decimals['scores']),) + tuple(
        round(float(v), decimals['pixels']) for v in box)


def detection_rows(detector, image, found):
    """Rows of one image's :class:`compare.detections.Detections`, rank 1 =
    highest score (:func:`rank_key`; full ties keep the given order)."""
    order = sorted(range(len(found)), key=lambda i: rank_key(found.scores[i], found.boxes[i]))
    return [[detector, image, rank] + [float(v) for v in found.boxes[i]] +
            [int(found.labels[i]), found.names[i], canonical(found.names[i]),
             float(found.scores[i])] for rank, i in enumerate(order, 1)]


def read_run(run_dir):
    """Read ``run_dir`` into a :class:`Run`."""
    folder = rundir.read_run(run_dir)
    det_rows, image_rows = [], []
    for name, records in folder.records.items():
        for record in records:
            image_rows.append([name, record.image, record.height, record.width] +
                              [record.times[stage] for stage in STAGES])
            det_rows += detection_rows(name, record.image, record.detections)
    images = pd.DataFrame(image_rows, columns=list(IMAGE_COLUMNS))
    images = images.sort_values(['detector', 'image'], kind='mergesort')
    return Run(run_dir, folder.meta, folder.entries, detection_frame(det_rows),
               images.reset_index(drop=True), folder.timings or [],
               pd.DataFrame(folder.skipped, columns=list(rundir.SKIPPED_COLUMNS)),
               folder.warnings, folder.benchmarks)
