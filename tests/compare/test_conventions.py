"""Box conventions: ``odapi`` gives the numbers of the TF OD API's own
evaluators, ``chainercv`` (the default) ChainerCV's, on the same detections.

The reference is a generated set of small objects scored by the OD API's
PascalDetectionEvaluator and CocoDetectionEvaluator themselves
(tools/odapi_eval_reference.py -> tests/fixtures/odapi_eval/reference.json);
the OD API's Pascal rules are also computed independently here
(:func:`odapi_pascal`), so a wrong reference file would show too."""
import json
import os

import numpy as np
import pytest
from test_score_fakerun import det, entry, write_images, write_run, write_voc_xml

from compare.errors import UserError
from compare.runner.scoring import score_run
from compare.score import conventions
from compare.score.evaluators import EvalSet, coco_ap, voc_ap
from compare.score.ground_truth import load_annotations

with open(os.path.join(os.path.dirname(__file__), '..', 'fixtures', 'odapi_eval',
                       'reference.json')) as _f:
    REFERENCE = json.load(_f)
ODAPI, CHAINERCV = conventions.CONVENTIONS['odapi'], conventions.CONVENTIONS['chainercv']


def eval_set(gt_shift):
    """The reference set as the scorer builds it (float32 boxes), ground truth
    read with ``gt_shift`` (0: as the OD API, -1: as ChainerCV)."""
    images = REFERENCE['images']
    boxes = [np.array(i['boxes'], np.float32).reshape(-1, 4) for i in images]
    return EvalSet(tuple(REFERENCE['classes']), [str(k) for k in range(len(images))], boxes,
                   [np.array(i['labels'], np.int32) for i in images],
                   [np.array(i['scores'], np.float32) for i in images],
                   [np.array(i['gt_boxes'], np.float32).reshape(-1, 4) + np.float32(gt_shift)
                    for i in images],
                   [np.array(i['gt_labels'], np.int32) for i in images],
                   [np.array(i['gt_difficult'], bool) for i in images],
                   [tuple(REFERENCE['size'])] * len(images), 0)


def iou(box, boxes):
    """Continuous IoU of one ``(4,)`` box with ``(K, 4)`` boxes (no +1)."""
    top_left = np.maximum(box[:2], boxes[:, :2])
    bottom_right = np.minimum(box[2:], boxes[:, 2:])
    inter = np.prod(np.clip(bottom_right - top_left, 0, None), axis=1)
    area = np.prod(box[2:] - box[:2])
    areas = np.prod(boxes[:, 2:] - boxes[:, :2], axis=1)
    return inter / (area + areas - inter)


def odapi_pascal(data):
    """Per-class AP and their mean by the OD API Pascal evaluator's rules,
    written from its documentation: zero-width/height detections removed;
    per image, detections by descending score take the ground truth of
    highest IoU if IoU >= 0.5 (a difficult one: ignored; one already taken:
    false positive); precision/recall over all images by descending score;
    AP = area under the monotone precision envelope; mean over classes with
    non-difficult ground truth."""
    aps = []
    for label in range(len(data.classes)):
        scores, hits, positives = [], [], 0
        for k in range(len(data.images)):
            gt_mask = data.gt_labels[k] == label
            gt, difficult = data.gt_bboxes[k][gt_mask].astype(float), data.gt_difficults[k][gt_mask]
            positives += int((~difficult).sum())
            boxes = data.pred_bboxes[k].astype(float)
            mask = ((data.pred_labels[k] == label) & (boxes[:, 0] < boxes[:, 2]) &
                    (boxes[:, 1] < boxes[:, 3]))
            taken = np.zeros(len(gt), bool)
            for index in np.argsort(-data.pred_scores[k][mask], kind='stable'):
                overlaps = iou(boxes[mask][index], gt) if len(gt) else np.zeros(0)
                best = int(np.argmax(overlaps)) if len(gt) else -1
                if best >= 0 and overlaps[best] >= 0.5:
                    if difficult[best]:
                        continue
                    hit, taken[best] = not taken[best], True
                else:
                    hit = False
                scores.append(data.pred_scores[k][mask][index])
                hits.append(hit)
        if positives == 0:
            aps.append(np.nan)
            continue
        order = np.argsort(-np.array(scores), kind='stable')
        tp = np.cumsum(np.array(hits, float)[order])
        precision = tp / np.arange(1, len(tp) + 1)
        recall = tp / positives
        precision = np.concatenate([[0.0], precision, [0.0]])
        recall = np.concatenate([[0.0], recall, [1.0]])
        for i in range(len(precision) - 2, -1, -1):
            precision[i] = max(precision[i], precision[i + 1])
        steps = np.where(recall[1:] != recall[:-1])[0] + 1
        aps.append(float(np.sum((recall[steps] - recall[steps - 1]) * precision[steps])))
    return np.array(aps), float(np.nanmean(aps))


def odapi_metric(name):
    return REFERENCE['odapi_metrics'][name]


def test_odapi_convention_gives_the_odapi_pascal_evaluator_numbers():
    data = eval_set(ODAPI.voc_gt_shift)
    ap, mean = voc_ap(data, False, ODAPI)
    independent, independent_mean = odapi_pascal(data)
    assert mean == pytest.approx(odapi_metric('PascalBoxes_Precision/mAP@0.5IOU'), abs=1e-6)
    for name, value in zip(REFERENCE['classes'], ap, strict=True):
        key = 'PascalBoxes_PerformanceByCategory/AP@0.5IOU/' + name
        assert value == pytest.approx(odapi_metric(key), abs=1e-6), name
    np.testing.assert_allclose(ap, independent, atol=1e-12)
    assert mean == pytest.approx(independent_mean, abs=1e-12)
    assert 0.2 < mean < 0.8  # a set where matching decides something


def test_odapi_convention_gives_the_odapi_coco_evaluator_numbers():
    _, _, stats, _ = coco_ap(eval_set(ODAPI.voc_gt_shift))
    assert stats[0] == pytest.approx(odapi_metric('DetectionBoxes_Precision/mAP'), abs=1e-6)
    assert stats[1] == pytest.approx(odapi_metric('DetectionBoxes_Precision/mAP@.50IOU'),
                                     abs=1e-6)


def test_the_default_convention_reads_small_objects_differently():
    """Same detections, ChainerCV's reading (-1 px ground truth, +1 in areas,
    zero-width detections kept): the numbers move, as the issue measured."""
    odapi_voc = voc_ap(eval_set(ODAPI.voc_gt_shift), False, ODAPI)[1]
    chainercv_voc = voc_ap(eval_set(CHAINERCV.voc_gt_shift), False, CHAINERCV)[1]
    odapi_coco = coco_ap(eval_set(ODAPI.voc_gt_shift))[2][0]
    chainercv_coco = coco_ap(eval_set(CHAINERCV.voc_gt_shift))[2][0]
    assert abs(odapi_voc - chainercv_voc) > 0.01, (odapi_voc, chainercv_voc)
    assert abs(odapi_coco - chainercv_coco) > 0.005, (odapi_coco, chainercv_coco)


def test_plus_one_removal_is_exact_for_float32_boxes():
    boxes = np.random.RandomState(0).uniform(0, 500, (1000, 4)).astype(np.float32)
    restored = ODAPI.voc_boxes(boxes)
    restored[:, 2:] += 1  # what ChainerCV's evaluator does to its copy
    np.testing.assert_array_equal(restored, boxes.astype(np.float64))
    np.testing.assert_array_equal(CHAINERCV.voc_boxes(boxes), boxes)
    degenerate = np.array([[0, 0, 5, 5], [0, 3, 5, 3], [4, 0, 2, 5]], np.float32)
    assert ODAPI.keep_detections(degenerate).tolist() == [True, False, False]
    assert CHAINERCV.keep_detections(degenerate).all()


def test_voc_xml_is_read_with_the_conventions_shift(tmp_path):
    path = tmp_path / 'a.xml'
    write_voc_xml(str(path), 'a.png', (40, 60), [('cat', (6, 7, 31, 21), 0)])
    as_written = load_annotations(str(path), ODAPI.voc_gt_shift)[0][0].boxes
    zero_based = load_annotations(str(path))[0][0].boxes  # the default: ChainerCV
    np.testing.assert_array_equal(as_written, [[7, 6, 21, 31]])
    np.testing.assert_array_equal(zero_based, [[6, 5, 20, 30]])


def test_score_run_states_the_convention_next_to_the_numbers(tmp_path):
    """And who decoded each detector's pixels, in "What ran"."""
    images = str(tmp_path / 'images')
    sizes = {'a.png': (40, 60)}
    write_images(images, sizes)
    write_voc_xml(os.path.join(images, 'Annotations', 'a.xml'), 'a.png', (40, 60),
                  [('cat', (3, 3, 6, 6), 0)])
    # a 3x3 detection of the 4x4 VOC box (1-based 3..6): the readings disagree
    outputs = {'tf': {'a.png': [det(3, 3, 6, 6, 'cat', 0.9)]}}
    tf_entry = dict(entry('tf', ['cat']), info={'pixels': 'TF'})  # decoded by TensorFlow
    run_dir = write_run(str(tmp_path / 'run'), outputs, sizes, [tf_entry], images_dir=images)
    readings = {}
    for name in ('odapi', 'chainercv'):
        tables = score_run(run_dir, box_convention=name)
        readings[name] = tables['map_summary'].iloc[0]
        conventions_table = tables['map_conventions']
        assert set(conventions_table['box_convention']) == {name}
        assert list(conventions_table['metric']) == ['ap50_coco', 'ap_coco_iou', 'map_coco',
                                                     'map_voc', 'map_voc07', 'tide']
        summary = open(os.path.join(run_dir, 'summary.md'), encoding='utf-8').read()
        assert 'Conventions of these numbers' in summary and '| ' + name + ' |' in summary
        assert 'decoded once, with PIL' in summary and '| TF |' in summary
    # odapi: ground truth (3, 3, 6, 6) is the detection: IoU 1
    assert readings['odapi']['map_voc'] == 1.0
    assert readings['odapi']['map_coco'] == pytest.approx(1.0)
    # chainercv: ground truth (2, 2, 5, 5); VOC with +1: IoU 9/23, COCO: 4/14; both misses
    assert readings['chainercv']['map_voc'] == 0.0 and readings['chainercv']['map_coco'] == 0.0


def test_unknown_convention_is_a_one_line_error():
    with pytest.raises(UserError, match='chainercv or odapi'):
        conventions.get('voc')
