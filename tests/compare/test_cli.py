"""The command line, run as a subprocess like a user would: one-line errors
with exit 2, no traceback; missing TensorFlow; Ctrl-C and kill, then resume."""
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

from compare import cli

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
    result = run_cli(make_images(tmp_path / 'i', 1), '-d', 'yolo:v5')
    assert_one_line_error(result, "unknown detector kind 'yolo'", 'ours', 'tfzoo', 'tf1')


def test_missing_and_empty_folders(tmp_path):
    assert_one_line_error(run_cli(tmp_path / 'nope'), 'does not exist', str(tmp_path / 'nope'))
    (tmp_path / 'empty').mkdir()
    (tmp_path / 'empty' / 'readme.txt').write_text('no images here')
    assert_one_line_error(run_cli(tmp_path / 'empty'), 'no images found')


def test_bad_batch_sizes(tmp_path):
    result = run_cli(make_images(tmp_path / 'i', 1), '--batch-sizes', '1,x')
    assert_one_line_error(result, '--batch-sizes')
    result = run_cli(tmp_path / 'i', '--repeats', '0')
    assert_one_line_error(result, '--repeats must be >= 1')


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
    result = run_cli(make_images(tmp_path / 'i', 2), '--out', out, '--no-default-detectors',
                     '-d', 'fake:0', '-d', 'tf:{},name=tfm'.format(export), '--no-score',
                     '--no-progress', '--repeats', '1', env=env)
    assert result.returncode == 0, result.stderr
    meta = json.loads((out / 'meta.json').read_text())
    status = {d['name']: d['status'] for d in meta['detectors']}
    assert status['fake'] == 'ok'
    assert status['tfm'].startswith('failed: tensorflow not importable: ImportError: simulated')
    assert 'install with' in status['tfm']
    assert 'WARNING: detector tfm failed' in result.stderr
    assert len((out / 'raw' / 'fake.jsonl').read_text().splitlines()) == 2
    assert meta['state'] == 'complete' and meta['args']['no_speed'] is False
    assert 'timings.csv' in (out / 'raw' / 'README.md').read_text()


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
    args = (images, '--out', out, '--no-default-detectors', '-d', 'fake:4,delay=0.25',
            '--no-score', '--no-speed', '--no-progress')
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
    monkeypatch.setattr(cli.runner, 'run_images', interrupted)
    code = cli.main([str(images), '--out', str(tmp_path / 'o'), '--no-default-detectors',
                     '-d', 'fake:0', '--no-progress'])
    assert code == 130
    assert 'add --force to start over' in capsys.readouterr().err.splitlines()[-1]


def test_resume_refuses_other_weights(tmp_path, capsys):
    images = make_images(tmp_path / 'i', 2)
    base = [str(images), '--out', str(tmp_path / 'o'), '--no-default-detectors', '--no-score',
            '--no-speed', '--no-progress']
    assert cli.main(base + ['-d', 'fake:0']) == 0
    assert cli.main(base + ['-d', 'fake:1']) == 2
    assert 'other weights' in capsys.readouterr().err
    assert cli.main(base + ['-d', 'fake:1', '--force']) == 0


def test_default_detectors_and_overrides():
    args = cli.parser().parse_args(['x', '-d', 'tf:m', '-d', 'chainercv:random'])
    assert cli.detector_specs(args) == ['ours', 'tf:m', 'chainercv:random']
    args = cli.parser().parse_args(['x', '--no-default-detectors', '-d', 'fake'])
    assert cli.detector_specs(args) == ['fake']


def test_every_detector_failing_is_a_user_error(tmp_path):
    images = make_images(tmp_path / 'imgs', 2)
    result = run_cli(images, '--no-default-detectors', '-d', 'fake:0,fail=broken',
                     '--out', tmp_path / 'out', '--no-speed')
    assert_one_line_error(result, 'no detector could be loaded', 'fake detector asked to fail')
    assert not (tmp_path / 'out' / 'raw' / 'fake.jsonl').exists()
