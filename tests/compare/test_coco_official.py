"""Official COCO numbers: with COCO ground truth, ``area`` and ``iscrowd`` are
used as pycocotools uses them, so every one of the 12 stats of a scored run
equals pycocotools' own ``COCOeval`` run on the annotation file (1e-6), on
generated files with crowd regions and areas unlike the boxes'; the same
with faster-coco-eval; and the published COCO case of
rafaelpadilla/review_object_detection_metrics gives its published values."""
import contextlib
import io
import json
import lzma
import os

import numpy as np
import pandas as pd
import pytest
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval
from test_score_fakerun import det, entry, write_images, write_run

from compare.errors import UserError
from compare.score.ap import COCO_STATS
from compare.score.attach import attach
from compare.score.classes import canonical
from compare.score.evaluators import build_eval_set, coco_ap
from compare.score.ground_truth import read_coco_json
from compare.score.scorer import finish, score_tables

FIXTURES = os.path.join(os.path.dirname(__file__), '..', 'fixtures', 'published')
CATEGORIES = [{'id': 2, 'name': 'cat'}, {'id': 5, 'name': 'dog'}]
NAMES = {2: 'cat', 5: 'dog'}


def scene(seed, n_images=12):
    """Images, annotations (a crowd region in every third image; ``area`` 0.3
    to 0.9 of the box, as a segmentation's is) and detections near them."""
    rng = np.random.RandomState(seed)
    sizes, annotations, outputs = {}, [], {}
    for k in range(n_images):
        name = 'im{:02d}.png'.format(k)
        sizes[name] = (200, 240)
        rows = []
        for n in range(rng.randint(1, 6)):
            w, h = rng.choice([12, 30, 60, 110]) * rng.uniform(0.8, 1.3, 2)
            x, y = rng.uniform(0, 240 - w), rng.uniform(0, 200 - h)
            category = int(rng.choice([2, 5]))
            crowd = int(k % 3 == 0 and n == 0)
            annotations.append({'image_id': k + 1, 'category_id': category,
                                'bbox': [x, y, w, h], 'area': w * h * rng.uniform(0.3, 0.9),
                                'iscrowd': crowd})
            for _ in range(rng.randint(1, 4)):  # near hits, duplicates, misses
                dx, dy = rng.normal(0, 0.15 * w), rng.normal(0, 0.15 * h)
                x0, y0 = np.clip([x + dx, y + dy], 0, None)
                x1, y1 = min(x + dx + w, 240), min(y + dy + h, 200)
                label = category if rng.uniform() < 0.85 else 7 - category
                rows.append(det(y0, x0, y1, x1, NAMES[label], rng.uniform(0.05, 1)))
        rows.append(det(1, 1, 20, 25, 'cat', rng.uniform(0.05, 1)))  # background
        outputs[name] = rows
    for n, ann in enumerate(annotations):
        ann['id'] = n + 1
    images = [{'id': k + 1, 'file_name': name, 'height': 200, 'width': 240}
              for k, name in enumerate(sorted(sizes))]
    return sizes, {'images': images, 'annotations': annotations,
                   'categories': CATEGORIES}, outputs


def results_of(outputs, dataset):
    """The detections as a COCO results list for ``dataset``."""
    ids = {image['file_name']: image['id'] for image in dataset['images']}
    by_name = {c['name']: c['id'] for c in dataset['categories']}
    return [{'image_id': ids[image], 'category_id': by_name[d['name']],
             'bbox': [d['x_min'], d['y_min'], d['x_max'] - d['x_min'], d['y_max'] - d['y_min']],
             'score': d['score']} for image, rows in outputs.items() for d in rows]


def pycocotools_stats(dataset, results, iou_thrs=None):
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO()
        gt.dataset = json.loads(json.dumps(dataset))
        gt.createIndex()
        evaluator = COCOeval(gt, gt.loadRes(results), 'bbox')
        if iou_thrs is not None:
            evaluator.params.iouThrs = np.array(iou_thrs)
        evaluator.evaluate()
        evaluator.accumulate()
        if iou_thrs is not None:
            precision = evaluator.eval['precision'][0, :, :, 0, -1]
            return float(np.mean(precision[precision > -1]))
        evaluator.summarize()
    return evaluator.stats


def scored(tmp_path, dataset, sizes, outputs, **options):
    images = str(tmp_path / 'images')
    write_images(images, sizes)
    with open(os.path.join(images, 'annotations.json'), 'w') as f:
        json.dump(dataset, f)
    run_dir = write_run(str(tmp_path / 'run'), {'d': outputs}, sizes,
                        [entry('d', ['cat', 'dog'])], images_dir=images)
    found = score_tables(run_dir, **options)  # the tables only: no reports needed
    finish(found)
    return found.tables


@pytest.mark.parametrize('evaluator', ['pycocotools', 'faster-coco-eval'])
def test_all_12_stats_equal_pycocotools_with_crowds_and_areas(tmp_path, evaluator):
    sizes, dataset, outputs = scene(3)
    tables = scored(tmp_path, dataset, sizes, outputs, coco_evaluator=evaluator, iou=0.6)
    row = tables['coco_summary'].set_index('detector').loc['d']
    expected = pycocotools_stats(dataset, results_of(outputs, dataset))
    for name, value in zip(COCO_STATS, expected, strict=True):
        assert row[name] == pytest.approx(value, abs=1e-6), name
    assert min(expected[3:6]) > 0 and min(expected[9:12]) > 0   # every size range has objects
    summary = tables['map_summary'].set_index('detector').loc['d']
    assert summary['ap_coco_iou'] == pytest.approx(
        pycocotools_stats(dataset, results_of(outputs, dataset), [0.6]), abs=1e-6)
    stated = tables['map_conventions'].set_index('metric').loc['map_coco']
    n_objects = len(dataset['annotations'])
    assert 'the COCO area field (all {} objects)'.format(n_objects) in stated['matching']
    assert evaluator in stated['evaluator']


def _stats_of(tmp_path, dataset, sizes, outputs):
    """Our 12 COCO stats of ``outputs`` against ``dataset`` as scoring reads
    and attaches the file (without writing the reports)."""
    path = tmp_path / 'gt.json'
    path.write_text(json.dumps(dataset))
    truths, _ = read_coco_json(str(path))
    attached, _ = attach(truths, sizes)
    rows = pd.DataFrame([dict(d, image=image, **{'class': d['name']})
                         for image, found in outputs.items() for d in found])
    return coco_ap(build_eval_set(rows, attached, ['cat', 'dog'], sizes))[2]


def test_the_area_field_moves_the_size_ranges_as_in_pycocotools(tmp_path):
    """The symptom of the issue: areas unlike the boxes' change APm/ARl in
    pycocotools, and now ours by the same amounts."""
    sizes, dataset, outputs = scene(5)
    boxed = json.loads(json.dumps(dataset))
    for ann in boxed['annotations']:
        ann['area'] = ann['bbox'][2] * ann['bbox'][3]
    ours = {name: _stats_of(tmp_path, data, sizes, outputs)
            for name, data in (('segm', dataset), ('box', boxed))}
    theirs = {name: pycocotools_stats(data, results_of(outputs, data))
              for name, data in (('segm', dataset), ('box', boxed))}
    moved = [k for k in range(3, 12) if abs(theirs['segm'][k] - theirs['box'][k]) > 0.01]
    assert moved, 'the generated areas must move some size-range stat'
    for k in range(12):
        assert ours['segm'][k] == pytest.approx(theirs['segm'][k], abs=1e-6)
        assert ours['segm'][k] - ours['box'][k] == pytest.approx(
            theirs['segm'][k] - theirs['box'][k], abs=1e-6)


def test_box_area_only_where_the_field_is_absent_and_said_so(tmp_path):
    sizes, dataset, outputs = scene(7, n_images=6)
    without = json.loads(json.dumps(dataset))
    for ann in without['annotations'][::2]:
        del ann['area']
    filled = json.loads(json.dumps(without))
    for ann in filled['annotations']:
        ann.setdefault('area', ann['bbox'][2] * ann['bbox'][3])
    tables = scored(tmp_path, without, sizes, outputs)
    row = tables['coco_summary'].set_index('detector').loc['d']
    for name, value in zip(COCO_STATS, pycocotools_stats(filled, results_of(outputs, filled)),
                           strict=True):
        assert row[name] == pytest.approx(value, abs=1e-6), name
    total, missing = len(dataset['annotations']), len(dataset['annotations'][::2])
    assert 'the COCO area field ({} of {} objects), box w x h for the {} without'.format(
        total - missing, total, missing) in tables['map_conventions'].set_index(
            'metric').loc['map_coco', 'matching']


@pytest.mark.parametrize('area', ['-3', '"big"', 'true', '1e999'])
def test_a_malformed_area_is_a_one_line_error(tmp_path, area):
    path = tmp_path / 'a.json'
    path.write_text('{"images": [{"id": 1, "file_name": "a.png"}], "categories": [{"id": 1, '
                    '"name": "cat"}], "annotations": [{"id": 1, "image_id": 1, "category_id": '
                    '1, "bbox": [1, 1, 5, 5], "area": %s}]}' % area)
    with pytest.raises(UserError, match=r'annotations\[0\]\.area is .*expected a finite '
                                        r'number >= 0'):
        read_coco_json(str(path))


def _published(name):
    with lzma.open(os.path.join(FIXTURES, name)) as f:
        return json.loads(f.read().decode('utf-8'))


#: Source: rafaelpadilla/review_object_detection_metrics, tests/test_coco_eval.py
#: (the 12 stats of pycocotools' COCOeval, published to 6 decimals) on its
#: tests/test_coco_eval/gts/sampled_gts_bbox_area.json (100 COCO val2014 images,
#: 830 boxes, area = box area, no crowd) and the cocoapi repository's
#: fakebbox100 results (tests/fixtures/published/, fields we read only).
#: Convention: COCO, continuous boxes, 101-point AP.
PUBLISHED_COCO = (0.503647, 0.696973, 0.571667, 0.593252, 0.557991, 0.489363, 0.386813,
                  0.593680, 0.595353, 0.654764, 0.603130, 0.553744)


@pytest.mark.parametrize('evaluator', ['pycocotools', 'faster-coco-eval'])
def test_published_coco_case_gives_the_published_12_stats(tmp_path, evaluator):
    path = tmp_path / 'gt.json'
    path.write_text(json.dumps(_published('coco_sample_gt.json.xz')))
    truths, vocabulary = read_coco_json(str(path))
    by_id = {truth.image_id: truth for truth in truths}
    names = {c['id']: c['name'] for c in _published('coco_sample_gt.json.xz')['categories']}
    rows = [{'image': by_id[r['image_id']].image, 'class': canonical(names[r['category_id']]),
             'y_min': r['bbox'][1], 'x_min': r['bbox'][0],
             'y_max': r['bbox'][1] + r['bbox'][3], 'x_max': r['bbox'][0] + r['bbox'][2],
             'score': r['score']} for r in _published('coco_sample_results.json.xz')]
    mine = {truth.image: truth for truth in truths}
    sizes = {truth.image: truth.size for truth in truths}
    classes = sorted({canonical(name) for name in vocabulary})
    assert len(classes) == 80
    data = build_eval_set(pd.DataFrame(rows), mine, classes, sizes)
    for iou, published in ((0.5, PUBLISHED_COCO[1]), (0.75, PUBLISHED_COCO[2])):
        _, _, stats, ap_iou = coco_ap(data, iou, evaluator)
        assert np.nanmean(ap_iou) == pytest.approx(published, abs=1e-6)
    for name, value, published in zip(COCO_STATS, stats, PUBLISHED_COCO, strict=True):
        assert value == pytest.approx(published, abs=1e-6), name
