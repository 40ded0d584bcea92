"""Counts at a score threshold, from the verdicts of :mod:`compare.score.matching`.

For one detector, over the annotated images it processed, the ground-truth
positives are the boxes that are not difficult, of classes both the detector
and the annotation name. At a score threshold ``T`` (detections with
``score >= T``):

- ``tp``, ``fp``: detections so judged; ``fn`` = positives no true positive
  took; precision ``tp / (tp + fp)``, recall ``tp / positives``, F1 their
  harmonic mean (0 when both are 0; NaN where either is undefined);
- TIDE errors (:mod:`compare.score.matching`): ``dupe``, ``cls``, ``loc``,
  ``both``, ``bkg`` count false positives; ``missed`` counts positives that
  no true positive took and no ``cls`` or ``loc`` error targets;
- the confusion matrix: rows the ground-truth class or ``background``,
  columns the predicted class or ``background``. Cell (g, p): detections of
  class p whose target is a box of class g at IoU >= 0.5 (true positives on
  the diagonal, classification errors off it); (background, p): the other
  false positives of class p (duplicates, poor localisation, background);
  (g, background): positives of class g that no detection targets at
  IoU >= 0.5.
"""
import numpy as np
import pandas as pd

from compare.score.classes import canonical, canonical_set
from compare.score.matching import ERRORS

#: Thresholds of the sweep.
SWEEP = (0.01,) + tuple(round(0.05 * k, 2) for k in range(1, 20))
BACKGROUND = 'background'
SUMMARY_COLUMNS = ('detector', 'score_thresh', 'images', 'positives', 'detections', 'tp', 'fp',
                   'fn', 'precision', 'recall', 'f1') + ERRORS + ('missed',)
IMAGE_COLUMNS = ('detector', 'image', 'positives', 'detections', 'tp', 'fp', 'fn', 'errors')
SWEEP_COLUMNS = ('detector', 'score_thresh', 'detections', 'tp', 'fp', 'fn', 'precision',
                 'recall', 'f1')


def positives(truths, images, vocabulary, annotation_classes):
    """Rows ``(image, index, class)`` of the positives over ``images``."""
    evaluated = canonical_set(vocabulary) & set(annotation_classes)
    rows = []
    for image in sorted(images):
        truth = truths[image]
        for index, (name, hard) in enumerate(zip(truth.names, truth.difficult, strict=True)):
            if not hard and canonical(name) in evaluated:
                rows.append((image, index, canonical(name)))
    return rows


def _ratios(tp, fp, n_pos):
    precision = tp / (tp + fp) if tp + fp else float('nan')
    recall = tp / n_pos if n_pos else float('nan')
    if precision != precision or recall != recall:
        f1 = float('nan')
    else:
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


class Diagnosis:
    """One detector's verdicts and positives, counted at any threshold.

    Args:
        rows: its rows of the detections table with the match columns.
        gt_rows: :func:`positives` of it.
        images: the annotated images it processed.
    """

    def __init__(self, detector, rows, gt_rows, images):
        self.detector, self.images = detector, sorted(images)
        judged = rows['gt_match'].isin(['tp', 'fp'])
        self.rows = rows[judged & rows['image'].isin(set(images))]
        self.gt = pd.DataFrame(gt_rows, columns=['image', 'gt_index', 'class'])

    def at(self, thresh):
        return self.rows[self.rows['score'] >= thresh]

    def _targets(self, rows, kinds):
        chosen = rows[kinds]
        return set(zip(chosen['image'], chosen['gt_index'].astype(int), strict=True))

    def summary(self, thresh):
        """One row of :data:`SUMMARY_COLUMNS`."""
        rows = self.at(thresh)
        tp = int((rows['gt_match'] == 'tp').sum())
        fp = int((rows['gt_match'] == 'fp').sum())
        n_pos = len(self.gt)
        taken = self._targets(rows, rows['gt_match'] == 'tp')
        covered = taken | self._targets(rows, rows['error'].isin(['cls', 'loc']))
        keys = set(zip(self.gt['image'], self.gt['gt_index'], strict=True))
        row = {'detector': self.detector, 'score_thresh': float(thresh),
               'images': len(self.images), 'positives': n_pos, 'detections': tp + fp,
               'tp': tp, 'fp': fp, 'fn': len(keys - taken)}
        row['precision'], row['recall'], row['f1'] = _ratios(tp, fp, n_pos)
        row.update({kind: int((rows['error'] == kind).sum()) for kind in ERRORS})
        row['missed'] = len(keys - covered)
        return row

    def per_image(self, thresh):
        """Rows of :data:`IMAGE_COLUMNS`, one per annotated image."""
        rows = self.at(thresh)
        found = []
        for image in self.images:
            mine = rows[rows['image'] == image]
            tp = int((mine['gt_match'] == 'tp').sum())
            fp = int((mine['gt_match'] == 'fp').sum())
            n_pos = int((self.gt['image'] == image).sum())
            found.append({'detector': self.detector, 'image': image, 'positives': n_pos,
                          'detections': tp + fp, 'tp': tp, 'fp': fp, 'fn': n_pos - tp,
                          'errors': fp + n_pos - tp})
        return found

    def sweep(self, thresholds=SWEEP):
        """Rows of :data:`SWEEP_COLUMNS`, one per threshold."""
        n_pos, found = len(self.gt), []
        for thresh in thresholds:
            rows = self.at(thresh)
            tp = int((rows['gt_match'] == 'tp').sum())
            fp = int((rows['gt_match'] == 'fp').sum())
            row = {'detector': self.detector, 'score_thresh': float(thresh),
                   'detections': tp + fp, 'tp': tp, 'fp': fp, 'fn': n_pos - tp}
            row['precision'], row['recall'], row['f1'] = _ratios(tp, fp, n_pos)
            found.append(row)
        return found

    def confusion(self, thresh):
        """Long-form cells ``(detector, truth, predicted, count)``, zeros left out."""
        rows = self.at(thresh)
        cells = {}

        def add(truth, predicted):
            cells[(truth, predicted)] = cells.get((truth, predicted), 0) + 1

        on_object = rows['gt_match'].eq('tp') | rows['error'].eq('cls')
        for truth, predicted in zip(rows.loc[on_object, 'gt_class'],
                                    rows.loc[on_object, 'class'], strict=True):
            add(truth, predicted)
        for predicted in rows.loc[~on_object, 'class']:
            add(BACKGROUND, predicted)
        targeted = self._targets(rows, on_object)
        for image, index, cls in self.gt.itertuples(index=False):
            if (image, index) not in targeted:
                add(cls, BACKGROUND)
        return [{'detector': self.detector, 'truth': t, 'predicted': p, 'count': n}
                for (t, p), n in sorted(cells.items())]


def confusion_matrix(cells, detector):
    """The square matrix (DataFrame, truth rows x predicted columns) of one
    detector's cells, classes sorted, ``background`` last."""
    mine = [c for c in cells if c['detector'] == detector]
    names = sorted(({c['truth'] for c in mine} | {c['predicted'] for c in mine}) - {BACKGROUND})
    names.append(BACKGROUND)
    matrix = pd.DataFrame(0, index=names, columns=names, dtype=np.int64)
    for cell in mine:
        matrix.loc[cell['truth'], cell['predicted']] = cell['count']
    matrix.index.name = 'truth \\ predicted'
    return matrix
