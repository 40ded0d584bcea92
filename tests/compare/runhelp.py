"""Helpers of the tests that run ``compare/run.py`` in-process on tiny images
and read what it printed: the run-folder, user-mistake and annotation tests."""
import os

import numpy as np
from PIL import Image

from compare.run import main as run_compare

#: Options of a run that only detects (no progress bar, no timing, no scoring).
QUICK = ['--no-progress', '--no-speed', '--no-score']


def make_images(folder, count=3, seed=0):
    """``count`` random 16x12 PNG images ``im<i>.png`` in ``folder``; returns it."""
    os.makedirs(folder, exist_ok=True)
    rng = np.random.RandomState(seed)
    for i in range(count):
        Image.fromarray(rng.randint(0, 255, (12, 16, 3), np.uint8)).save(
            os.path.join(folder, 'im{}.png'.format(i)))
    return str(folder)


def main(capsys, *args):
    """``(exit status, stderr)`` of ``compare/run.py args`` in-process; never a traceback."""
    code = run_compare([str(a) for a in args])
    err = capsys.readouterr().err
    assert 'Traceback' not in err, err
    return code, err


def error_line(err):
    """The one ``error: `` line of ``err``."""
    (line,) = [line for line in err.splitlines() if line.startswith('error: ')]
    return line
