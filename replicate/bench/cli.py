"""``python -m replicate.bench``: time SSD300's stages; see :mod:`replicate.bench`.

Exit codes: 0 done; 2 a user error (one line ``error: ...``).
"""
import argparse
import os
import sys

from replicate.bench import measure
from replicate.bench.errors import BenchError


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
    p.add_argument('--openvino', action='store_true',
                   help='also time the same export run by OpenVINO in float32 (CPU only; the '
                        'openvino extra)')
    p.add_argument('--int8', action='store_true',
                   help='also time the export quantized to int8, by ONNX Runtime\'s tools '
                        '(ours-int8-onnx) and by NNCF for OpenVINO (ours-int8-openvino)')
    p.add_argument('--calibration-images', type=int, default=16, metavar='N',
                   help='generated images (seed 1, not the timed ones) calibrating --int8 '
                        '(default 16)')
    p.add_argument('--floor', action='store_true',
                   help="measure the cores' peak float32 and int8 rates in the same run "
                        '(fraction_of_peak)')
    p.add_argument('--malloc', choices=('keep', 'default'), default='keep',
                   help='keep (default): glibc keeps freed memory for reuse instead of '
                        'returning it to the OS (replicate.memory), as a serving process '
                        'would be set up; default: leave malloc as it is. Applies to every '
                        'system timed in the run, ChainerCV included')
    p.add_argument('--targets', action='store_true',
                   help='the full report of reports/bench/: ours, the ONNX path and ChainerCV '
                        'on seeded and on untrained weights, post-processing alone, the floor, '
                        'the ONNX/OpenVINO/int8 agreement, and each speed target met or not '
                        '(implies --against chainercv --onnx --openvino --int8 --floor; '
                        '--device @numpy)')
    return p


def main(argv=None):
    """Entry point; returns the exit code."""
    args = parser().parse_args(argv)
    try:
        if args.targets:
            from replicate.bench import targets
            return targets.run(args)
        return measure.run(args)
    except BenchError as exc:
        print('error: {}'.format(exc), file=sys.stderr)
        return 2
