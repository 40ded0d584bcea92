"""Settings every test folder shares.

The default run (``tox``) starts one pytest-xdist worker per core. A BLAS
thread pool of the cores' size in each worker oversubscribes the cores:
OpenBLAS threads spin while they wait, and on 2 cores the default run took
246 s with a pool of 2 per worker and 217 s with 1. So each worker, and the
processes its tests start, computes on one BLAS / OpenMP thread, unless the
variables are set already. A test that needs another count sets it itself
(``tests/compare/test_rerun_clean.py`` runs the sample with 1 and 2).

Files that share an expensive session fixture are marked
``pytest.mark.xdist_group(NAME)`` and run on one worker (see
:func:`pytest_xdist_make_scheduler`).
"""
import functools
import os
import re

import pytest

if 'PYTEST_XDIST_WORKER' in os.environ and 'OPENBLAS_NUM_THREADS' not in os.environ:
    os.environ['OPENBLAS_NUM_THREADS'] = '1'
    os.environ.setdefault('OMP_NUM_THREADS', '1')
    import threadpoolctl  # numpy may be loaded already: its pool is set now

    threadpoolctl.threadpool_limits(1)


#: A test file's group, as its ``pytestmark`` names it.
_GROUP = re.compile(r"pytest\.mark\.xdist_group\('([\w-]+)'\)")


@functools.lru_cache(maxsize=None)
def _file_group(path):
    """The ``xdist_group`` a test file's source names; ``'tf'`` for a file
    marked ``tf`` (TensorFlow's import, ~10 s, paid by one worker); None."""
    try:
        with open(path, encoding='utf-8') as f:
            source = f.read()
    except OSError:
        return None
    found = _GROUP.search(source)
    if found:
        return found.group(1)
    return 'tf' if re.search(r'pytest\.mark\.tf\b', source) else None


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """``--dist loadgroup`` that keeps each file on one worker, as ``loadfile``
    does, and the files marked with one ``xdist_group`` on one worker: files
    that share an expensive session fixture (an SSD300 pair on seeded
    weights, a loaded TF export) name one group, so one worker builds it.

    The group is read from the file's source, not from the node id: with
    pytest 9, pytest-xdist 3.8's workers no longer append ``@group`` to node
    ids, so its own loadgroup puts every test in a scope of its own."""
    if config.getvalue('dist') != 'loadgroup':
        return None
    from xdist.scheduler import LoadGroupScheduling

    class FileOrGroupScheduling(LoadGroupScheduling):
        def _split_scope(self, nodeid):
            path = nodeid.split('::', 1)[0]
            return _file_group(str(config.rootpath / path)) or path

    return FileOrGroupScheduling(config, log)
