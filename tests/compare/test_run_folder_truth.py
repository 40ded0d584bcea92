"""A run folder holds the truth of one run (issue 7, class "run folder").

Each test makes real images and run folders, runs the command in-process
(fake detectors), and checks the exit status, the one-line message and the
records left per image and detector: resume trusts a record only for the same
image content, images folder and detector identity; images deleted and
detectors not in this run stay out of the tables; an --out inside the images
is not read back; one run at a time (lock); corrupt files recover with
--force, which never deletes what it cannot redo; exit statuses.
"""
import collections
import csv
import json
import multiprocessing
import os
import socket
import sys
import time

import numpy as np
import pytest
from runhelp import QUICK, error_line, main, make_images

from compare import rundir
from compare.run import main as run_compare
from compare.rundir.lock import RunLock
from compare.runner import cli
from compare.runner.scoring import main as score_main


def status_line(err):
    """The one line saying how the run ended (the headline follows it)."""
    (line,) = [line for line in err.splitlines() if line.startswith(('done: ', 'incomplete: '))]
    return line


def rows(out, detector):
    """``{image: number of records}`` of raw/<detector>.jsonl."""
    path = os.path.join(out, 'raw', detector + '.jsonl')
    found = collections.Counter(json.loads(line)['image'] for line in open(path))
    return dict(found)


def records(out, detector):
    with open(os.path.join(out, 'raw', detector + '.jsonl')) as f:
        return {json.loads(line)['image']: json.loads(line) for line in f}


def table(out, name):
    with open(os.path.join(out, name + '.csv'), newline='') as f:
        return list(csv.DictReader(f))


ALL3 = {'im0.png': 1, 'im1.png': 1, 'im2.png': 1}


# -- resume trusts a record only for the same image, folder and detector ------------------

def test_a_record_carries_the_fingerprint_of_its_image(tmp_path, capsys):
    import hashlib
    images, out = make_images(tmp_path / 'a'), str(tmp_path / 'o')
    assert main(capsys, images, '-d', 'fake', '--out', out, *QUICK)[0] == 0
    for image, record in records(out, 'fake').items():
        data = open(os.path.join(images, image), 'rb').read()
        assert record['sha256'] == hashlib.sha256(data).hexdigest()
    identity = json.load(open(os.path.join(out, 'raw', 'fake.identity.json')))
    assert identity['weights'] == 'none (synthetic, seed 0)'
    assert identity['settings'] == {'count': 3, 'seed': 0}


def test_a_changed_image_is_run_again_and_its_old_record_dropped(tmp_path, capsys):
    images, out = make_images(tmp_path / 'a'), str(tmp_path / 'o')
    assert main(capsys, images, '-d', 'fake', '--out', out, *QUICK)[0] == 0
    before = records(out, 'fake')
    make_images(tmp_path / 'a', count=1, seed=9)  # im0.png: other pixels, same name
    code, err = main(capsys, images, '-d', 'fake', '--out', out, *QUICK)
    assert code == 0
    assert 'fake: resuming 2 saved records; dropped 1: 1 changed since (im0.png)' in err
    after = records(out, 'fake')
    assert rows(out, 'fake') == ALL3
    assert after['im0.png']['detections'] != before['im0.png']['detections']
    assert after['im1.png'] == before['im1.png']


def test_another_images_folder_is_refused_then_forced(tmp_path, capsys):
    first, second = make_images(tmp_path / 'a', seed=1), make_images(tmp_path / 'b', seed=2)
    out = str(tmp_path / 'o')
    assert main(capsys, first, '-d', 'fake', '--out', out, *QUICK)[0] == 0
    before = open(os.path.join(out, 'raw', 'fake.jsonl')).read()
    code, err = main(capsys, second, '-d', 'fake', '--out', out, *QUICK)
    assert code == 2
    assert error_line(err) == (
        'error: {} holds a run over the images folder {}, not {}: its saved results are not '
        'of these images; pass another --out, or --force to redo this run\'s detectors '
        'here'.format(out, first, second))
    assert open(os.path.join(out, 'raw', 'fake.jsonl')).read() == before
    assert main(capsys, second, '-d', 'fake', '--out', out, '--force', *QUICK)[0] == 0
    assert rows(out, 'fake') == ALL3 and records(out, 'fake') != before


def test_other_weights_after_another_detector_ran_are_refused(tmp_path, capsys):
    """The detector's identity lives beside its records, not only in the last meta.json."""
    images, out = make_images(tmp_path / 'a'), str(tmp_path / 'o')
    assert main(capsys, images, '-d', 'fake:1', '--out', out, *QUICK)[0] == 0
    assert main(capsys, images, '-d', 'fake:2,name=other', '--out', out, *QUICK)[0] == 0
    code, err = main(capsys, images, '-d', 'fake:3', '--out', out, *QUICK)
    assert code == 2
    assert error_line(err) == ('error: {} already holds results of fake (written with other '
                               'weights, settings.seed); rerun with --force to redo them, or '
                               'pass another --out'.format(out))
    assert main(capsys, images, '-d', 'fake:3', '--out', out, '--force', *QUICK)[0] == 0
    assert main(capsys, images, '-d', 'fake:3,name=check', '--out', str(tmp_path / 'c'),
                *QUICK)[0] == 0
    strip = lambda found: {k: v['detections'] for k, v in found.items()}  # noqa: E731
    assert strip(records(out, 'fake')) == strip(records(str(tmp_path / 'c'), 'check'))


def test_records_without_identity_are_not_trusted(tmp_path, capsys):
    images, out = make_images(tmp_path / 'a'), str(tmp_path / 'o')
    assert main(capsys, images, '-d', 'fake', '--out', out, *QUICK)[0] == 0
    os.remove(os.path.join(out, 'raw', 'fake.identity.json'))
    code, err = main(capsys, images, '-d', 'fake', '--out', out, *QUICK)
    assert code == 2 and 'records without raw/fake.identity.json' in error_line(err)
    assert '--force' in error_line(err) and rows(out, 'fake') == ALL3


def test_records_of_an_older_format_are_redone(tmp_path, capsys):
    images, out = make_images(tmp_path / 'a'), str(tmp_path / 'o')
    assert main(capsys, images, '-d', 'fake', '--out', out, *QUICK)[0] == 0
    path = os.path.join(out, 'raw', 'fake.jsonl')
    lines = [json.loads(line) for line in open(path)]
    with open(path, 'w') as f:  # as written before fingerprints existed
        f.writelines(json.dumps({k: v for k, v in line.items() if k != 'sha256'}) + '\n'
                     for line in lines)
    code, err = main(capsys, images, '-d', 'fake', '--out', out, *QUICK)
    assert code == 0 and '3 without a fingerprint (older format)' in err
    assert all(r['sha256'] for r in records(out, 'fake').values()) and rows(out, 'fake') == ALL3


# -- what this run's tables show ------------------------------------------------------------

def test_deleted_images_and_other_detectors_stay_out_of_the_tables(tmp_path, capsys):
    images, out = make_images(tmp_path / 'a'), str(tmp_path / 'o')
    assert main(capsys, images, '-d', 'fake:1,name=old', '--out', out, *QUICK)[0] == 0
    assert main(capsys, images, '-d', 'fake:2,name=new', '--out', out, *QUICK)[0] == 0
    os.remove(os.path.join(images, 'im2.png'))
    code, err = main(capsys, images, '-d', 'fake:2,name=new', '--out', out, '--no-progress',
                     '--no-speed')
    assert code == 0 and '1 no longer in the images folder (im2.png)' in err
    shown = {(row['detector'], row['image']) for row in table(out, 'detections')}
    assert shown == {('new', 'im0.png'), ('new', 'im1.png')}
    assert rows(out, 'new') == {'im0.png': 1, 'im1.png': 1}
    assert rows(out, 'old') == ALL3  # kept, not shown
    warnings = [row['warning'] for row in table(out, 'score_warnings')]
    assert ('raw/old.jsonl is not a detector of this run (left by an earlier run into the same '
            'folder); not scored') in warnings
    meta = json.load(open(os.path.join(out, 'meta.json')))
    assert [(d['name'], d['images_done']) for d in meta['detectors']] == [('new', 2)]


def test_an_out_inside_the_images_is_not_read_as_images(tmp_path, capsys):
    images = make_images(tmp_path / 'a')
    out = os.path.join(images, 'report')
    for _ in range(2):  # the second run finds the first one's figures/*.jpg
        assert main(capsys, images, '-d', 'fake', '--out', out, '--no-progress', '--repeats',
                    '1', '--warmup', '0')[0] == 0
    assert rows(out, 'fake') == ALL3
    assert any(name.endswith('.jpg') for name in os.listdir(os.path.join(out, 'figures')))
    other = os.path.join(images, 'older_run')  # another run folder among the images
    assert main(capsys, images, '-d', 'fake', '--out', other, *QUICK)[0] == 0
    assert main(capsys, images, '-d', 'fake', '--out', out, *QUICK)[0] == 0
    skipped = dict(rundir.read_skipped(out))
    assert skipped['older_run'].startswith('a run folder of compare/run.py')
    assert skipped['report'].startswith('a run folder of compare/run.py')


# -- one run at a time ---------------------------------------------------------------------

def test_a_second_run_is_refused_while_the_first_holds_the_lock(tmp_path, capsys):
    images, out = make_images(tmp_path / 'a'), str(tmp_path / 'o')
    os.makedirs(out)
    with RunLock(out, 'compare/run.py'):
        code, err = main(capsys, images, '-d', 'fake', '--out', out, *QUICK)
        assert code == 2
        assert error_line(err).startswith('error: {} is in use by pid {} on host {} '
                                          '(compare/run.py since '.format(
                                              out, os.getpid(), socket.gethostname()))
        assert score_main([out]) == 2
        assert 'is in use by pid' in capsys.readouterr().err
    assert not os.path.exists(os.path.join(out, 'raw', 'fake.jsonl'))
    assert not os.path.exists(os.path.join(out, 'lock'))


def _run_in_child(args, codes):
    """compare/run.py ``args`` in a forked process; its exit status into ``codes``."""
    sys.stderr = open(os.devnull, 'w')
    codes.put(run_compare(args))


def test_two_processes_at_once_record_each_image_once(tmp_path, capsys):
    images, out = make_images(tmp_path / 'a', count=4), str(tmp_path / 'o')
    context = multiprocessing.get_context('fork')  # a second process, started in ms
    codes = context.Queue()
    first = context.Process(target=_run_in_child, args=(
        [images, '-d', 'fake:0,delay=0.3', '--out', out] + QUICK, codes))
    first.start()
    lock = os.path.join(out, 'lock')
    for _ in range(1200):  # until the first one holds the lock
        if os.path.exists(lock) and os.path.getsize(lock):
            break
        assert first.is_alive()
        time.sleep(0.01)
    code, err = main(capsys, images, '-d', 'fake:0', '--out', out, *QUICK)
    assert code == 2 and 'is in use by pid {}'.format(first.pid) in error_line(err)
    first.join(timeout=60)
    assert codes.get(timeout=5) == 0
    assert rows(out, 'fake') == {'im{}.png'.format(i): 1 for i in range(4)}


def test_a_stale_lock_is_taken_over(tmp_path, capsys):
    images, out = make_images(tmp_path / 'a'), str(tmp_path / 'o')
    os.makedirs(out)
    with open(os.path.join(out, 'lock'), 'w') as f:  # left by a killed run: no flock held
        json.dump({'pid': 999999, 'host': socket.gethostname(), 'command': 'compare/run.py',
                   'since': '2026-01-01T00:00:00Z'}, f)
    code, err = main(capsys, images, '-d', 'fake', '--out', out, *QUICK)
    assert code == 0 and rows(out, 'fake') == ALL3
    assert 'took over the lock of {} left by pid 999999'.format(out) in err
    assert not os.path.exists(os.path.join(out, 'lock'))


# -- corrupt files, and what --force recovers ------------------------------------------------

@pytest.mark.parametrize('content', ['{"state": ', '[1, 2]', '{"detectors": 5}', '\xff\xfe'])
def test_a_corrupt_meta_json_is_one_line_and_force_recovers(tmp_path, capsys, content):
    images, out = make_images(tmp_path / 'a'), str(tmp_path / 'o')
    assert main(capsys, images, '-d', 'fake', '--out', out, *QUICK)[0] == 0
    with open(os.path.join(out, 'meta.json'), 'w', encoding='latin-1') as f:
        f.write(content)
    code, err = main(capsys, images, '-d', 'fake', '--out', out, *QUICK)
    line = error_line(err)
    assert code == 2 and os.path.join(out, 'meta.json') in line
    assert line.endswith("rerun compare/run.py with --force to redo this folder's detectors "
                         "and rewrite it, or pass another --out")
    assert score_main([out]) == 2 and 'meta.json' in capsys.readouterr().err
    assert main(capsys, images, '-d', 'fake', '--out', out, '--force', *QUICK)[0] == 0
    assert rows(out, 'fake') == ALL3
    assert json.load(open(os.path.join(out, 'meta.json')))['state'] == 'complete'


@pytest.mark.parametrize('damage, words', [
    (lambda raw: open(raw + '/fake.jsonl', 'ab').write(b'\xff not json\n'), 'not UTF-8'),
    (lambda raw: open(raw + '/fake.jsonl', 'a').write('{"image": 3}\n'), 'not a record'),
    (lambda raw: open(raw + '/fake.identity.json', 'w').write('[[['), 'not valid JSON'),
])
def test_corrupt_raw_files_are_one_line_and_force_recovers(tmp_path, capsys, damage, words):
    images, out = make_images(tmp_path / 'a'), str(tmp_path / 'o')
    assert main(capsys, images, '-d', 'fake', '--out', out, *QUICK)[0] == 0
    damage(os.path.join(out, 'raw'))
    code, err = main(capsys, images, '-d', 'fake', '--out', out, *QUICK)
    assert code == 2 and words in error_line(err) and '--force' in error_line(err)
    assert main(capsys, images, '-d', 'fake', '--out', out, '--force', *QUICK)[0] == 0
    assert rows(out, 'fake') == ALL3


@pytest.mark.parametrize('folder', ['meta.json', 'raw/fake.jsonl', 'lock'])
def test_a_folder_where_a_file_belongs_is_one_line(tmp_path, capsys, folder):
    images, out = make_images(tmp_path / 'a'), str(tmp_path / 'o')
    assert main(capsys, images, '-d', 'fake', '--out', out, *QUICK)[0] == 0
    if os.path.exists(os.path.join(out, folder)):
        os.remove(os.path.join(out, folder))
    os.makedirs(os.path.join(out, folder))
    code, err = main(capsys, images, '-d', 'fake', '--out', out, *QUICK)
    assert code == 2 and os.path.join(out, folder) in error_line(err)


def test_force_keeps_the_results_of_a_detector_that_cannot_load(tmp_path, capsys):
    images, out = make_images(tmp_path / 'a'), str(tmp_path / 'o')
    assert main(capsys, images, '-d', 'fake:1,name=a', '-d', 'fake:2,name=b', '--out', out,
                *QUICK)[0] == 0
    kept = open(os.path.join(out, 'raw', 'b.jsonl')).read()
    code, err = main(capsys, images, '-d', 'fake:1,name=a', '-d', 'fake:2,name=b,fail=gone',
                     '--out', out, '--force', '--no-progress', '--no-speed')
    assert code == 3
    assert status_line(err) == ('incomplete: {}: detector b failed: fake detector asked to '
                                    'fail: gone (exit status 3)'.format(out))
    assert open(os.path.join(out, 'raw', 'b.jsonl')).read() == kept
    meta = {d['name']: d for d in json.load(open(os.path.join(out, 'meta.json')))['detectors']}
    assert meta['b']['loaded'] is False and meta['a']['loaded'] is True
    assert {row['detector'] for row in table(out, 'detections')} == {'a'}


# -- exit status: "done" only for a run that did what was asked -------------------------------

class FailOnSecondImage:
    """Wraps the fake detector of spec ``b``: its second predict call raises."""

    def __init__(self, adapter):
        self.adapter, self.name, self.order, self.calls = adapter, adapter.name, 'score', 0

    def load(self):
        self.adapter.load()

    def predict(self, images):
        self.calls += 1
        if self.calls == 2:
            raise RuntimeError('boom')
        return self.adapter.predict(images)

    def info(self):
        return self.adapter.info()


def test_exit_status_of_a_detector_failing_midway(tmp_path, capsys, monkeypatch):
    images, out = make_images(tmp_path / 'a'), str(tmp_path / 'o')
    original = cli.build_all

    def build_all(specs, settings=None):
        return [FailOnSecondImage(a) if a.name == 'b' else a for a in original(specs, settings)]
    monkeypatch.setattr(cli, 'build_all', build_all)
    code, err = main(capsys, images, '-d', 'fake', '-d', 'fake:1,name=b', '--out', out, *QUICK)
    assert code == 3 and 'done:' not in err
    assert status_line(err).startswith('incomplete: {}: detector b failed: on im1.png: '
                                           'RuntimeError: boom'.format(out))
    assert rows(out, 'fake') == ALL3 and rows(out, 'b') == {'im0.png': 1}


def test_exit_status_when_no_image_can_be_read(tmp_path, capsys):
    folder, out = tmp_path / 'a', str(tmp_path / 'o')
    folder.mkdir()
    for i in range(2):
        (folder / 'bad{}.png'.format(i)).write_bytes(b'not a png')
    code, err = main(capsys, folder, '-d', 'fake', '--out', out, '--no-progress')
    assert code == 3 and 'done:' not in err
    assert 'no image of {} could be read (see raw/skipped.csv)'.format(folder) in \
        status_line(err)
    assert json.load(open(os.path.join(out, 'meta.json')))['state'] == 'complete'
    assert [image for image, _ in rundir.read_skipped(out)] == ['bad0.png', 'bad1.png']


def test_exit_status_of_a_detector_that_outputs_nan(tmp_path, capsys, monkeypatch):
    from compare.adapters import fake
    images, out = make_images(tmp_path / 'a'), str(tmp_path / 'o')
    real = fake.FakeAdapter._detect

    def nan_scores(self, key, size):
        found = real(self, key, size)
        return type(found)(found.boxes, found.labels, found.names, found.scores * np.nan)
    monkeypatch.setattr(fake.FakeAdapter, '_detect', nan_scores)
    code, err = main(capsys, images, '-d', 'fake', '--out', out, *QUICK)
    assert code == 3
    assert 'detector fake failed: on im0.png: its boxes or scores hold NaN or Inf' in \
        status_line(err)
    assert os.path.getsize(os.path.join(out, 'raw', 'fake.jsonl')) == 0


def test_a_record_naming_a_file_outside_the_images_is_refused(tmp_path, capsys):
    """A hand-edited record must not make scoring read (and draw) another file."""
    images, out = make_images(tmp_path / 'a'), str(tmp_path / 'o')
    assert main(capsys, images, '-d', 'fake', '--out', out, *QUICK)[0] == 0
    path = os.path.join(out, 'raw', 'fake.jsonl')
    lines = open(path).read().replace('"im2.png"', '"../../../etc/passwd"')
    open(path, 'w').write(lines)
    assert score_main([out]) == 2
    err = capsys.readouterr().err
    assert "line 3 is not a record of this harness (ValueError: image '../../../etc/passwd' " \
           'is not a path inside the images folder)' in err and len(err.splitlines()) == 1


# -- what the run folder keeps beside the records: timings, kept network outputs -----------

def test_timings_are_reused_only_for_the_same_detector_on_the_same_images(tmp_path, capsys):
    images, out = make_images(tmp_path / 'a'), str(tmp_path / 'o')
    args = [images, '--out', out, '--no-progress', '--no-score', '--repeats', '1',
            '--warmup', '0']
    assert main(capsys, *args, '-d', 'fake')[0] == 0
    code, err = main(capsys, *args, '-d', 'fake')
    assert code == 0 and 'speed: fake batch 1: timings of an earlier run reused' in err
    code, err = main(capsys, *args, '-d', 'fake,delay=0.002', '--force')
    assert code == 0 and 'earlier run reused' not in err  # other settings: retimed
    make_images(tmp_path / 'a', count=1, seed=9)  # the image timed now has other pixels
    code, err = main(capsys, *args, '-d', 'fake,delay=0.002')
    assert code == 0 and 'earlier run reused' not in err
    assert [(t.detector, t.stage) for t in rundir.read_timings(out)] == [
        ('fake', stage) for stage in ('preprocess', 'inference', 'postprocess', 'total')]


@pytest.mark.parametrize('name', ['timings.csv', 'benchmark.csv'])
def test_unreadable_timings_are_rewritten_not_reused(tmp_path, capsys, name):
    images, out = make_images(tmp_path / 'a'), str(tmp_path / 'o')
    args = [images, '-d', 'fake', '--out', out, '--no-progress', '--no-score', '--repeats', '1',
            '--warmup', '0']
    assert main(capsys, *args)[0] == 0
    with open(os.path.join(out, 'raw', name), 'wb') as f:
        f.write(b'garbage\n\xff,2,3\n')
    code, err = main(capsys, *args)
    assert code == 0 and 'speed: earlier timings not reused: ' in err
    assert len(rundir.read_timings(out)) == 4 and len(rundir.read_benchmarks(out)) == 1


def test_kept_network_outputs_go_with_their_record(tmp_path, capsys):
    images, out = make_images(tmp_path / 'a', count=2), str(tmp_path / 'o')
    args = [images, '-d', 'ours:random:0', '--out', out, *QUICK]
    assert main(capsys, *args, '--keep-raw')[0] == 0
    kept = {image: rundir.netout_path(out, 'ours', image) for image in ('im0.png', 'im1.png')}
    assert all(os.path.isfile(path) for path in kept.values())
    make_images(tmp_path / 'a', count=1, seed=9)  # im0.png changes: its outputs are stale
    code, err = main(capsys, *args)
    assert code == 0 and 'dropped 1: 1 changed since (im0.png)' in err
    assert not os.path.exists(kept['im0.png']) and os.path.isfile(kept['im1.png'])
    assert rundir.read_netout(out, 'ours', 'im0.png') is None
    rundir.remove_detector(out, 'ours')  # what --force does before the detector runs again
    assert not os.path.exists(os.path.join(out, 'raw', 'netout', 'ours'))


def test_two_images_never_share_a_kept_output_file(tmp_path):
    names = ['a/b.png', 'a__b.png', 'a%2Fb.png', 'x' * 240 + '.png', 'y/' * 100 + 'z.png']
    paths = {rundir.netout_path(str(tmp_path), 'd', name) for name in names}
    assert len(paths) == len(names)
    assert all(len(os.path.basename(path).encode()) <= 255 for path in paths)
    assert all(os.path.dirname(path) == str(tmp_path / 'raw' / 'netout' / 'd') for path in paths)
