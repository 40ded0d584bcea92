"""replicate.compat: active exactly under numpy 2, and each stand-in behaves
like what it replaces (the parts Chainer 7.8.1 calls).

Runs in both environments: ``tox -e py310`` (numpy 1.26: nothing may be
touched) and ``tox -e py312`` (numpy 2: Chainer must import and run).
"""
import sys

import chainer
import chainer.functions as F
import numpy as np
import pytest

import replicate.compat as compat

NUMPY2 = int(np.__version__.split('.')[0]) >= 2


@pytest.mark.skipif(NUMPY2, reason='numpy 1 only')
def test_does_nothing_under_numpy_1():
    assert not compat.NEEDED and compat.RESTORED == []
    assert 'float' not in vars(np)  # numpy 1.26 has no np.float either: left so
    assert compat.apply() == []


@pytest.mark.skipif(not NUMPY2, reason='numpy 2 only')
def test_restores_what_chainer_needs_under_numpy_2():
    assert compat.NEEDED
    assert {'numpy.sctypes', 'numpy.float', 'numpy.distutils.system_info'} <= \
        set(compat.RESTORED)
    assert 'chainer' in sys.modules and chainer.__version__ == '7.8.1'
    before = list(compat.RESTORED)
    assert compat.apply() == before  # idempotent: nothing restored twice


def test_sctypes_as_numpy_1_had_them():
    sctypes = compat._sctypes()
    assert [t().itemsize for t in sctypes['int']] == [1, 2, 4, 8]
    assert [t().itemsize for t in sctypes['uint']] == [1, 2, 4, 8]
    assert sctypes['float'][:3] == [np.float16, np.float32, np.float64]
    if not NUMPY2:  # the real one, where it exists, agrees
        assert {k: set(v) for k, v in sctypes.items()} == \
            {k: set(v) for k, v in np.sctypes.items()}


def test_numpy_distutils_stub_reports_no_blas():
    package, system_info = compat._numpy_distutils()
    assert package.system_info is system_info
    assert system_info.get_info('blas_opt') == {}


def test_pkg_resources_stub_answers_chainers_check():
    pkg = compat._pkg_resources()
    pkg.require('numpy>=1.0')
    with pytest.raises(pkg.VersionConflict):
        pkg.require('numpy<1.0')
    with pytest.raises(pkg.DistributionNotFound):
        pkg.require('no-such-distribution-here>=1')
    assert pkg.get_distribution('numpy').version == np.__version__


def test_as_strided_runs():
    # F.as_strided built its index dtype table from np.sctypes at import
    s = F.as_strided(np.arange(6, dtype=np.float32), (2, 2), (1, 1)).array
    assert s.tolist() == [[0, 1], [1, 2]]


@pytest.mark.skipif(not NUMPY2, reason='numpy 1.24-1.26 lack np.float too; compat stays off')
def test_resize_images_runs_under_numpy_2():
    # F.resize_images passes dtype=numpy.float (unused by SSD300)
    x = np.arange(12, dtype=np.float32).reshape(1, 1, 3, 4)
    y = F.resize_images(x, (6, 8)).array
    assert y.shape == (1, 1, 6, 8) and y[0, 0, 0, 0] == 0 and y[0, 0, -1, -1] == 11


def test_cuda_report_says_which_path_chainer_takes():
    report = compat.cuda_report()
    assert set(report) >= {'available', 'cudnn_enabled', 'cupy_cudnn'}
    if report['available'] == 'False':
        assert report['error']
