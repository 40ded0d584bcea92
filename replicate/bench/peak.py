"""The cores' peak arithmetic rate: float32 FMA and int8 dot products.

A path's speed means little without the machine's limit beside it. The
limit is measured, not taken from a data sheet (clock rates and the number
of vector pipes differ between processors of one kind, and a virtual
machine may run at any clock): :file:`peak_kernels.c` holds tight loops of
independent fused multiply-adds (float32) and int8 dot products
(``VPDPBUSD`` with VNNI; ``VPMADDUBSW`` + ``VPMADDWD`` + ``VPADDD``, the
sequence int8 GEMMs use without it; ``TDPBUSD`` on the AMX tiles where the
processor has them). It is compiled at benchmark time with
the C compiler on ``PATH`` (``$CC``, else ``cc``), each kernel for its own
instruction set, and only kernels whose flags the processor lists are run
(and, for the AMX tiles, that Linux lets this process use: a kernel that
cannot run is left out, so no row names it).

Each kernel runs on every usable core at once (one Python thread per core;
ctypes releases the GIL during the call), ``trials`` times for about
``seconds`` each. The rate reported as the peak is the best trial: other
processes only ever slow a trial down, so on a shared machine the best one is
closest to what the cores can do; the median is reported beside it.

Rates are in GMAC/s (10^9 multiply-accumulates per second: one float32 FMA
or one u8 x s8 product added to an int32); a float32 GFLOP/s is 2 x GMAC/s.
"""
import ctypes
import os
import shutil
import subprocess
import tempfile
import threading
import time

import numpy as np

from replicate.cpuinfo import cpu_flags

SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'peak_kernels.c')

#: name -> (kind, flags needed (all), MACs per loop round, C return type);
#: the rounds are described in peak_kernels.c.
KERNELS = {
    'fma_avx512': ('fp32', ('avx512f',), 16 * 16, ctypes.c_float),
    'fma_avx2': ('fp32', ('avx2', 'fma'), 12 * 8, ctypes.c_float),
    'vnni_avx512': ('int8', ('avx512f', 'avx512_vnni'), 16 * 64, ctypes.c_int),
    'vnni_avx256': ('int8', ('avx2', 'avx_vnni'), 12 * 32, ctypes.c_int),
    'madd_avx512': ('int8', ('avx512f', 'avx512bw'), 16 * 64, ctypes.c_int),
    'madd_avx2': ('int8', ('avx2',), 12 * 32, ctypes.c_int),
    'amx_int8': ('int8', ('amx_tile', 'amx_int8'), 4 * 16 * 16 * 64, ctypes.c_int),
}
#: Kernels that need the operating system's leave first: the C function of
#: that name returns 0 where it is given.
PERMITS = {'amx_int8': 'amx_permit'}
#: Compiler options tried in turn: an older compiler lacks the AMX or the
#: AVX-VNNI target, and the kernels it cannot build are left out.
_FALLBACKS = ([], ['-DPEAK_NO_AMX'], ['-DPEAK_NO_AMX', '-DPEAK_NO_AVXVNNI'])


class PeakUnavailable(Exception):
    """No compiler, a failed compile, or no kernel this processor can run."""


def compiler():
    """Path of the C compiler (``$CC``, else ``cc``), or None."""
    return shutil.which(os.environ.get('CC', 'cc'))


def build(folder):
    """Compile :data:`SOURCE` into ``folder``; returns ``(ctypes.CDLL,
    compiler description)``.

    Raises:
        PeakUnavailable: no compiler, or it failed (its first error line).
    """
    cc = compiler()
    if cc is None:
        raise PeakUnavailable('no C compiler ({} not on PATH)'.format(os.environ.get('CC', 'cc')))
    library = os.path.join(folder, 'peak_kernels.so')
    error = ''
    for extra in _FALLBACKS:
        try:
            done = subprocess.run([cc, '-O2', '-shared', '-fPIC', *extra, '-o', library,
                                   SOURCE], capture_output=True, text=True, timeout=120)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise PeakUnavailable('running {} failed: {}'.format(cc, exc)) from exc
        if done.returncode == 0:
            version = subprocess.run([cc, '--version'], capture_output=True, text=True,
                                     timeout=30).stdout.splitlines()
            try:
                loaded = ctypes.CDLL(library)
            except OSError as exc:  # e.g. a temporary folder mounted noexec
                raise PeakUnavailable('loading the compiled kernels failed: {}'.format(
                    exc)) from exc
            return loaded, '{} -O2{}'.format(
                version[0] if version else cc, ' ' + ' '.join(extra) if extra else '')
        error = (done.stderr.strip().splitlines() or ['exit {}'.format(done.returncode)])[-1]
    raise PeakUnavailable('compiling peak_kernels.c failed: {}'.format(error))


def runnable(flags):
    """Kernel names this processor can run, given its flag set."""
    return [name for name, (_, need, _, _) in KERNELS.items()
            if all(f in flags for f in need)]


def _parallel_seconds(fn, iters, threads):
    """Wall seconds for ``threads`` simultaneous calls ``fn(iters)``."""
    barrier = threading.Barrier(threads + 1)

    def work():
        barrier.wait()
        fn(iters)
    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    barrier.wait()
    start = time.perf_counter()
    for worker in workers:
        worker.join()
    return time.perf_counter() - start


def rate(fn, macs_per_round, threads, seconds=0.01, trials=40):
    """``(best, median)`` GMAC/s of ``threads`` simultaneous calls of ``fn``.

    The round count is first doubled until one call takes ``seconds`` on
    one thread (the same count then runs on every thread)."""
    iters = 1024
    while True:
        start = time.perf_counter()
        fn(iters)
        if time.perf_counter() - start >= seconds or iters >= 1 << 34:
            break
        iters *= 2
    rates = [threads * iters * macs_per_round / _parallel_seconds(fn, iters, threads) / 1e9
             for _ in range(trials)]
    return float(max(rates)), float(np.median(rates))


def measure(threads, seconds=0.01, trials=40, flags=None):
    """Rows, one per runnable kernel: ``{'kernel', 'kind', 'threads',
    'gmacs_best', 'gmacs_median'}`` plus the compiler, as ``(rows, compiler)``.

    Raises:
        PeakUnavailable: no compiler, the compile failed, or no kernel fits.
    """
    flags = cpu_flags() if flags is None else flags
    names = runnable(flags)
    if not names:
        raise PeakUnavailable('no peak kernel fits this processor (flags: {})'.format(
            ' '.join(sorted(f for f in flags if f.startswith(('avx', 'fma')))) or 'none'))
    with tempfile.TemporaryDirectory(prefix='peak-') as folder:
        library, cc = build(folder)
        rows = []
        for name in names:
            kind, _, macs, restype = KERNELS[name]
            if not _usable(library, name):
                continue
            fn = getattr(library, name)
            fn.restype, fn.argtypes = restype, [ctypes.c_long]
            best, median = rate(fn, macs, threads, seconds, trials)
            rows.append({'kernel': name, 'kind': kind, 'threads': threads,
                         'gmacs_best': best, 'gmacs_median': median})
    if not rows:
        raise PeakUnavailable('no peak kernel could run: {} built or permitted by the '
                              'system ({})'.format(', '.join(names), cc))
    return rows, cc


def _usable(library, name):
    """Whether ``library`` was built with kernel ``name`` (a fallback build
    leaves some out) and the operating system lets it run."""
    if not hasattr(library, name):
        return False
    permit = PERMITS.get(name)
    return permit is None or (hasattr(library, permit) and getattr(library, permit)() == 0)
