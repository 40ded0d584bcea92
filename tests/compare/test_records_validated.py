"""Records of a run folder are checked on every read like any untrusted file
(compare/rundir/records.py): a tampered record -- a score of 2, a label of
10**9, an inverted box, NaN, Inf, a box outside the image, values of the
wrong kind -- is one line naming the file, the line, the image and the fix,
for resuming and scoring alike; nothing in the folder is changed, and the fix
(delete that line, rerun) redoes only that image."""
import json
import os

import numpy as np
import pytest
from runhelp import QUICK, error_line, main, make_images

from compare.detections import Detections
from compare.errors import UserError
from compare.rundir.records import FIX, detections_problem, read_records
from compare.runner.scoring import main as score_main

#: A record's first detection changed: ``(field, value)``, or a function of the
#: record; with the words the error must hold.
TAMPERED = [
    (('score', 2.0), 'detection 0: score 2.0 is outside [0, 1]'),
    (('score', -0.5), 'detection 0: score -0.5 is outside [0, 1]'),
    (('label', 10 ** 9), 'detection 0: label 1000000000 is outside [0, 100000]'),
    (('label', -1), 'detection 0: label -1 is outside [0, 100000]'),
    (('label', 1.5), "detection 0: label is '1.5', not an integer"),
    (('label', True), "detection 0: label is 'True', not an integer"),
    (('score', 'NaN'), "detection 0: score is 'NaN', not a finite number"),
    (('score', float('nan')), "detection 0: score is 'nan', not a finite number"),
    (('x_max', float('inf')), "detection 0: x_max is 'inf', not a finite number"),
    (('y_min', [1, 2]), "detection 0: y_min is '[1, 2]', not a finite number"),
    (('name', 3), "detection 0: name is '3', not a string"),
    (lambda d: d.update(y_max=d['y_min'] - 60), 'detection 0: box ['),
    (lambda d: d.update(x_max=17.0), 'is not 0 <= y_min <= y_max <= 12 and 0 <= x_min <= '
                                     'x_max <= 16'),
    (lambda d: d.update(x_min=-1.0), 'detection 0: box [')]
#: The same for the record itself.
TAMPERED_RECORD = [
    (('height', 0), "height '0' is not a positive integer"),
    (('width', 16.5), "width '16.5' is not a positive integer"),
    (('detections', {'y_min': 1}), 'detections is a dict, not a list'),
    (('times', {'preprocess': -1, 'inference': 0, 'postprocess': 0}), 'finite and >= 0'),
    (('sha256', 'abc'), "sha256 'abc' is not 64 hex digits")]


@pytest.fixture
def run_dir(tmp_path, capsys):
    """A run of ``fake`` (count 2) over three 16x12 images, detect only."""
    images = make_images(tmp_path / 'images')
    out = tmp_path / 'run'
    code, _ = main(capsys, images, '-d', 'fake:0,count=2', '--out', out, *QUICK)
    assert code == 0
    return out


def _tamper(run_dir, change, line=2):
    """Apply ``change`` to record ``line`` of raw/fake.jsonl; returns (path, image)."""
    path = run_dir / 'raw' / 'fake.jsonl'
    lines = path.read_text().splitlines(keepends=True)
    record = json.loads(lines[line - 1])
    if callable(change):
        change(record['detections'][0])
    elif change[0] in record:
        record[change[0]] = change[1]
    else:
        record['detections'][0][change[0]] = change[1]
    lines[line - 1] = json.dumps(record) + '\n'
    path.write_text(''.join(lines))
    return path, record['image']


def _message(path, image, words):
    with pytest.raises(UserError) as info:
        read_records(str(path))
    message = str(info.value)
    assert '\n' not in message
    assert message.startswith('{} line 2 is not a record of this harness (image {}: '.format(
        path, image)), message
    assert words in message and message.endswith(FIX), message
    return message


@pytest.mark.parametrize('change, words', TAMPERED + TAMPERED_RECORD)
def test_a_tampered_record_is_refused_on_read(run_dir, change, words):
    path, image = _tamper(run_dir, change)
    _message(path, image, words)


def test_the_records_as_written_pass(run_dir):
    records, partial = read_records(str(run_dir / 'raw' / 'fake.jsonl'))
    assert [r.image for r in records] == ['im0.png', 'im1.png', 'im2.png'] and not partial
    assert all(len(r.detections) == 2 for r in records)


def test_a_zero_size_box_on_the_border_is_a_record(run_dir):
    """What clipping makes of a box wholly outside the image."""
    path, _ = _tamper(run_dir, lambda d: d.update(y_min=12.0, y_max=12.0, x_min=3.0,
                                                  x_max=3.0))
    records, _ = read_records(str(path))
    np.testing.assert_array_equal(records[1].detections.boxes[0], [12, 3, 12, 3])


def test_scoring_refuses_a_tampered_record_in_one_line(run_dir, capsys):
    path, image = _tamper(run_dir, ('score', 2.0))
    before = path.read_bytes()
    assert score_main([str(run_dir)]) == 2
    err = capsys.readouterr().err
    assert 'Traceback' not in err
    line = error_line(err)
    assert line.startswith('error: {} line 2 is not a record of this harness (image {}: '
                           .format(path, image))
    assert 'score 2.0 is outside [0, 1]' in line and line.endswith(FIX)
    assert path.read_bytes() == before


def test_resuming_refuses_it_then_the_fix_redoes_only_that_image(run_dir, tmp_path, capsys):
    path, image = _tamper(run_dir, ('label', 10 ** 9))
    before = path.read_bytes()
    images = str(tmp_path / 'images')
    code, err = main(capsys, images, '-d', 'fake:0,count=2', '--out', run_dir, *QUICK)
    assert code == 2
    assert error_line(err).startswith('error: {} line 2 is not a record of this harness '
                                      '(image {}: '.format(path, image))
    assert path.read_bytes() == before  # nothing lost
    lines = before.decode().splitlines(keepends=True)
    path.write_text(lines[0] + lines[2])  # the fix: delete that line
    code, err = main(capsys, images, '-d', 'fake:0,count=2', '--out', run_dir, *QUICK)
    assert code == 0
    after = path.read_text().splitlines(keepends=True)
    assert after[:2] == [lines[0], lines[2]]  # the others kept as they were
    assert [json.loads(line)['image'] for line in after] == ['im0.png', 'im2.png', image]
    assert json.loads(after[2])['detections'][0]['label'] < 3


def test_the_run_never_writes_what_the_reader_refuses():
    boxes = np.array([[1, 2, 5, 6]], np.float32)
    assert detections_problem(Detections(boxes, [0], ['cat'], [0.5]), 12, 16) is None
    assert detections_problem(Detections(boxes, [0], ['cat'], [1.5]), 12, 16) == \
        'detection 0: score 1.5 is outside [0, 1]'
    assert detections_problem(Detections(boxes, [0], ['cat'], [0.5]), 4, 16).startswith(
        'detection 0: box [1.0, 2.0, 5.0, 6.0] is not 0 <= y_min <= y_max <= 4')
    assert detections_problem(Detections(boxes[:, [2, 1, 0, 3]], [0], ['cat'], [0.5]), 12,
                              16).startswith('detection 0: box [5.0, 2.0, 1.0, 6.0]')


def test_a_detector_returning_a_score_over_1_fails_without_a_record(tmp_path, capsys,
                                                                    monkeypatch):
    from compare.adapters import fake

    def over_one(self, key, size):
        found = Detections(np.array([[1, 1, 5, 5]], np.float32), [0], ['cat'], [3.0])
        return found
    monkeypatch.setattr(fake.FakeAdapter, '_detect', over_one)
    images = make_images(tmp_path / 'images', count=1)
    out = tmp_path / 'run'
    code, err = main(capsys, images, '-d', 'fake', '--out', out, *QUICK)
    assert code == 3
    assert 'score 3.0 is outside [0, 1]' in err
    assert not os.path.getsize(out / 'raw' / 'fake.jsonl')
