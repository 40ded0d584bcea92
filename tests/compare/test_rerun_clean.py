"""A rerun diffs cleanly: the sample pipeline (``compare/run.py``, run and
scoring) run twice, once with one BLAS thread and once with two, in separate
processes, writes byte-identical tables and figures (the speed benchmark is
off: timings are the one thing a rerun is allowed to change).

Small on purpose: the ``fake`` detector and our SSD300 with seeded random
weights on two small photographs-like images, with annotations, so the mAP,
error and agreement tables are written too."""
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image
from test_score_fakerun import write_voc_xml

from compare import rundir

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _images(folder):
    """Two smooth random images (blurred noise: boxes of every size come out)
    and a VOC annotation for one of them."""
    os.makedirs(folder)
    rng = np.random.RandomState(3)
    for k, (height, width) in enumerate(((120, 160), (96, 128))):
        small = rng.randint(0, 255, (height // 8, width // 8, 3)).astype(np.uint8)
        picture = Image.fromarray(small).resize((width, height), Image.BILINEAR)
        picture.save(os.path.join(folder, 'im{}.png'.format(k)))
    write_voc_xml(os.path.join(folder, 'Annotations', 'im0.xml'), 'im0.png', (120, 160),
                  [('person', (20, 30, 90, 110), 0), ('dog', (100, 60, 150, 118), 0)])
    return folder


def _start(images, out, threads):
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
    return subprocess.Popen(
        [sys.executable, 'compare/run.py', images, '--out', out, '-d', 'fake:1,count=6',
         '-d', 'ours:random', '--no-speed', '--no-progress'],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _written(run_dir):
    """``{relative path: bytes}`` of every table and figure scoring wrote."""
    found = {}
    for name in rundir.TABLES:
        for suffix in ('.csv', '.md'):
            path = os.path.join(run_dir, name + suffix)
            if os.path.exists(path):
                found[name + suffix] = path
    figures = os.path.join(run_dir, rundir.FIGURES)
    for name in sorted(os.listdir(figures)):
        found[os.path.join(rundir.FIGURES, name)] = os.path.join(figures, name)
    out = {}
    for key, path in found.items():
        with open(path, 'rb') as f:
            out[key] = f.read()
    return out


@pytest.mark.timeout(300)
def test_one_and_two_blas_threads_write_the_same_tables(tmp_path):
    images = _images(str(tmp_path / 'images'))
    runs = {threads: str(tmp_path / 'threads{}'.format(threads) / 'run') for threads in (1, 2)}
    started = {threads: _start(images, out, threads) for threads, out in runs.items()}
    for process in started.values():
        output, _ = process.communicate(timeout=280)
        assert process.returncode == 0, output[-3000:]
    one, two = _written(runs[1]), _written(runs[2])
    # what must be there: the tables of an annotated run and the pictures
    for name in ('detections.csv', 'agreement_summary.csv', 'map_summary.csv', 'pairs.csv',
                 'findings.csv', 'diagnosis_per_image.csv', 'headline.csv'):
        assert name in one, sorted(one)
    assert any(name.endswith('.jpg') for name in one) and any(
        name.endswith('.png') for name in one), sorted(one)
    assert sorted(one) == sorted(two)
    differ = [name for name in sorted(one) if one[name] != two[name]]
    assert differ == [], differ
    # the rows are real: our SSD300 found something, and the fake detector too
    detections = one['detections.csv'].decode('utf-8').splitlines()
    assert sum(line.startswith('ours,') for line in detections) > 0
    assert sum(line.startswith('fake,') for line in detections) == 12
