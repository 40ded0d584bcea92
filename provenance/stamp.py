"""Provenance: what produced a report (versions, commit, device, date).

Every file written under ``reports/`` carries this block so that a number can
be traced back to the code and machine that made it. Keys are sorted and
values are plain strings, so two runs on the same checkout and machine differ
only in ``date``.
"""
import datetime
import hashlib
import importlib
import os
import platform
import subprocess
import sys

#: Packages whose versions matter to the numbers, in report order.
PACKAGES = ('numpy', 'chainer', 'chainercv', 'cupy', 'tensorflow', 'pandas',
            'pycocotools', 'cv2', 'PIL')


def _version(name, import_missing):
    """Version string of ``name``; TensorFlow is imported only on request
    (its import costs ~20 s), otherwise reported only if already loaded."""
    module = sys.modules.get(name)
    if module is None and import_missing:
        try:
            module = importlib.import_module(name)
        except Exception as exc:  # a missing optional package is a fact, not an error
            return 'not available ({})'.format(type(exc).__name__)
    if module is None:
        return 'not loaded'
    version = getattr(module, '__version__', None)
    if version is None:  # e.g. pycocotools has no __version__
        try:
            from importlib import metadata
            version = metadata.version(name)
        except Exception:
            version = 'unknown'
    return str(version)


def file_sha256(path, chunk=1 << 20):
    """Hex SHA-256 of a file's bytes (weights and model files in reports)."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(chunk), b''):
            digest.update(block)
    return digest.hexdigest()


#: Where a copy of the tree without git (e.g. the one the GPU check runs in)
#: finds the commit recorded when it was made.
COMMIT_ENV = 'SSD_SUITE_COMMIT'


def git_commit(repo_dir=None):
    """``<sha>``, or ``<sha>+dirty`` when tracked files outside ``reports/``
    differ from it, of the checkout holding this file; ``unknown`` outside
    git. ``$SSD_SUITE_COMMIT``, when set, wins: the GPU check sets it in a
    copy of the tree after comparing every tracked file with the pack's
    (``tools/gpu_pack.py``), where the copy's own git state, if any, is not
    the one that made it."""
    if os.environ.get(COMMIT_ENV):
        return os.environ[COMMIT_ENV]
    repo_dir = repo_dir or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        sha = subprocess.run(['git', 'rev-parse', 'HEAD'], cwd=repo_dir, capture_output=True,
                             text=True, check=True, timeout=10).stdout.strip()
        # reports/ is excluded: regenerating a committed report must not mark
        # the code that produced it as modified
        dirty = subprocess.run(['git', 'status', '--porcelain', '--untracked-files=no', '--',
                                '.', ':(exclude)reports'],
                               cwd=repo_dir, capture_output=True, text=True,
                               timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return 'unknown'
    return sha + ('+dirty' if dirty else '')


def cpu_name():
    """The CPU model as the kernel reports it (``platform.processor()`` is
    often empty on Linux)."""
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def device_description(device=None):
    """Human description of where the computation ran.

    Args:
        device: ``None``/``'@numpy'``/``-1`` for the CPU, or a Chainer device
            spec such as ``'@cupy:0'``.
    """
    spec = str(device) if device is not None else '@numpy'
    if spec in ('@numpy', '-1', 'cpu'):
        return 'CPU: {} ({} logical cores visible)'.format(cpu_name(), os.cpu_count())
    try:
        import cupy
        dev_id = int(spec.rsplit(':', 1)[-1]) if ':' in spec else 0
        props = cupy.cuda.runtime.getDeviceProperties(dev_id)
        name = props['name'].decode() if isinstance(props['name'], bytes) else props['name']
        return 'GPU {}: {} (compute capability {}.{}; CUDA driver {}, runtime {})'.format(
            dev_id, name, props['major'], props['minor'],
            _cuda_version(cupy.cuda.runtime.driverGetVersion()),
            _cuda_version(cupy.cuda.runtime.runtimeGetVersion()))
    except Exception as exc:
        return '{} (unresolved: {})'.format(spec, type(exc).__name__)


def _cuda_version(number):
    """CUDA's integer version (e.g. 13020) as text ('13.2')."""
    return '{}.{}'.format(number // 1000, number % 1000 // 10)


def cudnn_description():
    """Whether Chainer's cuDNN paths run in this process, and why not.

    CuPy 14 has no cuDNN module: Chainer then reports ``cudnn_enabled``
    False and runs its convolutions as im2col + cuBLAS GEMM."""
    try:
        import importlib.util

        from chainer.backends import cuda
        if cuda.cudnn_enabled:
            return 'cuDNN {} (used by Chainer)'.format(cuda.cuda.cudnn.getVersion())
        if cuda.available and importlib.util.find_spec('cupy.cudnn') is None:
            return 'not used: this CuPy has no cuDNN module (Chainer: im2col + cuBLAS GEMM)'
        return 'not used: Chainer cudnn_enabled is False'
    except Exception as exc:
        return 'unknown ({})'.format(type(exc).__name__)


def blas_description():
    """numpy's BLAS as it runs in this process, e.g. ``OpenBLAS 0.3.23.dev,
    kernel Zen, 2 threads (OPENBLAS_CORETYPE unset)``.

    The kernel OpenBLAS picks depends on the processor (and on
    ``OPENBLAS_CORETYPE``); two kernels sum a product in different orders, so
    float32 results computed on two machines can differ in their last bits.
    Saved runs record this so a comparison with them can say whether bits
    should match. ``unknown (...)`` where threadpoolctl is not installed."""
    import numpy  # noqa: F401  (threadpoolctl sees only libraries already loaded)
    coretype = os.environ.get('OPENBLAS_CORETYPE', 'unset')
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return 'unknown (threadpoolctl not installed; OPENBLAS_CORETYPE {})'.format(coretype)
    # numpy's own: a process may load several (scipy's, OpenCV's), and only
    # numpy's computes the models' products
    pools = [pool for pool in threadpool_info() if pool.get('user_api') == 'blas'
             and os.sep + 'numpy' in pool.get('filepath', '')]
    if not pools:
        return "unknown (numpy's BLAS not found by threadpoolctl; OPENBLAS_CORETYPE {})".format(
            coretype)
    pool = pools[0]
    name = {'openblas': 'OpenBLAS', 'mkl': 'MKL'}.get(pool.get('internal_api'),
                                                     pool.get('internal_api'))
    return '{} {}, kernel {}, {} threads (OPENBLAS_CORETYPE {})'.format(
        name, pool.get('version'), pool.get('architecture', 'unknown'),
        pool.get('num_threads'), coretype)


def provenance(device=None, import_tensorflow=False, extra=None):
    """A flat ``{str: str}`` dict, sorted by key.

    Args:
        device: the Chainer device spec the numbers were computed on.
        import_tensorflow: import TensorFlow to report its version even if
            the caller has not loaded it.
        extra: more ``key: value`` pairs (arguments, weights and checksums).
    """
    info = {
        'commit': git_commit(),
        'date': datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ'),
        'device': device_description(device),
        'platform': platform.platform(),
        'python': platform.python_version(),
    }
    for name in PACKAGES:
        wanted = import_tensorflow or name != 'tensorflow'
        info['version.' + name] = _version(name, import_missing=wanted)
    if 'cupy' in str(device):
        info['cudnn'] = cudnn_description()
    else:
        info['blas'] = blas_description()
    for key, value in (extra or {}).items():
        info[str(key)] = str(value)
    return dict(sorted(info.items()))


def provenance_markdown(info):
    """Provenance as a two-column Markdown table."""
    lines = ['| key | value |', '| --- | --- |']
    lines += ['| {} | {} |'.format(k, str(v).replace('|', '\\|')) for k, v in sorted(info.items())]
    return '\n'.join(lines) + '\n'
