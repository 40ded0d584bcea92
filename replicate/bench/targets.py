"""``python -m replicate.bench --targets``: every measurement of
reports/bench/ in one run, and a table saying which speed target is met.

Writes, under ``--out``:

* ``cpu_random_evaluate.*``: stages of ours (Chainer), ours (ONNX Runtime)
  and ChainerCV, seeded weights (a weak model), 'evaluate' preset, with the
  matrix multiply floor;
* ``cpu_untrained_evaluate.*``: the same for ours on untrained weights, the
  worst case for post-processing (ChainerCV's NMS would take minutes here:
  its post-processing alone is timed in the next file);
* ``cpu_postprocess.*``: post-processing alone, ours against ChainerCV's, and
  the effect of the Caffe-style caps;
* ``cpu_targets.*``: each target, its measured value and whether it is met,
  with the ONNX agreement (raw outputs and detections against Chainer).
"""
import copy
import os

from replicate.bench import agreement, machine, measure, postprocess, report
from replicate.bench.errors import BenchError
from replicate.tolerances import ONNX

TARGET_COLUMNS = ('target', 'case', 'measured', 'required', 'met')
#: --budget-s unless given: ChainerCV's NMS on untrained outputs takes 10-50 s
#: a call, so it gets a few timed calls, not --repeats.
DEFAULT_BUDGET_S = 60.0

NOTES = """Notes on reading the targets:

- Timings are medians; the machine's load average at start and end of each
  part is in its report (a loaded machine inflates every number, ChainerCV's
  and ours alike, so ratios are more stable than times).
- `floor`: the convolutions' multiply-accumulates (counted on the model)
  times 2, divided by numpy's float32 matrix multiply speed measured in the
  same run.
- Post-processing speed-up on the trained-like distribution: of our
  ~2 ms, about 0.5 ms is the softmax of all 8732 x 21 logits, the
  selection of candidate boxes and their decoding (ChainerCV does the same
  arithmetic, needed for identical scores), and the rest is the greedy
  per-class NMS of ~1,300 candidate boxes in 20 short lists (5-300 boxes
  each), where every list costs a few dozen small numpy calls: per-call
  overhead, not arithmetic, bounds the ratio there. It grows with the
  number of candidates (the untrained case). Measured on the 2-core
  development machine; a compiled NMS would be the next step.
- Forward in Chainer: ours runs the same BLAS calls as ChainerCV (needed for
  bit-identical outputs); what differs is how the convolution matrices are
  built (channels-last, one pass, one buffer shared by the layers) and
  pooling; the matrix multiplies themselves are the same, so the floor
  cannot be reached by this path.
- Batch scaling is also judged in CPU time (all threads of the process):
  on a machine shared with other work, wall-clock times of multithreaded
  matrix multiplies depend on the others' load, CPU time much less.
- Batch scaling: the run keeps freed memory for reuse (`--malloc keep`,
  `malloc` in the Machine table; `replicate/memory.py`), for every system
  timed. With glibc's defaults every array above 32 MB is unmapped when
  freed and faulted in again by the next call; a batch of 8 has many more
  such arrays than one image, and its forward then costs more per image
  (`--malloc default` shows it).
"""


def _args(args, **changes):
    new = copy.copy(args)
    for key, value in changes.items():
        setattr(new, key, value)
    return new


def _find(rows, **keys):
    return [r for r in rows if all(r.get(k) == v for k, v in keys.items())]


def _value(rows, field, **keys):
    found = _find(rows, **keys)
    return found[0][field] if found else None


def _row(target, case, measured, required, met):
    return {'target': target, 'case': case, 'measured': measured, 'required': required,
            'met': 'yes' if met else 'NO'}


def judge(stage_rows, worst_rows, post_rows, agree_rows, floor_s, batch_sizes):
    """The targets table (dicts with :data:`TARGET_COLUMNS`)."""
    out = []
    for row in _find(post_rows, system='ours', preset='evaluate'):
        out.append(_row('post-processing (evaluate) >= 10x faster than ChainerCV, identical',
                        row['distribution'], '{:.1f}x (CPU time {:.1f}x), identical: {}'.format(
                            row['speedup_vs_chainercv'], row['cpu_speedup_vs_chainercv'],
                            row['same_as_chainercv']),
                        '>= 10x, yes', row['speedup_vs_chainercv'] >= 10
                        and row['same_as_chainercv'] == 'yes'))
    for rows, weights in ((stage_rows, 'random'), (worst_rows, 'untrained')):
        for b in batch_sizes:
            total = _value(rows, 'median_s', pipeline='ours-chainer', batch_size=b, stage='total')
            forward = _value(rows, 'median_s', pipeline='ours-chainer', batch_size=b,
                             stage='forward')
            out.append(_row('predict (evaluate) <= 2x our forward', '{} weights, batch {}'
                            .format(weights, b), '{:.2f}x'.format(total / forward), '<= 2x',
                            total <= 2 * forward))
    for b in batch_sizes:
        ratio = _value(stage_rows, 'ratio_to_chainercv', pipeline='ours-chainer', batch_size=b,
                       stage='forward')
        same = _value(stage_rows, 'same_as_chainercv', pipeline='ours-chainer', batch_size=b,
                      stage='forward')
        out.append(_row('forward in Chainer: ours / ChainerCV <= 1.0, detections identical',
                        'batch {}'.format(b), '{:.3f}, identical: {}'.format(ratio, same),
                        '<= 1.0, yes', ratio <= 1.0 and same == 'yes'))
    per_image = {b: _value(stage_rows, 'median_per_image_s', pipeline='ours-chainer',
                           batch_size=b, stage='forward') for b in batch_sizes}
    cpu = {b: _value(stage_rows, 'cpu_per_image_s', pipeline='ours-chainer', batch_size=b,
                     stage='forward') for b in batch_sizes}
    if len(batch_sizes) > 1:
        first, last = min(batch_sizes), max(batch_sizes)
        out.append(_row('forward in Chainer: per image at the largest batch <= at batch 1',
                        'batch {} vs {}'.format(last, first), '{:.3f} s vs {:.3f} s'.format(
                            per_image[last], per_image[first]), '<=',
                        per_image[last] <= per_image[first]))
        out.append(_row('forward in Chainer: per image at the largest batch <= at batch 1',
                        'batch {} vs {}, CPU time'.format(last, first),
                        '{:.3f} s vs {:.3f} s'.format(cpu[last], cpu[first]), '<=',
                        cpu[last] <= cpu[first]))
    for b in batch_sizes:
        onnx = _value(stage_rows, 'median_per_image_s', pipeline='ours-onnx', batch_size=b,
                      stage='forward')
        out.append(_row('fast CPU path (ONNX Runtime) <= 1.2x the matmul floor',
                        'batch {}'.format(b), '{:.3f} s = {:.2f}x floor ({:.3f} s)'.format(
                            onnx, onnx / floor_s, floor_s), '<= 1.2x', onnx <= 1.2 * floor_s))
    worst = max(r['scaled_diff'] for r in agree_rows)
    out.append(_row('fast CPU path outputs match Chainer', 'all batches, both outputs',
                    '{:.2e} of the largest output'.format(worst), '<= {:g}'.format(ONNX),
                    worst <= ONNX))
    return out


def run(args):
    if 'numpy' not in args.device:
        raise BenchError('--targets measures the CPU: use --device @numpy')
    main = _args(args, against=['chainercv'], onnx=True, floor=True, stem=None,
                 budget_s=args.budget_s or DEFAULT_BUDGET_S)
    stage_rows, facts, state, pipelines = measure.measure(main)
    measure.write_stages(main, stage_rows, facts, state)
    ours, onnx, theirs = pipelines
    images = measure.images(main)
    agree_rows = agreement.rows(ours, onnx, images, main.batch_sizes)

    worst = _args(main, weights='untrained', against=[], floor=False)
    worst_rows, worst_facts, worst_state, _ = measure.measure(worst)
    measure.write_stages(worst, worst_rows, worst_facts, worst_state)

    post_state = machine.machine_state('start.')
    post_rows = postprocess.run(ours, theirs, images[0], main.seed, main.warmup, main.repeats,
                                main.budget_s)
    post_state.update(machine.machine_state('end.'))
    post_meta = measure.metadata(main, {'weights': 'untrained_weights (seed {}) for the untrained '
                                               'outputs; synthetic trained-like outputs'
                                    .format(main.seed)}, post_state)
    report.write_report(os.path.join(main.out, 'cpu_postprocess'),
                        'Post-processing alone: decode + per-class NMS, one image',
                        [(None, postprocess.__doc__.split('\n\n', 1)[1].replace('``', '`')),
                         measure.settings_section(post_meta)],
                        post_rows, postprocess.COLUMNS, post_meta)

    target_rows = judge(stage_rows, worst_rows, post_rows, agree_rows,
                        facts['floor.floor_s_per_image'], main.batch_sizes)
    meta = measure.metadata(main, facts, dict(state, **{'post.' + k: v
                                                     for k, v in post_state.items()}))
    sections = [(None, __doc__.split('\n\n', 1)[1].replace('``', '`')),
                ('Targets', report.markdown_table(target_rows, TARGET_COLUMNS)),
                ('ONNX Runtime against Chainer (same weights, same inputs)',
                 report.markdown_table(agree_rows, agreement.COLUMNS)),
                (None, NOTES), measure.settings_section(meta)]
    stem = os.path.join(main.out, 'cpu_targets')
    report.write_report(stem, 'SSD300 speed targets ({})'.format(meta['provenance']['device']),
                        sections, target_rows, TARGET_COLUMNS, meta)
    print('targets: {} of {} met; report {}.md'.format(
        sum(r['met'] == 'yes' for r in target_rows), len(target_rows), stem))
    return 0


