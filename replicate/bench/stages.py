"""Time pipelines stage by stage over batch sizes: the rows of the report."""
import numpy as np

from replicate.bench.clock import StageClock, summarize

STAGES = ('preprocess', 'forward', 'postprocess', 'total')
#: The pipeline every other one is divided by in ``ratio_to_chainercv``.
REFERENCE = 'chainercv'


def timed_call(pipeline, batch, synchronize):
    """One ``predict``-equivalent call: ``({stage: seconds, 'cpu:' + stage:
    CPU seconds}, detections)``."""
    clock = StageClock(synchronize)
    x, sizes = clock.stage('preprocess', pipeline.prepare, batch)
    outputs = clock.stage('forward', pipeline.forward, x)
    detections = clock.stage('postprocess', pipeline.postprocess, outputs, sizes)
    seconds = dict(clock.seconds)
    seconds.update(('cpu:' + k, v) for k, v in clock.cpu_seconds.items())
    return seconds, detections


def time_pipelines(pipelines, batch, synchronize, warmup, repeats, budget_s=None):
    """``{name: (samples, detections)}``: ``samples`` a list of
    ``{stage: seconds}``, one per timed call, ``detections`` those of the
    last call.

    ``warmup`` untimed calls of each pipeline come first. Then the pipelines
    take turns, one timed call each per round, so that a change in the
    machine's load hits them alike. With ``budget_s``, a pipeline stops once
    its timed calls have taken that many seconds (after at least one), so a
    very slow system cannot hold up the run; the rows say how many ran.
    """
    for pipeline in pipelines:
        for _ in range(warmup):
            timed_call(pipeline, batch, synchronize)
    samples = {p.name: [] for p in pipelines}
    detections, spent = {}, {p.name: 0.0 for p in pipelines}
    for _ in range(repeats):
        for pipeline in pipelines:
            if budget_s is not None and spent[pipeline.name] >= budget_s:
                continue
            seconds, detections[pipeline.name] = timed_call(pipeline, batch, synchronize)
            samples[pipeline.name].append(seconds)
            spent[pipeline.name] += seconds['total']
    return {name: (samples[name], detections[name]) for name in samples}


def same_detections(a, b):
    """True when two ``(bboxes, labels, scores)`` results are bit-identical."""
    return all(len(x) == len(y) and all(
        u.shape == v.shape and u.dtype == v.dtype and np.array_equal(u, v)
        for u, v in zip(x, y, strict=True)) for x, y in zip(a, b, strict=True))


def stage_rows(name, batch_size, samples, detections):
    """One row per stage: median and p90 per batch and per image."""
    rows = []
    for stage in STAGES:
        median, p90 = summarize([s[stage] for s in samples])
        cpu, _ = summarize([s['cpu:' + stage] for s in samples])
        rows.append({'pipeline': name, 'batch_size': batch_size, 'stage': stage,
                     'repeats': len(samples), 'median_s': median, 'p90_s': p90,
                     'median_per_image_s': median / batch_size,
                     'p90_per_image_s': p90 / batch_size,
                     'cpu_per_image_s': cpu / batch_size,
                     'detections': sum(len(label) for label in detections[1])})
    return rows


def add_ratios(rows, results):
    """Fill ``ratio_to_chainercv`` (median / ChainerCV's median, same batch
    size and stage) and ``same_as_chainercv`` (detections bit-identical) where
    ChainerCV ran; ``-`` elsewhere.

    Args:
        rows: from :func:`stage_rows`, changed in place.
        results: ``{(pipeline, batch_size): detections}``.
    """
    reference = {(r['batch_size'], r['stage']): r['median_s']
                 for r in rows if r['pipeline'] == REFERENCE}
    for row in rows:
        key = (row['batch_size'], row['stage'])
        row['ratio_to_chainercv'] = row['median_s'] / reference[key] if key in reference \
            else '-'
        theirs = results.get((REFERENCE, row['batch_size']))
        row['same_as_chainercv'] = '-' if theirs is None else (
            'yes' if same_detections(results[(row['pipeline'], row['batch_size'])], theirs)
            else 'no')
    return rows


def run(pipelines, images, batch_sizes, synchronize, warmup, repeats, budget_s=None,
        progress=print):
    """Time every pipeline at every batch size; rows ordered by batch size,
    pipeline (as given), stage.

    Args:
        images: list of (3, H, W) images; batch ``B`` is the first ``B``,
            repeated cyclically if there are fewer.
        progress: called with one line per finished (pipeline, batch size).
    """
    rows, results = [], {}
    for batch_size in batch_sizes:
        batch = [images[i % len(images)] for i in range(batch_size)]
        timed = time_pipelines(pipelines, batch, synchronize, warmup, repeats, budget_s)
        for name, (samples, detections) in timed.items():
            results[(name, batch_size)] = detections
            new = stage_rows(name, batch_size, samples, detections)
            progress('{:<16} batch {:>3}: total {:.4f} s per image (median of {})'.format(
                name, batch_size, new[-1]['median_per_image_s'], len(samples)))
            rows += new
    return add_ratios(rows, results)
