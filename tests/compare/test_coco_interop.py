"""A run folder into COCO tools and back: ``python -m compare.export --coco``
writes results and ground truth that pycocotools scores as we do, and the
``file`` detector kind reads them back into a comparison with identical
tables, resumed and refused like a model; its file is untrusted."""
import contextlib
import io
import json
import os
import re

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval
from runhelp import error_line, main

from compare.export.__main__ import main as export_main
from compare.score.ap import COCO_STATS
from compare.score.classes import canonical
from compare.score.inputs import read_run

#: Tables that must be the same after the round trip (weights, timings and
#: the identity of the detectors differ by design).
SAME = ('map_summary', 'map_per_class', 'coco_summary', 'tide', 'diagnosis', 'sweep',
        'confusion', 'agreement_summary', 'classes')
VOC_XML = ('<annotation><filename>{image}</filename><size><width>{w}</width><height>{h}'
           '</height></size>{objects}</annotation>')
VOC_OBJECT = ('<object><name>{name}</name><difficult>{hard}</difficult><bndbox><xmin>{x0}'
              '</xmin><ymin>{y0}</ymin><xmax>{x1}</xmax><ymax>{y1}</ymax></bndbox></object>')


def images_with_voc(folder, run_dir, capsys):
    """4 images, a first run of two fake detectors, and VOC XML built near
    their boxes (so the APs are not 0), some difficult."""
    os.makedirs(folder)
    rng = np.random.RandomState(0)
    for k in range(4):
        Image.fromarray(rng.randint(0, 255, (90, 120, 3), np.uint8)).save(
            os.path.join(folder, 'im{}.png'.format(k)))
    code, _ = main(capsys, folder, '--out', run_dir, '-d', 'fake:1,count=8', '-d',
                   'fake:2,count=8,name=other', '--no-progress', '--no-speed', '--no-score')
    assert code == 0
    detections = read_run(run_dir).detections
    os.makedirs(os.path.join(folder, 'Annotations'))
    for image, rows in detections[detections['detector'] == 'fake'].groupby('image'):
        objects = ''.join(VOC_OBJECT.format(
            name=row['class'], hard=int(n % 5 == 4),
            x0=int(row.x_min) + 1 + rng.randint(0, 3), y0=int(row.y_min) + 1,
            x1=int(row.x_max) + rng.randint(-2, 2), y1=int(row.y_max) + 1)
            for n, (_, row) in enumerate(rows.iterrows()) if n % 3 != 2 and
            row.x_max - row.x_min > 6 and row.y_max - row.y_min > 6)
        with open(os.path.join(folder, 'Annotations', image[:-4] + '.xml'), 'w') as f:
            f.write(VOC_XML.format(image=image, w=120, h=90, objects=objects))


def assert_pycocotools_agrees(row, ground_truth, results, category_ids=None):
    """pycocotools' COCOeval on the exported files (over ``category_ids``
    when given) gives the 12 stats of the run's ``coco_summary`` ``row``."""
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO(ground_truth)
        evaluator = COCOeval(coco, coco.loadRes(results), 'bbox')
        if category_ids is not None:
            evaluator.params.catIds = category_ids
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    for stat, value in zip(COCO_STATS, evaluator.stats, strict=True):
        assert row[stat] == pytest.approx(value, abs=1e-6), stat


def tables_of(run_dir):
    return {name: pd.read_csv(os.path.join(run_dir, name + '.csv')) for name in SAME}


def test_export_then_file_detectors_give_identical_tables(tmp_path, capsys):
    images, first = str(tmp_path / 'images'), str(tmp_path / 'run1')
    images_with_voc(images, first, capsys)
    code, _ = main(capsys, images, '--out', first, '-d', 'fake:1,count=8', '-d',
                   'fake:2,count=8,name=other', '--no-progress', '--no-speed')
    assert code == 0
    out = str(tmp_path / 'coco')
    assert export_main([first, '--coco', out]) == 0
    assert sorted(os.listdir(out)) == ['detectors.json', 'fake.results.json',
                                       'ground_truth.json', 'other.results.json']
    gt = os.path.join(out, 'ground_truth.json')
    second = str(tmp_path / 'run2')
    specs = ['-d', 'file:{},images={},name=fake'.format(os.path.join(out, 'fake.results.json'),
                                                        gt),
             '-d', 'file:{},images={},name=other'.format(
                 os.path.join(out, 'other.results.json'), gt)]
    code, err = main(capsys, images, '--out', second, *specs, '--no-progress')
    assert code == 0, err
    before, after = tables_of(first), tables_of(second)
    assert before['map_summary'].set_index('detector').loc['fake', 'map_voc'] > 0.3
    for name in SAME:
        pd.testing.assert_frame_equal(before[name], after[name], check_exact=True, obj=name)
    detections = [pd.read_csv(os.path.join(run, 'detections.csv')) for run in (first, second)]
    pd.testing.assert_frame_equal(detections[0], detections[1], check_exact=True)
    # pycocotools on the two exported files: the run's coco_summary
    assert_pycocotools_agrees(before['coco_summary'].set_index('detector').loc['fake'], gt,
                              os.path.join(out, 'fake.results.json'))
    # the same command again resumes: nothing is read twice
    code, err = main(capsys, images, '--out', second, *specs, '--no-progress', '--no-score')
    with open(os.path.join(second, 'meta.json')) as f:
        entries = {d['name']: d for d in json.load(f)['detectors']}
    assert code == 0 and entries['fake']['images_done'] == 4
    assert entries['fake']['images_new'] == 0 and entries['fake']['weights_sha256']
    # another results file under the same name is another detector: refused
    with open(os.path.join(out, 'fake.results.json')) as f:
        changed = json.load(f)[1:]
    with open(os.path.join(out, 'fake.results.json'), 'w') as f:
        json.dump(changed, f)
    code, err = main(capsys, images, '--out', second, *specs, '--no-progress', '--no-score')
    assert code == 2 and '--force' in error_line(err) and 'fake' in error_line(err)


def test_a_detector_of_fewer_classes_than_the_ground_truth_reads_back_the_same(
        tmp_path, capsys):
    # the ground truth also has faces, which the fake detectors (cat, dog,
    # person) cannot detect: the run scores them on their own classes, and so
    # must the read-back detector and pycocotools
    images, first = str(tmp_path / 'images'), str(tmp_path / 'run1')
    images_with_voc(images, first, capsys)
    xml = os.path.join(images, 'Annotations', 'im0.xml')
    with open(xml) as f:
        text = f.read()
    face = VOC_OBJECT.format(name='face', hard=0, x0=5, y0=5, x1=30, y1=40)
    with open(xml, 'w') as f:
        f.write(text.replace('</annotation>', face + '</annotation>'))
    code, _ = main(capsys, images, '--out', first, '-d', 'fake:1,count=8', '-d',
                   'fake:2,count=8,name=other', '--no-progress', '--no-speed')
    assert code == 0
    out = str(tmp_path / 'coco')
    assert export_main([first, '--coco', out]) == 0
    with open(os.path.join(out, 'detectors.json')) as f:
        listed = json.load(f)
    with open(os.path.join(out, 'ground_truth.json')) as f:
        categories = {c['name']: c['id'] for c in json.load(f)['categories']}
    assert 'face' in categories
    for name in ('fake', 'other'):
        assert categories['face'] not in listed[name]['category_ids']
        assert ',classes=' in listed[name]['read_back'] and 'face' not in listed[name][
            'read_back']
    second = str(tmp_path / 'run2')
    specs = [arg for name in ('fake', 'other') for arg in ('-d', listed[name]['read_back'])]
    code, err = main(capsys, images, '--out', second, *specs, '--no-progress')
    assert code == 0, err
    before, after = tables_of(first), tables_of(second)
    for table in SAME:
        pd.testing.assert_frame_equal(before[table], after[table], check_exact=True, obj=table)
    # pycocotools over the detector's categories: the run's coco_summary
    assert_pycocotools_agrees(before['coco_summary'].set_index('detector').loc['fake'],
                              os.path.join(out, 'ground_truth.json'),
                              os.path.join(out, 'fake.results.json'),
                              listed['fake']['category_ids'])


def test_file_classes_must_name_categories_of_the_images_file(tmp_path, capsys):
    images, first = str(tmp_path / 'images'), str(tmp_path / 'run1')
    images_with_voc(images, first, capsys)
    out = str(tmp_path / 'coco')
    assert export_main([first, '--coco', out]) == 0
    spec = 'file:{},images={},classes=cat+unicorn'.format(
        os.path.join(out, 'fake.results.json'), os.path.join(out, 'ground_truth.json'))
    code, err = main(capsys, images, '--out', str(tmp_path / 'run2'), '-d', spec,
                     '--no-progress', '--no-speed')
    assert code == 2 and "'unicorn'" in err and 'ground_truth.json' in err
    code, err = main(capsys, images, '--out', str(tmp_path / 'run3'), '-d', spec.replace(
        'cat+unicorn', 'cat++dog'), '--no-progress', '--no-speed')
    assert code == 2 and 'classes=face+person' in error_line(err)


def test_export_with_coco_ground_truth_keeps_its_ids(tmp_path, capsys):
    images = str(tmp_path / 'images')
    os.makedirs(images)
    for k in range(2):
        Image.fromarray(np.full((50, 60, 3), 40 * k, np.uint8)).save(
            os.path.join(images, 'p{}.png'.format(k)))
    dataset = {'images': [{'id': 17, 'file_name': 'p0.png'}, {'id': 4, 'file_name': 'p1.png'}],
               'categories': [{'id': 9, 'name': 'dog'}, {'id': 3, 'name': 'cat'}],
               'annotations': [{'id': 1, 'image_id': 17, 'category_id': 3,
                                'bbox': [1, 1, 30, 30], 'area': 500, 'iscrowd': 0}]}
    with open(os.path.join(images, 'annotations.json'), 'w') as f:
        json.dump(dataset, f)
    run_dir, out = str(tmp_path / 'run'), str(tmp_path / 'fake.json')
    code, _ = main(capsys, images, '--out', run_dir, '-d', 'fake:3,count=5', '--no-progress',
                   '--no-speed', '--no-score')
    assert code == 0
    assert export_main([run_dir, '--coco', out]) == 0
    with open(out) as f:
        found = json.load(f)
    assert {r['image_id'] for r in found} <= {17, 4}
    assert {r['category_id'] for r in found} <= {9, 3} and found
    assert not os.path.exists(tmp_path / 'ground_truth.json')  # the file is the ground truth


def test_export_mistakes_are_one_line(tmp_path, capsys):
    images, run_dir = str(tmp_path / 'images'), str(tmp_path / 'run')
    os.makedirs(images)
    Image.fromarray(np.zeros((20, 20, 3), np.uint8)).save(os.path.join(images, 'a.png'))
    main(capsys, images, '--out', run_dir, '-d', 'fake', '-d', 'fake:2,name=b', '--no-progress',
         '--no-speed', '--no-score')
    assert export_main([run_dir, '--coco', str(tmp_path / 'x')]) == 2
    assert 'pass --annotations' in capsys.readouterr().err
    (tmp_path / 'gt.json').write_text(json.dumps(
        {'images': [{'id': 1, 'file_name': 'a.png'}], 'categories': [{'id': 1, 'name': 'cat'}]}))
    assert export_main([run_dir, '--coco', str(tmp_path / 'one.json'), '--annotations',
                        str(tmp_path / 'gt.json')]) == 2
    assert 'pass --detector NAME' in capsys.readouterr().err
    assert export_main([run_dir, '--coco', str(tmp_path / 'x'), '--annotations',
                        str(tmp_path / 'gt.json'), '--detector', 'nope']) == 2
    assert 'nope did not run' in capsys.readouterr().err


@pytest.mark.parametrize('content,message', [
    ('{"a": 1}', 'the top level is a dict, expected a COCO results list'),
    ('[{"image_id": 5, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 0.5}]',
     r'\[0\]\.image_id is .5., which the images file does not define'),
    ('[{"image_id": 1, "category_id": 2, "bbox": [0, 0, 1, 1], "score": 0.5}]',
     r'\[0\]\.category_id is .2., which the images file does not define'),
    ('[{"image_id": 1, "category_id": 1, "bbox": [0, 0, -1, 1], "score": 0.5}]',
     r'\[0\]\.bbox is .*width and height >= 0'),
    ('[{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1], "score": 0.5}]',
     r'\[0\]\.bbox is .*4 finite numbers'),
    ('[{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "score": NaN}]',
     r'\[0\]\.score is .*expected a finite number'),
    ('[{"image_id": true, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 1}]',
     r'\[0\]\.image_id is'),
    ('[[[[', 'malformed COCO results JSON'),
])
def test_an_untrusted_results_file_fails_the_detector_in_one_line(tmp_path, capsys, content,
                                                                   message):
    images = str(tmp_path / 'images')
    os.makedirs(images)
    Image.fromarray(np.zeros((20, 20, 3), np.uint8)).save(os.path.join(images, 'a.png'))
    (tmp_path / 'gt.json').write_text(json.dumps(
        {'images': [{'id': 1, 'file_name': 'a.png'}], 'categories': [{'id': 1, 'name': 'cat'}]}))
    (tmp_path / 'r.json').write_text(content)
    code, err = main(capsys, images, '--out', str(tmp_path / 'run'), '-d',
                     'file:{},images={}'.format(tmp_path / 'r.json', tmp_path / 'gt.json'),
                     '--no-progress', '--no-speed', '--no-score')
    assert code == 2
    line = [line for line in err.splitlines() if 'detector file_r: failed' in line]
    assert line and len(line) == 1
    assert re.search(message, line[0]), line[0]


def test_file_kind_needs_its_images_file_and_covers_only_its_images(tmp_path, capsys):
    images = str(tmp_path / 'images')
    os.makedirs(images)
    for name in ('a.png', 'b.png'):
        Image.fromarray(np.zeros((20, 20, 3), np.uint8)).save(os.path.join(images, name))
    (tmp_path / 'r.json').write_text('[]')
    code, err = main(capsys, images, '--out', str(tmp_path / 'run'), '-d',
                     'file:{}'.format(tmp_path / 'r.json'), '--no-progress', '--no-speed')
    assert code == 2 and 'needs images=COCO.json' in error_line(err)
    (tmp_path / 'gt.json').write_text(json.dumps(
        {'images': [{'id': 1, 'file_name': 'a.png'}], 'categories': [{'id': 1, 'name': 'cat'}]}))
    code, err = main(capsys, images, '--out', str(tmp_path / 'run'), '-d',
                     'file:{},images={}'.format(tmp_path / 'r.json', tmp_path / 'gt.json'),
                     '--no-progress', '--no-speed', '--no-score')
    assert code != 0 and 'image b.png is not among the images of' in err


def test_file_adapter_holds_the_adapter_contract(tmp_path):
    """Boxes converted from [x, y, w, h], clipped to the image, ordered by
    score, labels/names from the categories sorted by id; images matched by
    path rules; identity from both files' SHA-256."""
    from compare.adapters import build
    from compare.adapters.protocol import inputs_for, is_timed
    (tmp_path / 'gt.json').write_text(json.dumps(
        {'images': [{'id': 'x7', 'file_name': 'sub/a.jpg'}],
         'categories': [{'id': 10, 'name': 'dog'}, {'id': 2, 'name': 'cat'}]}))
    (tmp_path / 'r.json').write_text(json.dumps([
        {'image_id': 'x7', 'category_id': 10, 'bbox': [5, 4, 30, 10], 'score': 0.2},
        {'image_id': 'x7', 'category_id': 2, 'bbox': [-3, 2, 8, 50], 'score': 0.9}]))
    adapter = build('file:{},images={}'.format(tmp_path / 'r.json', tmp_path / 'gt.json'))
    adapter.load()
    image = np.zeros((20, 25, 3), np.uint8)
    found = adapter.predict(inputs_for(adapter, [image], ['sub/a.png'])).detections[0]
    assert found.names == ('cat', 'dog') and list(found.labels) == [0, 1]
    np.testing.assert_array_equal(found.boxes, np.array([[2, 0, 20, 5], [4, 5, 14, 25]],
                                                        np.float32))
    assert found.scores.dtype == np.float32 and list(found.scores) == [np.float32(0.9),
                                                                       np.float32(0.2)]
    info = adapter.info()
    assert info.label_names == ('cat', 'dog') and len(info.weights_sha256) == 64
    assert len(info.info['images_sha256']) == 64 and not is_timed(adapter)


def test_file_classes_leave_out_other_categories_and_count_them(tmp_path, capsys):
    images = str(tmp_path / 'images')
    os.makedirs(images)
    Image.fromarray(np.zeros((40, 50, 3), np.uint8)).save(os.path.join(images, 'a.png'))
    dataset = {'images': [{'id': 1, 'file_name': 'a.png'}],
               'categories': [{'id': 1, 'name': 'cat'}, {'id': 2, 'name': 'tv'}]}
    results = [{'image_id': 1, 'category_id': 1, 'bbox': [1, 1, 10, 10], 'score': 0.9},
               {'image_id': 1, 'category_id': 2, 'bbox': [5, 5, 10, 10], 'score': 0.8}]
    for name, value in (('coco.json', dataset), ('results.json', results)):
        with open(str(tmp_path / name), 'w') as f:
            json.dump(value, f)
    run_dir = str(tmp_path / 'run')
    # tvmonitor is COCO's tv by canonical name, as scoring matches classes
    spec = 'file:{},images={},classes=tvmonitor,name=det'.format(tmp_path / 'results.json',
                                                                 tmp_path / 'coco.json')
    code, err = main(capsys, images, '--out', run_dir, '-d', spec, '--no-progress',
                     '--no-speed', '--no-score')
    assert code == 0, err
    with open(os.path.join(run_dir, 'meta.json')) as f:
        entry = json.load(f)['detectors'][0]
    assert [canonical(n) for n in entry['label_names']] == [canonical('tv')]
    assert entry['info']['detections_outside_classes'] == 1
    assert entry['info']['detections_in_file'] == 2
    found = read_run(run_dir).detections
    assert [canonical(n) for n in found['class']] == [canonical('tv')]
    assert list(found['score']) == [pytest.approx(0.8)]
    code, err = main(capsys, images, '--out', str(tmp_path / 'run2'), '-d',
                     spec.replace('tvmonitor', 'tv+tvmonitor'), '--no-progress', '--no-speed')
    assert code == 2 and 'distinct category names' in error_line(err)


def test_export_says_why_a_detector_cannot_be_read_back(tmp_path):
    from compare.export.coco import read_back
    ids = {'cat': 1, 'face': 2}
    spelled = {1: 'cat', 2: 'face'}
    none = read_back('d', 'o/d.results.json', 'o/gt.json', ('dog',), ids, spelled)
    assert none['read_back'] is None and 'no class in common' in none['why_not']
    comma = read_back('d', 'o,x/d.results.json', 'o/gt.json', ('cat',), ids, spelled)
    assert comma['read_back'] is None and '","' in comma['why_not']
    plus = read_back('d', 'o/d.results.json', 'o/gt.json', ('t+shirt',), {'t+shirt': 3},
                     {3: 't+shirt'})
    assert plus['read_back'] is None
    ok = read_back('d', 'o/d.results.json', 'o/gt.json', ('cat', 'dog'), ids, spelled)
    assert ok['category_ids'] == [1] and ok['read_back'] == 'file:{},images={},' \
        'classes=cat,name=d'.format(os.path.abspath('o/d.results.json'), os.path.abspath(
            'o/gt.json'))
