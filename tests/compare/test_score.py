"""score_run end to end on a hand-made run: every table checked against
numbers computed here (numpy.percentile, ChainerCV, hand counts)."""
import os

import numpy as np
import pandas as pd
import pytest
from chainercv.evaluations import eval_detection_voc
from test_score_fakerun import det, entry, write_images, write_run, write_voc_xml

from compare.runner.scoring import main, score_run

SIZES = {'a.png': (40, 60), 'sub/b.png': (50, 50)}
OURS = {'a.png': [det(5, 5, 20, 30, 'cat', 0.9), det(10, 10, 30, 40, 'dog', 0.4),
                  det(10, 10, 30, 40, 'dog', 0.3)],
        'sub/b.png': [det(1, 1, 9, 9, 'person', 0.7), det(20, 20, 40, 40, 'sofa', 0.2)]}
TF = {'a.png': [det(5, 5, 20, 31, 'cat', 0.8), det(0, 0, 3, 3, 'couch', 0.3),
                det(0, 0, 9, 9, 'truck', 0.5)],
      'sub/b.png': [det(20, 20, 40, 40, 'couch', 0.6)]}
VOC = ['cat', 'dog', 'person', 'sofa']
COCO = ['cat', 'couch', 'person', 'truck']


def timings():
    rng = np.random.RandomState(0)
    return [(n, b, r, s, float(rng.uniform(0.01, 1) * b)) for n in ('ours', 'tf')
            for b in (1, 4) for r in range(7)
            for s in ('preprocess', 'inference', 'postprocess', 'total')]


@pytest.fixture(scope='module')
def scored(tmp_path_factory):
    root = tmp_path_factory.mktemp('run')
    images = str(root / 'images')
    write_images(images, SIZES)
    write_voc_xml(os.path.join(images, 'Annotations', 'a.xml'), 'a.png', (40, 60),
                  [('cat', (6, 6, 31, 21), 0), ('dog', (11, 11, 41, 31), 1),
                   ('sofa', (50, 30, 70, 45), 0)])
    write_voc_xml(os.path.join(images, 'Annotations', 'b.xml'), 'b.png', None,
                  [('person', (2, 2, 10, 10), 0), ('sofa', (21, 21, 41, 41), 0)])
    write_voc_xml(os.path.join(images, 'Annotations', 'c.xml'), 'c.png', None,
                  [('person', (2, 2, 10, 10), 0)])
    run_dir = write_run(str(root / 'out'), {'ours': OURS, 'chainercv': OURS, 'tf': TF}, SIZES,
                        [entry('ours', VOC, random_weights=True), entry('chainercv', VOC),
                         entry('tf', COCO), entry('broken', VOC, status='failed: no file')],
                        timings(), images_dir=images, skipped=[('bad.png', 'not an image')])
    return run_dir, score_run(run_dir, score_thresh=0.0)


def test_detections_table(scored):
    _, tables = scored
    frame = tables['detections']
    assert len(frame) == 2 * 5 + 4
    assert list(frame.columns) == ['detector', 'image', 'rank', 'y_min', 'x_min', 'y_max',
                                   'x_max', 'label', 'name', 'class', 'score', 'gt_match',
                                   'error', 'iou', 'gt_class', 'gt_index', 'gt_y_min',
                                   'gt_x_min', 'gt_y_max', 'gt_x_max']
    tf_a = frame[(frame['detector'] == 'tf') & (frame['image'] == 'a.png')]
    assert list(tf_a['name']) == ['cat', 'truck', 'couch']
    assert list(tf_a['class']) == ['cat', 'truck', 'sofa'] and list(tf_a['rank']) == [1, 2, 3]


def test_same_outputs_agree_completely(scored):
    summary = scored[1]['agreement_summary'].set_index(['detector_a', 'detector_b'])
    row = summary.loc[('chainercv', 'ours')]
    assert (row['matched'], row['only_a'], row['only_b']) == (5, 0, 0)
    assert row['mean_iou'] == 1 and row['min_iou'] == 1 and row['max_abs_score_diff'] == 0


def test_agreement_across_vocabularies(scored):
    _, tables = scored
    row = tables['agreement_summary'].set_index(['detector_a', 'detector_b']).loc[('ours', 'tf')]
    # cat~cat (IoU 15*25/(15*26)), sofa~couch on b (IoU 1); ours' dogs: tf cannot name dog;
    # person only in ours; tf's couch on a only in tf; truck: ours cannot name it
    assert (row['matched'], row['only_a'], row['only_b']) == (2, 1, 1)
    assert (row['unshared_a'], row['unshared_b'], row['shared_classes']) == (2, 1, 3)
    assert row['mean_iou'] == pytest.approx((25 / 26 + 1) / 2, abs=1e-6)
    assert row['max_abs_score_diff'] == pytest.approx(0.4)
    per_class = tables['agreement_per_class']
    sofa = per_class[(per_class['detector_a'] == 'ours') & (per_class['class'] == 'sofa')]
    assert (int(sofa['matched'].iloc[0]), int(sofa['only_b'].iloc[0])) == (1, 1)
    per_image = tables['agreement_per_image']
    assert int(per_image['matched'].sum()) == 3 * 0 + 5 + 2 + 2  # ours-cv 5, ours-tf 2, cv-tf 2
    assert len(tables['agreement_pairs']) == 5 + 4 + 4


def test_speed_percentiles(scored):
    speed = scored[1]['speed'].set_index(['detector', 'batch_size'])
    assert len(speed) == 4
    frame = pd.DataFrame(timings(), columns=['detector', 'batch_size', 'repeat', 'stage', 's'])
    for (name, batch, stage), group in frame.groupby(['detector', 'batch_size', 'stage']):
        p50, p90 = np.percentile(group['s'], [50, 90]) * 1000
        row = speed.loc[(name, batch)]
        assert row[stage + '_p50_ms'] == pytest.approx(p50, rel=1e-9)
        assert row[stage + '_p90_ms'] == pytest.approx(p90, rel=1e-9)
        assert row[stage + '_p90_ms_per_image'] == pytest.approx(p90 / batch, rel=1e-9)
        if stage == 'total':
            assert row['images_per_s'] == pytest.approx(1000 * batch / p50, rel=1e-9)
    assert set(speed['repeats']) == {7} and set(speed['device']) == {'CPU'}


def test_map_tables(scored):
    _, tables = scored
    summary = tables['map_summary'].set_index('detector')
    assert set(summary.index) == {'ours', 'chainercv', 'tf'}   # failed detector not scored
    # ours vs ChainerCV directly: boxes in ChainerCV's 0-based frame (VOC minus 1)
    gt = [np.array([[5, 5, 20, 30], [29, 49, 40, 60]], np.float32),
          np.array([[1, 1, 9, 9], [20, 20, 40, 40]], np.float32)]
    labels = {'cat': 0, 'dog': 1, 'person': 2, 'sofa': 3}
    preds = [OURS['a.png'], OURS['sub/b.png']]
    direct = eval_detection_voc(
        [np.array([[d[k] for k in ('y_min', 'x_min', 'y_max', 'x_max')] for d in p], np.float32)
         for p in preds], [np.array([labels[d['name']] for d in p], np.int32) for p in preds],
        [np.array([d['score'] for d in p], np.float32) for p in preds],
        gt, [np.array([0, 3], np.int32), np.array([2, 3], np.int32)])
    assert summary.loc['ours', 'map_voc'] == pytest.approx(direct['map'], abs=1e-6)
    assert summary.loc['ours', 'map_voc'] == pytest.approx(summary.loc['chainercv', 'map_voc'])
    # the dog (difficult) is out: ours: cat 1, person 1, sofa 1/2 (b hit, a missed)
    assert summary.loc['ours', 'map_voc'] == pytest.approx((1 + 1 + 0.5) / 3)
    # tf cannot name dog (excluded), sofa via couch: b hit, a missed -> 1/2; person missed
    assert summary.loc['tf', 'classes_excluded'] == 'dog'
    assert summary.loc['tf', 'detections_dropped'] == 1      # the truck
    per_class = tables['map_per_class'].set_index(['detector', 'class'])
    assert per_class.loc[('tf', 'sofa'), 'ap_voc'] == pytest.approx(0.5)
    assert per_class.loc[('tf', 'person'), 'ap_voc'] == 0
    assert not per_class.loc[('tf', 'dog'), 'predictable']
    assert per_class.loc[('ours', 'sofa'), 'gt'] == 2
    assert per_class.loc[('ours', 'dog'), 'gt_difficult'] == 1


def test_classes_and_warnings_tables(scored):
    _, tables = scored
    classes = tables['classes'].set_index('canonical')
    assert classes.loc['sofa', 'tf'] == 'couch' and classes.loc['sofa', 'annotations'] == 'sofa'
    # a vocabulary that cannot name the class: an empty string, an empty CSV field
    assert classes.loc['truck', 'ours'] == ''
    csv_rows = open(os.path.join(scored[0], 'classes.csv')).read().splitlines()
    assert csv_rows[0] == 'canonical,chainercv,ours,tf,annotations'
    assert 'truck,,,truck,' in csv_rows
    text = ' '.join(tables['score_warnings']['warning'])
    assert 'c.png names no image of the run' in text and 'clipped' in text


def test_the_operating_point_filters_agreement_not_map(scored, tmp_path):
    run_dir, tables = scored
    import shutil
    copy = str(tmp_path / 'copy')
    shutil.copytree(run_dir, copy)
    high = score_run(copy, score_thresh=0.5)
    row = high['agreement_summary'].set_index(['detector_a', 'detector_b']).loc[('ours', 'tf')]
    # ours >= 0.5: cat 0.9, person 0.7; tf >= 0.5: cat 0.8, truck 0.5, couch (b) 0.6
    assert (row['matched'], row['only_a'], row['only_b'], row['score_thresh']) == (1, 1, 1, 0.5)
    pd.testing.assert_frame_equal(high['map_summary'], tables['map_summary'])
    headline = high['headline'].set_index('detector')
    assert list(high['headline']['detector']) == ['ours', 'chainercv', 'tf']  # run order
    assert headline.loc['ours', 'detections'] == 5
    assert headline.loc['ours', 'detections_at_thresh'] == 2
    assert np.isnan(headline.loc['ours', 'agreement_with_first'])
    assert headline.loc['chainercv', 'agreement_with_first'] == 1
    assert headline.loc['tf', 'agreement_with_first'] == pytest.approx(1 / 3)
    assert headline.loc['tf', 'p50_ms_per_image_b1'] == high['speed'].set_index(
        ['detector', 'batch_size']).loc[('tf', 1), 'total_p50_ms_per_image']
    assert headline.loc['ours', 'map_voc07'] == tables['map_summary'].set_index(
        'detector').loc['ours', 'map_voc07']


def test_rerun_is_byte_identical(scored):
    run_dir, _ = scored
    names = sorted(f for f in os.listdir(run_dir) if f.endswith(('.csv', '.md', '.html')))
    names += ['figures/' + f for f in sorted(os.listdir(os.path.join(run_dir, 'figures')))]
    before = {n: open(os.path.join(run_dir, n), 'rb').read() for n in names}
    score_run(run_dir, score_thresh=0.0)
    after = {n: open(os.path.join(run_dir, n), 'rb').read() for n in names}
    assert len(names) > 20 and before == after


def test_cli_ok_and_user_errors(scored, tmp_path, capsys):
    run_dir, _ = scored
    assert main([run_dir]) == 0
    assert main([str(tmp_path)]) == 2
    assert 'error: ' in capsys.readouterr().err
    bad = tmp_path / 'bad.xml'
    bad.write_text('<annotation><object>')
    assert main([run_dir, '--annotations', str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith('error: malformed XML in ' + str(bad)) and '\n' not in err
