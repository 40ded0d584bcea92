"""``python -m replicate.odapi.parity EXPORT_DIR``: our SSD-MobileNetV2 port
vs TensorFlow running the same OD API export, layer by layer.

Writes ``<out>/odapi_<export>_<cpu|gpu>.{csv,md,meta.json}``; the default
``--out`` is a folder of its own (``reports/parity-latest/``, as for
``python -m replicate.parity``), so a run never overwrites the committed
``reports/parity/`` unless asked to (``tox -e parity`` does).

Exit codes: 0 every compared output matches; 1 some output diverges (the
report names the first); 2 a user error (one line ``error: ...``).
"""
import argparse
import os
import sys

import numpy as np

from provenance.stamp import file_sha256, provenance
from replicate.errors import UserError
from replicate.odapi.parity.rows import end_to_end_rows, raw_images  # noqa: F401
from replicate.parity import metrics
from replicate.parity.cli import DEFAULT_OUT, check_device
from replicate.tolerances import ODAPI_PARITY, spelled

NOTE = (
    'Tolerance {rtol:g} on scaled_err = max|ours - TF| / max|TF| per output (float32 on the '
    'CPU). TF (Eigen/oneDNN, NHWC) and Chainer (im2col + BLAS, NCHW) sum every convolution in '
    'another order, so results differ in the last float32 bits. Measured twice: (1) `layer:` '
    'rows run each of our layers on TF\'s own input of that layer, the error of the layer '
    'alone; (2) the other rows run the whole network from the same preprocessed input, where '
    'rounding differences compound from layer to layer. Each end-to-end row notes how far TF\'s '
    'and our float32 results are from a float64 evaluation of the same network (ours, cast to '
    'float64, on the same input): a network that amplifies rounding errors shows it on both '
    'sides. Integer outputs '
    '(classes, anchor indices, detection counts) must be equal. Final detections whose scores '
    'tie within the tolerance may come out in another order: they are matched by (class, '
    'anchor) and the row says so.')


def parser():
    p = argparse.ArgumentParser(prog='python -m replicate.odapi.parity', description=__doc__)
    p.add_argument('export_dir', help='OD API TF2 export (pipeline.config, saved_model/), or a '
                   'TF1 frozen_inference_graph.pb, its folder or a packaged graph\'s key '
                   '(ssdlite_mobilenet_v2_person.pb)')
    p.add_argument('--out', default=DEFAULT_OUT,
                   help='report folder (default: %(default)s; tox -e parity passes '
                        'reports/parity)')
    p.add_argument('--images', nargs='+', help='image files (default: generated images)')
    p.add_argument('--batch', type=int, default=2, help='number of generated images')
    p.add_argument('--seed', type=int, default=0, help='seed of the generated images')
    p.add_argument('--rtol', type=float, default=ODAPI_PARITY,
                   help='tolerance on scaled_err (default {})'.format(spelled(ODAPI_PARITY)))
    p.add_argument('--rtol-reason', help='required justification for --rtol above {}'.format(
        spelled(ODAPI_PARITY)))
    p.add_argument('--device', default='@numpy', help='where ours runs: @numpy or @cupy:N')
    return p


def _rows_after_network(model, graph_runs, ours_layers, tf_layers, images, rtol):
    """Rows for preprocessing, anchors, decoding, scores and detections."""
    from chainer.backends import cuda

    from replicate.odapi.parity import capture
    from replicate.odapi.parity.detections import align
    from replicate.odapi.ssd import to_pixels
    rows = [metrics.compare('anchors', cuda.to_cpu(model.coder.anchors),
                            graph_runs[0]['post/anchors'], rtol)]
    for i, (img, run) in enumerate(zip(images, graph_runs, strict=True)):
        rows.append(metrics.compare('preprocess[{}]'.format(i), model._prepare(img),
                                    tf_layers['input'][i], rtol))
        out, ours = capture.ours_detections(model, ours_layers['box_encodings'][i],
                                            ours_layers['class_predictions'][i])
        rows.append(metrics.compare('decoded[{}]'.format(i), out['decoded'],
                                    run['post/decoded'][0], rtol))
        rows.append(metrics.compare('scores[{}]'.format(i), out['scores_all'],
                                    run['post/scores'][0], rtol))
        reference = capture.tf_detections(run)
        atol = rtol * float(np.abs(reference['scores']).max(initial=0))
        for prefix, candidate, scale in (
                ('detections', ours, None),
                ('predict', model.detect_images([img])[0], img.shape[1:])):
            candidate = {key: candidate[key] for key in capture.DETECTION_KEYS}
            aligned, note = align(candidate, reference, atol)
            for key in capture.DETECTION_KEYS:
                a, b = aligned[key], reference[key]
                if scale is not None and key == 'boxes':
                    a, b = to_pixels(a, scale), to_pixels(b, scale)
                row = metrics.compare('{}[{}]/{}'.format(prefix, i, key), a, b, rtol)
                row['note'] = '; '.join(n for n in (row['note'], note) if n)
                rows.append(row)
    return rows


def run(args):
    """Both runs, the comparison and the report; returns the exit code."""
    from replicate.odapi.frozen_ssd import is_frozen_graph
    from replicate.odapi.parity import frozen_run
    if is_frozen_graph(frozen_run.resolve(args.export_dir)[0]):
        return frozen_run.run(args)
    import chainer

    from replicate.odapi import SSDMobileNetV2
    from replicate.odapi.parity import capture, report
    from replicate.odapi.parity.tf_graph import ExportGraph
    model = SSDMobileNetV2.from_export(args.export_dir)
    exact = capture.float64_copy(model)
    model.to_device(chainer.get_device(args.device))
    graph = ExportGraph(os.path.join(args.export_dir, 'saved_model'))
    images = raw_images(args)
    uint8 = [np.clip(img, 0, 255).astype(np.uint8).transpose(1, 2, 0) for img in images]
    # 1. every layer on TF's own inputs
    names = [n for n in capture.trace_ours(model, np.zeros(
        (1, 3) + tuple(model.image_size), np.float32)) if n != 'input']
    local_ours, local_tf = capture.run_local(model, graph, uint8,
                                             capture.local_fetches(graph, model, names))
    rows = metrics.compare_traces(local_ours, local_tf, args.rtol)
    for row in rows:
        row['name'] = report.LOCAL_PREFIX + row['name']
    # 2. end to end from TF's preprocessed batch
    fetches, unmatched = capture.tf_fetches(graph, names)
    tf_layers, runs = capture.run_tf(graph, uint8, fetches)
    graph.close()
    ours_layers = capture.trace_ours(model, tf_layers['input'])
    exact_layers = capture.trace_ours(exact, tf_layers['input'].astype(np.float64))
    reference = {name: tf_layers[name] for name in ours_layers if name in tf_layers}
    rows += end_to_end_rows({name: ours_layers[name] for name in reference}, reference,
                            exact_layers, args.rtol)
    # 3. after the network
    rows += _rows_after_network(model, runs, ours_layers, tf_layers, images, args.rtol)
    stem = report.report_stem(args.out, args.export_dir, args.device)
    note = NOTE.format(rtol=args.rtol)
    if args.rtol_reason:
        note += ' Reason given for this tolerance: ' + args.rtol_reason
    info = report.write_report(rows, stem, _settings(args, model, images), _provenance(args),
                               note, unmatched)
    print('{}: {} rows; first diverging: {}; report {}.md'.format(
        info['verdict'], info['rows'], info['first_diverging'], stem))
    return 0 if info['verdict'] == 'PASS' else 1


def _settings(args, model, images):
    config = model.config
    return {'export': os.path.relpath(args.export_dir), 'rtol': args.rtol,
            'ours_device': args.device, 'reference': 'TensorFlow on the CPU, this process',
            'images': ' '.join(args.images) if args.images else
            'generated (seed {}): {}'.format(args.seed + 1, ', '.join(
                '{}x{}'.format(*img.shape[1:]) for img in images)),
            'num_classes': config.num_classes,
            'image_size': '{}x{}'.format(*config.image_size),
            'feature_maps': ' '.join('{}x{}'.format(*g) for g in model.extractor.grids),
            'anchors': len(model.coder.anchors),
            'depth_multiplier': config.feature_extractor.depth_multiplier}


def _provenance(args):
    prefix = os.path.join(args.export_dir, 'saved_model', 'variables', 'variables')
    data = prefix + '.data-00000-of-00001'
    extra = {'export.pipeline_config.sha256': file_sha256(
        os.path.join(args.export_dir, 'pipeline.config'))}
    if os.path.isfile(data):
        extra['export.variables.sha256'] = file_sha256(data)
    return provenance(device=args.device, import_tensorflow=True, extra=extra)


def _packaged_graphs():
    from replicate.packaged import PACKAGED
    return sorted(key for key in PACKAGED if key.endswith('.pb'))


def _frozen_graph_file(arg):
    """A .pb file, or the key of a packaged one (:mod:`replicate.packaged`)."""
    return (os.path.isfile(arg) and arg.endswith('.pb')) or arg in _packaged_graphs()


def main(argv=None):
    """Entry point; returns the exit code."""
    args = parser().parse_args(argv)
    try:
        if args.batch < 1:
            raise UserError('--batch {}: give at least 1'.format(args.batch))
        if args.rtol > ODAPI_PARITY and not args.rtol_reason:
            raise UserError('--rtol {:g} is looser than {:g}: say why with --rtol-reason'.format(
                args.rtol, ODAPI_PARITY))
        if not os.path.isdir(args.export_dir) and not _frozen_graph_file(args.export_dir):
            raise UserError('{} is not a folder: pass an OD API export folder, a TF1 '
                            'frozen_inference_graph.pb or a packaged graph ({})'.format(
                                args.export_dir, ', '.join(_packaged_graphs())))
        check_device(args.device)
        return run(args)
    except UserError as exc:
        print('error: {}'.format(exc), file=sys.stderr)
        return 2


if __name__ == '__main__':
    sys.exit(main())
