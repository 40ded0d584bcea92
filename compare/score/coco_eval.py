"""The COCO evaluator behind every COCO number: pycocotools, or faster-coco-eval.

``--coco-evaluator`` picks the library (:data:`EVALUATORS`): ``pycocotools``
(the default, the reference) or ``faster-coco-eval`` (the same algorithm in
C++, an optional dependency; tests/compare/test_coco_official.py checks that
it gives pycocotools' 12 stats on the same files, and
``tools/bench_coco_eval.py`` measures both: ``reports/bench/coco_eval.md``).
Both are called the same way, ``iouType='bbox'`` and the library's defaults
(10 IoUs .50:.05:.95, 101 recall points, at most 1/10/100 detections per
image, areas all/small/medium/large from each ground-truth object's ``area``).

:func:`evaluate` takes a COCO ground-truth dataset (a dict) and a results
list; :func:`single_iou_ap` is COCO-style AP (101-point interpolated
precision, area ``all``, at most 100 detections per image) at ONE IoU: read
from the main evaluation when the IoU is one of its 10, otherwise a second
evaluation with ``params.iouThrs`` set to that IoU alone.
"""
import contextlib
import dataclasses
import importlib
import io

import numpy as np

from compare.errors import UserError

#: ``--coco-evaluator`` name -> (module of ``COCO``, module and name of the evaluator).
EVALUATORS = {
    'pycocotools': ('pycocotools.coco', 'pycocotools.cocoeval', 'COCOeval'),
    'faster-coco-eval': ('faster_coco_eval', 'faster_coco_eval', 'COCOeval_faster'),
}
DEFAULT = 'pycocotools'
HELP = ('the library behind every COCO number: pycocotools (default) or faster-coco-eval '
        '(same 12 stats, faster on large sets; pip install faster-coco-eval)')


@dataclasses.dataclass
class CocoResult:
    """What one evaluation gives.

    Attributes:
        stats: ``(12,)`` float64, ``COCOeval.stats`` (-1: no ground truth).
        precision: ``(T, R, K, A, M)`` ``eval['precision']`` (-1: none).
        iou_thrs: ``(T,)`` the IoUs of ``precision``.
        evaluator: the library's name.
    """
    stats: np.ndarray
    precision: np.ndarray
    iou_thrs: np.ndarray
    evaluator: str


def check(name):
    """``name`` (None: the default) if it is a known evaluator that imports."""
    name = name or DEFAULT
    if name not in EVALUATORS:
        raise UserError('unknown COCO evaluator {!r}; choose {} (--coco-evaluator)'.format(
            name, ' or '.join(EVALUATORS)))
    try:
        _classes(name)
    except ImportError:
        raise UserError('--coco-evaluator {} is not installed: pip install {} (or pass '
                        '--coco-evaluator {})'.format(name, name, DEFAULT)) from None
    return name


def _classes(name):
    coco_module, eval_module, eval_name = EVALUATORS[name]
    coco = importlib.import_module(coco_module).COCO
    return coco, getattr(importlib.import_module(eval_module), eval_name)


def _ground_truth(coco_class, dataset):
    coco = coco_class()
    coco.dataset = dataset
    coco.createIndex()
    return coco


def _run(coco_class, eval_class, gt, results, iou_thrs=None):
    if results:
        dt = gt.loadRes(results)
    else:  # loadRes cannot take an empty list: an empty result set by hand
        dt = _ground_truth(coco_class, {'images': gt.dataset['images'], 'annotations': [],
                                        'categories': gt.dataset['categories']})
    evaluator = eval_class(gt, dt, 'bbox')
    if iou_thrs is not None:
        evaluator.params.iouThrs = np.asarray(iou_thrs, np.float64)
    evaluator.evaluate()
    evaluator.accumulate()
    return evaluator


def evaluate(dataset, results, name=DEFAULT, iou=None):
    """``(CocoResult, single)``: the library's full evaluation of ``results``
    against ``dataset``, and ``single`` = :func:`single_iou_ap` at ``iou``
    (None: not computed).

    Args:
        dataset: ``{'images', 'annotations', 'categories'}`` COCO ground truth;
            every annotation has ``area`` and ``iscrowd``.
        results: list of ``{'image_id', 'category_id', 'bbox', 'score'}``.
    """
    coco_class, eval_class = _classes(name)
    with contextlib.redirect_stdout(io.StringIO()):  # both libraries print progress
        gt = _ground_truth(coco_class, dataset)
        evaluator = _run(coco_class, eval_class, gt, results)
        evaluator.summarize()
        found = CocoResult(np.asarray(evaluator.stats[:12], np.float64),
                           np.asarray(evaluator.eval['precision']),
                           np.asarray(evaluator.params.iouThrs, np.float64), name)
        single = None
        if iou is not None:
            at = np.flatnonzero(np.isclose(found.iou_thrs, iou, rtol=0, atol=1e-9))
            precision = found.precision[at[:1]] if len(at) else np.asarray(
                _run(coco_class, eval_class, gt, results, [iou]).eval['precision'])
            single = per_class_ap(precision)
    return found, single


def per_class_ap(precision):
    """``(K,)`` AP per class from a ``(T, R, K, A, M)`` precision array: the
    mean over IoUs and recall points, area ``all``, the last maxDets (100);
    NaN where COCOeval found no ground truth (-1)."""
    chosen = precision[:, :, :, 0, -1]
    return np.array([_mean_valid(chosen[:, :, k]) for k in range(chosen.shape[2])])


def _mean_valid(values):
    """Mean of the entries > -1 (COCOeval marks 'no ground truth' with -1)."""
    valid = values[values > -1]
    return float(np.mean(valid)) if valid.size else float('nan')


def mean_over_classes(ap):
    """The mean of the classes with ground truth (NaN entries left out), as
    ``COCOeval.summarize`` averages them; NaN when none has."""
    ap = np.asarray(ap, np.float64)
    return float(np.mean(ap[~np.isnan(ap)])) if (~np.isnan(ap)).any() else float('nan')
