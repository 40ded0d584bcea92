"""Helpers of the black-box hunt tests (tests/hostile/test_hunt_*.py): tiny
images, in-process calls of each tool's ``main(argv)``, and the checks of the
house rules on a user error (exit 2, one ``error:`` line naming the culprit,
no traceback) and on a run folder's contents (nothing computed is lost)."""

import hashlib
import os
import shutil

import numpy as np
from PIL import Image

#: Options of a run that only detects (no progress bar, no timing, no scoring).
QUICK = ['--no-progress', '--no-speed', '--no-score']
#: A quick run that also scores.
SCORED = ['--no-progress', '--no-speed']


def make_images(folder, count=2, size=(20, 30), seed=0, ext='png'):
    """``count`` random ``size`` (height, width) RGB images ``im<i>.<ext>`` in
    ``folder`` (created); returns ``str(folder)``."""
    os.makedirs(folder, exist_ok=True)
    rng = np.random.RandomState(seed)
    for i in range(count):
        Image.fromarray(rng.randint(0, 255, size + (3,), np.uint8)).save(
            os.path.join(folder, 'im{}.{}'.format(i, ext))
        )
    return str(folder)


def scored_fake_run(images, out):
    """Run the fake detector on ``images`` into ``out`` and score it, without
    annotations (the base run that cases copy and damage); returns ``out``."""
    from compare.run import main

    assert main([str(images), '-d', 'fake', '--out', str(out), '--annotations', 'none']
                + SCORED) == 0
    return out


def _call(fn, args, capsys):
    try:
        code = fn([str(a) for a in args])
    except SystemExit as exc:  # argparse ends with SystemExit
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    cap = capsys.readouterr()
    assert 'Traceback' not in cap.err, cap.err
    return code, cap.err, cap.out


def run(capsys, *args):
    """``(code, stderr, stdout)`` of ``compare/run.py args``, in-process."""
    from compare.run import main

    return _call(main, args, capsys)


def score(capsys, *args):
    """The same for ``python -m compare.score``."""
    from compare.runner.scoring import main

    return _call(main, args, capsys)


def merge(capsys, *args):
    """The same for ``python -m compare.merge``."""
    from compare.shards.merge import main

    return _call(main, args, capsys)


def export(capsys, *args):
    """The same for ``python -m compare.export``."""
    from compare.export.__main__ import main

    return _call(main, args, capsys)


def error_lines(err):
    """The ``error:`` lines of ``err``; argparse's own ``PROG: error: ...``
    (after its usage lines) counts as one too."""
    return [
        line
        for line in err.splitlines()
        if line.startswith('error:')
        or line.startswith(('python compare/run.py: error:', 'python -m compare.'))
        and ': error: ' in line
    ]


def assert_user_error(result, *names):
    """``result`` (code, err, out) is a user error: exit 2, exactly one
    ``error:`` line, which holds each of ``names`` (a file or option)."""
    code, err = result[0], result[1]
    lines = error_lines(err)
    assert code == 2 and len(lines) == 1, (code, err)
    for name in names:
        assert str(name) in lines[0], (name, lines[0])
    return lines[0]


def snapshot(folder):
    """``{relative path: sha256}`` of every regular file under ``folder``
    except the lock (it comes and goes with each run)."""
    out = {}
    for root, _, files in os.walk(folder):
        for name in files:
            path = os.path.join(root, name)
            rel = os.path.relpath(path, folder)
            if rel == 'lock' or os.path.islink(path) or not os.path.isfile(path):
                continue
            with open(path, 'rb') as f:
                out[rel] = hashlib.sha256(f.read()).hexdigest()
    return out


def assert_kept(before, folder, names=None):
    """Every file of ``before`` (a :func:`snapshot`) is still in ``folder``
    with the same content (only those under ``names`` prefixes, if given)."""
    after = snapshot(folder)
    for rel, digest in before.items():
        if names and not any(rel.startswith(n) for n in names):
            continue
        assert after.get(rel) == digest, rel


def copy_run(src, dst):
    """A copy of the run folder ``src`` at ``dst``; returns ``str(dst)``."""
    shutil.copytree(src, dst, symlinks=True)
    return str(dst)


def raw_files(run_dir):
    """The names of the files in ``run_dir/raw``."""
    return sorted(os.listdir(os.path.join(run_dir, 'raw')))


def records(run_dir, detector='fake'):
    """``{image: record}`` of ``run_dir/raw/<detector>.jsonl``."""
    import json

    out = {}
    with open(os.path.join(run_dir, 'raw', detector + '.jsonl'), encoding='utf-8') as f:
        for line in f:
            if line.strip():
                rec = json.loads(line)
                out[rec['image']] = rec
    return out


def skipped(run_dir):
    """``{image: reason}`` of ``run_dir/raw/skipped.csv`` (read as CSV)."""
    import csv

    with open(os.path.join(run_dir, 'raw', 'skipped.csv'), encoding='utf-8', newline='') as f:
        return {row['image']: row['reason'] for row in csv.DictReader(f)}
