"""The speed table, from ``raw/timings.csv`` (the run's benchmark repeats).

Per detector and batch size, for each stage (preprocess, inference,
postprocess, total): the 50th and 90th percentiles of the repeats
(``numpy.percentile``, linear interpolation) in seconds per BATCH, and the
same divided by the batch size (seconds per IMAGE). ``images_per_s`` is
``batch_size / p50(total)``. A stage absent from the file is NOT invented
from the others: its columns stay empty. Device and threads come from the
detector's entry in meta.json.
"""
import numpy as np
import pandas as pd

from compare.rundir import TIMING_STAGES


def speed_columns():
    """Column names of the speed table, in order."""
    columns = ['detector', 'batch_size', 'repeats']
    for stage in TIMING_STAGES:
        columns += ['{}_p50_s'.format(stage), '{}_p90_s'.format(stage),
                    '{}_p50_per_image_s'.format(stage), '{}_p90_per_image_s'.format(stage)]
    return columns + ['images_per_s', 'device', 'threads']


def _row(detector, batch_size, group, entry):
    row = {'detector': detector, 'batch_size': int(batch_size),
           'repeats': int(group['repeat'].nunique())}
    for stage in TIMING_STAGES:
        seconds = group.loc[group['stage'] == stage, 'seconds'].to_numpy(np.float64)
        p50, p90 = (np.percentile(seconds, [50, 90]) if seconds.size else (np.nan, np.nan))
        row['{}_p50_s'.format(stage)] = float(p50)
        row['{}_p90_s'.format(stage)] = float(p90)
        row['{}_p50_per_image_s'.format(stage)] = float(p50) / batch_size
        row['{}_p90_per_image_s'.format(stage)] = float(p90) / batch_size
    total = row['total_p50_s']
    row['images_per_s'] = batch_size / total if total > 0 else float('nan')
    row['device'] = str(entry.device) if entry else 'unknown'
    row['threads'] = str(entry.threads) if entry else 'unknown'
    return row


def speed_table(timings, detectors):
    """The speed table.

    Args:
        timings: :class:`compare.rundir.Timing` rows.
        detectors: ``{name: compare.rundir.DetectorEntry}`` (missing names:
            device and threads ``unknown``).
    """
    frame = pd.DataFrame(timings, columns=['detector', 'batch_size', 'repeat', 'stage',
                                           'seconds'])
    rows = [_row(detector, batch_size, group, detectors.get(detector))
            for (detector, batch_size), group
            in frame.groupby(['detector', 'batch_size'], sort=True)]
    return pd.DataFrame(rows, columns=speed_columns())
