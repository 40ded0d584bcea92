"""Post-processing alone (decode, score threshold, per-class NMS, rescale),
ours against ChainerCV's on the same network outputs, for one image.

Two score distributions (:mod:`replicate.bench.synthetic`):

* ``untrained``: the real outputs of SSD300 with untrained weights
  (:mod:`replicate.bench.weights`): every score near 1/21, all pass 0.01;
  the worst case;
* ``trained-like``: synthetic confident outputs: a few objects, background
  elsewhere.

Rows per distribution: ours and ChainerCV's with the 'evaluate' preset
(bit-identity and the speed-up), and ours with 'evaluate-caffe' (the caps'
effect: how many detections, and how many of the best uncapped ones survive).
"""
import chainer
import numpy as np

from replicate.bench.clock import StageClock, summarize
from replicate.bench.stages import same_detections
from replicate.bench.synthetic import trained_like_outputs
from replicate.bench.weights import untrained_weights

COLUMNS = ('distribution', 'system', 'preset', 'candidates', 'repeats', 'median_s', 'p90_s',
           'cpu_median_s', 'speedup_vs_chainercv', 'cpu_speedup_vs_chainercv', 'detections',
           'same_as_chainercv', 'kept_of_uncapped', 'top200_of_uncapped_kept')
#: The best uncapped detections whose survival the caps are judged by.
TOP = 200


def distributions(model, image, seed):
    """``{name: (mb_loc, mb_conf)}`` float32 (K, 4), (K, C) numpy arrays for one
    image; ``model`` (ours, CPU) is only used for its shapes and, once with
    untrained weights (on a copy), for a forward of ``image``."""
    untrained = untrained_weights(model.copy(mode='copy'), seed)
    x, _ = untrained.prepare_batch([image])
    with chainer.using_config('train', False), chainer.no_backprop_mode():
        mb_locs, mb_confs = untrained.forward(x)
    rng = np.random.default_rng(seed)
    return {'untrained': (mb_locs.array[0], mb_confs.array[0]),
            'trained-like': trained_like_outputs(
                chainer.backends.cuda.to_cpu(model.coder._default_bbox),
                model.multibox.n_class, rng)}


def time_postprocess(pipeline, outputs, size, warmup, repeats, budget_s):
    """``(wall seconds, CPU seconds, detections)`` of ``pipeline.postprocess``
    on one image (the seconds: one per timed call)."""
    args = ((outputs[0][None], outputs[1][None]), [size])
    for _ in range(warmup):
        pipeline.postprocess(*args)
    samples, cpu, spent = [], [], 0.0
    for _ in range(repeats):
        clock = StageClock(lambda: None)
        detections = clock.stage('postprocess', pipeline.postprocess, *args)
        samples.append(clock.seconds['postprocess'])
        cpu.append(clock.cpu_seconds['postprocess'])
        spent += samples[-1]
        if budget_s is not None and spent >= budget_s:
            break
    return samples, cpu, detections


def cap_effect(capped, uncapped, scores):
    """``(kept, top kept)``: detections of ``uncapped`` also in ``capped``
    (same box, label and score), overall and among its :data:`TOP` best."""
    def keys(det):
        bbox, label, score = det[0][0], det[1][0], det[2][0]
        return [(tuple(b), int(l), float(s)) for b, l, s in zip(bbox, label, score, strict=True)]
    kept = set(keys(capped))
    full = keys(uncapped)
    best = np.argsort(-scores, kind='stable')[:TOP]
    return (sum(k in kept for k in full), sum(full[i] in kept for i in best))


def run(ours, chainercv, image, seed, warmup=1, repeats=5, budget_s=None, progress=print):
    """The rows (dicts with :data:`COLUMNS`).

    Args:
        ours: :class:`replicate.bench.pipelines.OursChainer` (CPU).
        chainercv: ChainerCV's pipeline with the same preset, or None.
        image: (3, H, W) image giving the size boxes are rescaled to (and
            the forward of the untrained model).
    """
    size = image.shape[1:]
    rows = []
    for name, outputs in distributions(ours.model, image, seed).items():
        score = np.exp(outputs[1].astype(np.float64))
        candidates = int(((score / score.sum(1, keepdims=True))[:, 1:] >= 0.01).sum())
        runs = {}
        for system, pipeline, preset in (('ours', ours, 'evaluate'),
                                         ('chainercv', chainercv, 'evaluate'),
                                         ('ours', ours, 'evaluate-caffe')):
            if pipeline is None:
                continue
            pipeline.model.use_preset(preset)
            samples, cpu, detections = time_postprocess(pipeline, outputs, size, warmup,
                                                        repeats, budget_s)
            runs[(system, preset)] = detections
            median, p90 = summarize(samples)
            rows.append({'distribution': name, 'system': system, 'preset': preset,
                         'candidates': candidates, 'repeats': len(samples), 'median_s': median,
                         'p90_s': p90, 'cpu_median_s': summarize(cpu)[0],
                         'detections': len(detections[1][0])})
            progress('postprocess {:<13} {:<10} {:<15} {:.4f} s (median of {})'.format(
                name, system, preset, median, len(samples)))
        ours.model.use_preset('evaluate')
        _compare(rows[-len(runs):], runs)
    return rows


def _compare(rows, runs):
    """Fill the comparison columns of one distribution's rows in place."""
    reference = runs.get(('chainercv', 'evaluate'))
    uncapped = runs[('ours', 'evaluate')]
    theirs = next((r for r in rows if r['system'] == 'chainercv'), None)
    for row in rows:
        for field, time in (('speedup_vs_chainercv', 'median_s'),
                            ('cpu_speedup_vs_chainercv', 'cpu_median_s')):
            row[field] = theirs[time] / row[time] if theirs and row[time] > 0 else '-'
        row['same_as_chainercv'] = '-' if reference is None else (
            'yes' if same_detections(runs[(row['system'], row['preset'])], reference) else 'no')
        if row['preset'] == 'evaluate-caffe':
            kept, top = cap_effect(runs[('ours', 'evaluate-caffe')], uncapped, uncapped[2][0])
            row['kept_of_uncapped'] = '{} of {}'.format(kept, len(uncapped[1][0]))
            row['top200_of_uncapped_kept'] = '{} of {}'.format(top, min(TOP, len(uncapped[1][0])))
            row['same_as_chainercv'] = '-'  # capped on purpose
        else:
            row['kept_of_uncapped'] = row['top200_of_uncapped_kept'] = '-'
