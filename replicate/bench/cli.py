"""``python -m replicate.bench``: time SSD300's stages; see :mod:`replicate.bench`.

Exit codes: 0 done; 2 a user error (one line ``error: ...``).
"""
import argparse
import os
import sys

from provenance.stamp import provenance
from replicate.bench import machine, models, report, stages
from replicate.bench.clock import synchronizer
from replicate.bench.errors import BenchError

COLUMNS = ('batch_size', 'pipeline', 'stage', 'repeats', 'median_s', 'p90_s',
           'median_per_image_s', 'p90_per_image_s', 'cpu_per_image_s', 'ratio_to_chainercv',
           'ratio_to_floor', 'detections', 'same_as_chainercv')


def positive_ints(text):
    """``'1,8'`` -> ``(1, 8)``; raises ``argparse.ArgumentTypeError`` otherwise."""
    try:
        values = tuple(int(v) for v in text.split(','))
    except ValueError:
        values = ()
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(
            '{!r}: give comma-separated positive integers, e.g. 1,8'.format(text))
    return values


def image_size(text):
    """``'375x500'`` -> ``(375, 500)`` (height x width)."""
    size = text.lower().split('x')
    if len(size) != 2 or not all(v.isdigit() and int(v) > 0 for v in size):
        raise argparse.ArgumentTypeError('{!r}: give HEIGHTxWIDTH, e.g. 375x500'.format(text))
    return int(size[0]), int(size[1])


def parser():
    p = argparse.ArgumentParser(prog='python -m replicate.bench', description=__doc__)
    p.add_argument('--device', default='@numpy', help='@numpy or @cupy:N')
    p.add_argument('--batch-sizes', type=positive_ints, default=(1, 8), metavar='B,B',
                   help='comma-separated (default 1,8)')
    p.add_argument('--repeats', type=int, default=5, help='timed calls per batch size')
    p.add_argument('--warmup', type=int, default=1, help='untimed calls first')
    p.add_argument('--budget-s', type=float, metavar='S',
                   help='stop timing a pipeline at a batch size after S seconds of timed '
                        'calls (at least one); the rows give the count')
    p.add_argument('--out', default=os.path.join('reports', 'bench'), help='report folder')
    p.add_argument('--stem', help='report file name without extension '
                                  '(default <cpu|gpu>_<weights>_<preset>)')
    p.add_argument('--weights', default='random',
                   help='random (seeded, a weak model) | untrained (Chainer-like default '
                        'initialisation: every score passes 0.01, the worst case for NMS) | '
                        'voc0712 | path to an .npz')
    p.add_argument('--seed', type=int, default=0, help='seed of the weights and images')
    p.add_argument('--n-fg-class', type=int, default=20)
    p.add_argument('--preset', choices=('visualize', 'evaluate', 'evaluate-caffe'),
                   default='evaluate')
    p.add_argument('--resize-backend', choices=('auto', 'cv2', 'PIL'), default='auto',
                   help="auto (default): cv2 where OpenCV is installed, else PIL, ChainerCV's "
                        'own rule; the choice is recorded in the report')
    p.add_argument('--image-size', type=image_size, default=(375, 500), metavar='HxW',
                   help='size of the generated input images (default 375x500)')
    p.add_argument('--against', choices=('chainercv',), action='append', default=[],
                   help='also time ChainerCV with the same weights (imported only then)')
    p.add_argument('--onnx', action='store_true',
                   help='also time our model exported to ONNX, run by ONNX Runtime (CPU only)')
    p.add_argument('--onnx-threads', type=int, help='ONNX Runtime intra-op threads '
                                                    '(default: its own, one per core)')
    p.add_argument('--floor', action='store_true',
                   help='measure the matrix multiply floor in the same run (ratio_to_floor)')
    p.add_argument('--malloc', choices=('keep', 'default'), default='keep',
                   help='keep (default): glibc keeps freed memory for reuse instead of '
                        'returning it to the OS (replicate.memory), as a serving process '
                        'would be set up; default: leave malloc as it is. Applies to every '
                        'system timed in the run, ChainerCV included')
    p.add_argument('--targets', action='store_true',
                   help='the full report of reports/bench/: ours, the ONNX path and ChainerCV '
                        'on seeded and on untrained weights, post-processing alone, the floor, '
                        'the ONNX agreement, and each speed target met or not (implies '
                        '--against chainercv --onnx --floor; --device @numpy)')
    return p


def default_stem(args):
    kind = 'cpu' if 'numpy' in args.device else 'gpu'
    weights = args.weights if args.weights in ('random', 'untrained', 'voc0712') else 'file'
    return '{}_{}_{}'.format(kind, weights, args.preset)


def resize_backend(name):
    """'auto' -> 'cv2' when OpenCV imports, else 'PIL'; others unchanged."""
    if name != 'auto':
        return name
    try:
        import cv2  # noqa: F401
        return 'cv2'
    except ImportError:
        return 'PIL'


def apply_malloc(choice):
    """Apply ``--malloc``; returns what is in effect, for the report."""
    if choice == 'keep':
        from replicate.memory import keep_freed_memory
        if keep_freed_memory():
            return 'freed memory kept for reuse (mallopt M_MMAP_MAX=0, M_TRIM_THRESHOLD=2^31-1)'
        return 'default (keeping freed memory is not supported by this C library)'
    return 'default'


def check_args(args):
    args.resize_backend = resize_backend(args.resize_backend)
    if args.repeats < 1 or args.warmup < 0:
        raise BenchError('--repeats {} --warmup {}: need repeats >= 1 and warmup >= 0'
                         .format(args.repeats, args.warmup))
    if args.budget_s is not None and args.budget_s <= 0:
        raise BenchError('--budget-s {}: give a positive number of seconds'
                         .format(args.budget_s))
    if args.onnx and 'numpy' not in args.device:
        raise BenchError('--onnx runs ONNX Runtime on the CPU: use it with --device @numpy')


def images(args):
    """``max(batch sizes)`` generated images, alternately noise and shapes."""
    from replicate.parity.inputs import generated_images
    return generated_images(max(args.batch_sizes), args.seed, (args.image_size,))


def summary_rows(rows):
    """Per (batch size, pipeline): the per-image medians of every stage."""
    table = {}
    for row in rows:
        entry = table.setdefault((row['batch_size'], row['pipeline']), {
            'batch_size': row['batch_size'], 'pipeline': row['pipeline'],
            'detections': row['detections'], 'same_as_chainercv': row['same_as_chainercv']})
        entry[row['stage'] + '_s_per_image'] = row['median_per_image_s']
        if row['stage'] == 'forward':
            entry['forward_cpu_s_per_image'] = row['cpu_per_image_s']
        if row['stage'] in ('forward', 'total'):
            entry[row['stage'] + '_ratio_to_chainercv'] = row['ratio_to_chainercv']
        if row['stage'] == 'forward':
            entry['forward_ratio_to_floor'] = row['ratio_to_floor']
    return list(table.values())


SUMMARY_COLUMNS = ('batch_size', 'pipeline') + tuple(s + '_s_per_image' for s in stages.STAGES) \
    + ('forward_cpu_s_per_image', 'forward_ratio_to_chainercv', 'total_ratio_to_chainercv',
       'forward_ratio_to_floor', 'detections', 'same_as_chainercv')

EXPLANATION = (
    'Stages of one `predict`-equivalent call, timed separately after the device finished '
    'the previous one: `preprocess` (resize, mean, stack, send to the device), `forward` '
    '(the network), `postprocess` (decode, score threshold, per-class NMS, rescale, copy to '
    'the host); `total` is their wall clock together. Medians over the timed calls after '
    'the warm-up, in seconds per image; ratios are median / ChainerCV\'s median at the same '
    'batch size and stage (below 1: faster); `forward_cpu_s_per_image`: CPU time of the '
    'process (all threads) in the forward, per image, which other processes\' load changes '
    'less than the wall clock; `same_as_chainercv`: bit-identical '
    'detections. The load average at start and end is under Machine: timings taken '
    'while other work ran are slower than on a quiet machine.\n')


def build_pipelines(args, device):
    """``(pipelines, facts)``: ours, then the ONNX path and ChainerCV when
    asked; ``facts`` describes the weights (and the floor with --floor)."""
    ours, weights = models.ours(args, device)
    pipelines, facts = [ours], {'weights': weights}
    if args.floor:
        from replicate.bench.floor import floor
        facts.update(('floor.' + k, v) for k, v in floor(ours.model).items())
    if args.onnx:
        pipelines.append(models.ours_onnx(ours.model, args.onnx_threads))
        facts['threads.onnxruntime'] = pipelines[-1].onnx_ssd.threads
    if args.against:
        pipelines.append(models.chainercv(args, device))
    return pipelines, facts


def add_floor_ratios(rows, facts):
    """``ratio_to_floor``: forward seconds per image / the floor (``-`` elsewhere)."""
    floor = facts.get('floor.floor_s_per_image')
    for row in rows:
        row['ratio_to_floor'] = row['median_per_image_s'] / floor \
            if floor and row['stage'] == 'forward' else '-'
    return rows


def measure(args):
    """Time the stages: ``(rows, facts, machine state, pipelines)``."""
    check_args(args)
    device = models.resolve_device(args.device)
    state = machine.machine_state('start.')
    state['malloc'] = apply_malloc(args.malloc)
    pipelines, facts = build_pipelines(args, device)
    rows = stages.run(pipelines, images(args), args.batch_sizes, synchronizer(device),
                      args.warmup, args.repeats, args.budget_s)
    add_floor_ratios(rows, facts)
    state.update(machine.machine_state('end.'))
    return rows, facts, state, pipelines


def metadata(args, facts, state):
    """The ``.meta.json`` content: provenance (with ``facts``), machine
    state, settings and the command line."""
    settings = {k: (','.join(map(str, v)) if isinstance(v, (tuple, list)) else v)
                for k, v in sorted(vars(args).items())}
    settings['image_size'] = '{}x{}'.format(*args.image_size)
    return {'provenance': provenance(device=args.device, extra=facts),
            'machine': state, 'settings': {k: str(v) for k, v in settings.items()},
            'command': 'python -m replicate.bench ' + ' '.join(sys.argv[1:])}


def settings_section(meta):
    return ('Settings', '`{}`\n\n'.format(meta['command'])
            + report.markdown_table([meta['settings']], tuple(meta['settings'])))


def write_stages(args, rows, facts, state):
    """Write the stage report; returns its stem."""
    meta = metadata(args, facts, state)
    stem = os.path.join(args.out, args.stem or default_stem(args))
    sections = [(None, EXPLANATION), ('Per image (medians)',
                                      report.markdown_table(summary_rows(rows), SUMMARY_COLUMNS)),
                settings_section(meta)]
    report.write_report(stem, 'SSD300 speed by stage ({})'.format(meta['provenance']['device']),
                        sections, rows, COLUMNS, meta)
    print('report {}.md (load average start {}, end {})'.format(
        stem, state['start.load_average_1_5_15'], state['end.load_average_1_5_15']))
    return stem


def run(args):
    rows, facts, state, _ = measure(args)
    write_stages(args, rows, facts, state)
    return 0


def main(argv=None):
    """Entry point; returns the exit code."""
    args = parser().parse_args(argv)
    try:
        if args.targets:
            from replicate.bench import targets
            return targets.run(args)
        return run(args)
    except BenchError as exc:
        print('error: {}'.format(exc), file=sys.stderr)
        return 2
