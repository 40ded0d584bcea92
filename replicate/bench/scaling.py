"""Does a batch pay? Per-image forward time at the largest batch against
batch 1, in several consecutive rounds of one run.

One round: for each batch size, one untimed call of every pipeline, then
``repeats`` timed forward calls, the pipelines taking turns; the median per
image, wall clock, CPU time (all threads) and the kernel's share of it
(``sys_per_image_s``: page faults, thread wake-ups). ``rounds`` rounds follow each
other, so "batch 8 costs no more per image than batch 1" is judged as held
in every round, not in one lucky median.
"""
import resource
import time

import numpy as np

from replicate.bench import machine

COLUMNS = ('round', 'pipeline', 'batch_size', 'repeats', 'median_per_image_s',
           'cpu_per_image_s', 'sys_per_image_s', 'load_average_1_5_15')


def _forward_seconds(pipeline, x):
    """(wall, CPU, kernel CPU) seconds of one forward call."""
    start, cpu = time.perf_counter(), time.process_time()
    kernel = resource.getrusage(resource.RUSAGE_SELF).ru_stime
    pipeline.forward(x)
    return (time.perf_counter() - start, time.process_time() - cpu,
            resource.getrusage(resource.RUSAGE_SELF).ru_stime - kernel)


def run(pipelines, images, batch_sizes, rounds=3, repeats=5, progress=print):
    """Rows with :data:`COLUMNS`, by round, pipeline (as given), batch size."""
    rows = []
    for number in range(1, rounds + 1):
        for batch_size in batch_sizes:
            batch = [images[i % len(images)] for i in range(batch_size)]
            inputs = {p.name: p.prepare(batch)[0] for p in pipelines}
            for pipeline in pipelines:
                pipeline.forward(inputs[pipeline.name])
            samples = {p.name: [] for p in pipelines}
            for _ in range(repeats):
                for pipeline in pipelines:
                    samples[pipeline.name].append(
                        _forward_seconds(pipeline, inputs[pipeline.name]))
            load = machine.load_average()
            for pipeline in pipelines:
                wall, cpu, kernel = (np.median(np.array(samples[pipeline.name]), axis=0)
                                     / batch_size)
                rows.append({'round': number, 'pipeline': pipeline.name,
                             'batch_size': batch_size, 'repeats': repeats,
                             'median_per_image_s': float(wall), 'cpu_per_image_s': float(cpu),
                             'sys_per_image_s': float(kernel), 'load_average_1_5_15': load})
        progress('batch scaling: round {} of {} done'.format(number, rounds))
    return sorted(rows, key=lambda r: (r['round'], [p.name for p in pipelines].index(
        r['pipeline']), r['batch_size']))


def held(rows, pipeline, field='median_per_image_s'):
    """``(held in every round, [(per image at the largest batch, at the
    smallest) per round])`` for one pipeline."""
    pairs = []
    for number in sorted({r['round'] for r in rows}):
        mine = {r['batch_size']: r[field] for r in rows
                if r['round'] == number and r['pipeline'] == pipeline}
        pairs.append((mine[max(mine)], mine[min(mine)]))
    return all(large <= small for large, small in pairs), pairs
