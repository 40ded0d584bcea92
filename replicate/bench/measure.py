"""One measurement of SSD300's stages and its report: what ``python -m
replicate.bench`` runs (:func:`run`), and what ``--targets``
(:mod:`replicate.bench.targets`) runs several times with other settings.

:func:`measure` builds the pipelines the options ask for and times their
stages (:mod:`replicate.bench.stages`); :func:`write_stages` writes the stage
report (:mod:`replicate.bench.report`) with the settings and provenance.
"""
import os
import sys

from provenance.stamp import provenance
from replicate.bench import machine, models, report, stages
from replicate.bench.clock import synchronizer
from replicate.bench.errors import BenchError

COLUMNS = ('batch_size', 'pipeline', 'stage', 'repeats', 'median_s', 'p90_s',
           'median_per_image_s', 'p90_per_image_s', 'cpu_per_image_s', 'ratio_to_chainercv',
           'ratio_to_onnx', 'fraction_of_peak', 'fraction_of_peak_cpu', 'detections',
           'same_as_chainercv')


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
            return ('freed memory kept for reuse (mallopt M_MMAP_MAX=0, M_TRIM_THRESHOLD=-1: '
                    'never trimmed)')
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
    for flag in ('onnx', 'openvino', 'int8'):
        if getattr(args, flag, False) and 'numpy' not in args.device:
            raise BenchError('--{} runs on the CPU: use it with --device @numpy'.format(flag))
    if getattr(args, 'calibration_images', 1) < 1:
        raise BenchError('--calibration-images {}: give at least 1'.format(
            args.calibration_images))


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
            entry['forward_ratio_to_onnx'] = row['ratio_to_onnx']
            entry['forward_fraction_of_peak'] = row['fraction_of_peak']
            entry['forward_fraction_of_peak_cpu'] = row['fraction_of_peak_cpu']
    return list(table.values())


SUMMARY_COLUMNS = ('batch_size', 'pipeline') + tuple(s + '_s_per_image' for s in stages.STAGES) \
    + ('forward_cpu_s_per_image', 'forward_ratio_to_chainercv', 'total_ratio_to_chainercv',
       'forward_ratio_to_onnx', 'forward_fraction_of_peak', 'forward_fraction_of_peak_cpu',
       'detections', 'same_as_chainercv')

EXPLANATION = (
    'Stages of one `predict`-equivalent call, timed separately after the device finished '
    'the previous one: `preprocess` (resize, mean, stack, send to the device), `forward` '
    '(the network), `postprocess` (decode, score threshold, per-class NMS, rescale, copy to '
    'the host); `total` is their wall clock together. Medians over the timed calls after '
    'the warm-up, in seconds per image; ratios are median / ChainerCV\'s median at the same '
    'batch size and stage (below 1: faster); `forward_cpu_s_per_image`: CPU time of the '
    'process (all threads) in the forward, per image, which other processes\' load changes '
    'less than the wall clock; `same_as_chainercv`: bit-identical '
    'detections; `ratio_to_onnx`: median / the float32 ONNX Runtime path\'s (`ours-onnx`); '
    '`fraction_of_peak`: the model\'s MACs per second in the forward over the cores\' peak '
    'rate of its precision (float32 FMA or int8 dot products) measured in the same run '
    '(`floor.*` under Provenance, `cpu_floor.md`); `fraction_of_peak_cpu`: the same per '
    'CPU second over one core\'s peak, which load from other processes changes less. The '
    'load average at start and end is under Machine: timings taken while other work ran '
    'are slower than on a quiet machine.\n')


def build_pipelines(args, device):
    """``(pipelines, facts)``: ours, then (as asked) the ONNX Runtime,
    OpenVINO and int8 paths of one export and ChainerCV; ``facts`` describes
    the weights, the engines and the MACs counted."""
    from replicate.cpuinfo import cpu_facts
    ours, weights = models.ours(args, device)
    pipelines, facts = [ours], dict(cpu_facts(), weights=weights)
    from replicate.bench.floor import convolution_macs
    from replicate.ssd.nms_compiled import backend
    facts['macs_per_image'] = convolution_macs(ours.model)
    facts['nms'] = backend()
    if args.onnx or args.openvino or args.int8:
        onnx = models.ours_onnx(ours.model, args.onnx_threads)
        proto = onnx.onnx_ssd.proto
        if args.onnx:
            pipelines.append(onnx)
            facts['threads.onnxruntime'] = onnx.onnx_ssd.threads
        if args.openvino:
            pipelines.append(models.ours_openvino(ours.model, proto, args.onnx_threads))
        if args.int8:
            inputs, facts['int8.calibration'] = models.calibration(
                ours.model, args.calibration_images, args.image_size)
            pipelines.append(models.ours_int8_onnx(ours.model, proto, inputs, args.onnx_threads))
            pipelines.append(models.ours_int8_openvino(ours.model, proto, inputs,
                                                       args.onnx_threads))
        for pipeline in pipelines:
            for key, value in getattr(pipeline, 'facts', {}).items():
                facts['{}.{}'.format(pipeline.name, key)] = value
    if args.against:
        pipelines.append(models.chainercv(args, device))
    return pipelines, facts


def add_peak_ratios(rows, facts, pipelines):
    """``fraction_of_peak`` (wall) and ``fraction_of_peak_cpu`` of forward
    rows against the peak of each pipeline's precision; ``ratio_to_onnx``
    (median / ``ours-onnx``'s, same batch size and stage); ``-`` elsewhere."""
    from replicate.bench.floor import fraction_of_peak
    precision = {p.name: p.precision for p in pipelines}
    macs = facts['macs_per_image']
    onnx = {(r['batch_size'], r['stage']): r['median_s'] for r in rows
            if r['pipeline'] == 'ours-onnx'}
    for row in rows:
        key = (row['batch_size'], row['stage'])
        row['ratio_to_onnx'] = row['median_s'] / onnx[key] if key in onnx else '-'
        row['fraction_of_peak'] = row['fraction_of_peak_cpu'] = '-'
        if row['stage'] == 'forward':
            kind = precision[row['pipeline']]
            row['fraction_of_peak'] = fraction_of_peak(
                macs, row['median_per_image_s'], facts.get('floor.peak_{}_gmacs'.format(kind)))
            row['fraction_of_peak_cpu'] = fraction_of_peak(
                macs, row['cpu_per_image_s'],
                facts.get('floor.peak_{}_gmacs_per_core'.format(kind)))
    return rows


def measure(args):
    """Time the stages: ``(rows, facts, machine state, pipelines)``."""
    check_args(args)
    device = models.resolve_device(args.device)
    state = machine.machine_state('start.')
    state['malloc'] = apply_malloc(args.malloc)
    pipelines, facts = build_pipelines(args, device)
    floor_rows = []
    if args.floor:
        from replicate.bench import floor
        peak_facts, floor_rows = floor.measure()
        facts.update(peak_facts)
    rows = stages.run(pipelines, images(args), args.batch_sizes, synchronizer(device),
                      args.warmup, args.repeats, args.budget_s)
    add_peak_ratios(rows, facts, pipelines)
    state.update(machine.machine_state('end.'))
    # not a provenance entry: the floor table of the report (metadata drops it)
    facts['_floor_rows'] = floor_rows
    return rows, facts, state, pipelines


def metadata(args, facts, state):
    """The ``.meta.json`` content: provenance (with ``facts``), machine
    state, settings and the command line."""
    settings = {k: (','.join(map(str, v)) if isinstance(v, (tuple, list)) else v)
                for k, v in sorted(vars(args).items())}
    settings['image_size'] = '{}x{}'.format(*args.image_size)
    facts = {k: v for k, v in facts.items() if not k.startswith('_')}
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
                                      report.markdown_table(summary_rows(rows), SUMMARY_COLUMNS))]
    if facts.get('_floor_rows'):
        from replicate.bench import floor
        sections.append(('Floor: the peak rates of these cores, same run', floor.explanation(
            facts) + report.markdown_table(facts['_floor_rows'], floor.COLUMNS)))
    sections.append(settings_section(meta))
    report.write_report(stem, 'SSD300 speed by stage ({})'.format(meta['provenance']['device']),
                        sections, rows, COLUMNS, meta)
    print('report {}.md (load average start {}, end {})'.format(
        stem, state['start.load_average_1_5_15'], state['end.load_average_1_5_15']))
    return stem


def run(args):
    rows, facts, state, _ = measure(args)
    write_stages(args, rows, facts, state)
    return 0
