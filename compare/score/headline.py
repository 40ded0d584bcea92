"""The headline: one line per detector, in the order of the run.

The same table (``headline.csv``) is printed at the end of the run and of
``python -m compare.score``, and opens summary.md and report.html. Columns:
``position`` (order of the run), ``detector``, ``weights``, ``random_weights``,
``images`` processed, ``detections`` (all it kept) and ``detections_at_thresh``
(``score >= score_thresh``, the operating point), ``map_voc07`` (VOC2007
11-point) and ``coco_ap`` (COCO AP@[.5:.95]) when annotations exist, ``f1`` at
the operating point, ``p50_ms_per_image_b1`` (median total time per image at
batch 1), and ``agreement_with_first`` (agreement at the operating point with
the first detector of the run; empty for the first itself).
"""
import pandas as pd

from compare.score import findings

COLUMNS = ('position', 'detector', 'weights', 'random_weights', 'images', 'detections',
           'detections_at_thresh', 'score_thresh', 'map_voc07', 'coco_ap', 'f1',
           'p50_ms_per_image_b1', 'agreement_with_first')


def _lookup(table, key, column, where='detector'):
    if table is None or table.empty or column not in table.columns:
        return float('nan')
    match = table[table[where] == key]
    return float(match[column].iloc[0]) if len(match) else float('nan')


def _agreement(summary, first, name):
    if name == first or summary is None or summary.empty:
        return float('nan')
    pair = summary[((summary['detector_a'] == first) & (summary['detector_b'] == name)) |
                   ((summary['detector_a'] == name) & (summary['detector_b'] == first))]
    return float(pair['agreement'].iloc[0]) if len(pair) else float('nan')


def headline_table(run, tables, score_thresh):
    """The headline (:data:`COLUMNS`) of the detectors that ran."""
    names = [n for n in run.run_order() if n in set(run.ok_detectors())]
    speed = tables.get('speed')
    batch1 = speed[speed['batch_size'] == 1] if speed is not None and not speed.empty else None
    rows = []
    for position, name in enumerate(names, 1):
        entry = run.detectors[name]
        mine = run.detections[run.detections['detector'] == name]
        rows.append({
            'position': position, 'detector': name, 'weights': str(entry.weights),
            'random_weights': bool(entry.random_weights),
            'images': int((run.images['detector'] == name).sum()),
            'detections': len(mine),
            'detections_at_thresh': int((mine['score'] >= score_thresh).sum()),
            'score_thresh': float(score_thresh),
            'map_voc07': _lookup(tables.get('map_summary'), name, 'map_voc07'),
            'coco_ap': _lookup(tables.get('map_summary'), name, 'map_coco'),
            'f1': _lookup(tables.get('diagnosis'), name, 'f1'),
            'p50_ms_per_image_b1': _lookup(batch1, name, 'total_p50_ms_per_image'),
            'agreement_with_first': _agreement(tables.get('agreement_summary'), names[0],
                                               name)})
    return pd.DataFrame(rows, columns=list(COLUMNS))


def _number(value, form):
    return '-' if value != value else form.format(value)


def headline_lines(table, report_path):
    """The headline as plain text lines for the console.

    Args:
        table: the scored tables (a dict): the sentences of ``findings``
            (:func:`compare.score.findings.lines`); or the headline table
            alone: one line per detector.
    """
    if isinstance(table, dict):
        return findings.lines(table['findings'], report_path)
    if table.empty:
        return ['no detector produced results', 'report: {}'.format(report_path)]
    first = table['detector'].iloc[0]
    lines = []
    for row in table.itertuples(index=False):
        lines.append(
            '{}: {}{}; {} images, {} detections ({} with score >= {:g}); mAP VOC07 {}, '
            'COCO AP {}, F1 {}; {} ms/image (p50, batch 1); agreement with {}: {}'.format(
                row.detector, row.weights, ' [RANDOM WEIGHTS]' if row.random_weights else '',
                row.images, row.detections, row.detections_at_thresh, row.score_thresh,
                _number(row.map_voc07, '{:.3f}'), _number(row.coco_ap, '{:.3f}'),
                _number(row.f1, '{:.3f}'), _number(row.p50_ms_per_image_b1, '{:.1f}'),
                first, 'itself' if row.detector == first else
                _number(row.agreement_with_first, '{:.3f}')))
    return lines + ['report: {}'.format(report_path)]
