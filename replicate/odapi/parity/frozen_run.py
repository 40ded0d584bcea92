"""``python -m replicate.odapi.parity GRAPH`` for a TF1 frozen graph: our port
(:class:`replicate.odapi.frozen_ssd.SlimSSDMobileNetV2`) vs TensorFlow
running the same graph (:mod:`replicate.odapi.parity.frozen_tf`), layer by
layer, then the anchors, preprocessing, decoding, scores and final detections.

GRAPH is a ``frozen_inference_graph.pb``, its export folder, or the key of a
packaged graph (:data:`replicate.packaged.PACKAGED`, e.g.
``ssdlite_mobilenet_v2_person.pb``). The report is
``<out>/odapi_<name>_<cpu|gpu>.{csv,md,meta.json}`` in the columns of the TF2
tool (:mod:`replicate.odapi.parity.cli`), with every configuration value the
port used (and where it came from) in its settings.
"""
import collections
import os

import numpy as np

from provenance.stamp import file_sha256, provenance
from replicate.odapi.parity import report
from replicate.parity import metrics

TITLE = ('# SSD-MobileNetV2 (TF1) parity: our Chainer port vs the TF1 frozen graph in '
         'TensorFlow, layer by layer')
METHOD = (
    'How the TF tensors were obtained: the frozen graph itself is imported into a TF session '
    '(`import_graph_def`, nothing rebuilt) and run on each raw uint8 image through '
    '`image_tensor`; each layer\'s output is fetched by name from the slim scope of the same '
    'layer (`<scope>/Conv2D` or `/depthwise`, its `BiasAdd` when it has a bias, '
    '`<scope>/BatchNorm/FusedBatchNorm`, `<scope>/Relu6`, a block\'s `output`), the network '
    'outputs as `Squeeze` and `concat_1`, the anchors as `Concatenate/concat`, decoded boxes '
    'and converted scores as `Postprocessor/raw_box_locations` and `raw_box_scores`. `layer:` '
    'rows run each of our layers on TF\'s input of that op; the other network rows run our '
    'whole model on TF\'s preprocessed batch (the input of the first convolution), so they '
    'measure the network alone; `preprocess[i]` compares our own resize and normalization and '
    '`predict[i]/*` our whole `predict` on the raw image. A TF1 graph outputs no anchor '
    'indices: TF\'s are found by matching each of its detection boxes exactly among its own '
    'decoded boxes (clipped to the window) with the same score. TF arrays are NHWC and are '
    'transposed to NCHW.')
NOTE = (
    'Tolerance {rtol:g} on scaled_err = max|ours - TF| / max|TF| per output (float32 on the '
    'CPU), the default of this parity tool (ODAPI_PARITY of the project\'s tolerance table, '
    'replicate/tolerances.py). TF (Eigen/oneDNN, NHWC) and Chainer (im2col + BLAS, NCHW) sum every '
    'convolution in another order, so results differ in the last float32 bits: `layer:` rows '
    'measure each layer alone on TF\'s own input, the others the whole network from the same '
    'preprocessed input, where differences compound; each end-to-end row notes how far TF\'s '
    'and our float32 results are from a float64 evaluation of the same network. Integer '
    'outputs (classes, anchor indices) must be equal. Final detections whose scores tie within '
    'the tolerance may come out in another order: they are matched by (class, anchor) and the '
    'row says so.')


def resolve(arg):
    """``(graph file or folder, display name, stem name, extra provenance)``
    for a path or a packaged key."""
    from replicate.packaged import PACKAGED, packaged_path
    if arg in PACKAGED and not os.path.exists(arg):
        entry = PACKAGED[arg]
        return (packaged_path(arg), 'packaged {} ({} {}, {}: {})'.format(
            arg, entry.distribution, entry.version, entry.licence, entry.path),
            os.path.splitext(arg)[0], {'graph.source': '{} {} ({}), {}'.format(
                entry.distribution, entry.version, entry.licence, entry.path)})
    name = os.path.basename(os.path.normpath(arg))
    if name.endswith('.pb'):
        stem = os.path.basename(os.path.dirname(os.path.abspath(arg))) \
            if name == 'frozen_inference_graph.pb' else os.path.splitext(name)[0]
    else:
        stem = name
    return arg, os.path.relpath(arg), stem[len('odapi_'):] if stem.startswith('odapi_') else \
        stem, {}


def tf_anchor_indices(run):
    """TF's anchor of each of its detections (batch 1), -1 when none matches."""
    n = int(run['out/num'][0])
    boxes = np.clip(run['post/decoded'][0], np.float32(0), np.float32(1))
    scores = run['post/scores'][0]
    found = []
    for box, score, label in zip(run['out/boxes'][0, :n], run['out/scores'][0, :n],
                                 run['out/classes'][0, :n].astype(np.int64), strict=True):
        hits = np.flatnonzero((boxes == box).all(axis=1) & (scores[:, label] == score))
        found.append(int(hits[0]) if len(hits) else -1)
    return np.array(found, dtype=np.int32)


def tf_detections(run):
    n = int(run['out/num'][0])
    return {'boxes': run['out/boxes'][0, :n],
            'classes': run['out/classes'][0, :n].astype(np.int32) - 1,
            'scores': run['out/scores'][0, :n], 'anchor_indices': tf_anchor_indices(run)}


def _network(reference, model, images, rtol):
    """Layer rows (each layer alone), end-to-end rows, our records, TF's runs."""
    from replicate.odapi.parity import capture, frozen_tf
    from replicate.odapi.parity.rows import end_to_end_rows
    names = [n for n in capture.trace_ours(model, np.zeros(
        (1, 3) + tuple(model.image_size), np.float32)) if n != 'input']
    # 1. every layer on TF's input of the same op
    pairs = frozen_tf.local_pairs(reference, model, names)
    fetches = {}
    for name, (ins, out) in pairs.items():
        fetches.update(('in/{}/{}'.format(name, j), t) for j, t in enumerate(ins))
        fetches['local/' + name] = out
    # 2. every record's counterpart, end to end
    found = {name: frozen_tf.counterpart(reference, model, name) for name in names}
    unmatched = [name for name, hit in found.items() if hit is None]
    fetches.update(('net/' + name, hit[0]) for name, hit in found.items() if hit)
    first = reference.conv_op(frozen_tf.SCOPE + '/Conv')
    fetches['input'] = reference.data_input(first)
    fetches.update({'post/decoded': frozen_tf.DECODED, 'post/scores': frozen_tf.SCORES,
                    'post/anchors': frozen_tf.ANCHORS})
    fetches.update(('out/' + key, t) for key, t in frozen_tf.OUTPUTS.items())
    runs = [reference.run(img, fetches) for img in images]
    batch = {key: np.concatenate([run[key] for run in runs]) for key in fetches
             if not key.startswith(('post/', 'out/'))}
    local_ours, local_tf = _run_local(model, pairs, batch)
    rows = metrics.compare_traces(local_ours, local_tf, rtol)
    for row in rows:
        row['name'] = report.LOCAL_PREFIX + row['name']
    x = frozen_tf.to_ours(batch['input'], 'nchw')
    ours = capture.trace_ours(model, x)
    exact = capture.trace_ours(capture.float64_copy(model), x.astype(np.float64))
    tf_layers = collections.OrderedDict(
        (name, frozen_tf.to_ours(batch['net/' + name], found[name][1]))
        for name in ours if name in found and found[name])
    rows += end_to_end_rows({name: ours[name] for name in tf_layers}, tf_layers, exact, rtol)
    return rows, ours, x, runs, unmatched


def _run_local(model, pairs, batch):
    import chainer
    from chainer.backends import cuda

    from replicate.odapi.parity import frozen_tf
    links = {path.lstrip('/'): link for path, link in model.namedlinks(skipself=True)}
    ours, theirs = collections.OrderedDict(), collections.OrderedDict()
    for name, (ins, _) in pairs.items():
        args = [model.device.send(frozen_tf.to_ours(batch['in/{}/{}'.format(name, j)], 'nchw'))
                for j in range(len(ins))]
        with chainer.using_config('train', False), chainer.no_backprop_mode():
            ours[name] = cuda.to_cpu(chainer.as_array(links[name](*args)))
        theirs[name] = frozen_tf.to_ours(batch['local/' + name], 'nchw')
    return ours, theirs


def _after_network(model, runs, ours, x, images, rtol):
    from chainer.backends import cuda

    from replicate.odapi.parity import capture
    from replicate.odapi.parity.detections import align
    from replicate.odapi.ssd import to_pixels
    rows = [metrics.compare('anchors', cuda.to_cpu(model.coder.anchors),
                            runs[0]['post/anchors'], rtol)]
    for i, (img, run) in enumerate(zip(images, runs, strict=True)):
        rows.append(metrics.compare('preprocess[{}]'.format(i), model._prepare(img), x[i], rtol))
        out, mine = capture.ours_detections(model, ours['box_encodings'][i],
                                            ours['class_predictions'][i])
        rows.append(metrics.compare('decoded[{}]'.format(i), out['decoded'],
                                    run['post/decoded'][0], rtol))
        rows.append(metrics.compare('scores[{}]'.format(i), out['scores_all'],
                                    run['post/scores'][0], rtol))
        reference = tf_detections(run)
        atol = rtol * float(np.abs(reference['scores']).max(initial=0))
        for prefix, candidate, size in (('detections', mine, None),
                                        ('predict', model.detect_images([img])[0],
                                         img.shape[1:])):
            candidate = {key: candidate[key] for key in capture.DETECTION_KEYS}
            aligned, note = align(candidate, reference, atol)
            for key in capture.DETECTION_KEYS:
                a, b = aligned[key], reference[key]
                if size is not None and key == 'boxes':
                    a, b = to_pixels(a, size), to_pixels(b, size)
                row = metrics.compare('{}[{}]/{}'.format(prefix, i, key), a, b, rtol)
                row['note'] = '; '.join(n for n in (row['note'], note) if n)
                rows.append(row)
    return rows


def settings(args, shown, model, images):
    config = model.config
    found = {'export': shown, 'rtol': args.rtol, 'ours_device': args.device,
             'reference': 'TensorFlow on the CPU, this process (TF1 session on the graph)',
             'images': ' '.join(args.images) if args.images else
             'generated (seed {}): {}'.format(args.seed + 1, ', '.join(
                 '{}x{}'.format(*img.shape[1:]) for img in images)),
             'num_classes': config.num_classes,
             'image_size': '{}x{}'.format(*config.image_size),
             'feature_maps': ' '.join('{}x{}'.format(*g) for g in model.extractor.grids),
             'anchors': len(model.coder.anchors),
             'depth_multiplier': config.feature_extractor.depth_multiplier}
    found.update(('config.' + key, value) for key, value in model.record.items())
    return found


def run(args):
    """Both runs, the comparison and the report; returns the exit code."""
    import chainer

    from replicate.odapi.frozen_ssd import SlimSSDMobileNetV2, locate
    from replicate.odapi.parity.frozen_tf import FrozenReference
    from replicate.odapi.parity.rows import raw_images
    path, shown, stem_name, extra = resolve(args.export_dir)
    graph_path, pipeline = locate(path)
    model = SlimSSDMobileNetV2.from_frozen_graph(graph_path)
    model.to_device(chainer.get_device(args.device))
    images = raw_images(args)
    uint8 = [np.clip(img, 0, 255).astype(np.uint8).transpose(1, 2, 0) for img in images]
    reference = FrozenReference(graph_path)
    try:
        rows, ours, x, runs, unmatched = _network(reference, model, uint8, args.rtol)
    finally:
        reference.close()
    rows += _after_network(model, runs, ours, x, images, args.rtol)
    stem = os.path.join(args.out, 'odapi_{}_{}'.format(
        stem_name, 'gpu' if 'cupy' in args.device else 'cpu'))
    note = NOTE.format(rtol=args.rtol)
    if args.rtol_reason:
        note += ' Reason given for this tolerance: ' + args.rtol_reason
    extra['graph.sha256'] = file_sha256(graph_path)
    if pipeline:
        extra['pipeline_config.sha256'] = file_sha256(pipeline)
    info = report.write_report(rows, stem, settings(args, shown, model, images),
                               provenance(device=args.device, import_tensorflow=True,
                                          extra=extra), note, unmatched, TITLE, METHOD)
    print('{}: {} rows; first diverging: {}; report {}.md'.format(
        info['verdict'], info['rows'], info['first_diverging'], stem))
    return 0 if info['verdict'] == 'PASS' else 1
