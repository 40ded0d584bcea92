"""``python -m replicate.caffe.parity PROTOTXT CAFFEMODEL`` (or ``res10-face``):
our Chainer build of a Caffe SSD vs OpenCV's DNN on the same files, layer by
layer and detection by detection (rows: :mod:`replicate.caffe.parity.rows`).

Writes ``<out>/caffe_<model>_cpu.{csv,md,meta.json}``; the default ``--out``
is ``reports/parity-latest/``, so a run never overwrites the committed
``reports/parity/`` unless asked to. Exit codes: 0 every compared output
matches; 1 some output diverges (the report names the first); 2 a user
error (one line ``error: ...``).
"""
import argparse
import os
import sys

import numpy as np

from replicate.errors import UserError
from replicate.parity.cli import DEFAULT_OUT
from replicate.parity.report import REPOSITORY

DEFAULT_RTOL = 1e-5
#: The sample photographs with faces (scikit-image's astronaut and camera,
#: matplotlib's grace_hopper), in the repository's images/.
DEFAULT_IMAGES = tuple(os.path.join(REPOSITORY, 'images', name) for name in
                       ('astronaut.jpg', 'camera.jpg', 'grace_hopper.jpg'))
NOTE = (
    'Tolerance {rtol:g} on scaled_err = max|ours - OpenCV| / max|OpenCV| per output (float32 '
    'on the CPU). Chainer convolves by im2col and one BLAS product, OpenCV with its own '
    'blocked kernels: they sum the same products in another order, so outputs differ in the '
    'last float32 bits and the differences compound through the layers. Integer outputs '
    '(classes, detection counts) must be equal.')


def parser():
    p = argparse.ArgumentParser(prog='python -m replicate.caffe.parity', description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('model', help='the deploy .prototxt, or a packaged model\'s short name '
                                 '(res10-face)')
    p.add_argument('caffemodel', nargs='?', help='the .caffemodel (not with a short name)')
    p.add_argument('--mean', help='B,G,R subtracted after resizing (default: the packaged '
                                  "model's, else 104,117,123, the SSD training scripts')")
    p.add_argument('--images', nargs='+', help='image files (default: images/astronaut.jpg, '
                                               'camera.jpg, grace_hopper.jpg)')
    p.add_argument('--out', default=DEFAULT_OUT,
                   help='report folder (default: %(default)s; the committed one is '
                        'reports/parity)')
    p.add_argument('--rtol', type=float, default=DEFAULT_RTOL, help='tolerance on scaled_err')
    p.add_argument('--rtol-reason', help='required justification for --rtol above 1e-5')
    return p


def parse_mean(text):
    """``'104,117,123'`` -> (104.0, 117.0, 123.0); a UserError otherwise."""
    try:
        mean = tuple(float(v) for v in text.replace('/', ',').split(','))
    except ValueError:
        mean = ()
    if len(mean) != 3 or not all(np.isfinite(mean)):
        raise UserError('--mean {!r}: give three numbers B,G,R (e.g. 104,117,123)'.format(text))
    return mean


def read_bgr(paths):
    """Image files -> (H, W, 3) uint8 BGR arrays (EXIF orientation applied)."""
    from replicate.parity.inputs import read_rgb
    images = []
    for path in paths:
        try:
            rgb = read_rgb(path)
        except (OSError, ValueError) as exc:
            raise UserError('cannot read image {} ({}): pass JPEG/PNG files to --images'.format(
                path, exc)) from None
        images.append(np.ascontiguousarray(rgb[:, :, ::-1]))
    return images


def resolve_files(args):
    """``(prototxt, caffemodel, mean, report name, description)``."""
    from replicate.caffe import models
    from replicate.caffe.ssd import SSD_MEAN
    if args.caffemodel is None:
        prototxt, caffemodel, entry = models.resolve(args.model)
        mean = parse_mean(args.mean) if args.mean else entry.mean
        return prototxt, caffemodel, mean, entry.report_name, entry.what
    for path in (args.model, args.caffemodel):
        if not os.path.isfile(path):
            raise UserError('{} not found: pass a deploy .prototxt and its .caffemodel'.format(
                path))
    name = os.path.splitext(os.path.basename(args.caffemodel))[0]
    return (args.model, args.caffemodel, parse_mean(args.mean) if args.mean else SSD_MEAN,
            name, 'user files')


def run(args):
    from provenance.stamp import file_sha256, provenance
    from replicate.caffe import ssd
    from replicate.caffe.parity import report, rows
    prototxt, caffemodel, mean, name, what = resolve_files(args)
    images = read_bgr(args.images or DEFAULT_IMAGES)
    model = ssd.load(prototxt, caffemodel, mean)
    table, counts = rows.compare_all(model, images, prototxt, caffemodel, args.rtol)
    types = {layer.name: layer.type for layer, _ in model.net.entries}
    stem = os.path.join(args.out, 'caffe_{}_cpu'.format(name))
    settings = {
        'model': what, 'rtol': args.rtol, 'mean (B, G, R)': ' '.join('{:g}'.format(m)
                                                                      for m in mean),
        'input': '{}x{}, resized as cv2.dnn.blobFromImage (INTER_LINEAR on uint8 BGR), '
                 'mean subtracted, scale 1'.format(*model.insize),
        'images': ' '.join(os.path.relpath(p, REPOSITORY) if p.startswith(REPOSITORY)
                           else os.path.basename(p) for p in (args.images or DEFAULT_IMAGES)),
        'image sizes': ' '.join('{}x{}'.format(*i.shape[:2]) for i in images),
        'layers': len(model.net.entries), 'priors': model.n_priors,
        'detection_output': ', '.join('{}={}'.format(k, v) for k, v in
                                      model.settings.info().items()),
        'caffemodel layers with blobs not used': ', '.join(n for n, _, _ in model.net.unused)
        or 'none',
        'detections per image (ours / OpenCV)': ' '.join(
            '{}/{}'.format(a, b) for a, b in zip(counts['detections_ours'],
                                                 counts['detections_opencv'], strict=True)),
        'ours': 'replicate.caffe (this repository), Chainer on the CPU (@numpy)',
        'reference': 'OpenCV DNN (cv2.dnn.readNetFromCaffe), CPU, this process'}
    extra = {'prototxt.sha256': file_sha256(prototxt), 'caffemodel.sha256':
             file_sha256(caffemodel)}
    note = NOTE.format(rtol=args.rtol)
    if args.rtol_reason:
        note += ' Reason given for this tolerance: ' + args.rtol_reason
    info = report.write_report(table, stem, settings, provenance(device='@numpy', extra=extra),
                               note, types)
    print('{}: {} rows; first diverging: {}; report {}.md'.format(
        info['verdict'], info['rows'], info['first_diverging'], stem))
    return 0 if info['verdict'] == 'PASS' else 1


def main(argv=None):
    args = parser().parse_args(argv)
    try:
        if args.rtol > DEFAULT_RTOL and not args.rtol_reason:
            raise UserError('--rtol {:g} is looser than {:g}: say why with --rtol-reason'.format(
                args.rtol, DEFAULT_RTOL))
        return run(args)
    except UserError as exc:
        print('error: {}'.format(exc), file=sys.stderr)
        return 2


if __name__ == '__main__':
    sys.exit(main())
