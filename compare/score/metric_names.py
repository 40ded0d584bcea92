"""The names other tools give our mAP columns: the TF OD API's and pycocotools'.

A number in ``map_summary``, ``coco_summary`` or ``map_per_class`` can be
matched to the one in a user's TensorBoard (the OD API's metric keys, as its
``PascalDetectionEvaluator`` and ``CocoDetectionEvaluator`` write them:
``utils/object_detection_evaluation.py`` and ``metrics/coco_evaluation.py``,
``metrics/coco_tools.py`` of ``tensorflow/models/research/object_detection``)
and to pycocotools' printed summary (``COCOeval.summarize``, ``stats[i]``).
:func:`table` is the ``metric_names`` table the report shows under the mAP
tables; reports/README.md lists the same rows.

The OD API's Pascal metric is the area under the PR curve at IoU 0.5 without
the +1 pixel: ``map_voc`` under ``--box-convention odapi`` (under the default
``chainercv`` convention it differs by the +1 pixel). ``map_voc07`` (11-point)
has no OD API counterpart. The OD API names hold for the default ``--iou 0.5``
only (``ap_coco_iou`` at 0.5 and 0.75 are its ``@.50IOU`` / ``@.75IOU``).
"""
import pandas as pd

#: pycocotools' ``summarize`` lines, by index of ``COCOeval.stats``.
_COCO_LINES = (
    'AP @[ IoU=0.50:0.95 | area=all | maxDets=100 ]',
    'AP @[ IoU=0.50 | area=all | maxDets=100 ]',
    'AP @[ IoU=0.75 | area=all | maxDets=100 ]',
    'AP @[ IoU=0.50:0.95 | area=small | maxDets=100 ]',
    'AP @[ IoU=0.50:0.95 | area=medium | maxDets=100 ]',
    'AP @[ IoU=0.50:0.95 | area=large | maxDets=100 ]',
    'AR @[ IoU=0.50:0.95 | area=all | maxDets=1 ]',
    'AR @[ IoU=0.50:0.95 | area=all | maxDets=10 ]',
    'AR @[ IoU=0.50:0.95 | area=all | maxDets=100 ]',
    'AR @[ IoU=0.50:0.95 | area=small | maxDets=100 ]',
    'AR @[ IoU=0.50:0.95 | area=medium | maxDets=100 ]',
    'AR @[ IoU=0.50:0.95 | area=large | maxDets=100 ]',
)
#: OD API ``DetectionBoxes_`` keys, by index of ``COCOeval.stats``.
_ODAPI_COCO = (
    'DetectionBoxes_Precision/mAP', 'DetectionBoxes_Precision/mAP@.50IOU',
    'DetectionBoxes_Precision/mAP@.75IOU', 'DetectionBoxes_Precision/mAP (small)',
    'DetectionBoxes_Precision/mAP (medium)', 'DetectionBoxes_Precision/mAP (large)',
    'DetectionBoxes_Recall/AR@1', 'DetectionBoxes_Recall/AR@10', 'DetectionBoxes_Recall/AR@100',
    'DetectionBoxes_Recall/AR@100 (small)', 'DetectionBoxes_Recall/AR@100 (medium)',
    'DetectionBoxes_Recall/AR@100 (large)',
)
#: Our ``coco_summary`` columns, by index of ``COCOeval.stats``.
_OURS_COCO = ('AP', 'AP50', 'AP75', 'AP_small', 'AP_medium', 'AP_large', 'AR1', 'AR10',
              'AR100', 'AR_small', 'AR_medium', 'AR_large')
COLUMNS = ('table', 'column', 'odapi_name', 'pycocotools_name')


def rows():
    """``(table, column, OD API name, pycocotools name)``; '-' where the tool
    has none."""
    found = [
        ('map_summary', 'map_voc07', '- (the OD API has no 11-point metric)', '-'),
        ('map_summary', 'map_voc', 'PascalBoxes_Precision/mAP@0.5IOU (with --box-convention '
         'odapi)', '-'),
        ('map_summary', 'map_coco', _ODAPI_COCO[0], 'stats[0] ' + _COCO_LINES[0]),
        ('map_summary', 'ap50_coco', _ODAPI_COCO[1], 'stats[1] ' + _COCO_LINES[1]),
        ('map_summary', 'ap_coco_iou', 'DetectionBoxes_Precision/mAP@.50IOU at --iou 0.5, '
         '@.75IOU at --iou 0.75 (no key at other IoUs)', 'stats[1] at --iou 0.5, stats[2] at '
         '0.75 (other IoUs: params.iouThrs = [IOU])'),
        ('map_per_class', 'ap_voc', 'PascalBoxes_PerformanceByCategory/AP@0.5IOU/<class> (with '
         '--box-convention odapi)', '-'),
        ('map_per_class', 'ap_coco', 'DetectionBoxes_PerformanceByCategory/mAP/<class> '
         '(include_metrics_per_category)', "eval['precision'][:, :, k, 0, -1] mean"),
    ]
    found += [('coco_summary', ours, odapi, 'stats[{}] {}'.format(k, line))
              for k, (ours, odapi, line) in enumerate(zip(_OURS_COCO, _ODAPI_COCO, _COCO_LINES,
                                                          strict=True))]
    return found


def table():
    """The ``metric_names`` table (:data:`COLUMNS`)."""
    return pd.DataFrame(rows(), columns=list(COLUMNS))
