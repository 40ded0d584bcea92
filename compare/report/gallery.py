"""Which figures the report has, drawn and saved under ``<run dir>/figures/``.

:class:`Gallery` maps a kind to ``[(caption, path)]``:

- ``overlays``: ``det_<NNN>_<detector>.jpg``, the first :data:`MAX_IMAGES`
  images (worst first when annotated: most errors over all detectors, then by
  name), one panel per detector (:data:`MAX_BOXES` highest scores at or above
  the operating point; variants such as ``.common_nms`` left out), ground
  truth drawn (:mod:`compare.report.overlays`);
- ``disagreement``: ``dis_<NNN>_<a>_<b>.jpg``, per pair of the headline
  (:mod:`compare.score.pairs`; without pairs, the first detector with each
  other; variants left out), only the boxes one of the two has and
  the other lacks at the operating point, on the first :data:`MAX_DISAGREEMENT`
  images drawn where there are any;
- ``pr``: ``pr_<class>.png``, one per annotated class, every detector with
  its VOC area AP in the legend;
- ``speed_accuracy``: ms per image (log) against VOC07 mAP, one labelled
  point per detector family at batch 1;
- ``sweep``, ``errors``, ``confusion`` (``confusion_<detector>.png``),
  ``grid``: see :mod:`compare.report.figures`.
"""
import dataclasses
import os

import numpy as np

from compare import rundir
from compare.report import figures, overlays
from compare.score.diagnosis import confusion_matrix
from compare.score.matching import ERRORS

#: Images drawn.
MAX_IMAGES = 12
#: Boxes drawn per panel (highest scores first).
MAX_BOXES = 20
#: Images with a disagreement view, per pair of detectors.
MAX_DISAGREEMENT = 2
VARIANT_MARK = '.'


@dataclasses.dataclass
class Gallery:
    """Relative paths (under the run dir) of the figures, by kind, and notes."""
    figures: dict = dataclasses.field(default_factory=dict)
    notes: list = dataclasses.field(default_factory=list)

    def add(self, kind, caption, path):
        self.figures.setdefault(kind, []).append((caption, path))


def _slug(text):
    return ''.join(c if c.isalnum() or c in '-_' else '_' for c in str(text))


def _drawn_detectors(run):
    return [n for n in run.run_order() if n in set(run.ok_detectors()) and VARIANT_MARK not in n]


def _images(scored):
    images = sorted(set(scored.run.images['image']))
    per_image = scored.tables.get('diagnosis_per_image')
    if per_image is not None and not per_image.empty:
        errors = per_image.groupby('image')['errors'].sum().to_dict()
        images.sort(key=lambda image: (-errors.get(image, 0), image))
    return images


def _colour(row, annotated):
    if not annotated:
        return figures.class_colour(row['class'])
    verdict = row.get('gt_match', '')
    return overlays.TP if verdict == 'tp' else overlays.FP if verdict == 'fp' else overlays.OTHER


def draw_overlays(scored, gallery):
    run, thresh = scored.run, scored.score_thresh
    images = _images(scored)
    if len(images) > MAX_IMAGES:
        gallery.notes.append('detections drawn for {} of {} images'.format(MAX_IMAGES,
                                                                         len(images)))
    sizes = run.sizes()
    kept = run.detections[run.detections['score'] >= thresh]
    by_key = dict(tuple(kept.groupby(['detector', 'image'], sort=True)))
    for number, image in enumerate(images[:MAX_IMAGES]):
        pixels, note = figures.read_image(scored.images_dir, image, sizes[image])
        if note:
            gallery.notes.append('{}: {} (boxes drawn on a grey canvas)'.format(image, note))
        truth = scored.truths.get(image)
        truth_boxes = truth.boxes if truth is not None else np.zeros((0, 4))
        for detector in _drawn_detectors(run):
            rows = by_key.get((detector, image), kept.iloc[:0])
            top = rows[rows['rank'] <= rows['rank'].min() + MAX_BOXES - 1] if len(rows) else rows
            top = top.sort_values('rank').head(MAX_BOXES)
            labels = [('{} {:.2f}'.format(r['name'], r['score']), _colour(r, truth is not None))
                      for _, r in top.iterrows()]
            title = '{} | {} ({} of {} boxes)'.format(image, detector, len(top), len(rows))
            path = rundir.figure('det_{:03d}_{}.jpg'.format(number, _slug(detector)))
            overlays.save_jpeg(overlays.panel(pixels, truth_boxes,
                                              top[['y_min', 'x_min', 'y_max', 'x_max']]
                                              .to_numpy(float), labels, title),
                               os.path.join(run.run_dir, path))
            gallery.add('overlays', '{}: {}'.format(image, detector), path)
        if number < MAX_DISAGREEMENT:
            _draw_disagreement(scored, gallery, number, image, pixels, truth_boxes)


def _disagreement_pairs(scored, names):
    """The pairs of the headline (``pairs`` table, variants left out), else the
    first detector with each other; each as sorted ``(a, b)``."""
    table = scored.tables.get('pairs')
    if table is not None and not table.empty:
        chosen = [(a, b) for a, b in zip(table['detector_a'], table['detector_b'], strict=True)
                  if a in names and b in names]
    else:
        chosen = [(names[0], other) for other in names[1:]]
    return [tuple(sorted(pair)) for pair in chosen]


def _draw_disagreement(scored, gallery, number, image, pixels, truth_boxes):
    run, pairs = scored.run, scored.tables['agreement_pairs']
    names = _drawn_detectors(run)
    if len(names) < 2 or pairs.empty:
        return
    kept = run.detections[run.detections['score'] >= scored.score_thresh]
    for a, b in _disagreement_pairs(scored, names):
        mine = pairs[(pairs['detector_a'] == a) & (pairs['detector_b'] == b) &
                     (pairs['image'] == image) & (pairs['status'] != 'matched')]
        if mine.empty:
            continue
        boxes, labels = [], []
        for status, detector, rank_column, colour in (('only_a', a, 'rank_a', '#f58231'),
                                                      ('only_b', b, 'rank_b', '#4363d8')):
            ranks = set(mine.loc[mine['status'] == status, rank_column].astype(int))
            rows = kept[(kept['detector'] == detector) & (kept['image'] == image) &
                        kept['rank'].isin(ranks)].head(MAX_BOXES)
            boxes += rows[['y_min', 'x_min', 'y_max', 'x_max']].to_numpy(float).tolist()
            labels += [('{} {:.2f}'.format(r['name'], r['score']), colour)
                       for _, r in rows.iterrows()]
        title = '{}: where they disagree\norange: only {}; blue: only {}'.format(image, a, b)
        path = rundir.figure('dis_{:03d}_{}_{}.jpg'.format(number, _slug(a), _slug(b)))
        overlays.save_jpeg(overlays.panel(pixels, truth_boxes, np.array(boxes).reshape(-1, 4),
                                          labels, title), os.path.join(run.run_dir, path))
        gallery.add('disagreement', '{}: {} vs {}'.format(image, a, b), path)


def _save(scored, figure, name):
    path = rundir.figure(name)
    figures.save_png(figure, os.path.join(scored.run.run_dir, path))
    return path


def draw_pr(scored, gallery):
    per_class = scored.tables['map_per_class'].set_index(['detector', 'class'])
    order = scored.run.run_order()
    by_class = {}
    for detector in [d for d in order if d in scored.curves]:
        classes, prec, rec = scored.curves[detector]
        for name, p, r in zip(classes, prec, rec, strict=True):
            if p is not None and r is not None and len(r):
                ap = float(per_class.loc[(detector, name), 'ap_voc'])
                by_class.setdefault(name, []).append((detector, p, r, ap))
    for name in sorted(by_class):
        path = _save(scored, figures.pr_class_figure(name, by_class[name]),
                     'pr_{}.png'.format(_slug(name)))
        gallery.add('pr', 'PR: {}'.format(name), path)


def draw_speed_accuracy(scored, gallery):
    """One point per detector family (its variants left out) at batch 1."""
    speed, summary = scored.tables['speed'], scored.tables.get('map_summary')
    if summary is None or summary.empty or speed.empty:
        gallery.notes.append('no speed-against-accuracy chart: needs both timings and mAP')
        return
    accuracy = dict(zip(summary['detector'], summary['map_voc07'], strict=True))
    order = scored.run.run_order()
    batch1 = speed[(speed['batch_size'] == 1) & (speed['total_p50_ms_per_image'] > 0)]
    points = [(row.detector, order.index(row.detector), row.total_p50_ms_per_image,
               accuracy[row.detector], bool(scored.run.detectors[row.detector].random_weights))
              for row in batch1.itertuples() if row.detector in accuracy and
              VARIANT_MARK not in row.detector and accuracy[row.detector] ==
              accuracy[row.detector]]
    if points:
        path = _save(scored, figures.speed_accuracy_figure(points, 'mAP (VOC07 11-point)'),
                     'speed_accuracy.png')
        gallery.add('speed_accuracy', 'speed against accuracy', path)


def draw_diagnosis(scored, gallery):
    tables, order = scored.tables, scored.run.run_order()
    diagnosis = tables['diagnosis']
    if diagnosis.empty:
        return
    ordered = diagnosis.set_index('detector').loc[[d for d in order
                                                   if d in set(diagnosis['detector'])]]
    path = _save(scored, figures.errors_figure(ordered.reset_index(), ERRORS + ('missed',)),
                 'errors.png')
    gallery.add('errors', 'errors by TIDE type', path)
    path = _save(scored, figures.sweep_figure(tables['sweep'], order), 'sweep.png')
    gallery.add('sweep', 'precision, recall, F1 against the score threshold', path)
    cells = tables['confusion'].to_dict('records')
    for detector in order:
        if detector in set(tables['confusion']['detector']):
            path = _save(scored, figures.confusion_figure(confusion_matrix(cells, detector),
                                                          detector),
                         'confusion_{}.png'.format(_slug(detector)))
            gallery.add('confusion', 'confusion: {}'.format(detector), path)


def draw_grid(scored, gallery):
    if 'decode_grid' in scored.tables:
        path = _save(scored, figures.grid_figure(scored.tables['decode_grid']), 'grid.png')
        gallery.add('grid', 'NMS and score thresholds', path)


def draw_all(scored):
    """Draw and save every figure; returns a :class:`Gallery`."""
    rundir.clear_figures(scored.run.run_dir)
    gallery = Gallery()
    draw_overlays(scored, gallery)
    if 'map_summary' in scored.tables:
        draw_pr(scored, gallery)
        draw_diagnosis(scored, gallery)
    draw_speed_accuracy(scored, gallery)
    draw_grid(scored, gallery)
    return gallery
