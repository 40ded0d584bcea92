"""The command line: one-line errors with exit 2 and no traceback (as a
subprocess, like a user runs it, and in-process), missing TensorFlow, the
help text, Ctrl-C and kill, then resume."""
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error

import chainer
import numpy as np
import pytest
from PIL import Image

from compare.adapters import KINDS
from compare.run import main as run_compare
from compare.runner import cli
from replicate.ssd import pretrained

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RUN = os.path.join(ROOT, 'compare', 'run.py')


def command(*args):
    return [sys.executable, RUN] + [str(a) for a in args]


def run_cli(*args, env=None):
    return subprocess.run(command(*args), capture_output=True, text=True, timeout=300,
                          env=env, cwd=ROOT)


def make_images(folder, count):
    folder.mkdir(exist_ok=True)
    rng = np.random.RandomState(0)
    for i in range(count):
        Image.fromarray(rng.randint(0, 255, (16, 24, 3), np.uint8)).save(
            folder / 'im{:02d}.png'.format(i))
    return folder


def assert_one_line_error(result, *fragments):
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert 'Traceback' not in result.stderr
    error_lines = [line for line in lines if line.startswith('error: ')]
    assert len(error_lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in error_lines[0]


def test_unknown_detector_lists_valid_kinds(tmp_path):
    """As a user runs it: exit 2, one error line, no traceback."""
    result = run_cli(make_images(tmp_path / 'i', 1), '-d', 'yolo:v5')
    assert_one_line_error(result, "unknown detector kind 'yolo'", 'ours', 'tfzoo', 'tf1')


def main_error(capsys, *args):
    """``run_compare(args)`` in-process: exit 2 and the one ``error:`` line of stderr."""
    assert run_compare([str(a) for a in args]) == 2
    err = capsys.readouterr().err
    error_lines = [line for line in err.splitlines() if line.startswith('error: ')]
    assert len(error_lines) == 1 and 'Traceback' not in err, err
    return error_lines[0], err


def test_missing_and_empty_folders(tmp_path, capsys):
    line, _ = main_error(capsys, tmp_path / 'nope')
    assert 'does not exist' in line and str(tmp_path / 'nope') in line
    (tmp_path / 'empty').mkdir()
    (tmp_path / 'empty' / 'readme.txt').write_text('no images here')
    assert 'no images found' in main_error(capsys, tmp_path / 'empty')[0]


def test_bad_batch_sizes(tmp_path, capsys):
    images = make_images(tmp_path / 'i', 1)
    assert '--batch-sizes' in main_error(capsys, images, '--batch-sizes', '1,x')[0]
    assert '--repeats must be 1..1000' in main_error(capsys, images, '--repeats', '0')[0]


def test_help_shows_defaults_outputs_and_every_kind(capsys):
    with pytest.raises(SystemExit):
        run_compare(['--help'])
    text = ' '.join(capsys.readouterr().out.split())
    assert 'raw/<detector>.jsonl, raw/timings.csv, raw/skipped.csv' in text
    assert 'summary.md, report.html and figures/' in text
    assert '(default: 5)' in text and '(default: auto:' in text and '(default: 1)' in text
    assert 'Without -d, ours and chainercv run; any -d replaces them' in text
    for kind, entry in KINDS.items():
        assert '{}:ARG ARG: {}; options: {}'.format(kind, entry.arg, entry.options) in text


def test_given_detectors_replace_the_defaults():
    args = cli.parser().parse_args(['x', '-d', 'ours'])
    assert cli.detector_specs(args) == ['ours']
    args = cli.parser().parse_args(['x'])
    assert cli.detector_specs(args) == ['ours', 'chainercv']


def test_without_tensorflow_the_others_still_run(tmp_path):
    shim = tmp_path / 'shim' / 'tensorflow'
    shim.mkdir(parents=True)
    (shim / '__init__.py').write_text("raise ImportError('simulated: no tensorflow here')\n")
    export = tmp_path / 'export'
    (export / 'saved_model').mkdir(parents=True)
    (export / 'saved_model' / 'saved_model.pb').write_bytes(b'')
    (export / 'label_map.pbtxt').write_text('item { id: 1 name: "a" }\n')
    env = dict(os.environ, PYTHONPATH=str(tmp_path / 'shim'))
    out = tmp_path / 'out'
    result = run_cli(make_images(tmp_path / 'i', 2), '--out', out,
                     '-d', 'fake:0', '-d', 'tf:{},name=tfm'.format(export), '--no-score',
                     '--no-progress', '--repeats', '1', env=env)
    assert result.returncode == 3, result.stderr  # a requested detector failed to load
    assert result.stderr.splitlines()[-1].startswith('incomplete: {}: detector tfm failed: '
                                                     'tensorflow not importable'.format(out))
    meta = json.loads((out / 'meta.json').read_text())
    status = {d['name']: d['status'] for d in meta['detectors']}
    assert status['fake'] == 'ok'
    assert status['tfm'].startswith('failed: tensorflow not importable: ImportError: simulated')
    assert 'install with' in status['tfm']
    assert 'WARNING: detector tfm failed' in result.stderr
    assert len((out / 'raw' / 'fake.jsonl').read_text().splitlines()) == 2
    assert meta['state'] == 'complete' and meta['args']['no_speed'] is False
    assert '`raw/timings.csv`: the speed benchmark' in (out / 'raw' / 'README.md').read_text()


def _wait_for_rows(path, count, process, limit=120):
    start = time.time()
    while time.time() - start < limit and process.poll() is None:
        if path.exists() and len(path.read_bytes().splitlines()) >= count:
            return
        time.sleep(0.05)
    raise AssertionError('process did not write {} rows in time'.format(count))


@pytest.mark.slow
def test_kill_then_ctrl_c_then_resume(tmp_path):
    images = make_images(tmp_path / 'i', 12)
    out = tmp_path / 'out'
    raw = out / 'raw' / 'fake.jsonl'
    args = (images, '--out', out, '-d', 'fake:4,delay=0.25', '--no-score', '--no-speed',
            '--no-progress')
    killed = subprocess.Popen(command(*args), cwd=ROOT, stderr=subprocess.DEVNULL)
    _wait_for_rows(raw, 2, killed)
    killed.kill()
    killed.wait(timeout=30)
    after_kill = len(raw.read_bytes().splitlines())
    assert 2 <= after_kill < 12
    interrupted = subprocess.Popen(command(*args), cwd=ROOT, stderr=subprocess.PIPE, text=True)
    _wait_for_rows(raw, after_kill + 2, interrupted)
    interrupted.send_signal(signal.SIGINT)
    _, stderr = interrupted.communicate(timeout=60)
    assert interrupted.returncode == 130 and 'Traceback' not in stderr
    assert 'interrupted: re-run the same command to resume' in stderr.splitlines()[-1]
    assert json.loads((out / 'meta.json').read_text())['state'] == 'interrupted'
    finished = run_cli(*args)
    assert finished.returncode == 0, finished.stderr
    names = [json.loads(line)['image'] for line in raw.read_text().splitlines()]
    assert names == ['im{:02d}.png'.format(i) for i in range(12)]  # none lost, none twice


def test_keyboard_interrupt_in_process_exits_130(tmp_path, capsys, monkeypatch):
    images = make_images(tmp_path / 'i', 3)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr(cli.loop, 'run_images', interrupted)
    code = run_compare([str(images), '--out', str(tmp_path / 'o'), '-d', 'fake:0',
                     '--no-progress'])
    assert code == 130
    assert 'add --force to start over' in capsys.readouterr().err.splitlines()[-1]


def test_resume_refuses_other_weights(tmp_path, capsys):
    images = make_images(tmp_path / 'i', 2)
    base = [str(images), '--out', str(tmp_path / 'o'), '--no-score', '--no-speed',
            '--no-progress']
    assert run_compare(base + ['-d', 'fake:0']) == 0
    assert run_compare(base + ['-d', 'fake:1']) == 2
    assert 'other weights' in capsys.readouterr().err
    assert run_compare(base + ['-d', 'fake:1', '--force']) == 0


def test_no_speed_leaves_no_older_timings(tmp_path):
    images = make_images(tmp_path / 'i', 1)
    base = [str(images), '--out', str(tmp_path / 'o'), '-d', 'fake:0', '--no-score',
            '--no-progress']
    assert run_compare(base + ['--repeats', '1', '--warmup', '0']) == 0
    timings = tmp_path / 'o' / 'raw' / 'timings.csv'
    assert len(timings.read_text().splitlines()) == 1 + 4
    assert run_compare(base + ['--no-speed']) == 0
    assert not timings.exists()


def test_every_detector_failing_is_a_user_error(tmp_path, capsys):
    """Each reason once (the load line), then one short error line."""
    images = make_images(tmp_path / 'imgs', 2)
    line, err = main_error(capsys, images, '-d', 'fake:0,fail=broken', '--out',
                           tmp_path / 'out', '--no-speed')
    assert line == ('error: no detector could be loaded (fake: see the line of each above); '
                    'fix the cause or pass other --detector specs')
    assert err.count('fake detector asked to fail: broken') == 1
    assert not (tmp_path / 'out' / 'raw' / 'fake.jsonl').exists()


def test_missing_pretrained_file_is_one_line_naming_file_url_and_folder(tmp_path, capsys,
                                                                         monkeypatch):
    root = chainer.dataset.get_dataset_root()
    chainer.dataset.set_dataset_root(str(tmp_path / 'root'))

    def offline(url, timeout=None):
        raise urllib.error.URLError('no route (test)')
    monkeypatch.setattr(pretrained, 'urlopen', offline)
    try:
        _, err = main_error(capsys, make_images(tmp_path / 'i', 1), '-d', 'ours:voc0712',
                            '--out', tmp_path / 'out')
    finally:
        chainer.dataset.set_dataset_root(root)
    entry = pretrained.PRETRAINED['voc0712']
    (line,) = [line for line in err.splitlines() if entry.url in line]
    assert line.startswith('detector ours: failed: pretrained weights') and entry.file in line
    assert str(tmp_path / 'root' / 'pfnet' / 'chainercv' / 'models') in line
    assert 'chainercv' not in [word.rstrip(':') for word in err.split()]  # -d ours alone
