"""Helpers of the hostile suite (tests/hostile): tiny images, the three
commands called in-process, the one-line check every refusal must pass, and a
forked run that can be killed or signalled mid-way.

The commands are called as ``main(argv)`` in this process (each subprocess
would pay ~3-5 s of imports); a case that needs a second process (kill -9,
SIGTERM) forks this one, which starts in milliseconds.
"""
import collections
import csv
import json
import os
import sys
import time

import numpy as np
from PIL import Image

from compare.run import main as run_main
from compare.runner.scoring import main as score_main
from replicate.parity import cli as parity_cli

#: Options of a run that detects and scores but does not time.
FAST = ['--no-progress', '--no-speed']


def images(folder, count=3, size=(20, 30), seed=0, prefix='im'):
    """``count`` random ``size`` (H, W) RGB PNG images ``<prefix><i>.png`` in
    ``folder`` (made if needed); returns ``folder`` as a str."""
    folder = str(folder)
    os.makedirs(folder, exist_ok=True)
    rng = np.random.RandomState(seed)
    for i in range(count):
        Image.fromarray(rng.randint(0, 255, tuple(size) + (3,), np.uint8)).save(
            os.path.join(folder, '{}{}.png'.format(prefix, i)))
    return folder


def _call(function, capsys, args):
    capsys.readouterr()  # what earlier steps printed is not this call's
    code = function([str(a) for a in args])
    return code, capsys.readouterr().err


def run(capsys, *args):
    """``(exit status, stderr)`` of ``compare/run.py args``, in-process."""
    return _call(run_main, capsys, args)


def score(capsys, *args):
    """``(exit status, stderr)`` of ``python -m compare.score args``, in-process."""
    return _call(score_main, capsys, args)


def parity(capsys, *args):
    """``(exit status, stderr)`` of ``python -m replicate.parity args``, in-process."""
    return _call(parity_cli.main, capsys, args)


def clean(result, code, *fragments):
    """Assert ``result`` (exit status, stderr) exited ``code`` without a
    traceback; for code 2, stderr holds exactly one ``error: `` line and it
    holds every one of ``fragments``; for another code each fragment is
    somewhere in stderr. Returns stderr."""
    status, err = result
    assert 'Traceback' not in err, err[-2000:]
    assert status == code, (status, err[-2000:])
    if code == 2:
        lines = [line for line in err.splitlines() if line.startswith('error: ')]
        assert len(lines) == 1, err[-2000:]
        for fragment in fragments:
            assert str(fragment) in lines[0], (fragment, lines[0])
    else:
        for fragment in fragments:
            assert str(fragment) in err, (fragment, err[-2000:])
    return err


def rows(run_dir, detector):
    """``{image: number of records}`` of raw/<detector>.jsonl (complete lines only)."""
    path = os.path.join(str(run_dir), 'raw', detector + '.jsonl')
    if not os.path.exists(path):
        return {}
    with open(path, 'rb') as f:
        lines = f.read().split(b'\n')[:-1]
    return dict(collections.Counter(json.loads(line)['image'] for line in lines))


def every(count):
    """``{'im0.png': 1, ...}``: one record for each of ``count`` images."""
    return {'im{}.png'.format(i): 1 for i in range(count)}


def table(run_dir, name):
    """The rows of ``<run_dir>/<name>.csv`` as dicts, or None if it was not written."""
    path = os.path.join(str(run_dir), name + '.csv')
    if not os.path.exists(path):
        return None
    with open(path, newline='') as f:
        return list(csv.DictReader(f))


def forked_run(args, stderr_path):
    """Start ``compare/run.py args`` in a forked child whose stderr goes to
    ``stderr_path``; returns its pid. The child exits with the command's status."""
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 1
        try:
            fd = os.open(str(stderr_path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.dup2(fd, 2)
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, 1)
            sys.stderr = os.fdopen(2, 'w', buffering=1)
            sys.stdout = os.fdopen(1, 'w')
            code = run_main([str(a) for a in args])
        finally:
            os._exit(code if isinstance(code, int) else 1)
    return pid


def wait_for_rows(pid, run_dir, detector, count, limit=60):
    """Wait until raw/<detector>.jsonl holds ``count`` images (the child ``pid``
    still running); AssertionError after ``limit`` seconds or if it ended."""
    start = time.time()
    while time.time() - start < limit:
        if len(rows(run_dir, detector)) >= count:
            return
        done, _ = os.waitpid(pid, os.WNOHANG)
        assert done == 0, 'the run ended before {} records were written'.format(count)
        time.sleep(0.02)
    raise AssertionError('no {} records after {} s'.format(count, limit))


def exit_status(pid, limit=60):
    """The exit status of child ``pid`` (waited for up to ``limit`` s);
    ``-signal`` if a signal ended it."""
    start = time.time()
    while time.time() - start < limit:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.02)
    raise AssertionError('child {} still running after {} s'.format(pid, limit))
