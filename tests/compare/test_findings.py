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
    assert findings.accuracy_sentence(tables, ['a', 'b'], 'x.json') == \
        'Accuracy, mAP (VOC07 11-point) against `x.json`: a 0.712, b 0.500.'
    assert findings.accuracy_sentence(tables, ['a'], 'x.json', iou=0.75) == \
        'Accuracy, mAP (VOC07 11-point, IoU >= 0.75) against `x.json`: a 0.712.'


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
