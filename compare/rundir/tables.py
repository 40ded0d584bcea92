"""The CSV files the run writes under raw/: ``timings.csv`` (the speed
benchmark), ``benchmark.csv`` (its conditions), ``skipped.csv``."""
import csv
import dataclasses
import io
import os

from compare.errors import UserError, printable_path
from compare.rundir.files import remove, text_lines, write_text
from compare.rundir.layout import SKIPPED_COLUMNS, TIMING_COLUMNS, TIMING_STAGES, raw_path
from provenance.tables import FLOAT_FORMAT
from replicate.errors import one_line


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
    path = raw_path(run_dir, 'timings.csv')
    if rows is None:
        remove(path)
        return
    f = io.StringIO()
    writer = csv.writer(f, lineterminator='\n')
    writer.writerow(TIMING_COLUMNS)
    for row in rows:
        writer.writerow([row.detector, row.batch_size, row.repeat, row.stage,
                         FLOAT_FORMAT % row.seconds])
    write_text(path, f.getvalue())


def read_timings(run_dir):
    """The :class:`Timing` rows of ``raw/timings.csv``, or None if absent."""
    path = raw_path(run_dir, 'timings.csv')
    if not os.path.lexists(path):
        return None
    reader = csv.reader(text_lines(path))
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
        remove(path)
        return
    f = io.StringIO()
    writer = csv.writer(f, lineterminator='\n')
    writer.writerow(BENCHMARK_COLUMNS)
    for row in rows:
        writer.writerow([FLOAT_FORMAT % v if isinstance(v, float) else v
                         for v in dataclasses.astuple(row)])
    write_text(path, f.getvalue())


def read_benchmarks(run_dir):
    """The :class:`Benchmark` rows of ``raw/benchmark.csv`` (``[]`` if absent)."""
    path = raw_path(run_dir, 'benchmark.csv')
    if not os.path.lexists(path):
        return []
    rows = list(csv.reader(text_lines(path)))
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


def write_skipped(run_dir, skipped):
    """``raw/skipped.csv`` from ``(image, reason)`` pairs, sorted by image."""
    f = io.StringIO()
    writer = csv.writer(f, lineterminator='\n')
    writer.writerow(SKIPPED_COLUMNS)
    writer.writerows(sorted((printable_path(image), one_line(reason))
                            for image, reason in skipped))
    write_text(raw_path(run_dir, 'skipped.csv'), f.getvalue())


def read_skipped(run_dir):
    """``(image, reason)`` pairs of ``raw/skipped.csv`` (``[]`` if absent)."""
    path = raw_path(run_dir, 'skipped.csv')
    if not os.path.lexists(path):
        return []
    rows = list(csv.reader(text_lines(path)))
    if not rows or tuple(rows[0]) != SKIPPED_COLUMNS or any(len(r) != 2 for r in rows[1:]):
        raise UserError('{} is not image,reason rows; rerun compare/run.py (it rewrites the '
                        'file) or delete it'.format(path))
    return [tuple(row) for row in rows[1:]]
