"""Periodic VOC07 mAP on a validation split, as a trainer extension."""
import chainer
import numpy as np

from replicate.ssd.voc_eval import eval_detection_voc


def predict_dataset(model, dataset, batch_size=8):
    """Run ``model.predict`` over a dataset yielding (img, bbox, label,
    difficult); returns (pred_bboxes, pred_labels, pred_scores, gt_bboxes,
    gt_labels, gt_difficults), lists with one array per image."""
    out = tuple([] for _ in range(6))
    for start in range(0, len(dataset), batch_size):
        samples = [dataset[i] for i in range(start, min(start + batch_size, len(dataset)))]
        imgs, bboxes, labels, difficults = zip(*samples, strict=True)
        predicted = model.predict(list(imgs))
        for lists, arrays in zip(out, predicted + (bboxes, labels, difficults), strict=True):
            lists.extend(arrays)
    return out


def evaluate(model, dataset, batch_size=8):
    """VOC07 11-point AP per class and mAP of ``model`` on ``dataset``."""
    return eval_detection_voc(*predict_dataset(model, dataset, batch_size), use_07_metric=True)


class VOCEvaluator(chainer.training.Extension):
    """Reports ``validation/main/map`` and ``validation/main/ap/<class>``.

    Args:
        dataset: yields (img, bbox, label, difficult) (``return_difficult``).
        model: an SSD; evaluated with its ``nms_thresh`` and ``score_thresh``
            (the command sets the 'evaluate' preset, score 0.01).
        label_names: class names for the per-class keys.
    """

    trigger = 1, 'epoch'
    default_name = 'validation'
    priority = chainer.training.PRIORITY_WRITER

    def __init__(self, dataset, model, label_names, batch_size=8):
        self.dataset = dataset
        self.model = model
        self.label_names = label_names
        self.batch_size = batch_size

    def __call__(self, trainer=None):
        result = evaluate(self.model, self.dataset, self.batch_size)
        report = {'map': result['map']}
        for name, ap in zip(self.label_names, result['ap'], strict=True):
            report['ap/' + name] = float(ap) if np.isfinite(ap) else float('nan')
        # keys as chainer's evaluators name them: validation/main/...
        named = {'validation/main/' + key: value for key, value in report.items()}
        chainer.reporter.report(named)
        return named
