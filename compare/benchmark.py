"""Speed benchmark: each detector on fixed batches, after a warm-up.

For each batch size ``B`` the batch is the first ``B`` readable images
(repeated cyclically if there are fewer). ``warmup`` calls are discarded, then
``repeats`` calls are timed. Each timed call gives one
:class:`compare.rundir.Timing` per stage (``preprocess``, ``inference``,
``postprocess``: the adapter's own split) and one ``total`` (wall clock of the
whole ``predict`` call, so it also holds the adapter's overhead). ``seconds``
is for the WHOLE BATCH; :func:`compare.score.speed.speed_table` turns the rows
into percentiles per batch and per image.
"""
import time

from compare.adapters.protocol import inputs_for
from compare.detections import STAGES
from compare.rundir import Timing


def benchmark(adapter, images, batch_sizes=(1,), warmup=1, repeats=5):
    """Timing rows for one loaded adapter.

    Args:
        images: list of ``(H, W, 3)`` uint8 RGB arrays (at least one;
            :class:`compare.images.LoadedImage` for adapters that read files).

    Returns:
        list of :class:`compare.rundir.Timing`, in call order.
    """
    rows, images = [], inputs_for(adapter, images)
    for batch_size in batch_sizes:
        batch = [images[i % len(images)] for i in range(batch_size)]
        for _ in range(warmup):
            adapter.predict(batch)
        for repeat in range(repeats):
            start = time.perf_counter()
            prediction = adapter.predict(batch)
            total = time.perf_counter() - start
            times = dict(prediction.times, total=total)
            rows += [Timing(adapter.name, batch_size, repeat, stage, times[stage])
                     for stage in STAGES + ('total',)]
    return rows


def format_summary(table):
    """Plain-text total-time columns of a speed table
    (:func:`compare.score.speed.speed_table`), for the console."""
    lines = ['{:<32} {:>5} {:>10} {:>10} {:>12}'.format(
        'detector', 'batch', 'p50 s', 'p90 s', 'p50 s/image')]
    lines += ['{:<32} {:>5} {:>10.4f} {:>10.4f} {:>12.4f}'.format(
        row.detector, row.batch_size, row.total_p50_s, row.total_p90_s,
        row.total_p50_per_image_s) for row in table.itertuples(index=False)]
    return '\n'.join(lines)
