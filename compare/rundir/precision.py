"""The precision every table of a run folder is written at: the one table of it.

A rerun of the same detectors on another machine gives float results that
differ in their last bits (BLAS and oneDNN kernels sum in other orders). Each
column is therefore written rounded to a fixed step above that noise, chosen
by what the column holds:

======================  ==========================================================  ======
kind                    columns                                                     step
======================  ==========================================================  ======
pixels                  boxes: ``y_min``, ``x_min``, ``y_max``, ``x_max``, the      0.1
                        ground-truth box ``gt_*`` of the same names, box
                        differences ``*_box_diff``
scores                  every column named ``score*`` or ``*score_diff``: scores,   1e-4
                        score differences, score thresholds
iou                     ``iou``, ``mean_iou``, ``min_iou``                          1e-4
timings                 ``*_ms``, ``*_ms_per_image``, ``*_ms_per_image_b1``,        0.001
                        ``images_per_s``, ``p90_over_p50``, ``load_avg_max``,
                        ``*_mib`` (they change from run to run anyway)
metrics                 every other float: AP, mAP, precision, recall, F1,          1e-6
                        agreement, means
======================  ==========================================================  ======

Measured on the sample's detectors, between OpenBLAS's AVX-512 kernels with 2
threads and its Haswell kernels with 1 (plus oneDNN limited to AVX2), the
noise reached 9e-5 px and 3e-6 in score for the SSD300s, 9e-4 px and 4e-6
for TensorFlow, and 0.015 px and 3e-5 for our port of the random OD API
fixture (whose batch norms amplify float32 rounding), while the APs did not
move at 1e-6. Rounding cannot remove every change: a value within the noise
of a rounding boundary still moves by one step (reports/README.md gives the
count on the sample).

A value is rounded to its step (Python's ``'%.*f'``, round-half-even on the
binary value), written without trailing zeros (``0.5``, ``1``, ``211.58``),
``-0`` is written ``0`` (a difference that is zero on one machine and
``-1e-12`` on another reads the same), NaN is an empty CSV cell. Integers and
text are written as they are. The steps are stated once, here; reports/README.md
quotes this table.
"""
import math

import pandas as pd

#: kind -> decimals (the step is 10 ** -decimals).
DECIMALS = {'pixels': 1, 'scores': 4, 'iou': 4, 'timings': 3, 'metrics': 6}
_BOX = ('y_min', 'x_min', 'y_max', 'x_max')
_IOU = ('iou', 'mean_iou', 'min_iou')
_TIMING_SUFFIXES = ('_ms', '_ms_per_image', '_ms_per_image_b1', '_mib')
_TIMING_NAMES = ('images_per_s', 'p90_over_p50', 'load_avg_max')


def kind_of(column):
    """The precision kind (a key of :data:`DECIMALS`) of a column name."""
    name = str(column)
    if name in _BOX or (name.startswith('gt_') and name[3:] in _BOX) or \
            name.endswith('_box_diff'):
        return 'pixels'
    if name.startswith('score') or name.endswith('score_diff'):
        return 'scores'
    if name in _IOU:
        return 'iou'
    if name.endswith(_TIMING_SUFFIXES) or name in _TIMING_NAMES:
        return 'timings'
    return 'metrics'


def format_number(value, decimals):
    """``value`` rounded to ``decimals``, trailing zeros dropped, ``-0`` as
    ``0``; ``''`` for NaN; ``inf``/``-inf`` as such."""
    if value != value:
        return ''
    if math.isinf(value):
        return 'inf' if value > 0 else '-inf'
    text = '%.*f' % (decimals, value)
    if '.' in text:
        text = text.rstrip('0').rstrip('.')
    return '0' if text in ('-0', '') else text


def formatted(frame, nan=''):
    """A copy of ``frame`` whose float columns are strings at their column's
    precision (NaN as ``nan``); other columns unchanged."""
    out = frame.copy()
    for column in frame.columns:
        values = frame[column]
        if pd.api.types.is_float_dtype(values):
            decimals = DECIMALS[kind_of(column)]
            out[column] = [nan if v != v else format_number(float(v), decimals)
                           for v in values]
        elif values.dtype == object:
            decimals = DECIMALS[kind_of(column)]
            out[column] = [format_number(v, decimals) if isinstance(v, float) and v == v
                           else (nan if isinstance(v, float) else v) for v in values]
    return out


def cell(column, value):
    """One value as the tables write it (the reports' cells use this too)."""
    if isinstance(value, float):
        return format_number(value, DECIMALS[kind_of(column)])
    return value
