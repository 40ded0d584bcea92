"""Hostile suite, class B "run folder": a run folder holds the truth of one
run, whatever was done to it between runs.

Each case damages a real run folder (fake detectors, 20x30 images, the
command in-process) and checks the exit status, the one ``error:`` line
naming the damaged file, and the records left per image afterwards. The
killed run is a forked child (kill -9 is the point: nothing of it can clean
up). The other cases of the class are proven in
tests/compare/test_run_folder_truth.py (tests/hostile/cases.py maps each).
"""
import json
import os
import signal

from hostile_helpers import FAST, clean, every, forked_run, images, rows, run, score, wait_for_rows


def test_corrupt_records(tmp_path, capsys):
    folder, out = images(tmp_path / 'a'), tmp_path / 'o'
    clean(run(capsys, folder, '-d', 'fake', '--out', out, *FAST), 0)
    with open(out / 'raw' / 'fake.jsonl', 'ab') as f:
        f.write(b'\xff\xfe not json\n')
    clean(run(capsys, folder, '-d', 'fake', '--out', out, *FAST), 2, 'fake.jsonl', '--force')
    clean(score(capsys, out), 2, 'fake.jsonl')
    clean(run(capsys, folder, '-d', 'fake', '--out', out, '--force', *FAST), 0)
    assert rows(out, 'fake') == every(3)


def test_corrupt_timings_and_skipped(tmp_path, capsys):
    folder, out = images(tmp_path / 'a'), tmp_path / 'o'
    timed = ['--no-progress', '--repeats', '1', '--warmup', '0']
    clean(run(capsys, folder, '-d', 'fake', '--out', out, *timed), 0)
    for name in ('timings.csv', 'skipped.csv'):
        (out / 'raw' / name).write_text('garbage\n1,2,3\n')
    clean(score(capsys, out), 2, os.path.join('raw', ''))
    clean(run(capsys, folder, '-d', 'fake', '--out', out, *timed), 0)
    assert rows(out, 'fake') == every(3)


def test_raw_is_a_file(tmp_path, capsys):
    folder, out = images(tmp_path / 'a'), tmp_path / 'o'
    out.mkdir()
    (out / 'raw').write_text('')
    # a folder holding a file named raw is not a run folder: refused whole
    clean(run(capsys, folder, '-d', 'fake', '--out', out, *FAST), 2, out,
          'not a run folder of this suite')
    assert (out / 'raw').read_text() == ''  # left as it was


def test_nan_in_saved_record(tmp_path, capsys):
    folder, out = images(tmp_path / 'a'), tmp_path / 'o'
    clean(run(capsys, folder, '-d', 'fake', '--out', out, *FAST), 0)
    path = out / 'raw' / 'fake.jsonl'
    text = path.read_text()
    edited = text.replace('"score": 0.', '"score": NaN, "x": 0.', 1)
    assert edited != text, 'no score to replace: ' + text[:300]
    path.write_text(edited)
    clean(score(capsys, out), 2, 'fake.jsonl')


def test_weights_changed_after_other_detector(tmp_path, capsys):
    """A run of ``fake`` killed (-9) midway, another detector run into the
    same folder, then ``fake`` with other weights: refused naming it, or
    accepted with every record of the new weights -- never a mix."""
    folder, out = images(tmp_path / 'a', count=4), tmp_path / 'o'
    pid = forked_run([folder, '-d', 'fake:1,delay=0.3', '--out', out, *FAST],
                     tmp_path / 'killed.err')
    try:
        wait_for_rows(pid, out, 'fake', 2)
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    assert 2 <= len(rows(out, 'fake')) < 4
    clean(run(capsys, folder, '-d', 'fake:2,name=other', '--out', out, *FAST), 0)
    result = run(capsys, folder, '-d', 'fake:3', '--out', out, *FAST)
    if result[0] != 0:
        clean(result, 2, 'fake', '--force')
        return
    clean(result, 0)
    clean(run(capsys, folder, '-d', 'fake:3,name=check', '--out', tmp_path / 'c', *FAST), 0)
    got = [json.loads(line)['detections'] for line in open(out / 'raw' / 'fake.jsonl')]
    want = [json.loads(line)['detections'] for line in open(tmp_path / 'c' / 'raw' /
                                                                 'check.jsonl')]
    assert got == want, 'two weight sets mixed under one name'
