"""Timing that waits for the device: a clock read is only meaningful once the
work queued before it has finished (CuPy launches kernels asynchronously)."""
import time

import numpy as np


def synchronizer(device):
    """A no-argument function that blocks until ``device`` is idle.

    Args:
        device: a ``chainer.get_device`` device (numpy: nothing to wait for).
    """
    if device.xp is np:
        return lambda: None
    import cupy

    def synchronize():
        cupy.cuda.get_current_stream().synchronize()
    return synchronize


class StageClock:
    """Times consecutive stages of one call.

    ``clock.stage(name, fn, *args)`` waits for the device, runs ``fn``, waits
    again and records the seconds under ``name``; :attr:`seconds` then holds
    every stage and ``total`` (from the first stage's start to the last one's
    end), wall clock; :attr:`cpu_seconds` the same in CPU time of this
    process (all its threads: on a shared machine it shows the work done,
    which other processes' load changes less than the wall clock).
    """

    def __init__(self, synchronize):
        self.synchronize = synchronize
        self.seconds, self.cpu_seconds = {}, {}
        self._start = None

    def stage(self, name, fn, *args):
        self.synchronize()
        start, cpu_start = time.perf_counter(), time.process_time()
        if self._start is None:
            self._start = (start, cpu_start)
        result = fn(*args)
        self.synchronize()
        end, cpu_end = time.perf_counter(), time.process_time()
        self.seconds[name] = end - start
        self.seconds['total'] = end - self._start[0]
        self.cpu_seconds[name] = cpu_end - cpu_start
        self.cpu_seconds['total'] = cpu_end - self._start[1]
        return result


def summarize(samples):
    """``(median, p90)`` of a non-empty list of seconds (linear interpolation
    between order statistics, numpy's default)."""
    samples = np.asarray(samples, dtype=np.float64)
    return float(np.median(samples)), float(np.percentile(samples, 90))
