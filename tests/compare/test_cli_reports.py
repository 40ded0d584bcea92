"""The run command's report side: inputs validated before any image, timings
reused per detector identity, the headline last on the console, --keep-raw
and --common-nms end to end."""
import os

import numpy as np
import pytest
from test_cli import make_images

from compare import rundir
from compare.run import main as run_compare


def run(capsys, *args):
    status = run_compare([str(a) for a in args])
    return status, capsys.readouterr().err


@pytest.mark.parametrize('bad, message', [
    (['--annotations', 'missing.json'], '--annotations missing.json does not exist'),
    (['--score-thresh', '1.5'], '--score-thresh must be between 0 and 1'),
    (['--common-nms', '--common-cap', '0'], '--common-cap in 1..'),
])
def test_bad_inputs_stop_before_any_image(tmp_path, capsys, bad, message):
    images = make_images(tmp_path / 'i', 1)
    status, err = run(capsys, images, '--out', tmp_path / 'o', '-d', 'fake:0', *bad)
    assert status == 2 and message in err.splitlines()[-1]
    assert not os.path.exists(tmp_path / 'o')


def test_a_malformed_annotation_file_stops_before_any_image(tmp_path, capsys):
    images = make_images(tmp_path / 'i', 1)
    bad = tmp_path / 'a.json'
    bad.write_text('{"images": [}')
    status, err = run(capsys, images, '--out', tmp_path / 'o', '-d', 'fake:0',
                      '--annotations', bad)
    assert status == 2 and 'malformed COCO JSON {}'.format(bad) in err
    out_file = tmp_path / 'file'
    out_file.write_text('x')
    status, err = run(capsys, images, '--out', out_file, '-d', 'fake:0')
    assert status == 2 and 'is a file, not a folder' in err
    assert not os.path.exists(tmp_path / 'o')


def timings_of(out, name):
    return [t for t in rundir.read_timings(str(out)) if t.detector == name]


def test_timings_are_reused_per_detector_and_the_headline_ends_the_console(tmp_path, capsys):
    images = make_images(tmp_path / 'i', 2)
    base = [images, '--out', tmp_path / 'o', '--repeats', 2, '--no-progress']
    status, err = run(capsys, *base, '-d', 'fake:0,name=a,delay=0.001')
    assert status == 0 and 'earlier run reused' not in err
    first = timings_of(tmp_path / 'o', 'a')
    status, err = run(capsys, *base, '-d', 'fake:0,name=a,delay=0.001', '-d', 'fake:1,name=b')
    assert status == 0
    assert 'speed: a batch 1: timings of an earlier run reused' in err
    assert 'speed: b batch' not in err
    assert timings_of(tmp_path / 'o', 'a') == first
    assert len(timings_of(tmp_path / 'o', 'b')) == 8
    (bench_a, bench_b) = rundir.read_benchmarks(str(tmp_path / 'o'))
    assert (bench_a.detector, bench_b.detector) == ('a', 'b') and bench_a.repeats == 2
    lines = err.rstrip('\n').splitlines()
    headline = lines[lines.index('HEADLINE') + 1:]
    assert headline[0] == ('Random weights: a, b hold untrained weights, so their detections '
                           'and mAP measure nothing about accuracy.')
    assert headline[1] == 'Accuracy: no annotations, so no mAP.'
    assert headline[2].startswith('Speed, ms per image (p50 of the whole call, batch 1): a ')
    assert ', b ' in headline[2] and 'noisy' in headline[2] or 'quiet' in headline[2]
    assert headline[3].startswith('Operating point: score >= 0.5 ')
    assert headline[-1] == 'report: {}'.format(os.path.join(str(tmp_path / 'o'), 'report.html'))
    status, err = run(capsys, *base, '-d', 'fake:0,name=a,delay=0.001', '--repeats', 3)
    assert 'earlier run reused' not in err   # retimed: other repeats
    assert len(timings_of(tmp_path / 'o', 'a')) == 12
    status, err = run(capsys, *base, '-d', 'fake:0,name=a,delay=0.001', '--repeats', 3,
                      '--force')
    assert 'earlier run reused' not in err


def test_keep_raw_then_rescore_without_a_network(tmp_path, capsys):
    images = make_images(tmp_path / 'i', 1)
    out = tmp_path / 'o'
    status, err = run(capsys, images, '--out', out, '-d', 'ours:random:0', '--keep-raw',
                      '--common-nms', '--no-speed', '--no-progress')
    assert status == 0, err
    locs, confs, size, insize = rundir.read_netout(str(out), 'ours', 'im00.png')
    assert locs.shape == (8732, 4) and confs.shape == (8732, 21) and size == (16, 24)
    assert not os.path.exists(rundir.netout_path(str(out), 'ours.common_nms', 'im00.png'))
    meta = rundir.read_meta(str(out))
    assert [d.name for d in meta.detectors] == ['ours', 'ours.common_nms']
    assert meta.detectors[1].info['common_nms'].startswith('common NMS: per class, IoU >= 0.45')
    assert np.isfinite(confs).all()
    from compare.runner.scoring import main
    assert main([str(out), '--nms-thresh', '0.3']) == 0
    text = open(os.path.join(str(out), 'summary.md')).read()
    assert '## NMS and score thresholds of the Chainer SSDs' in text
    assert 'ours: re-decoded from kept network outputs with NMS IoU 0.3' in text
    assert ('**Random weights**: `ours` and its `.common_nms` variant hold untrained weights, '
            'so their detections and mAP measure nothing about accuracy.') in text
