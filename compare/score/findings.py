"""The headline in sentences: what the run found.

:func:`findings` turns the scored tables into a short list of
:class:`Finding` (a sentence, and sentences under it), in this order:

1. each pair of trained detectors (:mod:`compare.score.pairs`), in run
   order: what it compares, identical or not, how far apart, the accuracy of
   each (the AP of its one class when it names one, as a face or a person
   detector does, else its mAP) and their speeds with the noise flag; the
   pair's ``.common_nms`` variants in a sentence under it;
2. the detectors with random weights, named once as a group and labelled as
   such, with the pairs among them (identity checks: identical or not) under
   it;
3. the accuracy of the trained detectors, or why there is none;
4. the speed of every detector (p50 ms per image at batch 1), its noise flag
   in the same sentence;
5. the operating point;
6. the detectors that failed.

The same list opens summary.md and report.html and ends the console output
(:func:`plain`, in ``findings.csv`` too). Every number comes from the tables
and is written at their precision (:mod:`compare.rundir.precision`), bounds
rounded outwards so they stay true ("within 0.0001" for a largest difference
of 3e-5), so the sentences diff as cleanly as the tables; AP and mAP at
0.001, milliseconds at 0.1. Sentences use the two inline forms of the
reports' notes, **bold** and `code`.
"""
import dataclasses
import math
import re

import pandas as pd

from compare.rundir.precision import DECIMALS, format_number
from compare.score.pairs import VARIANT

#: Columns of findings.csv.
COLUMNS = ('position', 'topic', 'level', 'text')


@dataclasses.dataclass
class Finding:
    """One sentence of the headline; ``children``: sentences under it."""
    topic: str
    text: str
    children: list = dataclasses.field(default_factory=list)


def plain(text):
    """``text`` without its inline markup (console, findings.csv)."""
    return re.sub(r'\*\*([^*]+)\*\*', r'\1', re.sub(r'`([^`]+)`', r'\1', text))


def _number(value, kind):
    return format_number(float(value), DECIMALS[kind])


def _bound(value, kind, upper):
    """``value`` rounded OUT to its kind's step (up for an upper bound, down
    for a lower one), so a bound written at the tables' precision stays true:
    a largest difference of 3e-5 reads "within 0.0001", never "within 0"."""
    scale = 10 ** DECIMALS[kind]
    rounded = (math.ceil if upper else math.floor)(round(float(value) * scale, 6)) / scale
    if upper and value > 0:
        rounded = max(rounded, 1 / scale)
    return format_number(rounded, DECIMALS[kind])


def _within(value, kind, what, unit=''):
    """``'boxes within 0.1 px'``, or ``'boxes equal'`` when the largest
    difference is 0."""
    if not value > 0:
        return '{} equal'.format(what)
    return '{} within {}{}'.format(what, _bound(value, kind, upper=True), unit)


def _ms(value):
    return '-' if value != value else '{:.1f}'.format(value)


def _speed_rows(tables):
    """``{detector: (p50 ms per image at batch 1, noisy, load average, p90/p50)}``."""
    speed = tables.get('speed')
    if speed is None or speed.empty:
        return {}
    batch1 = speed[speed['batch_size'] == 1]
    return {row.detector: (float(row.total_p50_ms_per_image), bool(row.noisy),
                           float(row.load_avg_max), float(row.p90_over_p50))
            for row in batch1.itertuples()}


def _map(tables, name):
    summary = tables.get('map_summary')
    if summary is None or summary.empty:
        return float('nan')
    row = summary[summary['detector'] == name]
    return float(row['map_voc07'].iloc[0]) if len(row) else float('nan')


def _accuracy(tables, name):
    """``(what, value, objects)`` of a detector's accuracy against the
    annotations: ``('AP for `face`', AP, annotated faces)`` when it is scored
    on one class, else ``('mAP over N classes', mAP, annotated objects)``
    (``('mAP', mAP, None)`` without the per-class table); None without a mAP
    (no annotations, or none of its classes annotated)."""
    value = _map(tables, name)
    per_class = tables.get('map_per_class')
    if value != value:
        return None
    if per_class is None:   # the summary alone: no class or object counts
        return 'mAP', value, None
    mine = per_class[(per_class['detector'] == name) & per_class['predictable'].astype(bool) &
                     (per_class['gt'] > 0)]
    objects = int(mine['gt'].sum())
    if len(mine) == 1:
        return 'AP for `{}`'.format(mine['class'].iloc[0]), value, objects
    return 'mAP over {} classes'.format(len(mine)), value, objects


def _accuracy_words(tables, a, b, iou=0.5):
    """The pair's accuracy in words: ``AP for `face` (VOC07 11-point, 3
    annotated) 1.000 vs 1.000``; ``''`` when either has none."""
    found_a, found_b = _accuracy(tables, a), _accuracy(tables, b)
    if found_a is None or found_b is None:
        return ''
    if found_a[0] == found_b[0] and found_a[2] == found_b[2]:
        return '{} (VOC07 11-point{}, {} annotated) {:.3f} vs {:.3f}'.format(
            found_a[0], _iou_words(iou), found_a[2], found_a[1], found_b[1])
    return 'VOC07{} {} {:.3f} vs {} {:.3f}'.format(_iou_words(iou), found_a[0], found_a[1],
                                                  found_b[0], found_b[1])


def _head(a, sign, b, what):
    """``**a == b** (what it compares)``."""
    text = '**{} {} {}**'.format(a, sign, b)
    return text + ' ({})'.format(what) if isinstance(what, str) and what else text


def _agreement_words(row, thresh):
    """What two detectors of a pair did, in words (a row of the pairs table)."""
    a, b, what = row['detector_a'], row['detector_b'], row.get('what', '')
    if row['identical']:
        return '{}: {} of {} detections identical on {} images (boxes, classes and scores ' \
               'equal bit for bit)'.format(_head(a, '==', b, what), row['detections_a'],
                                           row['detections_b'], row['images'])
    total = row['matched'] + row['only_a'] + row['only_b']
    if total and row['only_a'] == 0 and row['only_b'] == 0:
        return ('{}: all {} detections at score >= {} matched one to one on {} images '
                '(IoU >= {}, {}, {}), not bit for bit'.format(
                    _head(a, '≈', b, what), row['matched'], _number(thresh, 'scores'),
                    row['images'], _bound(row['min_iou'], 'iou', upper=False),
                    _within(row['max_box_diff'], 'pixels', 'boxes', ' px'),
                    _within(row['max_score_diff'], 'scores', 'scores')))
    if total == 0:
        return '{}: neither has a detection at score >= {} on the {} images both ' \
               'processed'.format(_head(a, 'vs', b, what), _number(thresh, 'scores'),
                                  row['images'])
    return ('{}: {} of {} detections at score >= {} matched (agreement {}); {} only in {}, {} '
            'only in {}'.format(_head(a, 'vs', b, what), row['matched'], total,
                                _number(thresh, 'scores'), '{:.3f}'.format(row['matched'] / total),
                                row['only_a'], a, row['only_b'], b))


def _speed_words(a, b, speeds):
    if a not in speeds or b not in speeds:
        return ''
    ms_a, ms_b = speeds[a][0], speeds[b][0]
    text = '{} vs {} ms per image (p50, batch 1)'.format(_ms(ms_a), _ms(ms_b))
    if speeds[a][1] or speeds[b][1]:
        return text + ', **⚠ noisy timings: not compared**'
    if ms_a > 0 and ms_b > 0:
        ratio = max(ms_a, ms_b) / min(ms_a, ms_b)
        if ratio < 1.005:
            return text + ': as fast as each other'
        return text + ': {} {:.2f}x as fast'.format(a if ms_a < ms_b else b, ratio)
    return text


def pair_sentence(row, thresh, tables, speeds, trained, iou=0.5):
    """One pair's sentence: what it compares and their agreement, then their
    accuracy (trained weights only; ``iou``: the mAP's, ``--iou``), then
    their speed."""
    parts = [_agreement_words(row, thresh)]
    a, b = row['detector_a'], row['detector_b']
    accuracy = _accuracy_words(tables, a, b, iou) if trained else ''
    if accuracy:
        parts.append(accuracy)
    speed = _speed_words(a, b, speeds)
    if speed:
        parts.append(speed)
    return '; '.join(parts) + '.'


def _names(names):
    return ', '.join('`{}`'.format(n) for n in names)


def _natives(names):
    return [n for n in names if VARIANT not in n]


def _native(name):
    """``'a.common_nms'`` -> ``'a'``."""
    return name[:-len(VARIANT)] if name.endswith(VARIANT) else name


def speed_sentence(order, speeds):
    """Every detector's p50 at batch 1, each noisy one flagged, in one sentence."""
    shown = [n for n in _natives(order) if n in speeds]
    if not shown:
        return None
    values = ', '.join('{} {}{}'.format(n, _ms(speeds[n][0]), ' (noisy)' if speeds[n][1] else '')
                       for n in shown)
    # the flag counts every timing the headline quotes: the .common_nms
    # variants' too (their pairs' sentences give their speeds)
    timed = [n for n in order if n in speeds]
    noisy = [n for n in timed if speeds[n][1]]
    if noisy:
        hidden = [n for n in noisy if n not in shown]
        flag = (' **⚠ {} of {} timings noisy{} (load average up to {:.2f}, p90/p50 up to '
                '{:.2f}): rerun on a quiet machine before comparing them.**'.format(
                    len(noisy), len(timed),
                    ', among them {}'.format(', '.join(hidden)) if hidden else '',
                    max(speeds[n][2] for n in noisy), max(speeds[n][3] for n in noisy)))
    else:
        flag = ' Timings quiet (p90/p50 and load average within bounds).'
    return 'Speed, ms per image (p50 of the whole call, batch 1): {}.{}'.format(values, flag)


def _iou_words(iou):
    """``''`` at VOC's IoU 0.5, else ``', IoU >= 0.7'``."""
    return '' if iou == 0.5 else ', IoU >= {:g}'.format(iou)


def accuracy_sentence(tables, trained, annotations, said=(), iou=0.5):
    """The trained detectors' accuracy, or why there is none; ``said``: the
    detectors whose accuracy a pair's sentence already gave (not repeated);
    ``iou``: the true-positive IoU of ``map_voc07`` (``--iou``), said when not
    0.5."""
    if 'map_summary' not in tables:
        return 'Accuracy: no annotations, so no mAP.'
    if not trained:
        return ('Accuracy: no detector of this run holds trained weights, so no accuracy is '
                'claimed (the mAP tables below score random weights).')
    values = []
    for name in trained:
        found = _accuracy(tables, name)
        if found is not None and name not in said:
            values.append('{} {} {:.3f}{}'.format(name, found[0], found[1], '' if found[2] is None
                                                  else ' ({} annotated)'.format(found[2])))
    where = 'Accuracy (VOC07 11-point AP{}, every detection kept) against `{}`'.format(
        _iou_words(iou), annotations)
    if not values and said:
        return where + ': each pair above gives its two detectors\' AP.'
    return '{}: {}.'.format(where, ', '.join(values) if values else 'none computed')


def random_sentence(run, random, checked=True):
    """The detectors with random weights, named once and labelled as such;
    ``checked``: pairs among them follow (under this sentence)."""
    natives = _natives(random)
    variants = len(random) - len(natives)
    if variants:
        names = '{} and {} `{}` variant{}'.format(_names(natives), 'its' if len(natives) == 1
                                                  else 'their', VARIANT, 's' if variants > 1
                                                  else '')
    else:
        names = _names(natives)
    weights = sorted({str(run.detectors[n].weights) for n in natives})
    same = ', the same for all ({})'.format(weights[0]) if len(weights) == 1 and \
        len(natives) > 1 else ''
    check = ('; the pairs under this line check that two implementations compute the same '
             'thing on the same weights' if checked else '')
    one = len(random) == 1
    return '**Random weights**: {} {} untrained weights{}, so {} detections and mAP measure ' \
           'nothing about accuracy{}.'.format(names, 'holds' if one else 'hold', same,
                                              'its' if one else 'their', check)


def findings(run, tables, pairs_table, score_thresh, annotations, iou=0.5):
    """The headline as a list of :class:`Finding` (module docstring); ``iou``:
    the true-positive IoU of the mAP (``--iou``)."""
    order = [n for n in run.run_order() if n in set(run.ok_detectors())]
    random = [n for n in order if run.detectors[n].random_weights]
    trained = [n for n in _natives(order) if n not in random]
    speeds = _speed_rows(tables)
    found, random_pairs, by_pair = [], [], {}
    for _, row in pairs_table.iterrows():
        is_random = row['detector_a'] in random or row['detector_b'] in random
        sentence = pair_sentence(row, score_thresh, tables, speeds, not is_random, iou)
        parent = by_pair.get((_native(row['detector_a']), _native(row['detector_b'])))
        if is_random:
            random_pairs.append(sentence)
        elif row.get('how') == 'variant' and parent is not None:
            parent.children.append(sentence)   # under the pair it is a variant of
        else:
            by_pair[(row['detector_a'], row['detector_b'])] = Finding('pair', sentence)
            found.append(by_pair[(row['detector_a'], row['detector_b'])])
    if random:
        found.append(Finding('random_weights', random_sentence(run, random, bool(random_pairs)),
                             random_pairs))
    said = {name for key in by_pair for name in key}
    found.append(Finding('accuracy', accuracy_sentence(tables, trained, annotations, said, iou)))
    speed = speed_sentence(order, speeds)
    if speed:
        found.append(Finding('speed', speed))
    found.append(Finding('operating_point', 'Operating point: score >= {} for agreement, '
                         'precision, recall and F1; two detections are the same object at IoU '
                         '>= 0.5; mAP uses every detection kept.'.format(
                             _number(score_thresh, 'scores'))))
    failed = [(name, entry.status) for name, entry in run.detectors.items()
              if entry.status != 'ok']
    if failed:
        found.append(Finding('failed', '**Failed**: {}.'.format('; '.join(
            '`{}` ({})'.format(name, status) for name, status in failed))))
    if not order:
        found.insert(0, Finding('failed', 'No detector produced results.'))
    return found


def findings_table(found):
    """findings.csv: one row per sentence (level 1 under its parent)."""
    rows, position = [], 0
    for finding in found:
        position += 1
        rows.append((position, finding.topic, 0, plain(finding.text)))
        for child in finding.children:
            position += 1
            rows.append((position, finding.topic, 1, plain(child)))
    return pd.DataFrame(rows, columns=list(COLUMNS))


def lines(table, report_path):
    """The console's headline from findings.csv's table: one line per
    sentence (indented under its parent), then the report's path."""
    found = ['{}{}'.format('  - ' if row.level else '', row.text)
             for row in table.itertuples(index=False)]
    return found + ['report: {}'.format(report_path)]
