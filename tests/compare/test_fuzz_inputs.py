"""Fuzz: generated broken images, VOC XML and COCO JSON never end in a traceback or
a hang (issue 7). Slow: deselected by default (``tox -e slow`` runs it).

Each case is a real file made from a valid one by a seeded mutation
(truncation, flipped bytes, spliced garbage, swapped or dropped fields, huge
or non-finite numbers). Every case is read in-process under a per-case alarm
(:data:`CASE_TIMEOUT_S`): it must return a result or raise the harness's
one-line UserError, nothing else; then the same files go through the
commands a user runs (``compare/run.py``, ``python -m compare.score``) as
subprocesses with a timeout: exit 0 or 2, no "Traceback".
"""
import contextlib
import copy
import io
import json
import os
import random
import signal
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from compare.errors import UserError
from compare.images import read_image
from compare.score.ground_truth import load_annotations

pytestmark = pytest.mark.slow
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CASE_TIMEOUT_S = 10
CASES = 1000


@contextlib.contextmanager
def deadline(seconds, what):
    def expired(signum, frame):
        raise AssertionError('hung for {} s on {}'.format(seconds, what))
    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def mutate(data, rng):
    """One seeded mutation of ``data`` (bytes)."""
    data = bytearray(data)
    kind = rng.randrange(5)
    if kind == 0 and data:  # truncated
        return bytes(data[:rng.randrange(len(data))])
    if kind == 1:  # bytes flipped
        for _ in range(rng.randrange(1, 20)):
            if data:
                data[rng.randrange(len(data))] = rng.randrange(256)
        return bytes(data)
    if kind == 2:  # garbage spliced in
        at = rng.randrange(len(data) + 1)
        return bytes(data[:at]) + bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64))) \
            + bytes(data[at:])
    if kind == 3:  # a block repeated
        at, size = rng.randrange(len(data) + 1), rng.randrange(1, 200)
        return bytes(data[:at] + data[at:at + size] * rng.randrange(2, 50) + data[at:])
    return bytes(rng.randrange(256) for _ in range(rng.randrange(0, 300)))  # pure noise


def valid_images():
    """Small valid files in every suffix the harness reads."""
    rng = np.random.RandomState(0)
    pixels = rng.randint(0, 255, (24, 32, 3), np.uint8)
    found = {}
    for suffix, form in (('png', 'PNG'), ('jpg', 'JPEG'), ('bmp', 'BMP'), ('gif', 'GIF'),
                         ('tiff', 'TIFF'), ('webp', 'WEBP'), ('ppm', 'PPM')):
        buffer = io.BytesIO()
        Image.fromarray(pixels).save(buffer, form)
        found[suffix] = buffer.getvalue()
    return found


def voc_text():
    return ('<annotation><filename>im0.png</filename><size><width>32</width><height>24</height>'
            '</size><object><name>cat</name><difficult>0</difficult><bndbox><xmin>2</xmin>'
            '<ymin>3</ymin><xmax>20</xmax><ymax>15</ymax></bndbox></object><object><name>dog'
            '</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>9</xmax><ymax>9</ymax></bndbox>'
            '</object></annotation>').encode()


COCO = {'images': [{'id': 1, 'file_name': 'im0.png', 'height': 24, 'width': 32}],
        'categories': [{'id': 1, 'name': 'cat'}, {'id': 2, 'name': 'dog'}],
        'annotations': [{'id': 1, 'image_id': 1, 'category_id': 1, 'bbox': [2, 3, 18, 12],
                         'iscrowd': 0}]}
ODD_VALUES = (None, True, -1, 0, 1e308, float('nan'), float('inf'), '', 'x', [], {}, [1, 2, 3],
              [None] * 4, 'im0.png', 10 ** 30)


def mutate_json(rng):
    """COCO JSON with one field swapped, dropped or multiplied; sometimes byte-mutated."""
    data = copy.deepcopy(COCO)
    section = rng.choice(['images', 'categories', 'annotations'])
    entry = rng.choice(data[section])
    key = rng.choice(sorted(entry))
    action = rng.randrange(4)
    if action == 0:
        del entry[key]
    elif action == 1:
        entry[key] = rng.choice(ODD_VALUES)
    elif action == 2:
        data[section] = rng.choice(ODD_VALUES)
    else:
        data[section] = data[section] * rng.randrange(2, 5)
    text = json.dumps(data).encode()
    return mutate(text, rng) if rng.random() < 0.3 else text


def check_case(function, path):
    """``function(path)`` returns or raises UserError, within the deadline."""
    with deadline(CASE_TIMEOUT_S, path):
        try:
            function(path)
        except UserError as exc:
            assert '\n' not in str(exc) and str(exc).strip()


def write_cases(folder, count):
    """``count`` broken images, XML and JSON files under ``folder``; their paths."""
    rng = random.Random(7)
    valid = valid_images()
    paths = {'images': [], 'xml': [], 'json': []}
    os.makedirs(os.path.join(folder, 'images'))
    for k in range(count):
        suffix = rng.choice(sorted(valid))
        path = os.path.join(folder, 'images', 'f{:03d}.{}'.format(k, suffix))
        with open(path, 'wb') as f:
            f.write(mutate(valid[suffix], rng))
        paths['images'].append(path)
        path = os.path.join(folder, 'x{:03d}.xml'.format(k))
        with open(path, 'wb') as f:
            f.write(mutate(voc_text(), rng))
        paths['xml'].append(path)
        path = os.path.join(folder, 'c{:03d}.json'.format(k))
        with open(path, 'wb') as f:
            f.write(mutate_json(rng))
        paths['json'].append(path)
    return paths


def test_fuzzed_files_in_process(tmp_path):
    paths = write_cases(str(tmp_path), CASES)
    for path in paths['images']:
        check_case(read_image, path)
    for path in paths['xml'] + paths['json']:
        check_case(load_annotations, path)


def _command(args, module=None, timeout=300):
    head = [sys.executable, '-m', module] if module else [
        sys.executable, os.path.join(ROOT, 'compare', 'run.py')]
    try:
        done = subprocess.run(head + args, capture_output=True, text=True, timeout=timeout,
                              cwd=ROOT, env=dict(os.environ, PYTHONWARNINGS='ignore'))
    except subprocess.TimeoutExpired:
        raise AssertionError('hung: {}'.format(args)) from None
    assert 'Traceback' not in done.stderr, done.stderr[-2000:]
    return done


def test_fuzzed_files_through_the_commands(tmp_path):
    paths = write_cases(str(tmp_path), 60)
    Image.fromarray(np.full((24, 32, 3), 90, np.uint8)).save(tmp_path / 'images' / 'im0.png')
    out = str(tmp_path / 'out')
    done = _command([str(tmp_path / 'images'), '-d', 'fake', '--out', out, '--no-progress',
                     '--repeats', '1', '--warmup', '0', '--annotations', 'none'])
    assert done.returncode == 0, done.stderr[-2000:]
    rng = random.Random(3)
    for path in rng.sample(paths['xml'], 3) + rng.sample(paths['json'], 3):
        done = _command([out, '--annotations', path], module='compare.score', timeout=120)
        assert done.returncode in (0, 2), done.stderr[-2000:]
        assert done.returncode == 0 or done.stderr.startswith('error: ')


def test_fuzzed_run_folders(tmp_path, capsys):
    """A run folder with one file mutated: scoring's reader and a resumed run give a
    result or a one-line error (exit 0, 2 or 3), never a traceback."""
    import shutil

    from compare.run import main as run_compare
    from compare.rundir import read_run
    images = tmp_path / 'images'
    images.mkdir()
    for k in range(3):
        Image.fromarray(np.full((12, 16, 3), 40 * k, np.uint8)).save(images / 'i{}.png'.format(k))
    template = str(tmp_path / 'template')
    assert run_compare([str(images), '-d', 'fake', '-d', 'fake:1,name=b', '--out', template,
                     '--no-progress', '--repeats', '1', '--warmup', '0', '--no-score']) == 0
    files = sorted(os.path.relpath(os.path.join(root, name), template)
                   for root, _, names in os.walk(template) for name in names
                   if not name.endswith('README.md'))
    rng = random.Random(11)
    for k in range(150):
        run_dir = str(tmp_path / 'run{}'.format(k))
        shutil.copytree(template, run_dir)
        target = os.path.join(run_dir, rng.choice(files))
        with open(target, 'rb') as f:
            data = f.read()
        with open(target, 'wb') as f:
            f.write(mutate(data, rng))
        check_case(read_run, run_dir)
        with deadline(CASE_TIMEOUT_S * 3, target):
            code = run_compare([str(images), '-d', 'fake', '-d', 'fake:1,name=b', '--out', run_dir,
                             '--no-progress', '--no-speed', '--no-score'])
        err = capsys.readouterr().err
        assert code in (0, 2, 3) and 'Traceback' not in err, (target, err[-500:])
        if code == 2:
            assert run_compare([str(images), '-d', 'fake', '-d', 'fake:1,name=b', '--out', run_dir,
                             '--no-progress', '--no-speed', '--no-score', '--force']) == 0, \
                (target, capsys.readouterr().err[-500:])
        shutil.rmtree(run_dir)
