"""Verdicts against the ground truth, TIDE types, counts at a threshold, the
sweep and the confusion matrix: on hand-made cases, and against ChainerCV's
VOC matching (calc_detection_voc_prec_rec) on random ones."""
import numpy as np
import pandas as pd
import pytest
from chainercv.evaluations import calc_detection_voc_prec_rec
from chainercv.utils import bbox_iou

from compare.score.diagnosis import BACKGROUND, Diagnosis, confusion_matrix, positives
from compare.score.ground_truth import GroundTruth
from compare.score.matching import match_table, voc_iou

BOX_COLUMNS = ['y_min', 'x_min', 'y_max', 'x_max']


def test_voc_iou_is_chainercv_iou_with_one_pixel_added():
    rng = np.random.RandomState(0)
    corner = rng.uniform(0, 50, (6, 2))
    a = np.concatenate([corner, corner + rng.uniform(1, 20, (6, 2))], axis=1)  # yxyx
    b = a[::-1] + rng.uniform(-3, 3, a.shape)
    b[:, 2:] = np.maximum(b[:, 2:], b[:, :2] + 0.5)
    plus = lambda boxes: np.concatenate([boxes[:, :2], boxes[:, 2:] + 1], axis=1)  # noqa: E731
    np.testing.assert_allclose(voc_iou(a, b), bbox_iou(plus(a), plus(b)), rtol=1e-12)


def frame(detector, image, rows):
    """Detections-table rows ``(y0, x0, y1, x1, class, score)``."""
    return pd.DataFrame([{'detector': detector, 'image': image, 'rank': k + 1,
                          **dict(zip(BOX_COLUMNS, r[:4], strict=True)), 'label': 0,
                          'name': r[4], 'class': r[4], 'score': r[5]}
                         for k, r in enumerate(rows)])


# One image: cat A, dog B, person C, dog D; detections built to hit each TIDE type.
TRUTH = GroundTruth('x.png', np.array([[0, 0, 99, 99], [200, 200, 299, 299],
                                       [400, 400, 499, 499], [600, 0, 699, 99]], np.float32),
                    ('cat', 'dog', 'person', 'dog'), np.zeros(4, bool), None, 'hand')
DETECTIONS = [
    (0, 0, 99, 99, 'cat', 0.9),        # tp on A
    (1, 1, 99, 99, 'cat', 0.8),        # dupe: A is taken
    (0, 0, 99, 98, 'dog', 0.7),        # cls: IoU >= 0.5 with A (a cat)
    (0, 60, 99, 159, 'cat', 0.6),      # loc: IoU 0.4/1.6 = 0.25 with A
    (230, 230, 329, 329, 'cat', 0.5),  # both: IoU with B (a dog) in [0.1, 0.5)
    (800, 800, 850, 850, 'cat', 0.4),  # bkg
    (600, 60, 699, 159, 'dog', 0.3),   # loc, targets D
]


def diagnosed():
    rows = frame('d', 'x.png', DETECTIONS)
    rows = pd.concat([rows, match_table(rows, {'x.png': TRUTH},
                                        {'d': ['cat', 'dog', 'person']},
                                        ['cat', 'dog', 'person'])], axis=1)
    gt_rows = positives({'x.png': TRUTH}, ['x.png'], ['cat', 'dog', 'person'],
                        ['cat', 'dog', 'person'])
    return rows, Diagnosis('d', rows, gt_rows, ['x.png'])


def test_every_tide_type_on_hand_made_boxes():
    rows, _ = diagnosed()
    assert list(rows['gt_match']) == ['tp'] + ['fp'] * 6
    assert list(rows['error']) == ['', 'dupe', 'cls', 'loc', 'both', 'bkg', 'loc']
    assert list(rows['gt_index']) == [0, 0, 0, 0, 1, -1, 3]
    assert list(rows['gt_class']) == ['cat', 'cat', 'cat', 'cat', 'dog', '', 'dog']
    assert rows['iou'].iloc[0] == 1 and rows['iou'].iloc[3] == pytest.approx(40 * 100 / (
        2 * 100 * 100 - 40 * 100))
    assert rows.loc[0, BOX_COLUMNS].tolist() == rows.loc[0, ['gt_' + c for c in BOX_COLUMNS]
                                                         ].tolist()
    assert np.isnan(rows['gt_y_min'].iloc[5])


def test_counts_at_two_thresholds():
    _, diagnosis = diagnosed()
    low = diagnosis.summary(0.0)
    assert (low['positives'], low['tp'], low['fp'], low['fn']) == (4, 1, 6, 3)
    assert (low['dupe'], low['cls'], low['loc'], low['both'], low['bkg']) == (1, 1, 2, 1, 1)
    assert low['missed'] == 2       # B (only a 'both' error) and C; D has a loc error
    assert low['precision'] == pytest.approx(1 / 7) and low['recall'] == 0.25
    assert low['f1'] == pytest.approx(2 * (1 / 7) * 0.25 / (1 / 7 + 0.25))
    high = diagnosis.summary(0.65)
    assert (high['tp'], high['fp'], high['fn'], high['missed']) == (1, 2, 3, 3)
    (image,) = diagnosis.per_image(0.65)
    assert (image['tp'], image['fp'], image['fn'], image['errors']) == (1, 2, 3, 5)


def test_confusion_matrix_hand_made():
    _, diagnosis = diagnosed()
    cells = diagnosis.confusion(0.0)
    matrix = confusion_matrix(cells, 'd')
    assert list(matrix.index) == ['cat', 'dog', 'person', BACKGROUND]
    assert matrix.loc['cat', 'cat'] == 1 and matrix.loc['cat', 'dog'] == 1
    assert matrix.loc[BACKGROUND, 'cat'] == 4 and matrix.loc[BACKGROUND, 'dog'] == 1
    assert matrix.loc['dog', BACKGROUND] == 2 and matrix.loc['person', BACKGROUND] == 1
    assert int(matrix.to_numpy().sum()) == 7 + 3   # every detection once, every unfound box


def test_difficult_and_unannotated_classes_are_left_out():
    truth = GroundTruth('x.png', np.array([[0, 0, 9, 9]], np.float32), ('cat',),
                        np.array([True]), None, 'hand')
    rows = frame('d', 'x.png', [(0, 0, 9, 9, 'cat', 0.9), (0, 0, 9, 9, 'cat', 0.8),
                                (0, 0, 9, 9, 'truck', 0.7)])
    found = match_table(rows, {'x.png': truth}, {'d': ['cat', 'truck']}, ['cat'])
    assert list(found['gt_match']) == ['difficult', 'difficult', 'unannotated_class']
    other = match_table(frame('d', 'y.png', [(0, 0, 9, 9, 'cat', 0.9)]), {'x.png': truth},
                        {'d': ['cat']}, ['cat'])
    assert list(other['gt_match']) == ['no_annotation']


def random_case(seed, n_images=6, classes=('a', 'b', 'c')):
    rng = np.random.RandomState(seed)
    truths, rows = {}, []
    for k in range(n_images):
        n_gt = rng.randint(0, 6)
        gt = np.sort(rng.uniform(0, 60, (n_gt, 2, 2)), axis=1)
        gt_boxes = np.stack([gt[:, 0, 0], gt[:, 0, 1], gt[:, 1, 0] + 5, gt[:, 1, 1] + 5],
                            axis=1).astype(np.float32).reshape(-1, 4)
        names = tuple(rng.choice(classes, n_gt))
        difficult = rng.uniform(size=n_gt) < 0.2
        truths['i{}.png'.format(k)] = GroundTruth('i{}.png'.format(k), gt_boxes, names,
                                                  difficult, None, 'random')
        dets = []
        for _ in range(rng.randint(0, 10)):
            name = str(rng.choice(classes))
            if n_gt and rng.uniform() < 0.7:   # near a ground-truth box, mostly its class
                target = rng.randint(n_gt)
                box = gt_boxes[target] + rng.uniform(-3, 3, 4)
                name = names[target] if rng.uniform() < 0.75 else name
            else:
                box = np.concatenate([rng.uniform(0, 50, 2), rng.uniform(55, 70, 2)])
            box[2:] = np.maximum(box[2:], box[:2] + 1)
            dets.append(tuple(box) + (name, float(rng.uniform())))
        rows.append(frame('d', 'i{}.png'.format(k), dets))
    return truths, pd.concat(rows, ignore_index=True)


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_verdicts_and_sweep_equal_chainercv_voc_matching(seed):
    classes = ('a', 'b', 'c')
    truths, rows = random_case(seed)
    rows = pd.concat([rows, match_table(rows, truths, {'d': classes}, classes)], axis=1)
    images = sorted(truths)
    index = {c: k for k, c in enumerate(classes)}
    mine = [rows[rows['image'] == image] for image in images]
    prec, rec = calc_detection_voc_prec_rec(
        [m[BOX_COLUMNS].to_numpy(np.float32).reshape(-1, 4) for m in mine],
        [m['class'].map(index).to_numpy(np.int32) for m in mine],
        [m['score'].to_numpy(np.float32) for m in mine],
        [truths[i].boxes for i in images],
        [np.array([index[n] for n in truths[i].names], np.int32) for i in images],
        [truths[i].difficult for i in images])
    judged = rows[rows['gt_match'].isin(['tp', 'fp'])]
    # ChainerCV keeps detections on difficult boxes in its arrays (neither tp nor fp)
    listed = rows[rows['gt_match'].isin(['tp', 'fp', 'difficult'])]
    for label, cls in enumerate(classes):
        ours = listed[listed['class'] == cls].sort_values('score', ascending=False)
        tp = np.cumsum(ours['gt_match'] == 'tp')
        fp = np.cumsum(ours['gt_match'] == 'fp')
        n_pos = sum(int(((np.array(t.names) == cls) & ~t.difficult).sum())
                    for t in truths.values())
        if rec[label] is None:
            assert len(ours) == 0 or n_pos == 0
            continue
        np.testing.assert_allclose(tp / (tp + fp), prec[label], rtol=1e-12)
        np.testing.assert_allclose(tp / n_pos, rec[label], rtol=1e-12)
    gt_rows = positives(truths, images, classes, classes)
    diagnosis = Diagnosis('d', rows, gt_rows, images)
    for row in diagnosis.sweep((0.2, 0.5, 0.8)):
        above = judged[judged['score'] >= row['score_thresh']]
        # from ChainerCV: true positives at the threshold, summed over classes
        expected = 0
        for label, cls in enumerate(classes):
            count = int(((listed['score'] >= row['score_thresh']) &
                         (listed['class'] == cls)).sum())
            if count and rec[label] is not None:
                n_pos = sum(int(((np.array(t.names) == cls) & ~t.difficult).sum())
                            for t in truths.values())
                expected += int(round(rec[label][count - 1] * n_pos))
        assert row['tp'] == expected
        assert row['tp'] + row['fp'] == len(above)
        assert row['fn'] == len(gt_rows) - expected
