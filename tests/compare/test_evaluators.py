"""mAP: our format conversion gives the numbers ChainerCV / pycocotools give
when called directly, plus hand-computed cases."""
import contextlib
import io

import numpy as np
import pandas as pd
import pytest
from chainercv.evaluations import eval_detection_voc
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval
from test_score_fakerun import write_coco_json

from compare.score.attach import attach
from compare.score.evaluators import build_eval_set, coco_ap, voc_ap
from compare.score.ground_truth import GroundTruth, load_annotations

CLASSES = ('cat', 'dog', 'person')
SIZES = {'im{}.jpg'.format(k): (80 + 10 * k, 100) for k in range(5)}


def scene(seed=0):
    """Random integer gt boxes per image and noisy detections of them + false alarms.

    Returns: ``{image: [(class, (y0, x0, y1, x1))]}``, detections DataFrame."""
    rng = np.random.RandomState(seed)
    truth, rows = {}, []
    for image, (height, width) in SIZES.items():
        truth[image] = []
        for _ in range(rng.randint(1, 5)):
            y, x = rng.randint(0, height - 30), rng.randint(0, width - 30)
            box = (y, x, y + rng.randint(8, 30), x + rng.randint(8, 30))
            name = CLASSES[rng.randint(3)]
            truth[image].append((name, box))
            if rng.uniform() < 0.8:
                noisy = np.array(box, float) + rng.normal(0, 2, 4)
                rows.append([image, *noisy, name, rng.uniform(0.3, 1)])
        for _ in range(2):
            y, x = rng.uniform(0, height - 20), rng.uniform(0, width - 20)
            rows.append([image, y, x, y + 15, x + 15, CLASSES[rng.randint(3)], rng.uniform()])
    columns = ['image', 'y_min', 'x_min', 'y_max', 'x_max', 'class', 'score']
    return truth, pd.DataFrame(rows, columns=columns)


def truths_of(truth, difficult_every=0):
    return {image: GroundTruth(image, np.array([b for _, b in objs], np.float32).reshape(-1, 4),
                               tuple(n for n, _ in objs),
                               np.array([difficult_every > 0 and k % difficult_every == 0
                                         for k in range(len(objs))], bool), None, 'test')
            for image, objs in truth.items()}


@pytest.mark.parametrize('use_07', [True, False])
def test_voc_matches_chainercv_called_directly(use_07):
    truth, dets = scene()
    truths = truths_of(truth, difficult_every=3)
    data = build_eval_set(dets, truths, CLASSES, SIZES)
    ap, mean = voc_ap(data, use_07)
    index = {c: k for k, c in enumerate(CLASSES)}
    images = sorted(SIZES)
    by = [dets[dets['image'] == im] for im in images]
    direct = eval_detection_voc(
        [d[['y_min', 'x_min', 'y_max', 'x_max']].to_numpy(np.float32) for d in by],
        [d['class'].map(index).to_numpy(np.int32) for d in by],
        [d['score'].to_numpy(np.float32) for d in by],
        [truths[im].boxes for im in images],
        [np.array([index[n] for n in truths[im].names], np.int32) for im in images],
        [truths[im].difficult for im in images], use_07_metric=use_07)
    np.testing.assert_allclose(ap, direct['ap'], atol=1e-6)
    assert abs(mean - direct['map']) < 1e-6 and 0 < mean < 1


def test_coco_matches_pycocotools_called_directly(tmp_path):
    truth, dets = scene(1)
    path = str(tmp_path / 'gt.json')
    objects = [(im, n, [b[1], b[0], b[3] - b[1], b[2] - b[0]], 0)
               for im, objs in truth.items() for n, b in objs]
    write_coco_json(path, SIZES, objects, list(CLASSES))
    loaded, _ = load_annotations(path)
    truths, warnings = attach(loaded, SIZES)
    assert not warnings
    ap, ap50, stats, _ = coco_ap(build_eval_set(dets, truths, CLASSES, SIZES))
    # pycocotools alone, from the same JSON file, its own ids
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(path)
        image_id = {img['file_name']: img['id'] for img in gt.dataset['images']}
        cat_id = {c['name']: c['id'] for c in gt.dataset['categories']}
        results = [{'image_id': image_id[r.image], 'category_id': cat_id[r._6],
                    'bbox': [r.x_min, r.y_min, r.x_max - r.x_min, r.y_max - r.y_min],
                    'score': r.score} for r in dets.itertuples()]
        direct = COCOeval(gt, gt.loadRes(results), 'bbox')
        direct.evaluate(), direct.accumulate(), direct.summarize()
        per_class = []
        for name in CLASSES:
            one = COCOeval(gt, gt.loadRes(results), 'bbox')
            one.params.catIds = [cat_id[name]]
            one.evaluate(), one.accumulate(), one.summarize()
            per_class.append(one.stats[:2])
    np.testing.assert_allclose(stats, direct.stats, atol=1e-6)
    assert 0 < stats[0] < stats[1] < 1
    np.testing.assert_allclose(np.stack([ap, ap50], 1), per_class, atol=1e-6)


def one_image(gt_boxes, det_boxes, scores, difficult=None):
    gt = np.array(gt_boxes, np.float32).reshape(-1, 4)
    truths = {'x': GroundTruth('x', gt, ('cat',) * len(gt),
                               np.array(difficult or [False] * len(gt), bool), None, 't')}
    dets = pd.DataFrame([['x', *b, 'cat', s] for b, s in zip(det_boxes, scores, strict=True)],
                        columns=['image', 'y_min', 'x_min', 'y_max', 'x_max', 'class', 'score'])
    return build_eval_set(dets, truths, ('cat',), {'x': (100, 100)})


def test_hand_cases_perfect_miss_and_half():
    perfect = one_image([[10, 10, 50, 50]], [[10, 10, 50, 50]], [0.9])
    miss = one_image([[10, 10, 50, 50]], [[60, 60, 90, 90]], [0.9])
    # one hit ranked below one false alarm, two objects: P = (0, 1/2), R = (0, 1/2)
    half = one_image([[10, 10, 50, 50], [0, 60, 20, 90]],
                     [[60, 60, 90, 90], [10, 10, 50, 50]], [0.9, 0.8])
    for data, expected_voc, expected_07, expected_coco in (
            (perfect, 1.0, 1.0, 1.0), (miss, 0.0, 0.0, 0.0),
            (half, 0.25, 6 / 11 * 0.5, None)):
        assert voc_ap(data, False)[1] == pytest.approx(expected_voc)
        assert voc_ap(data, True)[1] == pytest.approx(expected_07)
        if expected_coco is not None:
            assert coco_ap(data)[2][0] == pytest.approx(expected_coco)


def test_difficult_object_neither_counts_nor_penalises():
    data = one_image([[10, 10, 50, 50], [60, 60, 90, 90]],
                     [[10, 10, 50, 50], [60, 60, 90, 90]], [0.9, 0.95], difficult=[False, True])
    assert voc_ap(data, False)[1] == pytest.approx(1.0)
    assert coco_ap(data)[2][0] == pytest.approx(1.0)


def test_no_detections_gives_zero_not_an_error():
    data = one_image([[10, 10, 50, 50]], [], [])
    assert voc_ap(data, False)[1] == 0.0
    assert coco_ap(data)[2][0] == 0.0


def test_classes_outside_the_list_are_dropped_and_counted():
    truth, dets = scene(2)
    data = build_eval_set(dets, truths_of(truth), ('cat', 'dog'), SIZES)
    assert data.dropped == int((dets['class'] == 'person').sum()) > 0
    assert all(len(labels) == 0 or labels.max() <= 1 for labels in data.gt_labels)
