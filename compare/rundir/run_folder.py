"""A whole run folder read for scoring, by the reading rule."""
import dataclasses
import glob
import os
import typing

from compare.errors import UserError
from compare.rundir.layout import RAW, records_file
from compare.rundir.meta import RunMeta, read_meta
from compare.rundir.records import read_records
from compare.rundir.tables import read_benchmarks, read_skipped, read_timings


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
