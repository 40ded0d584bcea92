"""The targets table and the post-processing comparisons, on made-up rows:
each target is judged by the numbers it names."""
import numpy as np

from replicate.bench import postprocess, targets
from replicate.bench.agreement import matched


def stage(pipeline, batch, stage, median, cpu=None, **extra):
    return dict(pipeline=pipeline, batch_size=batch, stage=stage, median_s=median * batch,
                median_per_image_s=median, cpu_per_image_s=cpu, **extra)


def test_judge():
    stage_rows = [
        stage('ours-chainer', 1, 'forward', 1.0, cpu=1.2, ratio_to_chainercv=0.9,
              same_as_chainercv='yes'),
        stage('ours-chainer', 1, 'total', 1.5),
        stage('ours-chainer', 8, 'forward', 1.1, cpu=1.15, ratio_to_chainercv=1.05,
              same_as_chainercv='yes'),
        stage('ours-chainer', 8, 'total', 2.5),
        stage('ours-onnx', 1, 'forward', 0.3, cpu=0.6, fraction_of_peak=0.7,
              fraction_of_peak_cpu=0.6, ratio_to_onnx=1.0),
        stage('ours-onnx', 8, 'forward', 0.5, cpu=1.0, fraction_of_peak=0.5,
              fraction_of_peak_cpu=0.5, ratio_to_onnx=1.0),
        stage('ours-openvino', 1, 'forward', 0.4, cpu=0.6, fraction_of_peak=0.55,
              fraction_of_peak_cpu=0.6, ratio_to_onnx=4 / 3),
        stage('ours-openvino', 8, 'forward', 0.45, cpu=0.9, fraction_of_peak=0.6,
              fraction_of_peak_cpu=0.6, ratio_to_onnx=0.9),
        stage('ours-int8-openvino', 1, 'forward', 0.1, cpu=0.2, fraction_of_peak=0.3,
              ratio_to_onnx=1 / 3),
        stage('ours-int8-openvino', 8, 'forward', 0.3, cpu=0.4, fraction_of_peak=0.3,
              ratio_to_onnx=0.6)]
    post_rows = [dict(distribution='untrained', system='ours', preset='evaluate',
                      speedup_vs_chainercv=40.0, cpu_speedup_vs_chainercv=30.0,
                      same_as_chainercv='yes'),
                 dict(distribution='trained-like', system='ours', preset='evaluate',
                      speedup_vs_chainercv=12.0, cpu_speedup_vs_chainercv=11.0,
                      same_as_chainercv='no')]
    agree_rows = [{'pipeline': 'ours-onnx', 'scaled_diff': 2e-6},
                  {'pipeline': 'ours-openvino', 'scaled_diff': 3e-5}]
    scaling_rows = [dict(round=r, pipeline='ours-chainer', batch_size=b,
                         median_per_image_s=t, cpu_per_image_s=1.0)
                    for r, b, t in ((1, 1, 1.0), (1, 8, 0.9), (2, 1, 1.0), (2, 8, 1.1))]
    rows = targets.judge(stage_rows, stage_rows, post_rows, agree_rows, (1, 8), scaling_rows)
    met = {(r['target'].split(' ')[0], r['case']): r['met'] for r in rows}
    measured = {(r['target'].split(' ')[0], r['case']): r['measured'] for r in rows}
    assert measured[('forward', 'ours-chainer')] == (
        '0.900 vs 1.000 s; 1.100 vs 1.000 s; largest batch 8 / batch 1: 1.100 (round 2)')
    assert met[('post-processing', 'untrained')] == 'yes'
    assert met[('post-processing', 'trained-like')] == 'NO'  # fast but not identical
    assert met[('predict', 'random weights, batch 1')] == 'yes'  # 1.5 <= 2 x 1.0
    assert met[('predict', 'random weights, batch 8')] == 'NO'  # 2.5 > 2 x 1.1
    assert met[('forward', 'batch 1')] == 'yes' and met[('forward', 'batch 8')] == 'NO'
    # round 2: 1.1 s > 1.0 s per image; CPU time equal in both rounds
    assert met[('forward', 'ours-chainer')] == 'NO'
    assert met[('forward', 'ours-chainer, CPU time')] == 'yes'
    # 0.3 + 0.5 < 0.4 + 0.45: ONNX Runtime is the default fast path
    assert met[('default', 'ours-onnx')] == 'yes'
    assert met[('float32', 'ours-onnx (default), batch 1')] == 'yes'  # 70% >= 60%
    assert met[('float32', 'ours-onnx (default), batch 8')] == 'NO'
    assert met[('float32', 'ours-openvino, batch 8')] == 'yes'
    assert met[('int8', 'ours-int8-openvino, batch 1')] == 'yes'  # 3x
    assert met[('int8', 'ours-int8-openvino, batch 8')] == 'NO'  # 1.67x
    assert met[('float32', 'ours-onnx, all batches, both outputs')] == 'yes'
    assert met[('float32', 'ours-openvino, all batches, both outputs')] == 'NO'  # 3e-5


def detections(boxes, labels, scores):
    return ([np.array(boxes, dtype=np.float32)], [np.array(labels)],
            [np.array(scores, dtype=np.float32)])


def test_cap_effect_counts_surviving_detections():
    uncapped = detections([[0, 0, 1, 1], [0, 0, 2, 2], [5, 5, 6, 6]], [0, 0, 1], [0.9, 0.2, 0.5])
    capped = detections([[0, 0, 1, 1], [5, 5, 6, 6]], [0, 1], [0.9, 0.5])
    assert postprocess.cap_effect(capped, uncapped, uncapped[2][0]) == (2, 2)


def test_onnx_detections_matched_by_class_and_rank():
    a = (np.array([[0, 0, 10, 10], [1, 1, 5, 5]], float), np.array([0, 1]), np.array([0.9, 0.5]))
    b = (a[0] + 1e-4, a[1], a[2] + 1e-6)
    assert matched(a, b) == 2
    assert matched(a, (a[0] + 1, a[1], a[2])) == 0
