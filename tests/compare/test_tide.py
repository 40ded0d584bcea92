"""TIDE's AP, error counts and dAP per error type: ours (compare.score.tide)
against the ``tidecv`` package run on the same detections, and hand-made
cases whose answers are worked out by hand."""
import contextlib
import io
import json
import os

import numpy as np
import pytest
from test_score_fakerun import det, entry, write_images, write_run
from tidecv import TIDE, Data

from compare.rundir.precision import format_number
from compare.score.evaluators import EvalSet
from compare.score.scorer import score_tables
from compare.score.tide import ERROR_TYPES, Analysis, analyse, summary

#: tidecv's error classes by short name -> ours.
TIDECV_NAMES = {'Cls': 'cls', 'Loc': 'loc', 'Both': 'both', 'Dupe': 'dupe', 'Bkg': 'bkg',
                'Miss': 'miss'}


def random_set(seed, n_images=15, n_classes=3):
    """An EvalSet with crowd regions (difficult), near misses, duplicates,
    wrong classes and background detections; distinct scores."""
    rng = np.random.RandomState(seed)
    data = EvalSet(tuple('c{}'.format(k) for k in range(n_classes)), [], [], [], [], [], [], [],
                   [], 0)
    scores = iter(rng.permutation(5000) / 5000 + 1e-4)
    for k in range(n_images):
        n = rng.randint(0, 6)
        xy = rng.uniform(0, 300, (n, 2))
        wh = rng.uniform(10, 120, (n, 2))
        gt = np.concatenate([xy[:, ::-1], xy[:, ::-1] + wh[:, ::-1]], axis=1)
        gt_labels = rng.randint(0, n_classes, n)
        difficult = rng.uniform(size=n) < 0.15
        boxes, labels = [], []
        for box, label in zip(gt, gt_labels, strict=True):
            for _ in range(rng.randint(0, 4)):
                size = box[2:] - box[:2]
                shift = rng.normal(0, rng.choice([0.05, 0.3, 0.7]), 2) * size
                boxes.append(np.concatenate([box[:2] + shift, box[2:] + shift]))
                labels.append(label if rng.uniform() < 0.75 else rng.randint(0, n_classes))
        for _ in range(rng.randint(0, 3)):  # background
            corner = rng.uniform(0, 350, 2)
            boxes.append(np.concatenate([corner, corner + rng.uniform(5, 40, 2)]))
            labels.append(rng.randint(0, n_classes))
        data.images.append('i{}'.format(k))
        data.sizes.append((400, 400))
        data.pred_bboxes.append(np.array(boxes, np.float32).reshape(-1, 4))
        data.pred_labels.append(np.array(labels, np.int32))
        data.pred_scores.append(np.array([next(scores) for _ in labels], np.float32))
        data.gt_bboxes.append(gt.astype(np.float32).reshape(-1, 4))
        data.gt_labels.append(gt_labels.astype(np.int32))
        data.gt_difficults.append(difficult)
    return data


def _xywh(box):
    y0, x0, y1, x1 = (float(v) for v in box)
    return [x0, y0, x1 - x0, y1 - y0]


def tidecv_run(data, iou=0.5):
    """``(ap, counts, main dAPs, special dAPs)`` from tidecv, as fractions."""
    gt, preds = Data('gt'), Data('preds')
    for k in range(len(data.images)):
        gt.add_image(k, data.images[k])
        for box, label, hard in zip(data.gt_bboxes[k], data.gt_labels[k],
                                    data.gt_difficults[k], strict=True):
            if hard:
                gt.add_ignore_region(k, int(label), _xywh(box))
            else:
                gt.add_ground_truth(k, int(label), _xywh(box))
        for box, label, score in zip(data.pred_bboxes[k], data.pred_labels[k],
                                     data.pred_scores[k], strict=True):
            preds.add_detection(k, int(label), float(score), _xywh(box))
    tide = TIDE(pos_threshold=iou)
    with contextlib.redirect_stdout(io.StringIO()):
        run = tide.evaluate(gt, preds, mode=TIDE.BOX)
        main = tide.get_main_errors()['preds']
        special = tide.get_special_errors()['preds']
    counts = {TIDECV_NAMES[kind.short_name]: n for kind, n in run.count_errors().items()}
    return (run.ap / 100, counts, {TIDECV_NAMES[k]: v / 100 for k, v in main.items()},
            {k: v / 100 for k, v in special.items()})


@pytest.mark.parametrize('seed,iou', [(0, 0.5), (1, 0.5), (2, 0.5), (3, 0.75), (4, 0.3)])
def test_counts_and_dap_equal_tidecv(seed, iou):
    data = random_set(seed)
    ap, counts, main, special = tidecv_run(data, iou)
    ours = summary(analyse(data, iou))
    assert ours['ap'] == pytest.approx(ap, abs=1e-9)
    for kind in ERROR_TYPES:
        assert ours['n_' + kind] == counts[kind], kind
        assert ours['dap_' + kind] == pytest.approx(main[kind], abs=1e-9), kind
    assert ours['dap_fp'] == pytest.approx(special['FalsePos'], abs=1e-9)
    assert ours['dap_fn'] == pytest.approx(special['FalseNeg'], abs=1e-9)
    assert sum(counts.values()) > 10 and min(counts.values()) >= 0
    assert sum(main.values()) > 0  # a real case: some error costs AP


def test_hand_case_one_of_each_error():
    """One class-0 box A (0,0)-(10,10) and one class-1 box B (50,50)-(60,60).
    Detections, by score: 0.9 class 0 on A (tp), 0.8 class 0 on A (dupe:
    A taken), 0.7 class 1 on A (cls: no class-1 IoU, IoU 1 with A), 0.6 class
    0 shifted by 5 px (IoU 25/175 = 1/7 with A: loc), 0.5 class 0 far away
    (bkg). B: missed (nothing took or targets it).
    Class 0: 1 box, points tp, fp, fp, fp -> precision 1 up to recall 1: AP 1.
    Class 1: B, one fp -> AP 0. mAP 0.5.
    Every fix leaves it at 0.5: the cls and loc errors target A, already
    taken, so they are removed, not made true positives; removing dupe, bkg
    or the fps of class 0 cannot raise an AP of 1; fixing miss (or dap_fn)
    leaves class 1 with no box and its fp: AP 0, still counted (TIDE counts a
    class with detections only)."""
    analysis = Analysis()
    boxes = np.array([[0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 10, 10], [5, 5, 15, 15],
                      [200, 200, 210, 210]], np.float64)
    analysis.image(boxes, np.array([0, 0, 1, 0, 0]), np.array([0.9, 0.8, 0.7, 0.6, 0.5]),
                   np.array([[0, 0, 10, 10], [50, 50, 60, 60]], np.float64), np.array([0, 1]),
                   np.zeros(2, bool))
    row = summary(analysis)
    assert [e.kind for e in analysis.errors] == ['dupe', 'cls', 'loc', 'bkg', 'miss']
    assert row['ap'] == pytest.approx(0.5)
    assert all(row['dap_' + kind] == 0 for kind in ERROR_TYPES)
    assert row['dap_fn'] == 0.0 and row['dap_fp'] == 0.0
    # without the class-1 detection, fixing miss leaves class 1 empty: it drops out
    lone = Analysis()
    lone.image(boxes[:1], np.array([0]), np.array([0.9]),
               np.array([[0, 0, 10, 10], [50, 50, 60, 60]], np.float64), np.array([0, 1]),
               np.zeros(2, bool))
    assert summary(lone)['ap'] == pytest.approx(0.5)
    assert summary(lone)['dap_miss'] == pytest.approx(0.5)


def test_hand_case_loc_fix_and_best_of_two():
    """One box (0,0)-(10,10) of class 0; detections 0.9 (IoU 0.36, loc) and
    0.8 (IoU 0.25, loc), no true positive: AP 0. Fixing loc: the 0.9 one
    (the higher score of the two on the same box) becomes the true positive,
    the 0.8 one is removed: AP 1, dAP_loc 1. The box is not missed (a loc
    error targets it)."""
    analysis = Analysis()
    analysis.image(np.array([[0, 0, 6, 6], [0, 0, 5, 5]], np.float64), np.array([0, 0]),
                   np.array([0.9, 0.8]), np.array([[0, 0, 10, 10]], np.float64), np.array([0]),
                   np.zeros(1, bool))
    row = summary(analysis)
    assert [e.kind for e in analysis.errors] == ['loc', 'loc']
    assert row['ap'] == 0.0 and row['dap_loc'] == pytest.approx(1.0) and row['n_miss'] == 0


def test_scoring_writes_the_tide_table_equal_to_tidecv(tmp_path):
    sizes = {'a.png': (100, 120), 'b.png': (90, 90)}
    images = str(tmp_path / 'images')
    write_images(images, sizes)
    dataset = {'images': [{'id': 1, 'file_name': 'a.png', 'height': 100, 'width': 120},
                          {'id': 2, 'file_name': 'b.png', 'height': 90, 'width': 90}],
               'categories': [{'id': 1, 'name': 'cat'}, {'id': 2, 'name': 'dog'}],
               'annotations': [
                   {'id': 1, 'image_id': 1, 'category_id': 1, 'bbox': [10, 10, 40, 30],
                    'area': 900, 'iscrowd': 0},
                   {'id': 2, 'image_id': 1, 'category_id': 2, 'bbox': [60, 40, 40, 40],
                    'area': 1000, 'iscrowd': 0},
                   {'id': 3, 'image_id': 2, 'category_id': 2, 'bbox': [5, 5, 50, 50],
                    'area': 2000, 'iscrowd': 1}]}
    with open(os.path.join(images, 'annotations.json'), 'w') as f:
        json.dump(dataset, f)
    outputs = {'a.png': [det(10, 10, 40, 50, 'cat', 0.9), det(12, 14, 42, 50, 'cat', 0.8),
                         det(40, 60, 80, 100, 'cat', 0.7), det(50, 70, 80, 100, 'dog', 0.6),
                         det(0, 0, 5, 5, 'dog', 0.5)],
               'b.png': [det(6, 6, 50, 50, 'dog', 0.4), det(70, 70, 88, 88, 'cat', 0.3)]}
    run_dir = write_run(str(tmp_path / 'run'), {'d': outputs}, sizes,
                        [entry('d', ['cat', 'dog'])], images_dir=images)
    row = score_tables(run_dir).tables['tide'].set_index('detector').loc['d']
    ap, counts, main, special = tidecv_run(EvalSet(
        ('cat', 'dog'), ['a.png', 'b.png'],
        [np.array([[d['y_min'], d['x_min'], d['y_max'], d['x_max']] for d in outputs[i]],
                  np.float32) for i in ('a.png', 'b.png')],
        [np.array([0 if d['name'] == 'cat' else 1 for d in outputs[i]]) for i in
         ('a.png', 'b.png')],
        [np.array([d['score'] for d in outputs[i]], np.float32) for i in ('a.png', 'b.png')],
        [np.array([[10, 10, 40, 50], [40, 60, 80, 100]], np.float32),
         np.array([[5, 5, 55, 55]], np.float32)],
        [np.array([0, 1]), np.array([1])], [np.zeros(2, bool), np.ones(1, bool)],
        [(100, 120), (90, 90)], 0))
    assert row['ap'] == pytest.approx(ap, abs=1e-9) and row['iou'] == 0.5
    for kind in ERROR_TYPES:
        assert row['n_' + kind] == counts[kind] and row['dap_' + kind] == pytest.approx(
            main[kind], abs=1e-6)
    assert row['dap_fp'] == pytest.approx(special['FalsePos'], abs=1e-6)
    # written at the metrics' step (compare.rundir.precision): 1e-6, no trailing zeros
    with open(os.path.join(run_dir, 'tide.csv')) as f:
        written = dict(zip(*[line.rstrip('\n').split(',') for line in f], strict=True))
    for column in ('ap', 'dap_cls', 'dap_loc', 'dap_fp', 'dap_fn'):
        assert written[column] == format_number(float(row[column]), 6), column
    assert written['iou'] == '0.5' and written['n_miss'] == str(counts['miss'])
