"""``python -m replicate.parity``: ours vs ChainerCV's SSD300, layer by layer.

Writes ``<out>/<stem>.csv``, ``<stem>.md`` and ``<stem>.meta.json`` (stem
``[selfcheck_]<cpu|gpu>_<weights>``, see reports/parity/README.md); the
default ``--out`` is a folder of its own, so a run never overwrites the
committed ``reports/parity/`` unless asked to (``tox -e parity`` does).
Exit codes: 0 every compared output matches; 1 some output diverges (the
report names the first); 2 a user error (one line ``error: ...``).
"""
import argparse
import json
import os
import re
import sys

from provenance.stamp import blas_description, provenance
from replicate.device import check_device as _check_device
from replicate.errors import UserError, one_line
from replicate.parity import capture, inputs, metrics, models, report
from replicate.parity.errors import ParityError
from replicate.tolerances import PARITY_CPU, PARITY_GPU, SAVED_RUN_CPU, spelled

#: Most input images (--batch): every layer's outputs of both models are
#: kept in memory.
MAX_BATCH = 64
#: Most foreground classes (--n-fg-class).
MAX_FG_CLASS = 1000

#: Where a run writes without ``--out``: not the committed reports/parity/.
DEFAULT_OUT = os.path.join('reports', 'parity-latest')
GPU_NOTE = (
    'Tolerance {rtol:g} on scaled_err (GPU default, looser than the CPU {cpu}): cuDNN chooses '
    'convolution algorithms (implicit GEMM, Winograd, FFT) that sum in another order than the '
    "CPU's im2col + BLAS; float32 reordering over reductions of up to 4608 terms (3x3x512) gives "
    'differences of order 1e-6 to 1e-5 of a layer\'s scale, compounding over 23 convolutions. '
    'Run with NVIDIA_TF32_OVERRIDE=0: TF32 tensor-core math (about 1e-3) is meant to fail this '
    'bound.')
CPU_NOTE = ('Tolerance {rtol:g} on scaled_err = max|ours - ref| / max|ref| per layer '
            '(float32 on the CPU, the default).')
SAVED_NOTE = (
    'Tolerance {rtol:g} on scaled_err = max|ours - ref| / max|ref| per layer (the default '
    'against a saved run made under another BLAS; {cpu} under the same one): the reference '
    'was computed with {saved}, this run with {here}. Another OpenBLAS kernel or version sums '
    "matrix products in another order, so float32 outputs differ in their last bits; records "
    "marked 'exact' are identical all the same.")


def parser():
    """The argument parser (options documented in reports/parity/README.md)."""
    p = argparse.ArgumentParser(prog='python -m replicate.parity', description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--ours', choices=models.OURS_CHOICES, default='replicate',
                   help='model under test; chainercv = self-check of the tool '
                        '(default: %(default)s)')
    p.add_argument('--weights', default='random',
                   help='random (seeded, the same in both models), voc0712 or imagenet '
                        "(ChainerCV's file: cached, else downloaded), or a path to an .npz "
                        '(default: %(default)s)')
    p.add_argument('--seed', type=int, default=0,
                   help='seed of weights and generated images (default: %(default)s)')
    p.add_argument('--batch', type=int, default=2,
                   help='number of input images, at most {} (default: %(default)s)'.format(
                       MAX_BATCH))
    p.add_argument('--n-fg-class', type=int, default=20,
                   help='foreground classes (default: %(default)s)')
    p.add_argument('--out', default=DEFAULT_OUT,
                   help='report folder (default: %(default)s; tox -e parity passes '
                        'reports/parity)')
    p.add_argument('--images', nargs='+',
                   help='image files for the predict comparison (default: generated images '
                        'of odd sizes)')
    p.add_argument('--device', default='@numpy',
                   help='where ours runs: @numpy or @cupy:N (default: %(default)s)')
    p.add_argument('--rtol', type=float,
                   help='tolerance on scaled_err (default {} on the CPU, {} on a GPU, {} '
                        'against a --reference saved under another BLAS)'.format(
                            spelled(PARITY_CPU), spelled(PARITY_GPU), spelled(SAVED_RUN_CPU)))
    p.add_argument('--rtol-reason', help='required justification for --rtol above {}'.format(
        spelled(PARITY_CPU)))
    p.add_argument('--preset', choices=('visualize', 'evaluate'), default='evaluate',
                   help="predict's thresholds, use_preset (default: %(default)s)")
    p.add_argument('--resize-backend', choices=('cv2', 'PIL'), default='cv2',
                   help="chainer.config.cv_resize_backend during both models' predict "
                        '(default: %(default)s)')
    p.add_argument('--perturb', metavar='PARAM', help='add 1e-3 to one parameter of ours')
    p.add_argument('--only', metavar='REGEX', default='',
                   help='compare/save only records whose name matches (re.search; default all)')
    p.add_argument('--name-map', metavar='JSON',
                   help='{reference name: our name} file (default: names must match)')
    p.add_argument('--sample', type=int, metavar='N',
                   help='with --save-reference: keep records of more than N elements as their '
                        'SHA-256, max |value| and N sampled elements (a compact file; default: '
                        'every element)')
    io = p.add_mutually_exclusive_group()
    io.add_argument('--save-reference', metavar='NPZ',
                    help="save ChainerCV's run to NPZ, then stop (no report)")
    io.add_argument('--reference', metavar='NPZ',
                    help='compare against a saved reference (its settings are used)')
    return p


def check_device(device):
    """:func:`replicate.device.check_device` raising :class:`ParityError`."""
    _check_device(device, ParityError)


def tolerance(args, reference_blas=None):
    """``(rtol, note)``: the tolerance on scaled_err and its justification.

    Args:
        reference_blas (str or None): the BLAS a saved reference was computed
            with (its provenance's ``blas``), None for a reference run in
            this process. Unlike this process's, it allows :data:`SAVED_RUN_CPU`.
    """
    gpu = 'cupy' in args.device
    here = blas_description()
    saved_elsewhere = not gpu and reference_blas is not None and reference_blas != here
    default = PARITY_GPU if gpu else SAVED_RUN_CPU if saved_elsewhere else PARITY_CPU
    if args.rtol is None:
        if saved_elsewhere:
            return default, SAVED_NOTE.format(rtol=default, cpu=spelled(PARITY_CPU),
                                              saved=reference_blas, here=here)
        return default, (GPU_NOTE if gpu else CPU_NOTE).format(rtol=default,
                                                              cpu=spelled(PARITY_CPU))
    if args.rtol > max(default, PARITY_CPU) and not args.rtol_reason:
        raise ParityError('--rtol {:g} is looser than {}: say why with --rtol-reason'
                          .format(args.rtol, spelled(max(default, PARITY_CPU))))
    note = CPU_NOTE.format(rtol=args.rtol)
    return args.rtol, note + (' Reason given: ' + args.rtol_reason if args.rtol_reason else '')


def run_config(args):
    """The settings that define the reference run (saved with it)."""
    return {'seed': args.seed, 'n_fg_class': args.n_fg_class, 'weights': args.weights,
            'batch': args.batch, 'preset': args.preset, 'resize_backend': args.resize_backend,
            'images': ' '.join(args.images) if args.images else 'generated',
            'only': args.only}


def parity_inputs(config, mean, image_files):
    """``(x, images)``: the prepared batch (noise / structured 300x300
    images) and the raw images for ``predict`` (files, or generated ones of
    odd sizes)."""
    batch = config['batch']
    x = inputs.prepared_batch(inputs.generated_images(batch, config['seed'], ((300, 300),)), mean)
    if image_files:
        return x, inputs.read_images(image_files)
    return x, inputs.generated_images(batch, config['seed'] + 1, inputs.RAW_SIZES)


def run_reference(config, image_files):
    """ChainerCV on the CPU: ``(records, x, images, weights description)``."""
    weights_path = models.resolve_weights(config['weights'], config['n_fg_class'])
    model = models.build_reference(config['n_fg_class'])
    description = models.load_weights_into(model, config['weights'], weights_path,
                                           config['seed'])
    x, images = parity_inputs(config, model.mean, image_files)
    return capture.capture(model, x, images, config['preset'], config['resize_backend']), \
        x, images, description


def run_ours(args, config, x, images):
    """Our model on ``args.device``: its records and weights description."""
    weights_path = models.resolve_weights(config['weights'], config['n_fg_class'])
    model = models.build_ours(args.ours, config['n_fg_class'])
    description = models.load_weights_into(model, config['weights'], weights_path,
                                           config['seed'])
    if args.perturb:
        models.perturb(model, args.perturb)
    import chainer
    model.to_device(chainer.get_device(args.device))
    return capture.capture(model, x, images, config['preset'], config['resize_backend']), \
        description


def selected(records, pattern):
    """The records whose name matches ``pattern`` (all for ``''``), in order.

    Raises:
        ParityError: ``pattern`` is not a regular expression.
    """
    try:
        regex = re.compile(pattern)
    except re.error as exc:
        raise ParityError('--only {!r} is not a regular expression: {}'
                          .format(pattern, exc)) from exc
    return type(records)((k, v) for k, v in records.items() if regex.search(k))


def read_name_map(path):
    """``{reference name: our name}`` from a JSON file (empty if no path)."""
    if not path:
        return {}
    try:
        with open(path) as f:
            return {str(k): str(v) for k, v in json.load(f).items()}
    except (OSError, ValueError, AttributeError) as exc:
        raise ParityError('--name-map {}: cannot read a JSON object ({})'
                          .format(path, exc)) from exc


def save_reference_run(args):
    """``--save-reference``: run ChainerCV, save, print where."""
    from replicate.parity.reference import save_reference
    config = run_config(args)
    records, x, images, description = run_reference(config, args.images)
    records = selected(records, config['only'])
    config.update(reference_weights=description,
                  provenance=provenance(device='@numpy', extra={'role': 'reference run'}))
    config['sample'] = args.sample
    save_reference(args.save_reference, records, config, x, images, args.sample)
    print('saved reference ({} records) to {}'.format(len(records), args.save_reference))
    return 0


def reference_records(args):
    """``(records, config, x, images, source)`` from a file or a fresh run."""
    if args.reference:
        from replicate.parity.reference import load_reference
        records, config, x, images = load_reference(args.reference)
        return records, config, x, images, 'file {} (settings taken from it)'.format(
            args.reference)
    config = run_config(args)
    records, x, images, description = run_reference(config, args.images)
    config['reference_weights'] = description
    return records, config, x, images, 'ChainerCV run on the CPU in this process'


def compare_run(args):
    """Run (or load) the reference, run ours, write the report; exit code."""
    name_map = read_name_map(args.name_map)
    if not args.reference:
        tolerance(args)  # a bad --rtol is refused before the reference runs
    ref_records, config, x, images, source = reference_records(args)
    reference_blas = None
    if args.reference:
        reference_blas = config.get('provenance', {}).get('blas', 'a BLAS not recorded')
    rtol, note = tolerance(args, reference_blas)
    ours_records, ours_weights = run_ours(args, config, x, images)
    only = args.only or config.get('only', '')  # --only narrows a saved run's records too
    rows = metrics.compare_traces(selected(ours_records, only), selected(ref_records, only),
                                  rtol, name_map)
    settings = dict((k, v) for k, v in config.items() if k != 'provenance')
    settings.update(rtol=rtol, ours=args.ours, ours_device=args.device, reference=source,
                    reference_device='@numpy', ours_weights=ours_weights,
                    perturb=args.perturb or 'none', only=only or '(all records)',
                    reference_blas=reference_blas or 'this process')
    stem = report.report_stem(args.out, args.device, config['weights'], args.ours)
    info = report.write_report(rows, stem, settings, provenance(device=args.device), name_map,
                               note)
    print('{}: {} rows; first diverging: {}; report {}.md'.format(
        info['verdict'], info['rows'], info['first_diverging'], stem))
    return 0 if info['verdict'] == 'PASS' else 1


def main(argv=None):
    """Entry point; returns the exit code."""
    args = parser().parse_args(argv)
    try:
        if not 1 <= args.batch <= MAX_BATCH:
            raise ParityError('--batch {}: give 1 to {} (every layer of both models is kept '
                              'in memory)'.format(args.batch, MAX_BATCH))
        if not 1 <= args.n_fg_class <= MAX_FG_CLASS:
            raise ParityError('--n-fg-class {}: give 1 to {}'.format(args.n_fg_class,
                                                                    MAX_FG_CLASS))
        if args.sample is not None and (args.sample < 1 or not args.save_reference):
            raise ParityError('--sample {}: give a positive number, with --save-reference'
                              .format(args.sample))
        check_device(args.device)
        if os.path.lexists(args.out) and not os.path.isdir(args.out):
            raise ParityError('--out {}: not a folder; pass a folder for the report (made if '
                              'missing)'.format(args.out))
        if args.save_reference:
            return save_reference_run(args)
        return compare_run(args)
    except UserError as exc:  # ParityError, and the weights' and pretrained files' errors
        print('error: {}'.format(one_line(exc)), file=sys.stderr)
        return 2
    except OSError as exc:  # --out a file or read-only, a full disk
        print('error: {}: {}; check that the path is a writable folder'.format(
            exc.filename, exc.strerror or exc), file=sys.stderr)
        return 2
