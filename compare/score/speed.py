"""The speed table, from ``raw/timings.csv`` (the run's benchmark repeats) and
``raw/benchmark.csv`` (the conditions they were timed in).

Per detector and batch size, for each stage (preprocess, inference,
postprocess, total): the 50th and 90th percentiles of the repeats
(``numpy.percentile``, linear interpolation) in MILLISECONDS per batch
(``<stage>_p50_ms``), and the same divided by the batch size (milliseconds
per image, ``<stage>_p50_ms_per_image``). ``images_per_s`` is
``batch_size / p50(total)``. A stage absent from the file is NOT invented
from the others: its columns stay empty. Device and threads come from the
detector's entry in meta.json.

Trust: ``p90_over_p50`` is p90 / p50 of the total; ``load_avg_max`` the
1-minute load average around the detector's calls, ``cpu_count`` the cores;
``noisy`` says why a row's timings should not be trusted: the spread above
:data:`NOISY_RATIO`, or a load average above the core count (other work was
running). ``peak_rss_mib``: the process's peak resident memory during the
detector's calls (every loaded detector included), ``rss_before_mib`` before
them.
"""
import numpy as np
import pandas as pd

from compare.rundir import TIMING_STAGES

#: p90 / p50 of the total above this marks a row as noisy.
NOISY_RATIO = 1.25


def speed_columns():
    """Column names of the speed table, in order."""
    columns = ['detector', 'batch_size', 'repeats']
    for stage in TIMING_STAGES:
        columns += ['{}_p50_ms'.format(stage), '{}_p90_ms'.format(stage),
                    '{}_p50_ms_per_image'.format(stage), '{}_p90_ms_per_image'.format(stage)]
    return columns + ['images_per_s', 'p90_over_p50', 'load_avg_max', 'cpu_count',
                      'rss_before_mib', 'peak_rss_mib', 'noisy', 'device', 'threads']


def noise_reason(ratio, load, cores):
    """Why timings are noisy, in words, or ``''``."""
    reasons = []
    if ratio == ratio and ratio > NOISY_RATIO:
        reasons.append('p90/p50 {:.2f} > {}'.format(ratio, NOISY_RATIO))
    if load == load and cores and load > cores:
        reasons.append('load average {:.2f} > {} cores'.format(load, cores))
    return '; '.join(reasons)


def _row(detector, batch_size, group, entry, bench):
    row = {'detector': detector, 'batch_size': int(batch_size),
           'repeats': int(group['repeat'].nunique())}
    for stage in TIMING_STAGES:
        seconds = group.loc[group['stage'] == stage, 'seconds'].to_numpy(np.float64)
        p50, p90 = (np.percentile(seconds, [50, 90]) * 1000 if seconds.size
                    else (np.nan, np.nan))
        row['{}_p50_ms'.format(stage)] = float(p50)
        row['{}_p90_ms'.format(stage)] = float(p90)
        row['{}_p50_ms_per_image'.format(stage)] = float(p50) / batch_size
        row['{}_p90_ms_per_image'.format(stage)] = float(p90) / batch_size
    total = row['total_p50_ms']
    row['images_per_s'] = 1000 * batch_size / total if total > 0 else float('nan')
    row['p90_over_p50'] = row['total_p90_ms'] / total if total > 0 else float('nan')
    nan = float('nan')
    row['load_avg_max'] = bench.load_avg_max if bench else nan
    row['cpu_count'] = bench.cpu_count if bench else None
    row['rss_before_mib'] = bench.rss_before_mib if bench else nan
    row['peak_rss_mib'] = bench.peak_rss_mib if bench else nan
    row['noisy'] = noise_reason(row['p90_over_p50'], row['load_avg_max'], row['cpu_count'])
    row['device'] = str(entry.device) if entry else 'unknown'
    row['threads'] = str(entry.threads) if entry else 'unknown'
    return row


def speed_table(timings, detectors, benchmarks=()):
    """The speed table.

    Args:
        timings: :class:`compare.rundir.Timing` rows.
        detectors: ``{name: compare.rundir.DetectorEntry}`` (missing names:
            device and threads ``unknown``).
        benchmarks: :class:`compare.rundir.Benchmark` rows (missing: the
            trust columns stay empty).
    """
    frame = pd.DataFrame(timings, columns=['detector', 'batch_size', 'repeat', 'stage',
                                           'seconds'])
    bench = {(b.detector, b.batch_size): b for b in benchmarks}
    rows = [_row(detector, batch_size, group, detectors.get(detector),
                 bench.get((detector, int(batch_size))))
            for (detector, batch_size), group
            in frame.groupby(['detector', 'batch_size'], sort=True)]
    table = pd.DataFrame(rows, columns=speed_columns())
    table['cpu_count'] = table['cpu_count'].astype('Int64')
    return table
