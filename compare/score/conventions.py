"""Box conventions: how ground-truth pixels are read and how boxes are compared,
per metric. ``--box-convention`` picks one; the report states it next to the
numbers (:func:`table`).

=========================  ==============================  ==============================
                           ``chainercv`` (default)         ``odapi``
=========================  ==============================  ==============================
VOC XML ground truth       -1 on every coordinate (VOC     as written (the OD API's
                           pixels are 1-based; ChainerCV's  ``create_pascal_tf_record``
                           ``VOCBboxDataset``)             reads them unchanged)
VOC metrics: IoU, areas    +1 on the max coordinates       continuous: no +1 (OD API
                           (``eval_detection_voc``)        ``np_box_list_ops.iou``)
VOC metrics: detections    all count                       those with ``y_max <= y_min``
                                                           or ``x_max <= x_min`` dropped
                                                           first (OD API
                                                           ``_remove_invalid_boxes``)
COCO metrics               pycocotools, continuous boxes, on the ground truth as read above
=========================  ==============================  ==============================

Both match a detection to the unmatched ground truth of highest IoU when
IoU >= ``iou`` (``--iou``, default 0.5: the VOC metrics, the detections'
verdicts, the TIDE analysis and the single-IoU COCO AP; COCO's own AP: >= each
of .50:.05:.95), ignore detections matched to
``difficult`` boxes, and compute VOC area AP the same way, so ``odapi``
reproduces the numbers of the OD API's ``PascalDetectionEvaluator`` (and its
COCO evaluator on VOC-sourced data). COCO JSON ground truth is read the same
under both (``[x, y, w, h]`` continuous). ``odapi`` is implemented with
ChainerCV's evaluator by giving it boxes whose max coordinates are lowered
by 1 (in float64), which its +1 restores exactly.
"""
import dataclasses
import math

import numpy as np

from compare.errors import UserError


@dataclasses.dataclass(frozen=True)
class BoxConvention:
    """One column of the module table.

    Attributes:
        name: ``'chainercv'`` or ``'odapi'``.
        voc_gt_shift: added to every coordinate of VOC XML ground truth.
        voc_plus_one: VOC metrics add +1 to max coordinates (IoU and areas).
        drop_degenerate: VOC metrics drop detections of zero or negative
            height or width before matching.
        iou: the IoU a detection needs with a ground-truth box to be a true
            positive, in the VOC metrics, the detections' verdicts, TIDE and
            the single-IoU COCO AP (``--iou``).
    """
    name: str
    voc_gt_shift: float
    voc_plus_one: bool
    drop_degenerate: bool
    iou: float = 0.5

    def voc_boxes(self, boxes):
        """``(R, 4)`` boxes as ChainerCV's VOC evaluator must get them to
        apply this convention (float64)."""
        boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
        if self.voc_plus_one:
            return boxes
        # (y_min, x_min, y_max - 1, x_max - 1): the evaluator's +1 restores them
        return boxes - np.array([0.0, 0.0, 1.0, 1.0])

    def keep_detections(self, boxes):
        """``(R,)`` bool: the detections the VOC metrics count."""
        boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
        if not self.drop_degenerate:
            return np.ones(len(boxes), bool)
        return (boxes[:, 0] < boxes[:, 2]) & (boxes[:, 1] < boxes[:, 3])


CONVENTIONS = {
    'chainercv': BoxConvention('chainercv', -1.0, True, False),
    'odapi': BoxConvention('odapi', 0.0, False, True),
}
DEFAULT = 'chainercv'
#: ``--box-convention`` help (compare/run.py and python -m compare.score).
HELP = ('how ground-truth pixels are read and boxes compared for mAP: chainercv (default: VOC '
        'XML -1 px, +1 px in VOC IoU and areas, as ChainerCV) or odapi (VOC XML as written, '
        'continuous IoU, zero-size detections dropped: the numbers of the TF OD API\'s own '
        'evaluators)')


#: ``--iou`` help (compare/run.py and python -m compare.score).
IOU_HELP = ('IoU a detection needs to be a true positive in the VOC metrics (map_voc07, '
            'map_voc), the detections\' verdicts and errors, TIDE, and ap_coco_iou (COCO-style '
            'AP at this one IoU); 0 < IOU <= 1 (default: 0.5; COCO\'s AP@[.5:.95] and its 12 '
            'stats keep their own IoUs)')


def get(name, iou=None):
    """The :class:`BoxConvention` named ``name`` (None: the default), with
    the true-positive IoU ``iou`` (None: 0.5)."""
    name = name or DEFAULT
    if name not in CONVENTIONS:
        raise UserError('unknown box convention {!r}; choose {} (--box-convention)'.format(
            name, ' or '.join(CONVENTIONS)))
    if iou is None:
        return CONVENTIONS[name]
    if isinstance(iou, bool) or not isinstance(iou, (int, float)) or not (
            math.isfinite(iou) and 0 < iou <= 1):
        raise UserError('--iou must be a number with 0 < IOU <= 1, got {!r}'.format(iou))
    return dataclasses.replace(CONVENTIONS[name], iou=float(iou))


def table(convention, annotation_format, areas='box', coco_evaluator='pycocotools'):
    """One row per metric of the mAP tables: what it computes and on which
    reading of the boxes.

    Args:
        annotation_format: ``'voc'`` or ``'coco'`` (what the ground truth was).
        areas: where the COCO metric's object areas came from, in words
            (:func:`areas_note`).
        coco_evaluator: the library behind the COCO numbers
            (:mod:`compare.score.coco_eval`).
    """
    coco_name = 'COCOeval' if coco_evaluator == 'pycocotools' else 'COCOeval_faster'
    if annotation_format == 'voc':
        shift = ('VOC XML {:+g} px (0-based, as ChainerCV)'.format(convention.voc_gt_shift)
                 if convention.voc_gt_shift else 'VOC XML as written (as the OD API)')
    else:
        shift = 'COCO JSON [x, y, w, h] as written'
    if convention.voc_plus_one:
        voc_iou = '+1 px on max coordinates in IoU and areas'
        voc_dets = 'every detection counts'
    else:
        voc_iou = 'continuous, no +1'
        voc_dets = 'zero-width/height detections dropped'
    iou = '{:g}'.format(convention.iou)
    voc = 'IoU >= {}, difficult ignored, '.format(iou) + voc_dets
    coco = ('IoU >= .50:.05:.95, at most 100 detections per image, difficult/iscrowd as crowd '
            '(ignored), object areas: ' + areas)
    voc_evaluator = 'ChainerCV eval_detection_voc'
    if not convention.voc_plus_one:
        voc_evaluator += ' on the OD API\'s box rules'
    rows = [
        ('map_voc07', voc_evaluator + ', VOC2007 11-point' + (
            '' if convention.voc_plus_one else ' (the OD API has no 11-point metric)'),
         voc_iou, voc),
        ('map_voc', voc_evaluator + ', area under the PR curve' + (
            '' if convention.voc_plus_one else ' (= OD API PascalDetectionEvaluator)'),
         voc_iou, voc),
        ('map_coco', '{} {} bbox, AP@[.5:.95]'.format(coco_evaluator, coco_name),
         'continuous, no +1', coco),
        ('ap50_coco', '{} {} bbox, AP at IoU .50'.format(coco_evaluator, coco_name),
         'continuous, no +1', coco.replace('.50:.05:.95', '.50')),
        ('ap_coco_iou', '{} {} bbox, 101-point AP at IoU {} alone'.format(
            coco_evaluator, coco_name, iou),
         'continuous, no +1', coco.replace('.50:.05:.95', iou)),
        ('tide', 'TIDE (tidecv 1.0.1 definitions, our code): AP at IoU {} and dAP per error '
         'type'.format(iou), 'continuous, no +1',
         'IoU_fg {}, IoU_bg 0.1, at most 100 detections per image, difficult/iscrowd as '
         'ignore regions'.format(iou)),
    ]
    return [{'metric': metric, 'box_convention': convention.name, 'evaluator': evaluator,
             'ground_truth': shift, 'iou_and_areas': iou_rule, 'matching': matching}
            for metric, evaluator, iou_rule, matching in rows]


def areas_note(truths):
    """Where the COCO metric's object areas come from, in words: the COCO
    ``area`` field (how many objects have one) or the box's ``w * h``.

    Args:
        truths: ``{image: GroundTruth}``.
    """
    known = sum(int(np.isfinite(t.object_areas()).sum()) for t in truths.values())
    total = sum(len(t.boxes) for t in truths.values())
    if known == total and total:
        return 'the COCO area field (all {} objects)'.format(total)
    if known == 0:
        return 'box w x h (the annotations give no area)'
    return 'the COCO area field ({} of {} objects), box w x h for the {} without'.format(
        known, total, total - known)
