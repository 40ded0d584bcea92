"""Agreement between detectors: greedy IoU matching by canonical class."""
import numpy as np
import pandas as pd

from compare.score.agreement import counts, greedy_match, pair_summary
from compare.score.classes import canonical


def frame(rows):
    """Detections table from (detector, image, y0, x0, y1, x1, name, score) tuples."""
    data = pd.DataFrame(rows, columns=['detector', 'image', 'y_min', 'x_min', 'y_max', 'x_max',
                                       'name', 'score'])
    data['class'] = data['name'].map(canonical)
    data['label'] = 0
    data = data.sort_values(['detector', 'image', 'score'], ascending=[True, True, False])
    data['rank'] = data.groupby(['detector', 'image']).cumcount() + 1
    return data.reset_index(drop=True)


def test_identical_inputs_agree_completely_even_with_duplicates():
    rng = np.random.RandomState(0)
    rows = []
    for image in ('a.jpg', 'b.jpg'):
        for k in range(30):
            y, x = rng.uniform(0, 100, 2)
            rows.append((image, y, x, y + rng.uniform(5, 40), x + rng.uniform(5, 40),
                         ['cat', 'dog', 'sofa'][k % 3], round(rng.uniform(), 3)))
        rows.append(rows[-1])                                 # exact duplicate box
        rows.append(rows[-1][:6] + (rows[-1][6] / 2,))        # same box, other score
    data = frame([('ours',) + r for r in rows] + [('chainercv',) + r for r in rows])
    pairs, row = pair_summary(data, 'ours', 'chainercv', ['cat', 'dog', 'sofa'],
                              ['cat', 'dog', 'sofa'], {'a.jpg', 'b.jpg'}, {'a.jpg', 'b.jpg'})
    assert row['matched'] == len(rows) and row['only_a'] == 0 and row['only_b'] == 0
    assert row['agreement'] == 1.0 and row['mean_iou'] == 1.0 and row['min_iou'] == 1.0
    assert row['max_abs_score_diff'] == 0.0
    assert (pairs['rank_a'] == pairs['rank_b']).all()


def test_hand_computed_iou_and_unmatched():
    data = frame([('a', 'x', 0, 0, 10, 10, 'cat', 0.9),
                  ('a', 'x', 50, 50, 60, 60, 'cat', 0.5),
                  ('b', 'x', 0, 0, 10, 12, 'cat', 0.7),     # IoU 100/120
                  ('b', 'x', 52, 52, 62, 62, 'dog', 0.6)])  # other class: no match
    pairs, row = pair_summary(data, 'a', 'b', ['cat', 'dog'], ['cat', 'dog'], {'x'}, {'x'})
    assert (row['matched'], row['only_a'], row['only_b']) == (1, 1, 1)
    assert np.isclose(row['mean_iou'], 100 / 120)
    assert np.isclose(row['max_abs_score_diff'], 0.2)
    matched = pairs[pairs['status'] == 'matched'].iloc[0]
    assert np.isclose(matched['score_diff'], 0.7 - 0.9)
    per_class = counts(pairs, ['class']).set_index('class')
    assert per_class.loc['cat', 'matched'] == 1 and per_class.loc['cat', 'only_a'] == 1
    assert per_class.loc['dog', 'only_b'] == 1


def test_coco_and_voc_names_match_and_unshared_classes_are_counted():
    data = frame([('voc', 'x', 0, 0, 10, 10, 'sofa', 0.9),
                  ('voc', 'x', 20, 20, 30, 30, 'pottedplant', 0.4),
                  ('coco', 'x', 0, 0, 10, 10, 'couch', 0.9),
                  ('coco', 'x', 20, 20, 30, 30, 'truck', 0.8),
                  ('coco', 'y', 0, 0, 5, 5, 'couch', 0.8)])   # image voc did not process
    pairs, row = pair_summary(data, 'voc', 'coco', ['sofa', 'pottedplant'],
                              ['couch', 'truck'], {'x'}, {'x', 'y'})
    assert row['shared_classes'] == 1 and row['matched'] == 1
    assert row['unshared_a'] == 1 and row['unshared_b'] == 1
    assert row['images'] == 1 and row['images_only_b'] == 1
    assert set(pairs['image']) == {'x'}


def test_greedy_prefers_highest_iou_not_first_rank():
    a = np.array([[0, 0, 10, 10]], float)
    b = np.array([[0, 0, 10, 14], [0, 0, 10, 11]], float)   # IoU 10/14 and 10/11
    assert greedy_match(a, [0.9], b, [0.9, 0.1]) == [(0, 1, 10 / 11)]
    # below the threshold nothing matches
    assert greedy_match(a, [0.9], np.array([[0, 0, 10, 30]], float), [0.9]) == []
