"""The full COCO summary of a run equals pycocotools run directly on the
annotation file and the detections; images without annotations are counted
and left out of the mAP."""
import contextlib
import io
import json
import os

import numpy as np
import pytest
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval
from test_score_fakerun import det, entry, write_images, write_run

from compare.runner.scoring import score_run
from compare.score.ap import COCO_STATS

SIZES = {'a.png': (120, 160), 'b.png': (100, 100), 'c.png': (80, 90), 'none.png': (50, 50)}
CATEGORIES = [{'id': 3, 'name': 'cat'}, {'id': 7, 'name': 'dog'}]
# COCO [x, y, w, h]; small (< 32^2) and medium boxes
ANNOTATIONS = {'a.png': [(3, (10, 10, 40, 30)), (7, (60, 20, 90, 80)), (3, (5, 90, 20, 20))],
               'b.png': [(7, (0, 0, 60, 50)), (7, (70, 70, 25, 25))],
               'c.png': [(3, (30, 10, 50, 60))]}


def detections():
    rng = np.random.RandomState(4)
    found = {}
    for image, objects in ANNOTATIONS.items():
        rows = []
        for category, (x, y, w, h) in objects:
            name = 'cat' if category == 3 else 'dog'
            for _ in range(2):
                dx, dy = rng.uniform(-6, 6, 2)
                rows.append(det(y + dy, x + dx, y + dy + h, x + dx + w,
                                name if rng.uniform() < 0.8 else 'dog', rng.uniform(0.1, 1)))
        rows.append(det(1, 1, 15, 15, 'cat', rng.uniform(0.1, 1)))
        found[image] = rows
    found['none.png'] = [det(1, 1, 20, 20, 'cat', 0.9)]
    for image, rows in found.items():  # inside the image, as every detector's boxes are
        height, width = SIZES[image]
        for row in rows:
            row.update(y_min=min(max(row['y_min'], 0), height), y_max=min(row['y_max'], height),
                       x_min=min(max(row['x_min'], 0), width), x_max=min(row['x_max'], width))
    return found


def coco_json(path):
    images = [{'id': k + 1, 'file_name': name, 'height': SIZES[name][0],
               'width': SIZES[name][1]} for k, name in enumerate(sorted(ANNOTATIONS))]
    ids = {image['file_name']: image['id'] for image in images}
    annotations = [{'id': n + 1, 'image_id': ids[image], 'category_id': category,
                    'bbox': list(box), 'area': box[2] * box[3], 'iscrowd': 0}
                   for n, (image, category, box) in enumerate(
                       (image, c, b) for image, objects in sorted(ANNOTATIONS.items())
                       for c, b in objects)]
    with open(path, 'w') as f:
        json.dump({'images': images, 'annotations': annotations, 'categories': CATEGORIES}, f)
    return ids


def test_coco_summary_equals_pycocotools_directly(tmp_path):
    images = str(tmp_path / 'images')
    write_images(images, SIZES)
    ids = coco_json(os.path.join(images, 'annotations.json'))
    found = detections()
    run_dir = write_run(str(tmp_path / 'run'), {'tf': found}, SIZES,
                        [entry('tf', ['cat', 'dog'])], images_dir=images)
    tables = score_run(run_dir)
    row = tables['coco_summary'].set_index('detector').loc['tf']
    results = [{'image_id': ids[image], 'category_id': 3 if d['name'] == 'cat' else 7,
                'bbox': [d['x_min'], d['y_min'], d['x_max'] - d['x_min'],
                         d['y_max'] - d['y_min']], 'score': d['score']}
               for image, rows in found.items() if image in ids for d in rows]
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(os.path.join(images, 'annotations.json'))
        evaluator = COCOeval(gt, gt.loadRes(results), 'bbox')
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    assert row['images'] == 3
    for name, value in zip(COCO_STATS, evaluator.stats, strict=True):
        assert row[name] == pytest.approx(value, abs=1e-12), name
    assert evaluator.stats[0] > 0.1 and evaluator.stats[3] > -1   # a real case, small boxes
    summary = tables['map_summary'].set_index('detector').loc['tf']
    assert summary['images_unannotated'] == 1 and summary['images'] == 3
    assert summary['map_coco'] == pytest.approx(evaluator.stats[0], abs=1e-12)
