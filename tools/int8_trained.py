"""``python tools/int8_trained.py MODEL.npz``: what int8 costs in accuracy,
on trained weights: the small SSD trained on the generated shapes
(``python tools/train_benchmark.py``; its ``model.npz``).

The model is exported to ONNX (:func:`replicate.ort.export.export_ssd`) and
run five ways on the held-out test split (500 images): Chainer (the
reference), ONNX Runtime and OpenVINO in float32, and the export quantized to
int8 by ONNX Runtime's tools and by NNCF for OpenVINO, both calibrated on the
first ``--calibration`` images of the TRAIN split (never the test images).
Each gets its VOC07 mAP ('evaluate' preset) and, against Chainer float32,
the raw outputs' error and an agreement table of confident detections.

Writes ``<out>/int8_trained.md``, ``.csv`` and ``.meta.json``.

``--train-if-missing``: when MODEL does not exist, first generate the
dataset and train it with :data:`TRAIN_CONFIG` (the configuration of
``tools/train_benchmark.py`` on a shorter schedule, 800 iterations: about 40
minutes on 2 shared cores, validation mAP 0.85; the full 1,500 iterations
take about an hour and reach 0.89).
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))

from provenance.stamp import file_sha256, provenance  # noqa: E402
from replicate.bench import machine, report  # noqa: E402
from replicate.bench.int8_accuracy import (  # noqa: E402
    AGREEMENT_IOU,
    AGREEMENT_SCORE,
    agreement,
    raw_errors,
)
from replicate.cpuinfo import cpu_facts  # noqa: E402

COLUMNS = ('path', 'map_voc07', 'map_delta_points', 'raw_max_scaled_diff', 'raw_rms_rel_diff',
           'detections_ref', 'detections_path', 'matched', 'mean_iou_matched',
           'mean_abs_score_diff', 'forward_s_per_image')
#: The target: int8 loses at most this many mAP points (x100).
MAX_LOSS_POINTS = 0.5
#: ``--train-if-missing``: tools/train_benchmark.py's configuration, 800 iterations.
TRAIN_CONFIG = ['--model', 'small', '--insize', '128', '--width', '8', '--ratios', 'ssd',
                '--batch-size', '32', '--lr', '0.01', '--lr-steps', '600,700',
                '--iterations', '800', '--seed', '0', '--no-augment', '--eval-interval', '400',
                '--snapshot-interval', '400', '--log-interval', '25', '--loaders', '2']


class _Runner:
    """``predict`` of an engine's SSD with the forward timed and its raw
    outputs kept (for the error columns)."""

    def __init__(self, runner):
        self.runner, self.outputs, self.seconds, self.images = runner, [], 0.0, 0

    def predict(self, imgs):
        x, sizes = self.runner.model.prepare_batch(imgs)
        start = time.perf_counter()
        outputs = self.runner.forward(x)
        self.seconds += time.perf_counter() - start
        self.images += len(imgs)
        self.outputs.append([np.asarray(o) for o in outputs])
        return self.runner.model.postprocess(outputs[0], outputs[1], sizes)


class _ChainerRunner:
    def __init__(self, model):
        self.model = model

    def forward(self, x):
        import chainer
        with chainer.using_config('train', False), chainer.no_backprop_mode():
            return tuple(v.array for v in self.model.forward(x))


def runners(model, calibration):
    """``{path name: runner}`` (Chainer first) and quantization facts."""
    from replicate.ort.export import export_ssd
    from replicate.ort.quantize import quantize as ort_quantize
    from replicate.ort.runtime import OnnxSSD
    from replicate.ov.quantize import quantize as nncf_quantize
    from replicate.ov.runtime import OpenVinoSSD
    proto = export_ssd(model)
    ov32 = OpenVinoSSD(model, network=proto)
    ort8, ort_facts = ort_quantize(proto, calibration)
    ov8, ov_facts = nncf_quantize(ov32.network, calibration)
    facts = {'int8-onnx.' + k: v for k, v in ort_facts.items()}
    facts.update(('int8-openvino.' + k, v) for k, v in ov_facts.items())
    return {'chainer-fp32': _ChainerRunner(model), 'onnx-fp32': OnnxSSD(model, proto=proto),
            'openvino-fp32': ov32, 'onnx-int8': OnnxSSD(model, proto=ort8),
            'openvino-int8': OpenVinoSSD(model, network=ov8)}, facts


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python tools/int8_trained.py',
                                     description=__doc__.split('\n\n')[0])
    parser.add_argument('model', help='model.npz of python -m replicate.train (the small SSD '
                                      'of tools/train_benchmark.py)')
    parser.add_argument('--data', default=os.path.join('data', 'shapes'),
                        help='the generated shapes dataset (default data/shapes)')
    parser.add_argument('--calibration', type=int, default=64,
                        help='train-split images calibrating int8 (default 64)')
    parser.add_argument('--note', default='', help='a sentence on how the model was trained')
    parser.add_argument('--train-if-missing', action='store_true',
                        help='train MODEL first (TRAIN_CONFIG, into its folder) when it does '
                             'not exist')
    parser.add_argument('--out', default=os.path.join('reports', 'bench'))
    args = parser.parse_args(argv)
    from replicate.ort.quantize import calibration_inputs
    from replicate.train import experiments as X
    from replicate.train.data import load_dataset
    from replicate.train.snapshot import load_model

    if not os.path.isfile(args.model):
        if not args.train_if_missing:
            print('error: {} not found: train it (python tools/train_benchmark.py) or pass '
                  '--train-if-missing'.format(args.model), file=sys.stderr)
            return 2
        X.ensure_dataset(args.data)
        X.train(args.data, os.path.dirname(os.path.abspath(args.model)), TRAIN_CONFIG)
        args.note = args.note or ('trained here by --train-if-missing: python -m '
                                  'replicate.train ' + ' '.join(TRAIN_CONFIG))
    state = machine.machine_state('start.')
    model, meta = load_model(args.model)
    model.use_preset('evaluate')
    names = meta['label_names']
    train = load_dataset(args.data, 'train', names)
    calibration = calibration_inputs(model, [train[i][0] for i in range(args.calibration)])
    paths, facts = runners(model, calibration)
    test = load_dataset(args.data, 'test', names, evaluation=True)
    from replicate.train.evaluator import predict_dataset
    results, timed = {}, {}
    for name, runner in paths.items():
        timed[name] = _Runner(runner)
        results[name] = predict_dataset(timed[name], test)
        print('{:<14} mAP {:.4f}'.format(name, X.voc07(results[name])['map']))
    state.update(machine.machine_state('end.'))
    ref = results['chainer-fp32']
    ref_map = X.voc07(ref)['map']
    rows = []
    for name in paths:
        value = X.voc07(results[name])['map']
        errors = raw_errors(timed['chainer-fp32'].outputs, timed[name].outputs)
        rows.append(dict(zip(COLUMNS, (name, value, 100 * (value - ref_map), *errors,
                                       *agreement(ref[:3], results[name][:3]),
                                       timed[name].seconds / timed[name].images), strict=True)))
    worst = min(r['map_delta_points'] for r in rows if r['path'].endswith('int8'))
    text = ('Model: `{}` (SHA-256 {}), {}. Test split: {} images of the generated shapes '
            '(seed 0); calibration: the first {} images of the train split. mAP: VOC07 '
            '11-point, preset evaluate. `map_delta_points`: mAP - Chainer float32 mAP, x100. '
            '`raw_*`: network outputs over all test images against Chainer float32 (worst of '
            'mb_locs, mb_confs). Agreement: detections with score >= {:g}, matched within a '
            'label by IoU >= {:g} (greedy by score). `forward_s_per_image`: batch 8, '
            'timings of a shared machine, for orientation only (speed is in '
            'cpu_targets.md).\n\nTarget: int8 loses at most {:g} mAP points. Worst int8 '
            'path: {:+.2f} points: {}.\n\n'.format(
                os.path.basename(args.model), file_sha256(args.model)[:16], args.note or
                'trained by python -m replicate.train', len(test), args.calibration,
                AGREEMENT_SCORE, AGREEMENT_IOU, MAX_LOSS_POINTS, worst,
                'met' if worst >= -MAX_LOSS_POINTS else 'NOT met'))
    meta_out = {'provenance': provenance(device='@numpy', extra=dict(
        cpu_facts(), **facts)), 'machine': state,
        'command': 'python tools/int8_trained.py ' + ' '.join(sys.argv[1:])}
    report.write_report(os.path.join(args.out, 'int8_trained'),
                        'int8 against float32 on trained weights (small SSD, generated shapes)',
                        [(None, text), ('Command', '`{}`\n'.format(meta_out['command']))],
                        rows, COLUMNS, meta_out)
    print('worst int8 loss {:+.2f} mAP points; report {}'.format(
        worst, os.path.join(args.out, 'int8_trained.md')))
    return 0


if __name__ == '__main__':
    sys.exit(main())
