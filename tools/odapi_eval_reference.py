"""The TF Object Detection API's own evaluators on a generated detection set,
recorded so that the project's ``--box-convention odapi`` is tested against
them (tests/compare/test_conventions.py).

The set (seeded, small objects, so the pixel conventions matter): 40 images
of 96x128 px, 3 classes; ground truth as integer VOC pixel coordinates
(1-based, as VOC XML writes them), about 10% ``difficult``; detections are
jittered copies of the ground truth, duplicates, false positives anywhere and
a few zero-width boxes, with random scores.

The OD API evaluators get the boxes exactly as the OD API's own VOC pipeline
would hand them over (``create_pascal_tf_record`` keeps the XML coordinates):
``PascalDetectionEvaluator`` (IoU 0.5, area AP) and ``CocoDetectionEvaluator``
(pycocotools), ``difficult`` passed as ``groundtruth_difficult`` and as
COCO crowd. Writes tests/fixtures/odapi_eval/reference.json: the set and the
numbers.

Runs ONLY in the OD API environment of make_odapi_export.sh, with one shim:
the numpy aliases np.float / np.bool (removed in numpy 1.24) that the OD
API's metrics code still uses.
Usage: python tools/odapi_eval_reference.py [OUT.json]
"""
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, '..', 'tests', 'fixtures', 'odapi_eval', 'reference.json')
CLASSES = ('person', 'cat', 'dog')
HEIGHT, WIDTH, IMAGES = 96, 128, 40


def generated_set(seed=0):
    """``[{'gt_boxes', 'gt_labels', 'gt_difficult', 'boxes', 'labels', 'scores'}]``,
    boxes ``(y_min, x_min, y_max, x_max)``, labels 0-based."""
    rng = np.random.RandomState(seed)
    images = []
    for _ in range(IMAGES):
        gt_boxes, gt_labels, difficult = [], [], []
        for _ in range(rng.randint(1, 5)):
            h, w = rng.randint(3, 21, 2)
            y, x = rng.randint(1, HEIGHT - h), rng.randint(1, WIDTH - w)
            gt_boxes.append([y, x, y + h, x + w])  # VOC 1-based integer pixels
            gt_labels.append(rng.randint(len(CLASSES)))
            difficult.append(bool(rng.rand() < 0.1))
        boxes, labels, scores = [], [], []
        for box, label in zip(gt_boxes, gt_labels, strict=True):
            for _ in range(int(rng.rand() < 0.85) + int(rng.rand() < 0.2)):
                boxes.append((np.array(box) + rng.uniform(-2, 2, 4)).tolist())
                labels.append(label if rng.rand() < 0.9 else rng.randint(len(CLASSES)))
                scores.append(rng.uniform(0.2, 1.0))
        for _ in range(rng.randint(0, 4)):
            h, w = rng.uniform(3, 20, 2)
            y, x = rng.uniform(0, HEIGHT - h), rng.uniform(0, WIDTH - w)
            boxes.append([y, x, y + h, x + w])
            labels.append(rng.randint(len(CLASSES)))
            scores.append(rng.uniform(0.0, 0.8))
        if rng.rand() < 0.15:  # zero width: the OD API drops it, ChainerCV counts it
            y, x = rng.uniform(10, 60), rng.uniform(10, 90)
            boxes.append([y, x, y + 8, x])
            labels.append(rng.randint(len(CLASSES)))
            scores.append(rng.uniform(0.5, 1.0))
        images.append({'gt_boxes': [[float(v) for v in b] for b in gt_boxes],
                       'gt_labels': [int(v) for v in gt_labels], 'gt_difficult': difficult,
                       'boxes': [[float(v) for v in b] for b in boxes],
                       'labels': [int(v) for v in labels],
                       'scores': [float(v) for v in scores]})
    return images


def odapi_numbers(images):
    """The OD API evaluators' metrics on ``images`` (labels 1-based for it)."""
    for name, value in (('float', float), ('bool', bool)):  # the shim (module doc)
        if not hasattr(np, name):
            setattr(np, name, value)
    from object_detection.core import standard_fields as fields
    from object_detection.metrics import coco_evaluation
    from object_detection.utils import object_detection_evaluation
    categories = [{'id': i + 1, 'name': n} for i, n in enumerate(CLASSES)]
    pascal = object_detection_evaluation.PascalDetectionEvaluator(categories)
    coco = coco_evaluation.CocoDetectionEvaluator(categories)
    for key, image in enumerate(images):
        gt_boxes = np.array(image['gt_boxes'], np.float32).reshape(-1, 4)
        gt_labels = np.array(image['gt_labels'], np.int32) + 1
        difficult = np.array(image['gt_difficult'], bool)
        pascal.add_single_ground_truth_image_info(key, {
            fields.InputDataFields.groundtruth_boxes: gt_boxes,
            fields.InputDataFields.groundtruth_classes: gt_labels,
            fields.InputDataFields.groundtruth_difficult: difficult})
        coco.add_single_ground_truth_image_info(key, {
            fields.InputDataFields.groundtruth_boxes: gt_boxes,
            fields.InputDataFields.groundtruth_classes: gt_labels,
            fields.InputDataFields.groundtruth_is_crowd: difficult.astype(np.int32)})
        detections = {
            fields.DetectionResultFields.detection_boxes:
                np.array(image['boxes'], np.float32).reshape(-1, 4),
            fields.DetectionResultFields.detection_scores: np.array(image['scores'], np.float32),
            fields.DetectionResultFields.detection_classes:
                np.array(image['labels'], np.int32) + 1}
        pascal.add_single_detected_image_info(key, detections)
        coco.add_single_detected_image_info(key, detections)
    numbers = {key: float(value) for key, value in pascal.evaluate().items()}
    numbers.update({key: float(value) for key, value in coco.evaluate().items()})
    return numbers


def main(argv=None):
    args = sys.argv[1:] if argv is None else argv
    out = args[0] if args else DEFAULT_OUT
    images = generated_set()
    numbers = odapi_numbers(images)
    from importlib.metadata import version
    packages = ('tensorflow', 'numpy', 'pycocotools', 'tf-models-research-object-detection')
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, 'w') as f:
        json.dump({'made_by': 'tools/odapi_eval_reference.py', 'classes': CLASSES,
                   'size': [HEIGHT, WIDTH], 'versions': {p: version(p) for p in packages},
                   'odapi_metrics': numbers, 'images': images}, f, indent=0, sort_keys=True)
        f.write('\n')
    print('\n'.join('{}: {:.6f}'.format(k, v) for k, v in sorted(numbers.items())
                    if 'mAP' in k or 'AP@0.5IOU' in k))


if __name__ == '__main__':
    main()
