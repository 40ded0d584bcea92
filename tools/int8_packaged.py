"""``python tools/int8_packaged.py``: what int8 changes in the trained
detectors that packages ship (:mod:`replicate.bench.int8_detectors`: OpenCV's
Caffe face SSD and the TF1 SSDLite person detector, both in our Chainer
ports).

Each detector's network is exported to ONNX
(:func:`replicate.ort.export.export_network`) and run on the same inputs
seven ways: Chainer float32 (the reference), ONNX Runtime and OpenVINO in
float32, and int8 by ONNX Runtime's tools and by NNCF for OpenVINO, each
calibrated twice: on views of two other photographs (scikit-learn's, no face
and no person: the honest setting) and on the measured inputs themselves
(in-sample: what calibration on the detector's own domain can give at best).
The inputs are six views of every image of ``--images`` (the repository's
sample photographs by default): three centre crops, each as it is and
mirrored. Every path's detections go through the detector's own
post-processing; the table sets them against Chainer float32's.

Writes ``<out>/int8_packaged.md``, ``.csv`` and ``.meta.json``.
"""
import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))

from provenance.stamp import provenance  # noqa: E402
from replicate.bench import machine, report  # noqa: E402
from replicate.bench.int8_accuracy import (  # noqa: E402
    AGREEMENT_COLUMNS,
    AGREEMENT_IOU,
    AGREEMENT_SCORE,
    agreement,
    raw_errors,
)
from replicate.cpuinfo import cpu_facts  # noqa: E402

COLUMNS = ('detector', 'path', 'calibration', 'raw_max_scaled_diff', 'raw_rms_rel_diff',
           *AGREEMENT_COLUMNS, 'forward_ms_per_image')
#: Suffixes of the photographs read from ``--images`` (any case).
IMAGE_SUFFIXES = ('.jpg', '.jpeg', '.png')
#: Calibration sets: name -> what it is, in words.
CALIBRATIONS = {'photos': 'six views each of two photographs that scikit-learn ships, with no '
                          'face and no person (12 inputs)',
                'in-sample': 'the measured inputs themselves (an upper bound)'}


def engine_paths(detector, calibration_sets):
    """``{(path, calibration): forward}`` of the float32 and int8 engines
    and the quantization facts. ``calibration_sets``: name -> list of
    float32 (1, 3, H, W) inputs."""
    from replicate.ort.export import export_network
    from replicate.ort.quantize import quantize as ort_quantize
    from replicate.ort.runtime import OnnxNetwork
    from replicate.ov.quantize import quantize as nncf_quantize
    from replicate.ov.runtime import OpenVinoNetwork
    proto = export_network(detector.model, detector.size)
    ov32 = OpenVinoNetwork(proto)
    paths = {('onnx-fp32', '-'): OnnxNetwork(proto).forward,
             ('openvino-fp32', '-'): ov32.forward}
    facts = {}
    for name, inputs in calibration_sets.items():
        ort8, ort_facts = ort_quantize(proto, inputs)
        ov8, ov_facts = nncf_quantize(ov32.network, inputs)
        paths['onnx-int8', name] = OnnxNetwork(ort8).forward
        paths['openvino-int8', name] = OpenVinoNetwork(ov8).forward
        facts.update(('int8-onnx.' + k, v) for k, v in ort_facts.items()
                     if k != 'calibration_images')
        facts.update(('int8-openvino.' + k, v) for k, v in ov_facts.items()
                     if k != 'calibration_images')
    return paths, facts


def measure(detector, images, calibration_photos):
    """Rows of :data:`COLUMNS` for one detector (an object of
    :data:`replicate.bench.int8_detectors.DETECTORS`), and facts."""
    from replicate.bench.int8_detectors import views
    inputs = [v for image in images for v in views(image)]
    xs = [detector.prepare(v) for v in inputs]
    calibration = [detector.prepare(v) for image in calibration_photos for v in views(image)]
    paths, facts = engine_paths(detector, {'photos': calibration, 'in-sample': xs})
    paths = {('chainer-fp32', '-'): detector.forward, **paths}
    rows, ref = [], None
    for (path, calibration_name), forward in paths.items():
        forward(xs[0])  # warm-up (OpenVINO compiles, ONNX Runtime allocates)
        outputs, seconds = [], []
        for x in xs:
            start = time.perf_counter()
            outputs.append(forward(x))
            seconds.append(time.perf_counter() - start)
        found = [detector.detect(o, v.shape[:2]) for o, v in zip(outputs, inputs, strict=True)]
        found = tuple(list(column) for column in zip(*found, strict=True))
        if ref is None:
            ref = outputs, found
        rows.append(dict(zip(COLUMNS, (
            detector.name, path, calibration_name, *raw_errors(ref[0], outputs),
            *agreement(ref[1], found), 1000 * statistics.median(seconds)), strict=True)))
        print('{:<15} {:<14} {:<10} matched {} of {}'.format(
            detector.name, path, calibration_name, rows[-1]['matched'],
            rows[-1]['detections_ref']))
    return rows, {'{}.{}'.format(detector.name, k): v for k, v in facts.items()}


def summary(rows):
    """One line per detector: what each int8 path keeps under each calibration."""
    lines = []
    for name in dict.fromkeys(r['detector'] for r in rows):
        parts = []
        for calibration in CALIBRATIONS:
            int8 = [r for r in rows if r['detector'] == name and r['calibration'] == calibration]
            parts.append('calibrated on {}: {}'.format(
                'the photos' if calibration == 'photos' else 'the inputs (in-sample)',
                ', '.join('{} {} of {}'.format(r['path'], r['matched'], r['detections_ref'])
                          for r in int8)))
        lines.append('- `{}`: confident float32 detections that int8 keeps, {}.'.format(
            name, '; '.join(parts)))
    return '\n'.join(lines) + '\n'


def image_paths(folder):
    """The photographs of ``folder`` (.jpg, .jpeg, .png in any case), sorted.

    Raises:
        UserError: ``folder`` is not a folder, or holds none.
    """
    from replicate.errors import UserError
    if not os.path.isdir(folder):
        raise UserError('--images {}: no such folder; pass --images FOLDER of photographs '
                        '(.jpg, .jpeg, .png)'.format(folder))
    paths = sorted(os.path.join(folder, n) for n in os.listdir(folder)
                   if n.lower().endswith(IMAGE_SUFFIXES))
    if not paths:
        raise UserError('--images {}: no .jpg, .jpeg or .png in it; pass --images FOLDER of '
                        'photographs'.format(folder))
    return paths


def read_images(paths):
    """(H, W, 3) uint8 RGB of each path.

    Raises:
        UserError: a file that is not a readable image (named, with the fix).
    """
    from replicate.errors import UserError
    from replicate.parity.inputs import read_rgb
    images = []
    for path in paths:
        try:
            images.append(read_rgb(path))
        except (OSError, ValueError, SyntaxError) as exc:  # PIL: corrupt or truncated files
            raise UserError('{}: not a readable image ({}); remove or replace it, or pass '
                            '--images another folder'.format(path, exc)) from exc
    return images


def calibration_words():
    """The calibration photographs as the report names them: origin, licence, SHA-256."""
    from replicate.bench.int8_detectors import CALIBRATION_PHOTOS
    return '; '.join('`{}` ({} {} `{}`, {}, SHA-256 {})'.format(
        name, f.distribution, f.version, f.path, f.licence, f.sha256)
        for name, f in sorted(CALIBRATION_PHOTOS.items()))


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python tools/int8_packaged.py',
                                     description=__doc__.split('\n\n')[0])
    parser.add_argument('--images', default='images',
                        help='folder of the measured photographs (*.jpg; default images)')
    parser.add_argument('--detectors', default='res10-face,ssdlite-person',
                        help='comma-separated, of res10-face, ssdlite-person (default both)')
    parser.add_argument('--out', default=os.path.join('reports', 'bench'))
    args = parser.parse_args(argv)
    from replicate.bench.int8_detectors import DETECTORS, calibration_photos
    from replicate.errors import UserError
    names = [n for n in args.detectors.split(',') if n]
    unknown = [n for n in names if n not in DETECTORS]
    if unknown or not names:
        print('error: --detectors {}: use a comma-separated list of {}'.format(
            args.detectors, ', '.join(DETECTORS)), file=sys.stderr)
        return 2
    try:
        paths = image_paths(args.images)
        images = read_images(paths)
        photos = calibration_photos()
        detectors = [DETECTORS[n]() for n in names]
    except (UserError, OSError) as exc:
        print('error: {}'.format(exc), file=sys.stderr)
        return 2
    state = machine.machine_state('start.')
    rows, facts = [], {}
    for detector in detectors:
        more_rows, more_facts = measure(detector, images, photos)
        rows += more_rows
        facts.update(more_facts)
        facts[detector.name + '.model'] = detector.what
    state.update(machine.machine_state('end.'))
    text = (
        'Inputs: six views (centre crops keeping 1, 0.75 and 0.5 of each side, each also '
        'mirrored) of each of the {n} photographs in `{folder}` ({stems}): {views} inputs, '
        'batch 1. The reference is Chainer float32; every path runs its network on the same '
        'inputs and the detector\'s own post-processing after it. Calibration `photos`: {cal}. '
        '`in-sample`: {ins}. The photographs: {photos}. `raw_max_scaled_diff`: the largest '
        'absolute difference of a network output over all inputs from Chainer float32\'s, '
        'divided by that output\'s largest absolute value; `raw_rms_rel_diff`: the RMS '
        'difference over the RMS value (each the worse of the two outputs; the face SSD\'s '
        'second output is softmax scores, where ONNX Runtime\'s int8 network quantizes the '
        'softmax itself to steps of 1/255, the SSDLite\'s logits). Agreement: confident '
        'detections (score >= {score:g}), matched within a label by IoU >= {iou:g} (greedy '
        'by score). '
        '`forward_ms_per_image`: median network time at batch 1 on this machine, for '
        'orientation only (the load average is under Machine; the speed report is '
        '`cpu_targets.md`). The photographs hold 3 faces and 3 people, too few for an AP: '
        'the agreement is the measure here; int8 against mAP on trained weights with many '
        'objects is `int8_trained.md`.\n\n{summary}\n'.format(
            n=len(paths), folder=args.images,
            stems=', '.join(os.path.splitext(os.path.basename(p))[0] for p in paths),
            views=6 * len(paths), cal=CALIBRATIONS['photos'], ins=CALIBRATIONS['in-sample'],
            photos=calibration_words(),
            score=AGREEMENT_SCORE, iou=AGREEMENT_IOU, summary=summary(rows)))
    meta = {'provenance': provenance(device='@numpy', extra=dict(cpu_facts(), **facts)),
            'machine': state, 'command': 'python tools/int8_packaged.py ' + ' '.join(
                sys.argv[1:] if argv is None else argv)}
    report.write_report(os.path.join(args.out, 'int8_packaged'),
                        'int8 against float32 on the packaged trained detectors',
                        [(None, text), ('Command', '`{}`\n'.format(meta['command']))],
                        rows, COLUMNS, meta)
    print('report {}'.format(os.path.join(args.out, 'int8_packaged.md')))
    return 0


if __name__ == '__main__':
    sys.exit(main())
