"""The headline's parts: the precision of the tables, the pairs a run is
about (declared or inferred), their verdicts and sentences, and tags of
pictures placed without overlap."""
import types

import pandas as pd
import pytest

from compare import rundir
from compare.detections import Detections
from compare.errors import UserError
from compare.report.overlays import place_tags
from compare.rundir.precision import format_number, formatted, kind_of
from compare.score import findings, pairs
from compare.score.inputs import detection_rows


def test_each_column_has_one_stated_step():
    assert [kind_of(c) for c in ('y_min', 'gt_x_max', 'max_box_diff')] == ['pixels'] * 3
    assert [kind_of(c) for c in ('score', 'score_b', 'max_abs_score_diff', 'score_thresh')] == \
        ['scores'] * 4
    assert [kind_of(c) for c in ('iou', 'min_iou')] == ['iou'] * 2
    assert [kind_of(c) for c in ('total_p50_ms', 'inference_p90_ms_per_image',
                                 'p50_ms_per_image_b1', 'peak_rss_mib', 'images_per_s')] == \
        ['timings'] * 5
    assert [kind_of(c) for c in ('map_voc07', 'agreement', 'f1')] == ['metrics'] * 3


def test_numbers_round_to_their_step_without_noise_in_the_text():
    assert format_number(94.52009999, 1) == format_number(94.52010001, 1) == '94.5'
    assert format_number(0.994818, 4) == '0.9948' and format_number(1.0, 6) == '1'
    assert format_number(-1e-12, 4) == '0' and format_number(-0.0, 6) == '0'   # never '-0'
    assert format_number(float('nan'), 4) == '' and format_number(-0.25, 1) == '-0.2'
    frame = formatted(pd.DataFrame({'score': [0.123456, float('nan')], 'x_min': [3.14159, 2.0],
                                    'image': ['a', 'b'], 'rank': [1, 2]}))
    assert frame.to_dict('list') == {'score': ['0.1235', ''], 'x_min': ['3.1', '2'],
                                     'image': ['a', 'b'], 'rank': [1, 2]}


def test_ranks_follow_the_written_scores_not_float_noise():
    # two scores equal at 1e-4 but in the other order by 1e-9: rank by the box
    found = Detections([[0, 5, 10, 10], [0, 1, 10, 10]], [0, 0], ['cat', 'cat'],
                       [0.5000000001, 0.5000000002])
    other = Detections([[0, 5, 10, 10], [0, 1, 10, 10]], [0, 0], ['cat', 'cat'],
                       [0.5000000002, 0.5000000001])
    first = [row[4] for row in detection_rows('d', 'i', found)]
    second = [row[4] for row in detection_rows('d', 'i', other)]
    assert first == second == [1.0, 5.0]


def _meta(specs, names, weights, pair=None, variants=()):
    detectors = [types.SimpleNamespace(name=n, weights=w, weights_sha256=None, info={})
                 for n, w in zip(names, weights, strict=True)]
    detectors += [types.SimpleNamespace(name=v, weights='-', weights_sha256=None,
                                        info={'variant_of': v.split('.')[0]}) for v in variants]
    return types.SimpleNamespace(args={'detector': specs, 'pair': pair}, detectors=detectors)


def test_pairs_inferred_from_kinds_and_models():
    # the sample of today, plus the trained detectors other branches bring
    specs = ['ours', 'chainercv', 'tf:exp,name=tf_x', 'ours-odapi:exp/,name=ours_x',
             'tf1:lite.pb,name=tf1_lite', 'ours-odapi:lite.pb,name=ours_lite',
             'caffe:face,name=caffe_face', 'opencv-dnn:face,name=cv_face',
             'opencv-dnn:other,name=cv_other']
    names = ['ours', 'chainercv', 'tf_x', 'ours_x', 'tf1_lite', 'ours_lite', 'caffe_face',
             'cv_face', 'cv_other']
    weights = ['random (seed 0)', 'random (seed 0)', 'a', 'b', 'c', 'd', 'e', 'f', 'g']
    meta = _meta(specs, names, weights, variants=('ours.common_nms', 'chainercv.common_nms'))
    found, warnings = pairs.run_pairs(meta, names + ['ours.common_nms', 'chainercv.common_nms'])
    assert warnings == []
    assert [(p.a, p.b, p.how) for p in found] == [
        ('ours', 'chainercv', 'inferred'), ('ours.common_nms', 'chainercv.common_nms', 'variant'),
        ('ours_x', 'tf_x', 'inferred'), ('ours_lite', 'tf1_lite', 'inferred'),
        ('caffe_face', 'cv_face', 'inferred')]
    # no pair across models: ours-odapi on another export than tf's
    other = _meta(['tf:one,name=t', 'ours-odapi:two,name=o'], ['t', 'o'], ['x', 'y'])
    assert pairs.run_pairs(other, ['t', 'o']) == ([], [])


def test_declared_pairs_replace_the_inferred_ones_and_are_checked():
    meta = _meta(['ours', 'chainercv'], ['ours', 'chainercv'], ['r', 'r'], pair=['chainercv=ours'])
    assert [(p.a, p.b) for p in pairs.run_pairs(meta, ['ours', 'chainercv'])[0]] == [
        ('chainercv', 'ours')]
    found, warnings = pairs.run_pairs(meta, ['ours', 'chainercv'], ['ours=gone'])
    assert found == [] and warnings == [
        '--pair ours=gone: no detector named gone ran (detectors: ours, chainercv)']
    for bad in ('ours', 'ours=', 'ours=ours'):
        with pytest.raises(UserError, match='--pair'):
            pairs.parse_pair(bad)


def _row(**values):
    row = dict(detector_a='a', detector_b='b', identical=False, detections_a=10,
               detections_b=10, matched=10, only_a=0, only_b=0, min_iou=0.999932,
               max_box_diff=0.0153, max_score_diff=3.5e-5, images=2)
    row.update(values)
    return pd.Series(row)


def test_pair_sentences_say_the_verdict_with_true_bounds():
    speeds = {'a': (20.0, False, 1.0, 1.0), 'b': (10.0, False, 1.0, 1.0)}
    text = findings.pair_sentence(_row(), 0.5, {}, speeds, trained=False)
    assert text == ('**a ≈ b**: all 10 detections at score >= 0.5 matched one to one on 2 images '
                    '(IoU >= 0.9999, boxes within 0.1 px, scores within 0.0001), not bit for '
                    'bit; 20.0 vs 10.0 ms per image (p50, batch 1): b 2.00x as fast.')
    same = findings.pair_sentence(_row(identical=True), 0.5, {}, {}, trained=False)
    assert same.startswith('**a == b**: 10 of 10 detections identical on 2 images')
    noisy = dict(speeds, b=(10.0, True, 3.0, 1.0))
    differ = findings.pair_sentence(_row(matched=8, only_a=2, only_b=1), 0.5, {}, noisy, False)
    assert differ == ('**a vs b**: 8 of 11 detections at score >= 0.5 matched (agreement 0.727); '
                      '2 only in a, 1 only in b; 20.0 vs 10.0 ms per image (p50, batch 1), '
                      '**⚠ noisy timings: not compared**.')
    assert rundir.TABLES['pairs'] == ('position',) and rundir.TABLES['findings'] == ('position',)


def test_the_accuracy_sentence_names_an_iou_other_than_0_5():
    tables = {'map_summary': pd.DataFrame({'detector': ['a', 'b'], 'map_voc07': [0.71249, 0.5]})}
    assert findings.accuracy_sentence(tables, ['a', 'b'], 'x.json') == (
        'Accuracy (VOC07 11-point AP, every detection kept) against `x.json`: a mAP 0.712, '
        'b mAP 0.500.')
    assert findings.accuracy_sentence(tables, ['a'], 'x.json', iou=0.75) == (
        'Accuracy (VOC07 11-point AP, IoU >= 0.75, every detection kept) against `x.json`: '
        'a mAP 0.712.')


def test_the_coco_names_and_tide_tables_have_their_keys_and_steps():
    assert rundir.TABLES['tide'] == ('detector',)
    assert rundir.TABLES['metric_names'] == ('table', 'column')
    assert [kind_of(c) for c in ('ap', 'dap_cls', 'dap_miss', 'dap_fp', 'dap_fn', 'bg_iou',
                                 'ap_coco_iou', 'AP_small')] == ['metrics'] * 8


def test_tags_never_overlap_and_stay_inside():
    # twenty boxes on the same spot: each tag finds its own place or none
    boxes = [(100 + k, 100 + k, 160 + k, 150 + k) for k in range(20)]
    spots = place_tags(boxes, [(22, 20)] * 20, (0, 30, 480, 400))
    placed = [s for s in spots if s is not None]
    assert len(placed) >= 10
    for i, a in enumerate(placed):
        assert 0 <= a[0] and a[2] <= 480 and 30 <= a[1] and a[3] <= 400
        for b in placed[i + 1:]:
            assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]), (a, b)


def test_pairs_say_what_they_compare():
    assert pairs.describe('caffe', 'res10-face', 'opencv-dnn', 'res10-face') == (
        "the Caffe SSD `res10-face`: our Chainer build vs OpenCV's DNN")
    assert pairs.describe('tf1', 'x/lite.pb', 'ours-odapi', 'x/lite.pb') == (
        'the TF1 OD API export `lite.pb`: our Chainer port vs TensorFlow')   # either way round
    assert pairs.describe('ours', '', 'chainercv', '') == 'SSD300: our Chainer code vs ChainerCV'
    assert pairs.describe('tf', 'a', 'caffe', 'a') == ''   # not a port and its reference
    meta = _meta(['caffe:res10-face', 'opencv-dnn:res10-face', 'ours', 'chainercv'],
                 ['c', 'o', 'ours', 'chainercv'], ['x', 'x', 'r', 'r'],
                 variants=('c.common_nms', 'o.common_nms'))
    found, _ = pairs.run_pairs(meta, ['c', 'o', 'ours', 'chainercv', 'c.common_nms',
                                      'o.common_nms'])
    assert [(p.a, p.what) for p in found] == [
        ('c', "the Caffe SSD `res10-face`: our Chainer build vs OpenCV's DNN"),
        ('c.common_nms', pairs.VARIANT_WORDS), ('ours', 'SSD300: our Chainer code vs ChainerCV')]
    declared, _ = pairs.run_pairs(meta, ['c', 'o'], ['o=c'])
    assert declared[0].what == "the Caffe SSD `res10-face`: our Chainer build vs OpenCV's DNN"
    # a class both detect alone is named; classes that differ are not
    for entry, names in zip(meta.detectors, (('face',), ('face',), ('a', 'b'), ('a', 'b')),
                            strict=False):
        entry.label_names = names
    found, _ = pairs.run_pairs(meta, ['c', 'o', 'ours', 'chainercv'])
    assert [p.what for p in found] == [
        "the Caffe SSD `res10-face`, a `face` detector: our Chainer build vs OpenCV's DNN",
        'SSD300: our Chainer code vs ChainerCV']
    assert pairs.describe('ours', '', 'chainercv', '', ('cat',)) == (
        'SSD300, a `cat` detector: our Chainer code vs ChainerCV')


def _fake_run(entries):
    """A run of ``(name, random, weights)`` detectors, all ok, in that order."""
    order = [name for name, _, _ in entries]
    detectors = {name: types.SimpleNamespace(random_weights=random, weights=weights, status='ok')
                 for name, random, weights in entries}
    return types.SimpleNamespace(detectors=detectors, run_order=lambda: order,
                                 ok_detectors=lambda: order)


def test_headline_order_trained_pairs_first_then_the_random_identity_check():
    run = _fake_run([('caffe', False, 'x'), ('cv', False, 'x'), ('caffe.common_nms', False, 'x'),
                     ('cv.common_nms', False, 'x'), ('lite', False, 'y'), ('tf1', False, 'y'),
                     ('ours', True, 'random (seed 0)'), ('chainercv', True, 'random (seed 0)'),
                     ('solo', False, 'z')])
    classes = {'caffe': 'face', 'cv': 'face', 'caffe.common_nms': 'face',
               'cv.common_nms': 'face', 'lite': 'person', 'tf1': 'person'}
    aps = {'caffe': 0.909091, 'cv': 1.0, 'caffe.common_nms': 1.0, 'cv.common_nms': 1.0,
           'lite': 0.75, 'tf1': 0.75}
    per_class = [dict(detector=n, **{'class': c}, predictable=True, gt=3, ap_voc07=aps[n])
                 for n, c in classes.items()]
    per_class += [dict(detector=n, **{'class': 'cat'}, predictable=False, gt=1,
                       ap_voc07=float('nan')) for n in classes]
    per_class += [dict(detector='solo', **{'class': c}, predictable=True, gt=g, ap_voc07=0.5)
                  for c, g in (('cat', 1), ('dog', 4))]
    maps = dict(aps, ours=0.0, chainercv=0.0, solo=0.5)
    tables = {'map_per_class': pd.DataFrame(per_class),
              'map_summary': pd.DataFrame({'detector': list(maps),
                                           'map_voc07': list(maps.values())}),
              'speed': pd.DataFrame([dict(detector=n, batch_size=1, total_p50_ms_per_image=ms,
                                          noisy='', load_avg_max=0.5, p90_over_p50=1.1)
                                     for n, ms in (('caffe', 300.0), ('cv', 100.0),
                                                   ('lite', 150.0), ('tf1', 30.0))])}
    rows = [_row(detector_a='caffe', detector_b='cv', how='inferred', matched=4, images=6,
                 what=pairs.describe('caffe', 'res10-face', 'opencv-dnn', 'res10-face')),
            _row(detector_a='caffe.common_nms', detector_b='cv.common_nms', how='variant',
                 matched=4, images=6, what=pairs.VARIANT_WORDS),
            _row(detector_a='lite', detector_b='tf1', how='inferred', matched=3, images=6,
                 what=pairs.describe('ours-odapi', 'ssdlite-person', 'tf1', 'ssdlite-person')),
            _row(detector_a='ours', detector_b='chainercv', how='inferred', identical=True,
                 detections_a=224, detections_b=224, matched=224, images=6,
                 what=pairs.describe('ours', '', 'chainercv', ''))]
    found = findings.findings(run, tables, pd.DataFrame(rows), 0.5, 'images/Annotations')
    assert [f.topic for f in found] == ['pair', 'pair', 'random_weights', 'accuracy', 'speed',
                                        'operating_point']
    face, person, random = found[0], found[1], found[2]
    assert face.text == (
        "**caffe ≈ cv** (the Caffe SSD `res10-face`: our Chainer build vs OpenCV's DNN): all 4 "
        'detections at score >= 0.5 matched one to one on 6 images (IoU >= 0.9999, boxes within '
        '0.1 px, scores within 0.0001), not bit for bit; AP for `face` (VOC07 11-point, 3 '
        'annotated) 0.909 vs 1.000; 300.0 vs 100.0 ms per image (p50, batch 1): cv 3.00x as '
        'fast.')
    assert len(face.children) == 1 and face.children[0].startswith(
        '**caffe.common_nms ≈ cv.common_nms** (the same two through one common NMS): all 4')
    assert person.text.startswith('**lite ≈ tf1** (the TF1 OD API export `ssdlite-person`: our '
                                  'Chainer port vs TensorFlow): all 3 detections')
    assert 'AP for `person` (VOC07 11-point, 3 annotated) 0.750 vs 0.750; 150.0 vs 30.0' in \
        person.text and person.children == []
    assert random.text == (
        '**Random weights**: `ours`, `chainercv` hold untrained weights, the same for all '
        '(random (seed 0)), so their detections and mAP measure nothing about accuracy; the '
        'pairs under this line check that two implementations compute the same thing on the '
        'same weights.')
    assert random.children == [
        '**ours == chainercv** (SSD300: our Chainer code vs ChainerCV): 224 of 224 detections '
        'identical on 6 images (boxes, classes and scores equal bit for bit).']
    # the one trained detector in no pair gets its accuracy here, the others are not repeated
    assert found[3].text == ('Accuracy (VOC07 11-point AP, every detection kept) against '
                             '`images/Annotations`: solo mAP over 2 classes 0.500 (5 annotated).')
    table = findings.findings_table(found)
    assert list(table['level']) == [0, 1, 0, 0, 1, 0, 0, 0]
    # an IoU other than VOC's is said where the AP is
    at_75 = findings.findings(run, tables, pd.DataFrame(rows), 0.5, 'images/Annotations', iou=0.75)
    assert 'AP for `face` (VOC07 11-point, IoU >= 0.75, 3 annotated) 0.909 vs 1.000' in \
        at_75[0].text and 'IoU >= 0.75, every detection kept' in at_75[3].text


def test_the_speed_sentence_counts_the_variants_noisy_timings():
    # a .common_nms variant's timing is quoted in its pair's sentence: when it
    # is noisy the headline's speed sentence must not call the timings quiet
    order = ['ours', 'chainercv', 'ours.common_nms', 'chainercv.common_nms']
    quiet = (500.0, False, 0.5, 1.1)
    speeds = dict.fromkeys(order, quiet)
    assert 'Timings quiet' in findings.speed_sentence(order, speeds)
    speeds['chainercv.common_nms'] = (700.0, True, 1.7, 1.46)
    text = findings.speed_sentence(order, speeds)
    assert 'quiet (' not in text and '1 of 4 timings noisy, among them chainercv.common_nms' in text
    assert 'up to 1.70, p90/p50 up to 1.46' in text
    assert 'ours 500.0, chainercv 500.0.' in text  # the natives' values, none flagged
