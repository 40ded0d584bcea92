"""Keep freed memory in the process instead of returning it to the OS.

SSD300's CPU forward makes arrays of tens to hundreds of MB per layer (the
activations of conv1 alone are 23 MB per image, 184 MB at batch 8). glibc's
``malloc`` serves every block above its mmap threshold (at most 32 MB) with
a fresh ``mmap`` and unmaps it when freed, so each forward pays the kernel
again for page faults and zeroing of all of them: measured on a 2-core
machine, about a quarter of the CPU time of a batch-8 forward went to the
kernel, several times more per image than at batch 1 (whose arrays mostly
stay under the threshold and are reused). ``replicate.ssd.channels_last``
already shares its own temporaries within a forward; this setting also
covers the activations.

:func:`keep_freed_memory` asks glibc (``mallopt``) to serve large blocks
from the heap (``M_MMAP_MAX`` 0) and never to trim it (``M_TRIM_THRESHOLD``
-1, which glibc reads as "no limit"), so memory freed by one forward is
reused by the next. A finite threshold is not enough: a batch-8 forward
frees more than 2 GiB at once, so with the largest positive value
(2^31 - 1) glibc still gave it back to the OS after every call, and each
call faulted in and zeroed about 1,100 huge pages again (measured: 1.0-1.3 s
of kernel time per call, and after another engine's batch-8 call a third
more wall time than our batch-8 forward alone). The cost: the process keeps
its peak memory until it exits. The same effect without code: start Python
with ``MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=1099511627776`` (1 TiB).
"""
import ctypes
import ctypes.util

# glibc's mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD = -1
_M_MMAP_MAX = -4


def keep_freed_memory():
    """Apply the setting to this process; returns True where glibc accepted
    it, False elsewhere (another C library, another OS: nothing changes)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library('c') or 'libc.so.6')
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    return bool(mallopt(_M_MMAP_MAX, 0)) and bool(mallopt(_M_TRIM_THRESHOLD, -1))
