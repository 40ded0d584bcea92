"""``python -m replicate.train`` names what is wrong with a file that is not
a readable .npz (--finetune-from, --resume) and with a GPU device that this
machine lacks: one line, exit code 2, no traceback."""
import os
import subprocess
import sys

import chainer
import numpy as np
import pytest
from trainhelp import TINY

from replicate.train import cli

NO_CUPY = not chainer.backends.cuda.available

#: (file content, what the one line must say)
BAD = [(b'garbage\n', 'not an .npz (zip) archive'),
       (b'', 'not an .npz (zip) archive (the file is empty)'),
       (b'PK\x03\x04 cut short', 'truncated or corrupt .npz (zip) archive')]


def run(capsys, *argv):
    code = cli.main(list(argv) + ['--quiet'] + TINY)
    return code, capsys.readouterr().err


def one_line(err, *parts):
    assert err.startswith('error: ') and err.count('\n') == 1, err
    assert 'Traceback' not in err and 'allow_pickle=False (expected' not in err, err
    for part in parts:
        assert part in err, (part, err)


@pytest.mark.parametrize('flag', ['--finetune-from', '--resume'])
@pytest.mark.parametrize('content, says', BAD)
def test_a_file_that_is_not_an_npz_is_named_as_such(capsys, shapes_voc, tmp_path, flag,
                                                     content, says):
    path = str(tmp_path / 'bad.npz')
    with open(path, 'wb') as f:
        f.write(content)
    code, err = run(capsys, '--train', shapes_voc, '--train-split', 'train', flag, path)
    assert code == 2
    one_line(err, path, says)
    assert 'pickled' not in err


@pytest.mark.parametrize('flag', ['--finetune-from', '--resume'])
def test_a_pickled_member_is_refused_as_such(capsys, shapes_voc, tmp_path, flag):
    path = str(tmp_path / 'evil.npz')
    np.savez(path, W=np.array([{'a': 1}], dtype=object))
    code, err = run(capsys, '--train', shapes_voc, '--train-split', 'train', flag, path)
    assert code == 2
    one_line(err, path, 'holds pickled Python objects; refused without unpickling anything')


@pytest.mark.skipif(not NO_CUPY, reason='CuPy is importable here: the device may be usable')
def test_a_gpu_device_without_cupy_is_one_line(shapes_voc, tmp_path):
    done = subprocess.run(
        [sys.executable, '-m', 'replicate.train', '--train', shapes_voc, '--train-split',
         'train', '--device', '@cupy:0', '--out', str(tmp_path / 'out'), '--quiet'] + TINY,
        capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert done.stderr == ('error: --device @cupy:0: no usable CUDA GPU here (CuPy is not '
                           'importable); run on a GPU machine or use --device @numpy\n')
    assert not os.path.exists(str(tmp_path / 'out'))
