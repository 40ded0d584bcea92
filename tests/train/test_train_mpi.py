"""Data-parallel training with ChainerMN over MPI: 2 processes on this
machine. Skips, saying what to install, where MPI or mpi4py is missing
(``tox -e mpi`` installs mpi4py; MPI itself: ``apt-get install openmpi-bin``)."""
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
from trainhelp import TINY

MPIEXEC = shutil.which('mpiexec')
try:
    import mpi4py  # noqa: F401
    MPI4PY = True
except ImportError:
    MPI4PY = False

pytestmark = pytest.mark.skipif(
    not (MPIEXEC and MPI4PY),
    reason='needs mpiexec ({}) and mpi4py ({}): apt-get install openmpi-bin, then '
           'tox -e mpi (or pip install mpi4py)'.format(
               'found' if MPIEXEC else 'missing', 'found' if MPI4PY else 'missing'))

#: Open MPI refuses to run as root without these; abort every rank on an
#: uncaught exception instead of leaving the others in a collective.
ENV = {'OMPI_ALLOW_RUN_AS_ROOT': '1', 'OMPI_ALLOW_RUN_AS_ROOT_CONFIRM': '1',
       'CHAINERMN_FORCE_ABORT_ON_EXCEPTION': '1', 'OMPI_MCA_rmaps_base_oversubscribe': '1'}


def mpirun(argv, timeout=120):
    command = [MPIEXEC, '-n', '2', sys.executable, '-m', 'replicate.train'] + argv
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                          env=dict(os.environ, **ENV))


def digests(result):
    """{rank: parameter digest} printed by the workers."""
    assert result.returncode == 0, result.stdout + result.stderr
    found = dict(re.findall(r'rank (\d)/2: parameter digest (\w+)', result.stdout))
    assert sorted(found) == ['0', '1'], result.stdout
    return found


def test_two_processes_train_the_same_model_and_resume_exactly(shapes_voc, tmp_path):
    out = tmp_path / 'out'
    common = ['--train', shapes_voc, '--train-split', 'train', '--quiet', '--batch-size', '4',
              '--iterations', '4', '--eval-interval', '2', '--snapshot-interval', '2',
              '--log-interval', '1', '--communicator', 'naive'] + TINY
    result = mpirun(common + ['--out', str(out)])
    whole = digests(result)
    assert len(set(whole.values())) == 1, result.stdout
    assert 'validation 4 images, 2 worker(s)' in result.stdout
    assert sorted(os.listdir(out)) == ['log', 'model.npz', 'snapshot_iter_2.npz',
                                       'snapshot_iter_4.npz']
    resumed = digests(mpirun(common + ['--out', str(tmp_path / 'resumed'), '--resume',
                                       str(out / 'snapshot_iter_2.npz')]))
    assert resumed == whole
    with np.load(str(out / 'model.npz'), allow_pickle=False) as npz:
        assert all(np.isfinite(npz[k]).all() for k in npz.files if not k.startswith('__'))


def test_a_bad_input_stops_every_process_in_one_line(tmp_path):
    result = mpirun(['--train', str(tmp_path / 'nowhere'), '--communicator', 'naive',
                     '--quiet'], timeout=60)
    assert result.returncode == 2
    assert result.stderr.count('error: ') == 1, result.stderr
    assert str(tmp_path / 'nowhere') in result.stderr


def test_a_gpu_device_without_cupy_is_one_line_from_one_worker(shapes_voc, tmp_path):
    import chainer
    if chainer.backends.cuda.available:
        pytest.skip('CuPy is importable here: the device may be usable')
    result = mpirun(['--train', shapes_voc, '--train-split', 'train', '--quiet',
                     '--communicator', 'naive', '--device', '@cupy:0',
                     '--out', str(tmp_path / 'out')] + TINY)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if 'error:' in line]
    assert lines == ['error: --device @cupy:0: no usable CUDA GPU here (CuPy is not '
                     'importable); run on a GPU machine or use --device @numpy'], result.stderr
    assert 'Traceback' not in result.stderr
