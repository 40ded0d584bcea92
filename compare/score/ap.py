"""mAP tables of a run: per detector and class, and per detector.

Metrics: ``ap_voc07`` = VOC2007 11-point, ``ap_voc`` = VOC area under the PR
curve, both ChainerCV's ``eval_detection_voc`` (IoU ``--iou``, default 0.5,
difficult ignored); ``ap_coco`` = COCO AP@[.5:.95], ``ap50_coco`` = COCO AP50
and ``ap_coco_iou`` = COCO-style AP at the one IoU ``--iou``, pycocotools (or
faster-coco-eval, ``--coco-evaluator``);
each under the run's box convention (:mod:`compare.score.conventions`, stated
in the ``map_conventions`` table beside them).
Means are over the annotation classes the detector can name that have
ground truth; the other annotation classes are listed as excluded.
"""
import numpy as np
import pandas as pd

from compare.score.classes import canonical, canonical_set
from compare.score.coco_eval import mean_over_classes
from compare.score.conventions import CONVENTIONS, DEFAULT
from compare.score.evaluators import build_eval_set, coco_ap, voc_ap, voc_prec_rec

PER_CLASS_COLUMNS = ('detector', 'class', 'predictable', 'gt', 'gt_difficult', 'detections',
                     'ap_voc07', 'ap_voc', 'ap_coco', 'ap50_coco', 'ap_coco_iou')
SUMMARY_COLUMNS = ('detector', 'images', 'images_unannotated', 'classes_evaluated',
                   'classes_excluded', 'detections_dropped', 'map_voc07', 'map_voc', 'map_coco',
                   'ap50_coco', 'iou', 'ap_coco_iou')
#: ``COCOeval.stats`` in order: the full COCO summary.
COCO_STATS = ('AP', 'AP50', 'AP75', 'AP_small', 'AP_medium', 'AP_large', 'AR1', 'AR10',
              'AR100', 'AR_small', 'AR_medium', 'AR_large')
COCO_COLUMNS = ('detector', 'images') + COCO_STATS


def gt_counts(truths, images):
    """``{class: (non-difficult, difficult)}`` over ``images`` (canonical names)."""
    found = {}
    for image in images:
        truth = truths[image]
        for name, difficult in zip(truth.names, truth.difficult, strict=True):
            easy, hard = found.get(canonical(name), (0, 0))
            found[canonical(name)] = (easy, hard + 1) if difficult else (easy + 1, hard)
    return found


def classes_of(truths, vocabulary):
    """Sorted canonical classes of an annotation: its vocabulary and every
    class its boxes name."""
    return sorted(canonical_set(vocabulary) |
                  {canonical(n) for t in truths.values() for n in t.names})


def score_detector(run, detector, truths, annotation_classes, convention=CONVENTIONS[DEFAULT],
                   coco_evaluator=None):
    """``(per-class rows, summary row, (classes, prec, rec), COCO stats)`` for one detector.

    Args:
        run: :class:`compare.score.inputs.Run`.
        truths: ``{image: GroundTruth}`` (already clipped).
        annotation_classes: sorted canonical classes of the annotation.
        coco_evaluator: :data:`compare.score.coco_eval.EVALUATORS` key (None: pycocotools).
    """
    predictable = canonical_set(run.label_names(detector))
    classes = sorted(set(annotation_classes) & predictable)
    processed = set(run.images.loc[run.images['detector'] == detector, 'image'])
    mine = {image: truths[image] for image in sorted(processed & set(truths))}
    rows = run.detections[run.detections['detector'] == detector]
    data = build_eval_set(rows[rows['image'].isin(set(mine))], mine, classes, run.sizes())
    ap07, map07 = voc_ap(data, True, convention)
    ap, map_voc = voc_ap(data, False, convention)
    ap_coco, ap50_coco, stats, ap_iou = coco_ap(data, convention.iou, coco_evaluator)
    counts = gt_counts(mine, mine)
    det_counts = rows[rows['image'].isin(set(mine))]['class'].value_counts()
    per_class = []
    for name in annotation_classes:
        easy, hard = counts.get(name, (0, 0))
        k = classes.index(name) if name in classes else None
        values = [np.nan] * 5 if k is None else [ap07[k], ap[k], ap_coco[k], ap50_coco[k],
                                                 ap_iou[k]]
        per_class.append([detector, name, k is not None, easy, hard,
                          int(det_counts.get(name, 0))] + [float(v) for v in values])
    excluded = [name for name in annotation_classes
                if name not in predictable and sum(counts.get(name, (0, 0))) > 0]
    summary = [detector, len(mine), len(processed - set(truths)), len(classes),
               ' '.join(excluded) or '-', data.dropped, map07, map_voc, float(stats[0]),
               float(stats[1]), convention.iou, mean_over_classes(ap_iou)]
    return per_class, summary, (tuple(classes),) + voc_prec_rec(data, convention), stats


def map_tables(run, truths, vocabulary, convention=CONVENTIONS[DEFAULT], coco_evaluator=None):
    """``(per_class, summary, curves, coco)`` for every detector that ran.

    Args:
        vocabulary: the annotation's class names (any spelling).
        convention: :class:`compare.score.conventions.BoxConvention` of the
            VOC metrics (the ground truth was read under it already).

    Returns:
        two DataFrames (:data:`PER_CLASS_COLUMNS`, :data:`SUMMARY_COLUMNS`),
        ``{detector: (classes, prec, rec)}`` for PR curves, and the full COCO
        summary (:data:`COCO_COLUMNS`; -1 where COCOeval finds no ground truth,
        as pycocotools prints it).
    """
    annotation_classes = classes_of(truths, vocabulary)
    per_class, summary, curves, coco = [], [], {}, []
    for detector in run.ok_detectors():
        rows, row, curves[detector], stats = score_detector(
            run, detector, truths, annotation_classes, convention, coco_evaluator)
        per_class += rows
        summary.append(row)
        coco.append([detector, row[1]] + [float(v) for v in stats])
    return (pd.DataFrame(per_class, columns=list(PER_CLASS_COLUMNS)),
            pd.DataFrame(summary, columns=list(SUMMARY_COLUMNS)), curves,
            pd.DataFrame(coco, columns=list(COCO_COLUMNS)))
