"""Chainer 7.8.1 on numpy 2: the few old names it still looks up, and nothing more.

Chainer 7.8.1 (2020, the last release) predates numpy 2.0. Under numpy >= 2
``import chainer`` fails; on Python 3.12 it also needs ``pkg_resources``,
which recent setuptools (84.2, say) or none at all no longer provide. Every
name below was found by running Chainer on Python 3.12 with numpy 2.5 and
by reading its sources for every ``numpy.X`` it uses (2026-11). Each one is
restored only if it is missing, and the module does nothing at all under
numpy 1, where Chainer runs as it is (the Python 3.10 environment).

Not restored, because Chainer 7.8.1 does not need them: ``numpy.bool``
(numpy 2 has it again; Chainer names it in one docstring), ``numpy.int``,
``numpy.complex``, ``numpy.object``, ``numpy.str`` (referenced nowhere in
the installed packages chainer, chainerx, chainermn and onnx_chainer).

:func:`apply` runs when this module is imported; ``replicate/__init__.py``
imports it before anything imports Chainer, so ``import replicate`` (or any
``replicate.*`` module) is enough. Code that imports Chainer without
importing ``replicate`` first must ``import replicate.compat`` itself.

What Chainer does on CuPy 14 needs nothing from here: CuPy 14 has no cuDNN
module (``cupy.cudnn`` was removed), so ``chainer.backends.cuda.cudnn_enabled``
is ``False`` and Chainer takes its own non-cuDNN GPU paths (convolutions as
im2col + cuBLAS GEMM, its own pooling and activation kernels); every other
CuPy name Chainer 7.8.1 touches still exists in CuPy 14 (``cupy._util`` is
tried before the removed ``cupy.util``). :func:`cuda_report` says which path
a process takes.
"""
import importlib.util
import sys
import types

import numpy

#: True where this module changes anything: numpy 2 or later.
NEEDED = int(numpy.__version__.split('.')[0]) >= 2

#: What :func:`apply` restored in this process, by name (empty under numpy 1).
RESTORED = []


def _sctypes():
    """``numpy.sctypes`` as numpy 1.26 defined it (removed in numpy 2.0).

    Chainer uses ``sctypes['int']`` (``F.as_strided``, at import: the int type
    of each item size) and ``sctypes['float']`` (its backward's dtype check).
    ``longdouble`` and ``clongdouble`` are listed as numpy 1 listed them on
    Linux (equal to the tests' ``numpy.sctypes`` under numpy 1.26)."""
    return {
        'int': [numpy.int8, numpy.int16, numpy.int32, numpy.int64],
        'uint': [numpy.uint8, numpy.uint16, numpy.uint32, numpy.uint64],
        'float': [numpy.float16, numpy.float32, numpy.float64, numpy.longdouble],
        'complex': [numpy.complex64, numpy.complex128, numpy.clongdouble],
        'others': [bool, object, bytes, str, numpy.void],
    }


def _numpy_distutils():
    """Stub modules ``numpy.distutils`` and ``numpy.distutils.system_info``
    (numpy.distutils is gone in numpy 2 on Python >= 3.12).

    Chainer imports ``numpy.distutils.system_info`` at import and calls
    ``get_info('blas_opt')`` only on macOS, to warn about Accelerate; an
    empty dict means "no BLAS information", so no warning."""
    package = types.ModuleType('numpy.distutils')
    package.__path__ = []  # a package, so the submodule import resolves
    system_info = types.ModuleType('numpy.distutils.system_info')
    system_info.get_info = lambda name, notfound_action=0: {}
    package.system_info = system_info
    return package, system_info


def _pkg_resources():
    """A stub ``pkg_resources`` (recent setuptools dropped it) with the four
    names Chainer's import-time check of its optional dependencies (CuPy and
    iDeep versions) calls: ``require``, ``get_distribution``,
    ``DistributionNotFound`` and ``VersionConflict``, answered from
    ``importlib.metadata`` (and ``packaging`` for the version specifier)."""
    from importlib import metadata

    module = types.ModuleType('pkg_resources')

    class DistributionNotFound(Exception):
        pass

    class VersionConflict(Exception):
        pass

    def get_distribution(name):
        try:
            return types.SimpleNamespace(project_name=name, version=metadata.version(name))
        except metadata.PackageNotFoundError:
            raise DistributionNotFound(name) from None

    def require(requirement):
        from packaging.requirements import Requirement
        req = Requirement(requirement)
        version = get_distribution(req.name).version
        if not req.specifier.contains(version, prereleases=True):
            raise VersionConflict('{} {} does not satisfy {}'.format(req.name, version, req))
        return []

    module.DistributionNotFound = DistributionNotFound
    module.VersionConflict = VersionConflict
    module.get_distribution = get_distribution
    module.require = require
    return module


def _restore_attribute(name, value):
    """Set ``numpy.<name>`` unless numpy has it (directly or through its
    module ``__getattr__``, which raises AttributeError for removed names)."""
    if name not in vars(numpy):
        try:
            getattr(numpy, name)
            return  # provided by numpy's module __getattr__: leave it
        except AttributeError:
            pass
        setattr(numpy, name, value)
        RESTORED.append('numpy.' + name)


def apply():
    """Restore what is missing (see the module doc); idempotent. Returns
    :data:`RESTORED`."""
    if not NEEDED:  # numpy 1: Chainer imports as it is
        return RESTORED
    # chainer/functions/array/as_strided.py: numpy.sctypes['int'] at import,
    # numpy.sctypes['float'] in its backward
    _restore_attribute('sctypes', _sctypes())
    # chainer/functions/array/resize_images.py (F.resize_images, unused by
    # SSD300): dtype=numpy.float, the alias of the builtin float
    _restore_attribute('float', float)
    # chainer/_environment_check.py, at import: import numpy.distutils.system_info
    if 'numpy.distutils' not in sys.modules and \
            importlib.util.find_spec('numpy.distutils') is None:
        package, system_info = _numpy_distutils()
        sys.modules['numpy.distutils'] = package
        sys.modules['numpy.distutils.system_info'] = system_info
        numpy.distutils = package
        RESTORED.append('numpy.distutils.system_info')
    # chainer/_environment_check.py, at import: import pkg_resources
    if 'pkg_resources' not in sys.modules and importlib.util.find_spec('pkg_resources') is None:
        sys.modules['pkg_resources'] = _pkg_resources()
        RESTORED.append('pkg_resources')
    return RESTORED


def cuda_report():
    """How Chainer will use CuPy in this process, as ``{str: str}``:
    ``available`` (CuPy importable with its CUDA libraries), ``cudnn_enabled``
    (Chainer's cuDNN paths on), ``cupy_cudnn`` (whether CuPy has a cuDNN
    module) and, when not available, the import error."""
    from chainer.backends import cuda
    report = {'available': str(cuda.available), 'cudnn_enabled': str(cuda.cudnn_enabled),
              'cupy_cudnn': str(importlib.util.find_spec('cupy.cudnn') is not None
                                if cuda.available else False)}
    if not cuda.available:
        report['error'] = str(getattr(cuda, '_resolution_error', 'unknown'))
    return report


apply()
