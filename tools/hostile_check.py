"""Try the comparison harness as a hostile user would, and count what holds.

``python tools/hostile_check.py [--only CLASS] [--keep DIR]`` builds each case's
files in a temporary folder, runs the commands a user would type
(``compare/run.py``, ``python -m compare.score``, ``python -m
replicate.parity``) as subprocesses with a timeout, and checks what issue 7
("Reliability and security") asks of them: the exit status, no traceback, one
``error:`` line naming the file, and the state of the run folder afterwards
(records counted per image and detector). It prints one line per case and a
count per class, and exits 1 when any case fails.

Cases use the fake detector (no model) except where a real model file is the
point (pickled or NaN weights, a corrupt cached file). About 3-5 minutes on 2
cores. Not a test: the tests under tests/compare/ prove each class; this
script is the quick end-to-end check from a fresh clone.
"""
import argparse
import collections
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time

import numpy as np
from PIL import Image

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUN = os.path.join(ROOT, 'compare', 'run.py')
ENV = dict(os.environ, PYTHONWARNINGS='ignore', TF_CPP_MIN_LOG_LEVEL='3',
           PYTHONPATH=ROOT + os.pathsep + os.environ.get('PYTHONPATH', ''))
CASES = []
FAST = ('--no-progress', '--no-speed')


def case(klass):
    def register(function):
        CASES.append((klass, function.__name__, function))
        return function
    return register


class Failed(AssertionError):
    pass


def check(condition, message):
    if not condition:
        raise Failed(message)


# -- helpers -----------------------------------------------------------------

def run(args, cwd, timeout=120, module=None, env=None):
    """``(returncode, stdout, stderr)``; returncode None after a timeout (hang)."""
    head = [sys.executable, '-m', module] if module else [sys.executable, RUN]
    try:
        done = subprocess.run(head + [str(a) for a in args], cwd=cwd, capture_output=True,
                              text=True, timeout=timeout, env=env or ENV,
                              errors='backslashreplace')
    except subprocess.TimeoutExpired:
        return None, '', 'TIMEOUT after {} s'.format(timeout)
    return done.returncode, done.stdout, done.stderr


def score(args, cwd, timeout=120):
    return run(args, cwd, timeout, module='compare.score')


def clean(result, code, *fragments):
    """Exit ``code``, no traceback, one ``error:`` line holding ``fragments``
    (for a non-zero code)."""
    rc, _, err = result
    check(rc is not None, 'hung: ' + err)
    check('Traceback' not in err, 'traceback: ' + (err.strip().splitlines() or [''])[-1][:200])
    check(rc == code, 'exit {} (expected {}): {}'.format(
        rc, code, (err.strip().splitlines() or [''])[-1][:200]))
    if code == 2:
        lines = [line for line in err.splitlines() if line.startswith('error: ')]
        check(len(lines) == 1, '{} error lines: {}'.format(len(lines), err[-300:]))
        for fragment in fragments:
            check(fragment in lines[0], '{!r} not in {!r}'.format(fragment, lines[0][:300]))
    else:
        for fragment in fragments:
            check(fragment in err, '{!r} not in stderr {!r}'.format(fragment, err[-300:]))
    return err


def images(folder, count=3, size=(20, 30), seed=0, prefix='im'):
    os.makedirs(folder, exist_ok=True)
    rng = np.random.RandomState(seed)
    for i in range(count):
        Image.fromarray(rng.randint(0, 255, size + (3,), np.uint8)).save(
            os.path.join(folder, '{}{}.png'.format(prefix, i)))
    return folder


def rows(run_dir, detector):
    """``{image: count}`` of raw/<detector>.jsonl (complete lines)."""
    path = os.path.join(run_dir, 'raw', detector + '.jsonl')
    if not os.path.exists(path):
        return {}
    found = collections.Counter()
    with open(path, 'rb') as f:
        for line in f.read().split(b'\n')[:-1]:
            found[json.loads(line)['image']] += 1
    return dict(found)


def _killed_after(count, args, cwd, out, detector):
    """Run compare/run.py with ``args``; kill -9 it once ``count`` records exist."""
    proc = subprocess.Popen([sys.executable, RUN] + [str(a) for a in args], cwd=cwd, env=ENV,
                            stderr=subprocess.DEVNULL)
    start = time.time()
    while len(rows(out, detector)) < count and time.time() - start < 60:
        time.sleep(0.05)
    proc.kill()
    proc.wait(timeout=30)


def table(run_dir, name):
    import csv
    path = os.path.join(run_dir, name + '.csv')
    if not os.path.exists(path):
        return None
    with open(path, newline='') as f:
        return list(csv.DictReader(f))


def voc_xml(path, objects, filename=None, size=(20, 30)):
    body = ''.join('<object><name>{}</name><bndbox><xmin>{}</xmin><ymin>{}</ymin><xmax>{}</xmax>'
                   '<ymax>{}</ymax></bndbox></object>'.format(n, x0, y0, x1, y1)
                   for n, (y0, x0, y1, x1) in objects)
    head = '<filename>{}</filename>'.format(filename) if filename else ''
    with open(path, 'w') as f:
        f.write('<annotation>{}<size><height>{}</height><width>{}</width></size>{}'
                '</annotation>'.format(head, size[0], size[1], body))


# -- A. no code runs from a file we read -----------------------------------------

class _Payload:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, 'w'))


def _evil_npz(tmp):
    marker = os.path.join(tmp, 'PWNED')
    path = os.path.join(tmp, 'evil.npz')
    np.savez(path, **{'extractor/conv1_1/b': np.zeros(64, np.float32),
                      'extractor/conv1_1/W': np.array([_Payload(marker)], dtype=object)})
    return path, marker


@case('A untrusted files')
def npz_pickle_chainercv(tmp):
    path, marker = _evil_npz(tmp)
    clean(run([images(tmp + '/i'), '-d', 'chainercv:' + path, '--out', tmp + '/o'] +
              list(FAST), tmp), 2)
    check(not os.path.exists(marker), 'payload ran')


@case('A untrusted files')
def npz_pickle_ours(tmp):
    path, marker = _evil_npz(tmp)
    clean(run([images(tmp + '/i'), '-d', 'ours:' + path, '--out', tmp + '/o'] +
              list(FAST), tmp), 2)
    check(not os.path.exists(marker), 'payload ran')


@case('A untrusted files')
def npz_pickle_parity(tmp):
    path, marker = _evil_npz(tmp)
    clean(run(['--weights', path, '--out', tmp + '/p'], tmp, module='replicate.parity'), 2,
          path)
    check(not os.path.exists(marker), 'payload ran')


@case('A untrusted files')
def npz_pickle_trained(tmp):
    path, marker = _evil_npz(tmp)
    err = clean(run([images(tmp + '/i'), '-d', 'trained:' + path, '--out', tmp + '/o'] +
                    list(FAST), tmp), 2)
    check('detector trained: failed: ' in err and path in err and 'pickled' in err,
          'the file is not named as holding pickled objects: ' + err[-300:])
    check(not os.path.exists(marker), 'payload ran')


@case('A untrusted files')
def plain_pickle_named_npz(tmp):
    import pickle
    marker = os.path.join(tmp, 'PWNED')
    path = os.path.join(tmp, 'w.npz')
    with open(path, 'wb') as f:
        pickle.dump(_Payload(marker), f)
    clean(run(['--weights', path, '--out', tmp + '/p'], tmp, module='replicate.parity'), 2,
          path)
    clean(run([images(tmp + '/i'), '-d', 'ours:' + path, '--out', tmp + '/o'] + list(FAST),
              tmp), 2)
    check(not os.path.exists(marker), 'payload ran')


@case('A untrusted files')
def parity_reference_pickle(tmp):
    import pickle
    marker = os.path.join(tmp, 'PWNED')
    path = os.path.join(tmp, 'ref.npz')
    with open(path, 'wb') as f:
        pickle.dump(_Payload(marker), f)
    clean(run(['--reference', path, '--out', tmp + '/p'], tmp, module='replicate.parity'), 2)
    check(not os.path.exists(marker), 'payload ran')


@case('A untrusted files')
def xml_billion_laughs(tmp):
    folder = images(tmp + '/i', 1)
    with open(folder + '/im0.xml', 'w') as f:
        f.write('<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
                '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
                '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
                '<annotation><object><name>&c;</name></object></annotation>')
    err = clean(run([folder, '-d', 'fake', '--out', tmp + '/o'] + list(FAST), tmp), 0)
    check('im0.xml' in err, 'the unsafe file is not named: ' + err[-300:])
    check(table(tmp + '/o', 'agreement_summary') is not None, 'no agreement table')


@case('A untrusted files')
def xml_external_entity(tmp):
    folder = images(tmp + '/i', 1)
    with open(folder + '/im0.xml', 'w') as f:
        f.write('<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                '<annotation><object><name>&x;</name></object></annotation>')
    clean(run([folder, '-d', 'fake', '--out', tmp + '/o', '--annotations', folder + '/im0.xml']
              + list(FAST), tmp), 2, 'im0.xml')


@case('A untrusted files')
def json_deep_nesting(tmp):
    _annotation_case(tmp, 'a.json', '[' * 200000 + ']' * 200000, count=1)


@case('A untrusted files')
def label_map_not_utf8(tmp):
    export = os.path.join(ROOT, 'tests', 'fixtures', 'odapi_frozen', 'frozen_inference_graph.pb')
    with open(tmp + '/labels.pbtxt', 'wb') as f:
        f.write(b'item { id: 1 name: "\xff\xfe" }\n')
    err = clean(run([images(tmp + '/i', 1), '-d', 'tf1:{},labels={}'.format(
        export, tmp + '/labels.pbtxt'), '-d', 'fake', '--out', tmp + '/o'] + list(FAST), tmp),
        3)
    check('labels.pbtxt' in err and 'UnicodeDecodeError' not in err, err[-300:])


@case('A untrusted files')
def label_map_huge_id(tmp):
    export = os.path.join(ROOT, 'tests', 'fixtures', 'odapi_frozen', 'frozen_inference_graph.pb')
    with open(tmp + '/labels.pbtxt', 'w') as f:
        f.write('item { id: ' + '9' * 5000 + ' name: "a" }\n')
    err = clean(run([images(tmp + '/i', 1), '-d', 'tf1:{},labels={}'.format(
        export, tmp + '/labels.pbtxt'), '-d', 'fake', '--out', tmp + '/o'] + list(FAST), tmp),
        3)
    check('labels.pbtxt' in err and 'traceback in' not in err, err[-300:])


def _zoo(tmp, members):
    """A zoo cache holding ``evil.tar.gz`` built from ``members`` (TarInfo, bytes)."""
    cache = os.path.join(tmp, 'zoo')
    os.makedirs(cache)
    with tarfile.open(os.path.join(cache, 'evil.tar.gz'), 'w:gz') as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return cache


def _member(name, data=b'x', kind=tarfile.REGTYPE, link=''):
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, link
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    return info, data if kind == tarfile.REGTYPE else None


@case('A untrusted files')
def zoo_path_traversal(tmp):
    cache = _zoo(tmp, [_member('evil/saved_model/saved_model.pb'),
                       _member('../escaped.txt')])
    clean(run([images(tmp + '/i', 1), '-d', 'tfzoo:evil', '-d', 'fake', '--tf-zoo-dir', cache,
               '--out', tmp + '/o'] + list(FAST), tmp), 3)
    check(not os.path.exists(os.path.join(tmp, 'escaped.txt')), 'file written outside')


@case('A untrusted files')
def zoo_symlink_outside(tmp):
    cache = _zoo(tmp, [_member('evil/saved_model/saved_model.pb'),
                       _member('evil/link', kind=tarfile.SYMTYPE, link='/etc/passwd')])
    err = clean(run([images(tmp + '/i', 1), '-d', 'tfzoo:evil', '-d', 'fake', '--tf-zoo-dir',
                     cache, '--out', tmp + '/o'] + list(FAST), tmp), 3)
    check(not os.path.lexists(os.path.join(cache, 'evil', 'link')), 'link extracted')
    check('evil.tar.gz' in err, err[-300:])


@case('A untrusted files')
def zoo_symlink_inside_then_write(tmp):
    cache = _zoo(tmp, [_member('evil/saved_model/saved_model.pb'),
                       _member('evil/up', kind=tarfile.SYMTYPE, link='..'),
                       _member('evil/up/planted.txt')])
    clean(run([images(tmp + '/i', 1), '-d', 'tfzoo:evil', '-d', 'fake', '--tf-zoo-dir', cache,
               '--out', tmp + '/o'] + list(FAST), tmp), 3)
    check(not os.path.exists(os.path.join(cache, 'planted.txt')), 'wrote through a link')
    check(not os.path.lexists(os.path.join(cache, 'evil', 'up')), 'link extracted')


@case('A untrusted files')
def zoo_hardlink_outside(tmp):
    cache = _zoo(tmp, [_member('evil/saved_model/saved_model.pb'),
                       _member('evil/h', kind=tarfile.LNKTYPE, link='/etc/passwd')])
    clean(run([images(tmp + '/i', 1), '-d', 'tfzoo:evil', '-d', 'fake', '--tf-zoo-dir', cache,
               '--out', tmp + '/o'] + list(FAST), tmp), 3)
    check(not os.path.lexists(os.path.join(cache, 'evil', 'h')), 'hard link extracted')


@case('A untrusted files')
def zoo_device_member(tmp):
    cache = _zoo(tmp, [_member('evil/saved_model/saved_model.pb'),
                       _member('evil/fifo', kind=tarfile.FIFOTYPE)])
    clean(run([images(tmp + '/i', 1), '-d', 'tfzoo:evil', '-d', 'fake', '--tf-zoo-dir', cache,
               '--out', tmp + '/o'] + list(FAST), tmp), 3)
    check(not os.path.lexists(os.path.join(cache, 'evil', 'fifo')), 'fifo extracted')


@case('A untrusted files')
def frozen_graph_garbage(tmp):
    with open(tmp + '/g.pb', 'wb') as f:
        f.write(os.urandom(4096))
    err = clean(run([images(tmp + '/i', 1), '-d', 'tf1:{}/g.pb,labels=coco'.format(tmp), '-d',
                     'fake', '--out', tmp + '/o'] + list(FAST), tmp), 3)
    check('g.pb' in err, err[-300:])


# -- B. a run folder holds the truth of one run ------------------------------------------

@case('B run folder')
def second_folder_same_names(tmp):
    first, second = images(tmp + '/a', seed=1), images(tmp + '/b', seed=2)
    out = tmp + '/o'
    clean(run([first, '-d', 'fake', '--out', out] + list(FAST), tmp), 0)
    before = open(out + '/raw/fake.jsonl').read()
    result = run([second, '-d', 'fake', '--out', out] + list(FAST), tmp)
    if result[0] == 0:  # accepted: then every record must be of the second folder
        check(open(out + '/raw/fake.jsonl').read() != before, 'first folder reported as second')
    else:
        clean(result, 2, out)


@case('B run folder')
def changed_image_content(tmp):
    folder, out = images(tmp + '/a', seed=1), tmp + '/o'
    clean(run([folder, '-d', 'fake', '--out', out] + list(FAST), tmp), 0)
    before = {json.loads(line)['image']: line for line in open(out + '/raw/fake.jsonl')}
    images(folder, count=1, seed=9)  # im0.png now holds other pixels
    clean(run([folder, '-d', 'fake', '--out', out] + list(FAST), tmp), 0)
    after = {json.loads(line)['image']: line for line in open(out + '/raw/fake.jsonl')}
    check(rows(out, 'fake') == {'im0.png': 1, 'im1.png': 1, 'im2.png': 1}, rows(out, 'fake'))
    check(after['im0.png'] != before['im0.png'], 'stale record of a changed image trusted')


@case('B run folder')
def timings_of_other_images_reused(tmp):
    folder, out = images(tmp + '/a', seed=1), tmp + '/o'
    quick = ['--no-progress', '--no-score', '--repeats', '1', '--warmup', '0']
    clean(run([folder, '-d', 'fake', '--out', out] + quick, tmp), 0)
    images(folder, count=1, size=(200, 300), seed=9)  # the image timed: 100x the pixels
    err = clean(run([folder, '-d', 'fake', '--out', out] + quick, tmp), 0)
    check('earlier run reused' not in err, 'timings of other images reported as this run\'s: ' +
          ' '.join(line for line in err.splitlines() if 'earlier run reused' in line))


@case('B run folder')
def kept_outputs_of_a_changed_image(tmp):
    folder, out = images(tmp + '/a', count=2, seed=1), tmp + '/o'
    spec = ['-d', 'ours:random:0,name=ssd', '--out', out, '--no-score'] + list(FAST)
    clean(run([folder, '--keep-raw'] + spec, tmp), 0)
    images(folder, count=1, size=(40, 10), seed=9)  # im0.png: other pixels and size
    clean(run([folder] + spec, tmp), 0)
    kept = _kept_sizes(out, 'ssd')
    check((20, 30) in kept and (40, 10) not in kept and len(kept) <= 1,
          'kept outputs {} do not match the records'.format(kept))


@case('B run folder')
def kept_outputs_of_two_images_one_file(tmp):
    folder = tmp + '/a'
    Image.fromarray(np.zeros((20, 30, 3), np.uint8)).save(os.path.join(
        images(folder + '/x', count=0), 'y.png'))
    Image.fromarray(np.zeros((40, 10, 3), np.uint8)).save(os.path.join(folder, 'x__y.png'))
    out = tmp + '/o'
    clean(run([folder, '--keep-raw', '-d', 'ours:random:0,name=ssd', '--out', out,
               '--no-score'] + list(FAST), tmp), 0)
    kept = _kept_sizes(out, 'ssd')
    check(sorted(kept) == [(20, 30), (40, 10)], 'kept outputs {} for 2 images'.format(kept))


def _kept_sizes(run_dir, detector):
    """The image sizes of every kept network output of ``detector``."""
    folder = os.path.join(run_dir, 'raw', 'netout', detector)
    found = []
    for name in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
        with np.load(os.path.join(folder, name), allow_pickle=False) as data:
            found.append(tuple(int(v) for v in data['size']))
    return found


@case('B run folder')
def weights_changed_after_other_detector(tmp):
    folder, out = images(tmp + '/a', count=4), tmp + '/o'
    _killed_after(2, [folder, '-d', 'fake:1,delay=0.3', '--out', out] + list(FAST), tmp,
                  out, 'fake')
    clean(run([folder, '-d', 'fake:2,name=other', '--out', out] + list(FAST), tmp), 0)
    result = run([folder, '-d', 'fake:3', '--out', out] + list(FAST), tmp)
    if result[0] == 0:
        lines = [json.loads(line) for line in open(out + '/raw/fake.jsonl')]
        check(len(lines) == 4, 'rows {}'.format(len(lines)))
        # the fake detector of seed 3 must have produced every record
        clean(run([folder, '-d', 'fake:3,name=check', '--out', tmp + '/c'] + list(FAST), tmp), 0)
        want = [json.loads(line)['detections'] for line in open(tmp + '/c/raw/check.jsonl')]
        check([r['detections'] for r in lines] == want, 'two weight sets mixed under one name')
    else:
        clean(result, 2, 'fake')


@case('B run folder')
def deleted_image_not_in_tables(tmp):
    folder, out = images(tmp + '/a'), tmp + '/o'
    clean(run([folder, '-d', 'fake', '--out', out, '--no-progress', '--no-speed'], tmp), 0)
    os.remove(folder + '/im2.png')
    clean(run([folder, '-d', 'fake', '--out', out, '--no-progress', '--no-speed'], tmp), 0)
    shown = {row['image'] for row in table(out, 'detections')}
    check(shown == {'im0.png', 'im1.png'}, 'detections table shows {}'.format(sorted(shown)))


@case('B run folder')
def other_detector_not_in_tables(tmp):
    folder, out = images(tmp + '/a'), tmp + '/o'
    clean(run([folder, '-d', 'fake:1,name=old', '--out', out] + list(FAST), tmp), 0)
    clean(run([folder, '-d', 'fake:2,name=new', '--out', out, '--no-progress', '--no-speed'],
              tmp), 0)
    shown = {row['detector'] for row in table(out, 'detections')}
    check(shown == {'new'}, 'detections table shows {}'.format(sorted(shown)))


@case('B run folder')
def out_inside_images(tmp):
    folder = images(tmp + '/a')
    out = folder + '/report'
    clean(run([folder, '-d', 'fake', '--out', out, '--no-progress', '--repeats', '1'], tmp), 0)
    clean(run([folder, '-d', 'fake', '--out', out, '--no-progress', '--repeats', '1'], tmp), 0)
    check(set(rows(out, 'fake')) == {'im0.png', 'im1.png', 'im2.png'}, rows(out, 'fake'))


@case('B run folder')
def two_runs_at_once(tmp):
    folder, out = images(tmp + '/a', count=6), tmp + '/o'
    args = [sys.executable, RUN, folder, '-d', 'fake:0,delay=0.3', '--out', out] + list(FAST)
    procs = [subprocess.Popen(args, cwd=tmp, env=ENV, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    results = [(p.wait(timeout=120), p.stderr.read()) for p in procs]
    check(all('Traceback' not in err for _, err in results), 'traceback')
    codes = sorted(code for code, _ in results)
    check(codes == [0, 2], 'exit codes {}'.format(codes))
    check(rows(out, 'fake') == {'im{}.png'.format(i): 1 for i in range(6)}, rows(out, 'fake'))


@case('B run folder')
def stale_lock(tmp):
    folder, out = images(tmp + '/a'), tmp + '/o'
    os.makedirs(out)
    dead = subprocess.Popen([sys.executable, '-c', 'pass'])
    dead.wait()
    with open(out + '/lock', 'w') as f:
        json.dump({'pid': dead.pid, 'host': socket.gethostname()}, f)
    clean(run([folder, '-d', 'fake', '--out', out] + list(FAST), tmp), 0)
    check(len(rows(out, 'fake')) == 3, rows(out, 'fake'))


@case('B run folder')
def corrupt_meta(tmp):
    folder, out = images(tmp + '/a'), tmp + '/o'
    clean(run([folder, '-d', 'fake', '--out', out] + list(FAST), tmp), 0)
    with open(out + '/meta.json', 'w') as f:
        f.write('{"state": ')
    clean(run([folder, '-d', 'fake', '--out', out] + list(FAST), tmp), 2, 'meta.json', '--force')
    clean(score([out], tmp), 2, 'meta.json')
    clean(run([folder, '-d', 'fake', '--out', out, '--force'] + list(FAST), tmp), 0)
    check(rows(out, 'fake') == {'im0.png': 1, 'im1.png': 1, 'im2.png': 1}, rows(out, 'fake'))


@case('B run folder')
def meta_is_a_folder(tmp):
    folder, out = images(tmp + '/a'), tmp + '/o'
    os.makedirs(out + '/meta.json')
    clean(run([folder, '-d', 'fake', '--out', out] + list(FAST), tmp), 2, 'meta.json')


@case('B run folder')
def corrupt_records(tmp):
    folder, out = images(tmp + '/a'), tmp + '/o'
    clean(run([folder, '-d', 'fake', '--out', out] + list(FAST), tmp), 0)
    with open(out + '/raw/fake.jsonl', 'ab') as f:
        f.write(b'\xff\xfe not json\n')
    clean(run([folder, '-d', 'fake', '--out', out] + list(FAST), tmp), 2, 'fake.jsonl')
    clean(score([out], tmp), 2, 'fake.jsonl')
    clean(run([folder, '-d', 'fake', '--out', out, '--force'] + list(FAST), tmp), 0)
    check(rows(out, 'fake') == {'im0.png': 1, 'im1.png': 1, 'im2.png': 1}, rows(out, 'fake'))


@case('B run folder')
def corrupt_timings_and_skipped(tmp):
    folder, out = images(tmp + '/a'), tmp + '/o'
    clean(run([folder, '-d', 'fake', '--out', out, '--no-progress', '--repeats', '1'], tmp), 0)
    for name in ('timings.csv', 'skipped.csv'):
        with open(out + '/raw/' + name, 'w') as f:
            f.write('garbage\n1,2,3\n')
    clean(score([out], tmp), 2, 'raw/')
    clean(run([folder, '-d', 'fake', '--out', out, '--no-progress', '--repeats', '1'], tmp), 0)


@case('B run folder')
def force_keeps_results_it_cannot_redo(tmp):
    folder, out = images(tmp + '/a'), tmp + '/o'
    clean(run([folder, '-d', 'fake:1,name=a', '-d', 'fake:2,name=b', '--out', out] + list(FAST),
              tmp), 0)
    result = run([folder, '-d', 'fake:1,name=a', '-d', 'fake:2,name=b,fail=gone', '--out', out,
                  '--force'] + list(FAST), tmp)
    clean(result, 3)
    check(len(rows(out, 'b')) == 3, 'b lost its results: {}'.format(rows(out, 'b')))


@case('B run folder')
def exit_status_detector_failed_to_load(tmp):
    folder, out = images(tmp + '/a'), tmp + '/o'
    err = clean(run([folder, '-d', 'fake', '-d', 'fake:1,name=b,fail=x', '--out', out] +
                    list(FAST), tmp), 3)
    check('done:' not in err, '"done" printed')


@case('B run folder')
def exit_status_no_result(tmp):
    folder, out = tmp + '/a', tmp + '/o'
    os.makedirs(folder)
    for i in range(2):
        with open('{}/bad{}.png'.format(folder, i), 'wb') as f:
            f.write(b'not a png')
    result = run([folder, '-d', 'fake', '--out', out] + list(FAST), tmp)
    check(result[0] not in (0, None), 'exit {}'.format(result[0]))
    check('Traceback' not in result[2] and 'done:' not in result[2], result[2][-300:])
    if os.path.exists(out + '/meta.json'):
        check(json.load(open(out + '/meta.json'))['state'] != 'running', 'state running')


@case('B run folder')
def exit_status_failed_midway(tmp):
    folder, out = images(tmp + '/a'), tmp + '/o'
    os.makedirs(tmp + '/shim')
    with open(tmp + '/shim/sitecustomize.py', 'w') as f:
        f.write('from compare.adapters import fake\n_p = fake.FakeAdapter.predict\n'
                'def predict(self, images):\n'
                '    if self.name == "b":\n'
                '        self.calls = getattr(self, "calls", 0) + 1\n'
                '        if self.calls == 2:\n'
                '            raise RuntimeError("boom")\n'
                '    return _p(self, images)\nfake.FakeAdapter.predict = predict\n')
    env = dict(ENV, PYTHONPATH=tmp + '/shim' + os.pathsep + ENV['PYTHONPATH'])
    err = clean(run([folder, '-d', 'fake', '-d', 'fake:1,name=b', '--out', out] + list(FAST),
                    tmp, env=env), 3)
    check('done:' not in err, '"done" printed')


# -- C. every user mistake is one line -----------------------------------------------------

def _annotated(tmp, objects_per_image, names=('cat',)):
    folder = images(tmp + '/a')
    os.makedirs(folder + '/Annotations')
    for i in range(3):
        voc_xml('{}/Annotations/im{}.xml'.format(folder, i),
                [(names[k % len(names)], box) for k, box in enumerate(objects_per_image)],
                'im{}.png'.format(i))
    return folder


@case('C user mistakes')
def score_negative_images_only(tmp):
    folder = _annotated(tmp, [])
    err = clean(run([folder, '-d', 'fake', '--out', tmp + '/o', '--no-progress', '--no-speed'],
                    tmp), 0)
    check(table(tmp + '/o', 'agreement_summary') is not None, 'no agreement table')
    check('max() arg' not in err, err[-200:])


@case('C user mistakes')
def score_classes_nobody_names(tmp):
    folder = _annotated(tmp, [(1, 1, 10, 10)], names=('zebra_unicorn',))
    clean(run([folder, '-d', 'fake', '--out', tmp + '/o', '--no-progress', '--no-speed'], tmp),
          0)
    check(table(tmp + '/o', 'agreement_summary') is not None, 'no agreement table')


@case('C user mistakes')
def score_all_boxes_invalid(tmp):
    folder = _annotated(tmp, [(10, 10, 5, 5), (500, 500, 600, 600)])
    clean(run([folder, '-d', 'fake', '--out', tmp + '/o', '--no-progress', '--no-speed'], tmp),
          0)
    check(table(tmp + '/o', 'agreement_summary') is not None, 'no agreement table')


def _coco(tmp, mutate):
    folder = images(tmp + '/a')
    data = {'images': [{'id': i, 'file_name': 'im{}.png'.format(i), 'height': 20, 'width': 30}
                       for i in range(3)],
            'categories': [{'id': 1, 'name': 'cat'}],
            'annotations': [{'id': 1, 'image_id': 0, 'category_id': 1, 'bbox': [1, 1, 5, 5]}]}
    mutate(data)
    with open(tmp + '/coco.json', 'w') as f:
        json.dump(data, f)
    return folder


def _coco_case(tmp, mutate, *fragments):
    folder = _coco(tmp, mutate)
    clean(run([folder, '-d', 'fake', '--out', tmp + '/o', '--annotations', tmp + '/coco.json']
              + list(FAST), tmp), 2, 'coco.json', *fragments)


def _annotation_case(tmp, name, content, *fragments, count=3, timeout=120):
    """``content`` (str or bytes) written to ``tmp/name`` and passed as
    --annotations: exit 2, one line naming the file (and ``fragments``)."""
    with open(os.path.join(tmp, name), 'wb' if isinstance(content, bytes) else 'w') as f:
        f.write(content)
    clean(run([images(tmp + '/a', count), '-d', 'fake', '--out', tmp + '/o', '--annotations',
               os.path.join(tmp, name)] + list(FAST), tmp, timeout=timeout), 2, name, *fragments)


@case('C user mistakes')
def coco_bbox_three_values(tmp):
    _coco_case(tmp, lambda d: d['annotations'][0].update(bbox=[1, 2, 3]), 'bbox')


@case('C user mistakes')
def coco_bbox_null(tmp):
    _coco_case(tmp, lambda d: d['annotations'][0].update(bbox=None), 'bbox')


@case('C user mistakes')
def coco_images_null(tmp):
    _coco_case(tmp, lambda d: d.update(images=None), 'images')


@case('C user mistakes')
def coco_missing_file_name(tmp):
    _coco_case(tmp, lambda d: d['images'][1].pop('file_name'), 'file_name')


@case('C user mistakes')
def coco_ids_do_not_match(tmp):
    _coco_case(tmp, lambda d: d['annotations'][0].update(image_id=77), 'image_id')


@case('C user mistakes')
def coco_height_text(tmp):
    _coco_case(tmp, lambda d: d['images'][0].update(height='tall'), 'height')


@case('C user mistakes')
def coco_top_level_list(tmp):
    _coco_case(tmp, lambda d: (d.clear()), 'images')


@case('C user mistakes')
def voc_xml_bad_number(tmp):
    _annotation_case(tmp, 'x.xml', '<annotation><object><name>cat</name><bndbox><xmin>a</xmin>'
                     '<ymin>1</ymin><xmax>3</xmax><ymax>3</ymax></bndbox></object></annotation>',
                     'xmin')


@case('C user mistakes')
def voc_xml_truncated(tmp):
    _annotation_case(tmp, 'x.xml', '<annotation><object><name>cat</name><bnd')


@case('C user mistakes')
def broken_annotation_beside_images(tmp):
    folder = images(tmp + '/a')
    with open(folder + '/annotations.json', 'w') as f:
        f.write('{"images": [1, 2')
    err = clean(run([folder, '-d', 'fake', '-d', 'fake:1,name=b', '--out', tmp + '/o',
                     '--no-progress', '--repeats', '1'], tmp), 0)
    check(table(tmp + '/o', 'agreement_summary') is not None, 'no agreement table')
    check(table(tmp + '/o', 'speed') is not None, 'no speed table')
    check('annotations.json' in err, 'broken file not named: ' + err[-300:])


@case('C user mistakes')
def annotations_none(tmp):
    folder = images(tmp + '/a')
    with open(folder + '/annotations.json', 'w') as f:
        f.write('{"images": [1, 2')
    err = clean(run([folder, '-d', 'fake', '--out', tmp + '/o', '--no-progress', '--no-speed',
                     '--annotations', 'none'], tmp), 0)
    check('annotations.json' not in err, 'looked up anyway')
    err = clean(score([tmp + '/o', '--annotations', 'none'], tmp), 0)
    check('annotations.json' not in err, 'score looked up anyway')


@case('C user mistakes')
def non_utf8_file_name(tmp):
    folder = images(tmp + '/a')
    shutil.copy(folder + '/im0.png', os.fsencode(folder) + b'/bad\xff.png')
    clean(run([folder, '-d', 'fake', '--out', tmp + '/o', '--no-progress', '--no-speed'], tmp),
          0)
    check(len(rows(tmp + '/o', 'fake')) == 3, rows(tmp + '/o', 'fake'))
    skipped = open(tmp + '/o/raw/skipped.csv', encoding='utf-8').read()
    check('bad' in skipped, 'not in skipped.csv: ' + skipped)


@case('C user mistakes')
def named_pipe_image(tmp):
    folder = images(tmp + '/a')
    os.mkfifo(folder + '/x.jpg')
    clean(run([folder, '-d', 'fake', '--out', tmp + '/o', '--no-progress', '--no-speed'], tmp,
              timeout=60), 0)
    check('x.jpg' in open(tmp + '/o/raw/skipped.csv').read(), 'fifo not in skipped.csv')


@case('C user mistakes')
def device_symlink_image(tmp):
    folder = images(tmp + '/a')
    os.symlink('/dev/zero', folder + '/zero.jpg')
    clean(run([folder, '-d', 'fake', '--out', tmp + '/o', '--no-progress', '--no-speed'], tmp,
              timeout=60), 0)
    check('zero.jpg' in open(tmp + '/o/raw/skipped.csv').read(), 'device not in skipped.csv')


@case('C user mistakes')
def directory_named_like_image(tmp):
    folder = images(tmp + '/a')
    os.makedirs(folder + '/dir.jpg')
    clean(run([folder, '-d', 'fake', '--out', tmp + '/o', '--no-progress', '--no-speed'], tmp),
          0)
    check(len(rows(tmp + '/o', 'fake')) == 3, rows(tmp + '/o', 'fake'))


@case('C user mistakes')
def symlink_loops(tmp):
    folder = images(tmp + '/a')
    os.symlink('loop.jpg', folder + '/loop.jpg')
    os.symlink('.', folder + '/sub')
    os.symlink('../a', folder + '/up.png')
    clean(run([folder, '-d', 'fake', '--out', tmp + '/o', '--no-progress', '--no-speed'], tmp,
              timeout=60), 0)
    check(len(rows(tmp + '/o', 'fake')) == 3, rows(tmp + '/o', 'fake'))
    check('loop.jpg' in open(tmp + '/o/raw/skipped.csv').read(), 'loop not in skipped.csv')


@case('C user mistakes')
def huge_batch_size(tmp):
    clean(run([images(tmp + '/a', 1), '-d', 'fake', '--out', tmp + '/o', '--batch-sizes',
               '20000', '--no-progress'], tmp, timeout=60), 2, '--batch-sizes')


@case('C user mistakes')
def huge_repeats(tmp):
    clean(run([images(tmp + '/a', 1), '-d', 'fake', '--out', tmp + '/o', '--repeats',
               '100000000', '--no-progress'], tmp, timeout=60), 2, '--repeats')


@case('C user mistakes')
def xml_200000_boxes(tmp):
    body = '<object><name>cat</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>5</xmax>' \
           '<ymax>5</ymax></bndbox></object>'
    _annotation_case(tmp, 'big.xml', '<annotation><filename>im0.png</filename>' +
                     body * 200000 + '</annotation>', count=1, timeout=90)


def _cache_root(tmp):
    folder = os.path.join(tmp, 'root', 'pfnet', 'chainercv', 'models')
    os.makedirs(folder)
    return folder


@case('C user mistakes')
def half_downloaded_cached_weights(tmp):
    folder = _cache_root(tmp)
    path = os.path.join(folder, 'ssd300_voc0712_converted_2017_06_06.npz')
    with open(os.path.join(ROOT, 'tests', 'fixtures', 'parity_chainercv_random_b2.npz'),
              'rb') as f:
        data = f.read()
    with open(path, 'wb') as f:
        f.write(data[:len(data) // 3])
    env = dict(ENV, CHAINER_DATASET_ROOT=tmp + '/root')
    result = run([images(tmp + '/a', 1), '-d', 'ours:voc0712', '--out', tmp + '/o'] +
                 list(FAST), tmp, env=env)
    clean(result, 2)
    line = [x for x in result[2].splitlines() if path in x]
    check(line and 'delete' in line[0], 'file or "delete" not named: ' + result[2][-400:])


@case('C user mistakes')
def nan_weights(tmp):
    sys.path.insert(0, ROOT)
    import chainer

    from replicate import SSD300
    from replicate.ssd.weights import seeded_random_weights
    model = seeded_random_weights(SSD300(n_fg_class=20), seed=0)
    model.extractor.conv1_1.W.array[0, 0, 0, 0] = np.nan
    chainer.serializers.save_npz(tmp + '/nan.npz', model)
    result = run([images(tmp + '/a', 1), '-d', 'ours:' + tmp + '/nan.npz', '--out',
                  tmp + '/o'] + list(FAST), tmp)
    clean(result, 2)
    check('NaN' in result[2] or 'finite' in result[2], result[2][-300:])


@case('C user mistakes')
def read_only_out(tmp):
    os.makedirs(tmp + '/ro')
    os.chmod(tmp + '/ro', 0o555)
    try:
        if os.access(tmp + '/ro', os.W_OK):
            return  # running as root: nothing is read-only
        clean(run([images(tmp + '/a', 1), '-d', 'fake', '--out', tmp + '/ro/run'] + list(FAST),
                  tmp), 2, 'ro')
        clean(run([images(tmp + '/a', 1), '-d', 'fake', '--out', tmp + '/ro'] + list(FAST),
                  tmp), 2, 'ro')
    finally:
        os.chmod(tmp + '/ro', 0o755)


@case('C user mistakes')
def out_is_a_file(tmp):
    open(tmp + '/file', 'w').close()
    clean(run([images(tmp + '/a', 1), '-d', 'fake', '--out', tmp + '/file'] + list(FAST), tmp),
          2, 'file')


@case('C user mistakes')
def out_under_a_file(tmp):
    open(tmp + '/file', 'w').close()
    clean(run([images(tmp + '/a', 1), '-d', 'fake', '--out', tmp + '/file/run'] + list(FAST),
              tmp), 2, 'file')


@case('C user mistakes')
def dot_detector_name(tmp):
    clean(run([images(tmp + '/a', 1), '-d', 'fake,name=.hidden', '--out', tmp + '/o'] +
              list(FAST), tmp), 2, '.hidden')


@case('C user mistakes')
def reserved_detector_name(tmp):
    clean(run([images(tmp + '/a', 1), '-d', 'fake,name=annotations', '--out', tmp + '/o'] +
              list(FAST), tmp), 2, 'annotations')


@case('C user mistakes')
def long_detector_name(tmp):
    clean(run([images(tmp + '/a', 1), '-d', 'fake,name=' + 'x' * 300, '--out', tmp + '/o'] +
              list(FAST), tmp), 2, 'name')


@case('C user mistakes')
def score_missing_folder(tmp):
    clean(score([tmp + '/nope'], tmp), 2, 'nope')


@case('C user mistakes')
def score_a_file(tmp):
    open(tmp + '/f', 'w').close()
    clean(score([tmp + '/f'], tmp), 2, 'f')


@case('C user mistakes')
def score_bad_annotations(tmp):
    folder, out = images(tmp + '/a'), tmp + '/o'
    clean(run([folder, '-d', 'fake', '--out', out] + list(FAST), tmp), 0)
    with open(tmp + '/bad.json', 'w') as f:
        f.write('{"images": [{"id": 1}], "categories": [], "annotations": []}')
    clean(score([out, '--annotations', tmp + '/bad.json'], tmp), 2, 'bad.json')
    check(table(out, 'agreement_summary') is not None, 'no agreement table')


@case('C user mistakes')
def float_image(tmp):
    folder = images(tmp + '/a')
    Image.fromarray(np.full((8, 8), np.nan, np.float32), mode='F').save(folder + '/nan.tif')
    clean(run([folder, '-d', 'fake', '--out', tmp + '/o', '--no-progress', '--no-speed'], tmp),
          0)
    check('nan.tif' in open(tmp + '/o/raw/skipped.csv').read(), 'float image not skipped')


@case('C user mistakes')
def images_folder_unreadable(tmp):
    folder = images(tmp + '/a')
    os.chmod(folder, 0o000)
    try:
        if os.access(folder, os.R_OK):
            return
        clean(run([folder, '-d', 'fake', '--out', tmp + '/o'] + list(FAST), tmp), 2, 'a')
    finally:
        os.chmod(folder, 0o755)


@case('C user mistakes')
def interrupted_then_sigterm(tmp):
    folder, out = images(tmp + '/a', count=8), tmp + '/o'
    proc = subprocess.Popen([sys.executable, RUN, folder, '-d', 'fake:0,delay=0.3', '--out',
                             out] + list(FAST), cwd=tmp, env=ENV, stderr=subprocess.PIPE,
                            text=True)
    start = time.time()
    while len(rows(out, 'fake')) < 2 and time.time() - start < 60:
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    check('Traceback' not in err, 'traceback on SIGTERM')
    clean(run([folder, '-d', 'fake:0', '--out', out] + list(FAST), tmp), 0)
    check(rows(out, 'fake') == {'im{}.png'.format(i): 1 for i in range(8)}, rows(out, 'fake'))


# -- more of each class ------------------------------------------------------------

@case('A untrusted files')
def zoo_absolute_member(tmp):
    cache = _zoo(tmp, [_member('evil/saved_model/saved_model.pb'),
                       _member(tmp + '/abs_planted.txt')])
    clean(run([images(tmp + '/i', 1), '-d', 'tfzoo:evil', '-d', 'fake', '--tf-zoo-dir', cache,
               '--out', tmp + '/o'] + list(FAST), tmp), 3)
    check(not os.path.exists(tmp + '/abs_planted.txt'), 'absolute member written')


@case('A untrusted files')
def zoo_member_bomb(tmp):
    cache = _zoo(tmp, [_member('evil/f{}'.format(i), b'') for i in range(10001)])
    err = clean(run([images(tmp + '/i', 1), '-d', 'tfzoo:evil', '-d', 'fake', '--tf-zoo-dir',
                     cache, '--out', tmp + '/o'] + list(FAST), tmp), 3)
    check('members' in err, err[-300:])
    check(not os.path.exists(os.path.join(cache, 'evil')), 'bomb extracted')


@case('A untrusted files')
def zoo_truncated_archive(tmp):
    cache = _zoo(tmp, [_member('evil/saved_model/saved_model.pb', os.urandom(200000))])
    path = os.path.join(cache, 'evil.tar.gz')
    data = open(path, 'rb').read()
    open(path, 'wb').write(data[:len(data) // 2])
    err = clean(run([images(tmp + '/i', 1), '-d', 'tfzoo:evil', '-d', 'fake', '--tf-zoo-dir',
                     cache, '--out', tmp + '/o'] + list(FAST), tmp), 3)
    check('evil.tar.gz' in err and 'delete' in err, err[-300:])


@case('A untrusted files')
def label_map_unclosed(tmp):
    export = os.path.join(ROOT, 'tests', 'fixtures', 'odapi_frozen', 'frozen_inference_graph.pb')
    with open(tmp + '/labels.pbtxt', 'w') as f:
        f.write('item { id: 1 name: "a" ' * 3)
    err = clean(run([images(tmp + '/i', 1), '-d', 'tf1:{},labels={}'.format(
        export, tmp + '/labels.pbtxt'), '-d', 'fake', '--out', tmp + '/o'] + list(FAST), tmp),
        3)
    check('labels.pbtxt' in err and 'traceback in' not in err, err[-300:])


@case('A untrusted files')
def odapi_pipeline_config_broken(tmp):
    source = os.path.join(ROOT, 'tests', 'fixtures', 'odapi_ssd_mobilenet_v2')
    for name, content in (('deep', b'a {' * 100000 + b'}' * 100000), ('bytes', b'\xff\xfe'),
                          ('cut', b'model { ssd { num_classes: 90 ')):
        export = os.path.join(tmp, name)
        shutil.copytree(source, export)
        with open(os.path.join(export, 'pipeline.config'), 'wb') as f:
            f.write(content)
        err = clean(run([images(tmp + '/i', 1), '-d', 'ours-odapi:' + export, '-d', 'fake',
                         '--out', tmp + '/o_' + name] + list(FAST), tmp), 3)
        check('pipeline.config' in err and 'traceback in' not in err, err[-300:])


@case('A untrusted files')
def frozen_graph_nan_constant(tmp):
    import tensorflow as tf
    graph_def = tf.compat.v1.GraphDef()
    with open(os.path.join(ROOT, 'tests', 'fixtures', 'odapi_frozen',
                           'frozen_inference_graph.pb'), 'rb') as f:
        graph_def.ParseFromString(f.read())
    for node in graph_def.node:
        if node.op == 'Const' and node.attr['dtype'].type == tf.float32.as_datatype_enum:
            value = tf.make_ndarray(node.attr['value'].tensor)
            if value.size > 10:
                value = value.copy()
                value.flat[0] = np.nan
                node.attr['value'].tensor.CopyFrom(tf.make_tensor_proto(value))
                break
    os.makedirs(tmp + '/g')
    with open(tmp + '/g/frozen_inference_graph.pb', 'wb') as f:
        f.write(graph_def.SerializeToString())
    err = clean(run([images(tmp + '/i', 1), '-d', 'tf1:{}/g/frozen_inference_graph.pb,labels=coco'
                     .format(tmp), '-d', 'fake', '--out', tmp + '/o'] + list(FAST), tmp), 3)
    check('NaN' in err, err[-300:])


@case('B run folder')
def score_while_running(tmp):
    folder, out = images(tmp + '/a', count=6), tmp + '/o'
    proc = subprocess.Popen([sys.executable, RUN, folder, '-d', 'fake:0,delay=3', '--out',
                             out] + list(FAST), cwd=tmp, env=ENV, stderr=subprocess.DEVNULL)
    start = time.time()
    while len(rows(out, 'fake')) < 1 and time.time() - start < 60:
        time.sleep(0.05)
    result = score([out], tmp)
    check(proc.poll() is None, 'inconclusive: the run ended before scoring was tried')
    clean(result, 2, 'in use')
    check(proc.wait(timeout=120) == 0, 'the run failed')


@case('B run folder')
def records_without_identity(tmp):
    folder, out = images(tmp + '/a'), tmp + '/o'
    clean(run([folder, '-d', 'fake', '--out', out] + list(FAST), tmp), 0)
    os.remove(out + '/raw/fake.identity.json')
    clean(run([folder, '-d', 'fake', '--out', out] + list(FAST), tmp), 2, 'fake', '--force')


@case('B run folder')
def identity_corrupt(tmp):
    folder, out = images(tmp + '/a'), tmp + '/o'
    clean(run([folder, '-d', 'fake', '--out', out] + list(FAST), tmp), 0)
    with open(out + '/raw/fake.identity.json', 'w') as f:
        f.write('[[[')
    clean(run([folder, '-d', 'fake', '--out', out] + list(FAST), tmp), 2, 'identity', '--force')
    clean(run([folder, '-d', 'fake', '--out', out, '--force'] + list(FAST), tmp), 0)
    check(rows(out, 'fake') == {'im0.png': 1, 'im1.png': 1, 'im2.png': 1}, rows(out, 'fake'))


@case('B run folder')
def meta_wrong_types(tmp):
    folder, out = images(tmp + '/a'), tmp + '/o'
    clean(run([folder, '-d', 'fake', '--out', out] + list(FAST), tmp), 0)
    meta = json.load(open(out + '/meta.json'))
    meta['detectors'] = 5
    json.dump(meta, open(out + '/meta.json', 'w'))
    clean(score([out], tmp), 2, 'meta.json')
    clean(run([folder, '-d', 'fake', '--out', out, '--force'] + list(FAST), tmp), 0)


@case('B run folder')
def raw_is_a_file(tmp):
    folder, out = images(tmp + '/a'), tmp + '/o'
    os.makedirs(out)
    open(out + '/raw', 'w').close()
    clean(run([folder, '-d', 'fake', '--out', out] + list(FAST), tmp), 2, 'raw')


@case('B run folder')
def records_file_is_a_folder(tmp):
    folder, out = images(tmp + '/a'), tmp + '/o'
    os.makedirs(out + '/raw/fake.jsonl')
    clean(run([folder, '-d', 'fake', '--out', out] + list(FAST), tmp), 2, 'fake.jsonl')


@case('B run folder')
def lock_is_a_folder(tmp):
    folder, out = images(tmp + '/a'), tmp + '/o'
    os.makedirs(out + '/lock')
    clean(run([folder, '-d', 'fake', '--out', out] + list(FAST), tmp), 2, 'lock')


@case('B run folder')
def nan_in_saved_record(tmp):
    folder, out = images(tmp + '/a'), tmp + '/o'
    clean(run([folder, '-d', 'fake', '--out', out] + list(FAST), tmp), 0)
    text = open(out + '/raw/fake.jsonl').read().replace('"score": 0.', '"score": NaN, "x": 0.', 1)
    open(out + '/raw/fake.jsonl', 'w').write(text)
    clean(score([out], tmp), 2, 'fake.jsonl')


@case('B run folder')
def counts_after_resume_with_deletion(tmp):
    folder, out = images(tmp + '/a', count=4), tmp + '/o'
    clean(run([folder, '-d', 'fake', '--out', out] + list(FAST), tmp), 0)
    os.remove(folder + '/im3.png')
    clean(run([folder, '-d', 'fake', '--out', out] + list(FAST), tmp), 0)
    meta = json.load(open(out + '/meta.json'))
    check(meta['detectors'][0]['images_done'] == 3, meta['detectors'][0]['images_done'])
    check(len(rows(out, 'fake')) == 3, rows(out, 'fake'))


@case('C user mistakes')
def annotations_folder_without_xml(tmp):
    os.makedirs(tmp + '/ann')
    clean(run([images(tmp + '/a'), '-d', 'fake', '--out', tmp + '/o', '--annotations',
               tmp + '/ann'] + list(FAST), tmp), 2, 'ann')


@case('C user mistakes')
def voc_xml_wrong_root(tmp):
    _annotation_case(tmp, 'x.xml', '<html><body/></html>')


@case('C user mistakes')
def voc_xml_bad_encoding(tmp):
    _annotation_case(tmp, 'x.xml',
                     b'<?xml version="1.0" encoding="utf-16"?><annotation></annotation>')


@case('C user mistakes')
def coco_json_not_utf8(tmp):
    _annotation_case(tmp, 'c.json', b'{"images": "\xff"}')


@case('C user mistakes')
def coco_bbox_strings(tmp):
    _coco_case(tmp, lambda d: d['annotations'][0].update(bbox=['1', '2', '3', '4']), 'bbox')


@case('C user mistakes')
def coco_bbox_infinite(tmp):
    folder = _coco(tmp, lambda d: None)
    text = open(tmp + '/coco.json').read().replace('[1, 1, 5, 5]', '[1, 1, Infinity, 5]')
    open(tmp + '/coco.json', 'w').write(text)
    clean(run([folder, '-d', 'fake', '--out', tmp + '/o', '--annotations', tmp + '/coco.json']
              + list(FAST), tmp), 2, 'bbox')


@case('C user mistakes')
def coco_duplicate_image_id(tmp):
    _coco_case(tmp, lambda d: d['images'][1].update(id=0), 'appears twice')


@case('C user mistakes')
def zero_byte_and_bomb_images(tmp):
    folder = images(tmp + '/a')
    open(folder + '/empty.png', 'wb').close()
    Image.new('1', (20000, 20000)).save(folder + '/bomb.png')
    clean(run([folder, '-d', 'fake', '--out', tmp + '/o', '--no-progress', '--no-speed'], tmp),
          0)
    skipped = open(tmp + '/o/raw/skipped.csv').read()
    check('empty.png' in skipped and 'bomb.png' in skipped, skipped)


@case('C user mistakes')
def bad_numbers_on_the_command_line(tmp):
    folder = images(tmp + '/a', 1)
    for extra, fragment in ((['--repeats', '-1'], '--repeats'), (['--warmup', '1000'],
                                                                 '--warmup'),
                            (['--batch-sizes', '0'], '--batch-sizes'),
                            (['--batch-sizes', ''], '--batch-sizes'),
                            (['--batch-sizes', '1,2,3,4,5,6,7,8,9'], '--batch-sizes'),
                            (['-d', 'fake,count=-1'], 'count'),
                            (['-d', 'fake,count=99999999'], 'count'),
                            (['-d', 'fake,delay=nan'], 'delay'),
                            (['-d', 'fake:x'], 'fake')):
        clean(run([folder, '--out', tmp + '/o'] + (['-d', 'fake'] if '-d' not in extra else [])
                  + extra + list(FAST), tmp), 2, fragment)


@case('C user mistakes')
def images_argument_is_a_file(tmp):
    clean(run([os.path.join(ROOT, 'images', 'camera.jpg'), '-d', 'fake', '--out', tmp + '/o'] +
              list(FAST), tmp), 2, 'camera.jpg')


@case('C user mistakes')
def out_is_the_images_folder(tmp):
    folder = images(tmp + '/a')
    clean(run([folder, '-d', 'fake', '--out', folder] + list(FAST), tmp), 2, 'images folder')


@case('C user mistakes')
def zoo_dir_is_a_file(tmp):
    open(tmp + '/zoofile', 'w').close()
    err = clean(run([images(tmp + '/a', 1), '-d', 'tfzoo:some_model', '-d', 'fake',
                     '--tf-zoo-dir', tmp + '/zoofile', '--out', tmp + '/o'] + list(FAST), tmp), 3)
    check('zoofile' in err and 'traceback in' not in err, err[-300:])


@case('C user mistakes')
def duplicate_names_by_case(tmp):
    clean(run([images(tmp + '/a', 1), '-d', 'fake,name=Model', '-d', 'fake:1,name=model',
               '--out', tmp + '/o'] + list(FAST), tmp), 2, 'model')


@case('C user mistakes')
def parity_bad_arguments(tmp):
    open(tmp + '/file', 'w').close()
    clean(run(['--batch', '100000'], tmp, module='replicate.parity'), 2, '--batch')
    clean(run(['--images', tmp + '/nope.png'], tmp, module='replicate.parity'), 2, 'nope.png')
    clean(run(['--out', tmp + '/file', '--batch', '1', '--only', 'mb_locs'], tmp,
              module='replicate.parity', timeout=300), 2, 'file')


@case('C user mistakes')
def python_api_nan_image(tmp):
    code = ('import numpy as np, replicate\n'
            'm = replicate.SSD300(n_fg_class=20)\n'
            'img = np.full((3, 20, 20), np.nan, np.float32)\n'
            'try:\n    m.predict([img])\nexcept replicate.InputError as e:\n'
            '    print("refused:", e)\n')
    done = subprocess.run([sys.executable, '-c', code], cwd=tmp, env=ENV, capture_output=True,
                          text=True, timeout=120)
    check('refused:' in done.stdout and 'NaN' in done.stdout, done.stdout + done.stderr[-300:])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--only', default='', help='run the cases whose class or name '
                        'contains this text')
    parser.add_argument('--keep', help='keep the cases\' folders under this folder')
    args = parser.parse_args(argv)
    tally = collections.OrderedDict()
    base = args.keep or tempfile.mkdtemp(prefix='hostile-')
    for klass, name, function in CASES:
        if args.only and args.only not in klass and args.only not in name:
            continue
        tmp = os.path.join(base, name)
        os.makedirs(tmp, exist_ok=True)
        start = time.time()
        try:
            function(tmp)
            outcome, detail = 'ok', ''
        except Failed as exc:
            outcome, detail = 'FAIL', str(exc)
        except Exception as exc:  # the check itself broke: count it as a failure
            outcome, detail = 'FAIL', 'check error {}: {}'.format(type(exc).__name__, exc)
        passed, total = tally.get(klass, (0, 0))
        tally[klass] = (passed + (outcome == 'ok'), total + 1)
        print('{:4} {:18} {:40} {:5.1f}s {}'.format(outcome, klass, name, time.time() - start,
                                                    ' '.join(detail.split())[:200]), flush=True)
    if not args.keep:
        shutil.rmtree(base, ignore_errors=True)
    print()
    for klass, (passed, total) in tally.items():
        print('{:20} {}/{} hold'.format(klass, passed, total))
    return 0 if all(p == t for p, t in tally.values()) else 1


if __name__ == '__main__':
    sys.exit(main())
