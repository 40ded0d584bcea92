"""Reports are portable: the same command in two clones (different absolute
parents) writes the same tables and summary, re-scoring works from the run's
cwd and from elsewhere, and ``random_weights=yes`` flags a detector."""
import os
import re
import shutil
import types

import numpy as np
import pytest
from PIL import Image
from test_score_fakerun import write_voc_xml

from compare import rundir
from compare.adapters import build
from compare.detections import DetectorInfo
from compare.errors import UserError
from compare.paths import display_path, from_run
from compare.report.markdown import banners
from compare.run import main as run_compare
from compare.rundir.identity import differences, identity
from compare.runner.scoring import main as score_main

#: Lines of provenance that legitimately differ between clones and runs.
PROVENANCE = re.compile(r'^\| (date|commit) \|.*$', re.MULTILINE)
HTML_PROVENANCE = re.compile(r'<tr><td>(date|commit)</td><td>[^<]*</td></tr>')


def test_display_path_relative_inside_cwd_absolute_outside(tmp_path, monkeypatch):
    (tmp_path / 'proj' / 'images').mkdir(parents=True)
    monkeypatch.chdir(tmp_path / 'proj')
    assert display_path('images') == 'images'
    assert display_path(str(tmp_path / 'proj' / 'images' / 'a.png')) == 'images/a.png'
    assert display_path(str(tmp_path / 'other')) == (tmp_path / 'other').as_posix()
    assert display_path('../other') == (tmp_path / 'other').as_posix()
    assert display_path(None) is None
    assert from_run('images', 'reports/x') == '../../images'
    assert from_run(str(tmp_path / 'other'), 'reports/x') == (tmp_path / 'other').as_posix()


def test_images_dir_prefers_the_run_relative_path(tmp_path, monkeypatch):
    (tmp_path / 'proj' / 'images').mkdir(parents=True)
    meta = rundir.RunMeta({}, {}, rundir.ImagesInfo('images', '../../images', 0, 0), 'complete',
                          ())
    monkeypatch.chdir(tmp_path / 'proj')
    assert meta.images_dir('reports/x') == os.path.join('images')
    monkeypatch.chdir(tmp_path)  # the cwd-relative 'images' no longer exists here
    found = meta.images_dir(str(tmp_path / 'proj' / 'reports' / 'x'))
    assert os.path.samefile(found, tmp_path / 'proj' / 'images')
    # neither exists: the cwd-relative one, for messages
    assert meta.images_dir(str(tmp_path / 'elsewhere')) == 'images'


def make_project(parent):
    """``parent/proj`` holding ``images/`` (3 noise PNGs + VOC XML beside them)."""
    images = parent / 'proj' / 'images'
    images.mkdir(parents=True)
    rng = np.random.RandomState(0)
    for i in range(3):
        name = 'im{}.png'.format(i)
        Image.fromarray(rng.randint(0, 255, (40, 60, 3), np.uint8)).save(images / name)
        write_voc_xml(str(images / 'Annotations' / 'im{}.xml'.format(i)), name, (40, 60),
                      [('cat', (5, 5, 30, 20), 0), ('person', (20, 10, 55, 38), 0)])
    return parent / 'proj'


def run_in(project, *args, score=False):
    """``python compare/run.py ARGS`` (or ``python -m compare.score ARGS``) from
    the cwd ``project``, in-process (test_cli runs the command as a subprocess)."""
    cwd = os.getcwd()
    os.chdir(project)
    try:
        assert (score_main if score else run_compare)(list(args)) == 0
    finally:
        os.chdir(cwd)


def report_files(run_dir):
    """``{name: text}`` of every table, summary.md and report.html, provenance lines blanked."""
    texts = {}
    for name in sorted(os.listdir(run_dir)):
        if name.endswith(('.csv', '.md', '.html')):
            with open(os.path.join(run_dir, name), encoding='utf-8') as f:
                text = f.read()
            texts[name] = HTML_PROVENANCE.sub('', PROVENANCE.sub('', text))
    return texts


CLI_ARGS = ('images', '--out', 'reports/x', '-d', 'fake:0', '-d', 'fake:1,count=5,name=other',
            '--no-speed', '--no-progress')


@pytest.fixture(scope='module')
def two_clones(tmp_path_factory):
    base = tmp_path_factory.mktemp('clones')
    first = make_project(base / 'a')
    second = base / 'b' / 'deeper' / 'proj'
    shutil.copytree(first, second)
    for project in (first, second):
        run_in(project, *CLI_ARGS)
    return first, second


def test_two_clones_write_identical_reports(two_clones):
    first, second = two_clones
    texts = [report_files(project / 'reports' / 'x') for project in two_clones]
    assert texts[0] == texts[1]
    assert {'summary.md', 'report.html', 'map_summary.csv', 'agreement_summary.md',
            'detections.csv', 'agreement_pairs.csv'} <= set(texts[0])
    assert 'detections.md' not in texts[0] and 'agreement_pairs.md' not in texts[0]
    for project in two_clones:
        run_dir = project / 'reports' / 'x'
        everything = [(run_dir / 'meta.json').read_text()] + list(report_files(run_dir).values())
        assert not [t for t in everything if str(project.parent) in t]
    summary = texts[0]['summary.md']
    assert 'Images folder: `images`; annotations: `images/Annotations`' in summary
    assert 'files ignored as not images (by suffix): 3' in summary  # the three XML files


def test_rescoring_from_the_cwd_and_from_elsewhere(two_clones):
    project = two_clones[0]
    run_dir = project / 'reports' / 'x'
    before = report_files(run_dir)
    (run_dir / 'detections.md').write_text('stale Markdown of an older scoring\n')
    run_in(project, 'reports/x', score=True)
    assert report_files(run_dir) == before  # the stale .md is gone too
    map_summary = (run_dir / 'map_summary.csv').read_text()
    # another cwd: the images (and the annotations beside them) are found from the run dir
    run_in(project.parent, str(run_dir), score=True)
    assert (run_dir / 'map_summary.csv').read_text() == map_summary
    assert 'cat' in (run_dir / 'map_per_class.csv').read_text()


def test_random_weights_option_flags_any_kind():
    plain = build('tf1:no/such/frozen_inference_graph.pb,name=t').info()
    flagged = build('tf1:no/such/frozen_inference_graph.pb,name=t,random_weights=yes')
    info = flagged.info()
    assert plain.random_weights is False and info.random_weights is True
    assert 'random_weights=yes' in info.info['random_weights_note']
    assert info.weights == 'no/such/frozen_inference_graph.pb' and flagged.name == 't'
    assert flagged.order == 'score'
    assert build('fake:2,random_weights=no').info().random_weights is True
    run = types.SimpleNamespace(
        meta=types.SimpleNamespace(state='complete'),
        detectors={'t': rundir.DetectorEntry.of(info, 'ok'),
                   'u': rundir.DetectorEntry.of(plain, 'ok')})
    lines = banners(run)
    assert lines == [['⚠ RANDOM WEIGHTS: 1 of the 2 detectors hold untrained weights (named '
                      'in the headline): their detections and mAP measure nothing']]
    with pytest.raises(UserError, match='random_weights=maybe'):
        build('fake:0,random_weights=maybe')


def test_flagged_detector_predicts_like_the_wrapped_one():
    adapter = build('fake:3,count=2,random_weights=yes')
    adapter.load()
    image = np.zeros((10, 20, 3), np.uint8)
    prediction = adapter.predict([image])
    direct = build('fake:3,count=2').predict([image])
    np.testing.assert_array_equal(prediction.detections[0].boxes, direct.detections[0].boxes)
    assert prediction.detections[0].names == direct.detections[0].names


def test_resume_compares_weights_by_content_not_by_path():
    def ident(weights, sha256, preset='visualize', path='/old/clone/m.pb'):
        return identity(DetectorInfo('m', weights, sha256, False, 'CPU', '1', ('a',),
                                     {'preset': preset, 'weights_path': path}))
    old = ident('/old/clone/m.pb', 'ab' * 32)
    assert differences(old, ident('m.pb', 'ab' * 32, path='m.pb')) == []
    assert differences(old, ident('m.pb', 'cd' * 32)) == ['weights']
    assert differences(old, ident('m.pb', 'ab' * 32, 'evaluate')) == ['settings.preset']
    assert differences(ident('random (seed 0)', None), ident('random (seed 1)', None)) == [
        'weights']
