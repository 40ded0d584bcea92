"""``mpiexec -n 2 python compare/run.py IMAGES --out RUN``: two processes on
this machine give the tables one process gives, a failure on one rank ends
both in one line, keeping what the other computed, and a detector that fails
gives exit status 3, as in one run. Skips, saying what to
install, where mpiexec or mpi4py is missing (``tox -e mpi`` installs mpi4py;
MPI itself: ``apt-get install openmpi-bin libopenmpi-dev``)."""
import json
import os
import shutil
import subprocess
import sys

import pytest
from shardhelp import OPTIONS, assert_same_run, make_images

from compare import rundir
from compare.run import main as run_compare

MPIEXEC = shutil.which('mpiexec')
try:
    import mpi4py  # noqa: F401
    MPI4PY = True
except ImportError:
    MPI4PY = False

#: slow: tox -e mpi runs it; a default run never pays its ~30 s of process starts
pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    not (MPIEXEC and MPI4PY),
    reason='needs mpiexec ({}) and mpi4py ({}): apt-get install openmpi-bin libopenmpi-dev, '
           'then tox -e mpi (or pip install mpi4py)'.format(
               'found' if MPIEXEC else 'missing', 'found' if MPI4PY else 'missing'))]

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
#: Open MPI refuses to run as root without these; 2 ranks on any core count.
ENV = {'OMPI_ALLOW_RUN_AS_ROOT': '1', 'OMPI_ALLOW_RUN_AS_ROOT_CONFIRM': '1',
       'OMPI_MCA_rmaps_base_oversubscribe': '1', 'PYTHONWARNINGS': 'ignore'}


def mpirun(*args, timeout=180):
    command = [MPIEXEC, '-n', '2', sys.executable, os.path.join(ROOT, 'compare', 'run.py')]
    return subprocess.run(command + [str(a) for a in args], capture_output=True, text=True,
                          timeout=timeout, env=dict(os.environ, **ENV), cwd=ROOT)


def error_lines(result):
    return [line for line in result.stderr.splitlines() if line.startswith('error: ')]


def test_two_processes_give_the_tables_of_one(tmp_path):
    images = make_images(tmp_path)
    single, merged = str(tmp_path / 'single'), str(tmp_path / 'mpi')
    assert run_compare([images, '--out', single] + OPTIONS) == 0
    result = mpirun(images, '--out', merged, *OPTIONS)
    assert result.returncode == 0, result.stderr
    assert 'merged 2 shards into {} (10 images)'.format(merged) in result.stderr
    assert 'HEADLINE' in result.stderr and not error_lines(result)
    assert_same_run(single, merged)
    for k in (1, 2):
        info = json.load(open(os.path.join(rundir.shard_folder(merged, k, 2), 'raw', 'shard.json')))
        assert (info['k'], info['n'], info['listed_total']) == (k, 2, 10)


def test_a_failure_on_one_rank_ends_both_in_one_line_and_keeps_the_other(tmp_path):
    """Rank 1 cannot write its shard's skipped files (a folder in the way)
    after its images: rank 0 does its whole slice, then reports rank 1's
    error; once the folder is removed, the same command resumes (rank 0's
    records are not redone) and merges."""
    images = make_images(tmp_path)
    run_dir = str(tmp_path / 'mpi')
    second = rundir.shard_folder(run_dir, 2, 2)
    blocked = os.path.join(second, 'raw', 'skipped.csv')
    os.makedirs(blocked)
    result = mpirun(images, '--out', run_dir, *OPTIONS, timeout=120)
    assert result.returncode == 2, result.stderr
    assert len(error_lines(result)) == 1, result.stderr
    assert 'shard 2/2 (rank 1)' in error_lines(result)[0] and blocked in error_lines(result)[0]
    assert 'Traceback' not in result.stderr
    assert json.load(open(os.path.join(second, 'meta.json')))['state'] == 'failed'
    first = rundir.shard_folder(run_dir, 1, 2)
    assert json.load(open(os.path.join(first, 'meta.json')))['state'] == 'complete'
    assert not os.path.exists(os.path.join(run_dir, 'meta.json'))  # not merged
    before = [open(os.path.join(f, 'raw', 'fake.jsonl')).read() for f in (first, second)]
    assert all(before)
    os.rmdir(blocked)
    result = mpirun(images, '--out', run_dir, *OPTIONS)
    assert result.returncode == 0, result.stderr
    assert [open(os.path.join(f, 'raw', 'fake.jsonl')).read()
            for f in (first, second)] == before  # both resumed: no image run again
    assert json.load(open(os.path.join(run_dir, 'meta.json')))['state'] == 'complete'


def test_a_bad_argument_stops_every_rank_in_one_line(tmp_path):
    result = mpirun(tmp_path / 'nowhere', '--out', tmp_path / 'out', timeout=120)
    assert result.returncode == 2
    assert error_lines(result) == ['error: images folder {} does not exist; pass a folder of '
                                   'images (every rank)'.format(tmp_path / 'nowhere')]


def test_a_detector_failing_on_every_rank_gives_exit_status_3(tmp_path):
    """As one run: the others are merged and scored, the failed one is named."""
    images = make_images(tmp_path)
    run_dir = str(tmp_path / 'mpi')
    failing = [o.replace('name=other', 'name=other,fail=gone') for o in OPTIONS]
    result = mpirun(images, '--out', run_dir, '--no-score', *failing, timeout=120)
    assert result.returncode == 3, result.stderr
    assert not error_lines(result) and 'Traceback' not in result.stderr
    assert 'incomplete: {}: detector other failed: shard 1/2: fake detector asked to fail: ' \
        'gone (and in 1 other shard(s))'.format(run_dir) in result.stderr
    meta = json.load(open(os.path.join(run_dir, 'meta.json')))
    entries = {entry['name']: entry for entry in meta['detectors']}
    assert entries['fake']['status'] == 'ok' and entries['fake']['images_done'] == 9
    assert not entries['other']['loaded']
    assert not os.path.exists(os.path.join(run_dir, 'raw', 'other.jsonl'))
