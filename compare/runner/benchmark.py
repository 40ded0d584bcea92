"""Speed benchmark: each detector on fixed batches, after a warm-up.

For each batch size ``B`` the batch is the first ``B`` readable images
(repeated cyclically if there are fewer). ``warmup`` calls are discarded, then
``repeats`` calls are timed. Each timed call gives one
:class:`compare.rundir.Timing` per stage (``preprocess``, ``inference``,
``postprocess``: the adapter's own split) and one ``total`` (wall clock of the
whole ``predict`` call, so it also holds the adapter's overhead). ``seconds``
is for the WHOLE BATCH; :func:`compare.score.speed.speed_table` turns the rows
into percentiles per batch and per image.

Each (detector, batch size) also gets a :class:`compare.rundir.Benchmark`:
its identity (:func:`identity`: the detector and the images timed), the
1-minute load average (the larger of before and after its calls) and the
process's resident memory before and at its peak during them
(``/proc/self/status`` VmRSS and VmHWM, the peak reset through
``/proc/self/clear_refs`` first; NaN where that is not possible).
:func:`cached` finds earlier timings of the same detector to reuse.
"""
import hashlib
import json
import os
import time

from compare.adapters.protocol import inputs_for
from compare.detections import STAGES
from compare.rundir import Benchmark, Timing


def identity(info, images=()):
    """What a detector's timings belong to, as one string: its weights
    (checksum, else name), preset, device and threads, then a digest of the
    rest that makes timings another run's: the detector's whole identity
    (:func:`compare.rundir.identity.identity`: settings, vocabulary) and the sha256 of
    each image timed (``images``), so timings of other images or settings are
    never reused."""
    from compare.rundir.identity import identity as detector_identity
    digest = hashlib.sha256(json.dumps([detector_identity(info), list(images)],
                                       sort_keys=True).encode()).hexdigest()[:16]
    return json.dumps([info.weights_sha256 or info.weights, info.info.get('preset'),
                       info.device, info.threads, digest])


def _status_mib(key):
    """A ``/proc/self/status`` memory line (kB) in MiB, or NaN."""
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith(key + ':'):
                    return int(line.split()[1]) / 1024.0
    except (OSError, ValueError, IndexError):
        pass
    return float('nan')


def _reset_peak():
    """Reset the kernel's peak resident memory of this process; False if not possible."""
    try:
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')
        return True
    except OSError:
        return False


def _load():
    try:
        return os.getloadavg()[0]
    except OSError:
        return float('nan')


def benchmark_one(adapter, images, batch_size, warmup, repeats, ident, progress=None):
    """``(timing rows, Benchmark)`` of one loaded adapter at one batch size.

    Args:
        images: list of ``(H, W, 3)`` uint8 RGB arrays (at least one;
            :class:`compare.images.LoadedImage` for adapters that read files).
        ident: :func:`identity` of the adapter.
        progress: a tqdm bar advanced once per call, or None.
    """
    images = inputs_for(adapter, images)
    batch = [images[i % len(images)] for i in range(batch_size)]
    load_before, reset = _load(), _reset_peak()
    rss_before = _status_mib('VmRSS')
    rows = []
    for _ in range(warmup):
        adapter.predict(batch)
        if progress is not None:
            progress.update(1)
    for repeat in range(repeats):
        start = time.perf_counter()
        prediction = adapter.predict(batch)
        total = time.perf_counter() - start
        times = dict(prediction.times, total=total)
        rows += [Timing(adapter.name, batch_size, repeat, stage, times[stage])
                 for stage in STAGES + ('total',)]
        if progress is not None:
            progress.update(1)
    peak = _status_mib('VmHWM') if reset else float('nan')
    return rows, Benchmark(adapter.name, batch_size, ident, repeats, warmup,
                           max(load_before, _load()), os.cpu_count() or 0, rss_before, peak)


def benchmark(adapter, images, batch_sizes=(1,), warmup=1, repeats=5):
    """Timing rows for one loaded adapter, every batch size (no cache, no bar).

    Returns:
        list of :class:`compare.rundir.Timing`, in call order.
    """
    rows = []
    for batch_size in batch_sizes:
        rows += benchmark_one(adapter, images, batch_size, warmup, repeats, '')[0]
    return rows


def cached(benchmarks, timings, name, batch_size, ident, warmup, repeats):
    """``(timing rows, Benchmark)`` of an earlier benchmark of the same detector
    (same name, batch size, identity, warm-up and repeats), or None."""
    for row in benchmarks:
        if (row.detector, row.batch_size, row.identity, row.warmup, row.repeats) == (
                name, batch_size, ident, warmup, repeats):
            rows = [t for t in timings if (t.detector, t.batch_size) == (name, batch_size)]
            if len({t.repeat for t in rows}) == repeats:
                return rows, row
    return None


def format_summary(table):
    """Plain-text total-time columns of a speed table
    (:func:`compare.score.speed.speed_table`), for the console."""
    lines = ['{:<32} {:>5} {:>10} {:>10} {:>14} {:>8}  {}'.format(
        'detector', 'batch', 'p50 ms', 'p90 ms', 'p50 ms/image', 'peak MiB', 'noisy')]
    lines += ['{:<32} {:>5} {:>10.1f} {:>10.1f} {:>14.1f} {:>8.0f}  {}'.format(
        row.detector, row.batch_size, row.total_p50_ms, row.total_p90_ms,
        row.total_p50_ms_per_image, row.peak_rss_mib, row.noisy)
        for row in table.itertuples(index=False)]
    return '\n'.join(lines)
