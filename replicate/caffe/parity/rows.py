"""What the Caffe SSD parity compares, as rows of
:func:`replicate.parity.metrics.compare` (``a`` ours, ``b`` OpenCV's):

- ``input``: our preparation of the images (:mod:`replicate.caffe.preprocess`)
  against ``cv2.dnn.blobFromImages`` (expected bit-identical);
- ``layer:<name>``: each of our layers run alone on OpenCV's own input of it
  (OpenCV with fusion and Winograd off), against OpenCV's output: the error
  of the layer itself;
- one row per layer, named by the layer: its first top for the whole batch,
  our whole network against OpenCV's (fusion and Winograd off), where
  rounding differences compound from layer to layer (PriorBox rows are the
  prior boxes and variances);
- ``default/<blob>``: the DetectionOutput's three bottoms against OpenCV with
  its default settings (the detector as the ``opencv-dnn`` kind runs it);
- ``detections[i]/labels|scores|boxes``: our whole model's detections of image
  i against OpenCV's (default settings), both in Caffe's order; a different
  number of detections is a shape mismatch (DIVERGES). Detections whose
  scores are equal within the tolerance may come out in either order (OpenCV
  sorts with an unstable sort): they are matched by box (:func:`align`)
  and the row's note says how many were reordered;
- ``nms_on_reference[i]/...``: our DetectionOutput run on OpenCV's own three
  bottoms against OpenCV's DetectionOutput: the decoding and NMS alone.
"""
import chainer
import numpy as np

from replicate.caffe import opencv
from replicate.parity import metrics


def our_layers(model, x):
    """``{layer name: float32 array}`` of our network on the batch ``x``."""
    record = {}
    with chainer.using_config('train', False), chainer.no_backprop_mode():
        model.net(x, record=record)
    return {name: np.asarray(chainer.backends.cuda.to_cpu(v.array)) for name, v in
            record.items()}


LOCAL_PREFIX = 'layer:'


def local_layers(model, reference, blob):
    """``{layer name: array}``: each of our layers on the reference's inputs of it.

    Args:
        reference: ``{layer name: OpenCV's first top}`` for every layer.
        blob: the prepared batch (the input blob).
    """
    current = {model.net.spec.input_name: blob}
    out = {}
    with chainer.using_config('train', False), chainer.no_backprop_mode():
        for layer, op in model.net.entries:
            tops = op([chainer.Variable(current[b]) for b in layer.bottoms])
            out[layer.name] = np.asarray(tops[0].array)
            for top in layer.tops:  # a Split's tops all equal its first
                current[top] = reference[layer.name]
    return out


def align(ours, reference, atol):
    """``ours`` reordered so that, among detections of one class whose scores
    are within ``atol`` of a reference detection's, the one with the nearest
    box comes at that detection's place; returns (aligned, moved count)."""
    if len(ours['labels']) != len(reference['labels']):
        return ours, 0
    order = list(range(len(ours['labels'])))
    for i in range(len(order)):
        pool = [j for j in order[i:] if ours['labels'][j] == reference['labels'][i] and
                abs(float(ours['scores'][j]) - float(reference['scores'][i])) <= atol]
        if pool:
            best = min(pool, key=lambda j: float(np.abs(ours['boxes'][j] -
                                                        reference['boxes'][i]).max()))
            k = order.index(best)
            order[i], order[k] = order[k], order[i]
    moved = sum(a != b for a, b in enumerate(order))
    return {key: value[order] for key, value in ours.items()}, moved


def detection_rows(prefix, ours, reference, rtol):
    """Rows ``<prefix>[i]/labels|scores|boxes`` for lists of per-image dicts."""
    rows = []
    for i, (a, b) in enumerate(zip(ours, reference, strict=True)):
        a, moved = align(a, b, rtol * float(np.abs(b['scores']).max(initial=0)))
        for key in ('labels', 'scores', 'boxes'):
            row = metrics.compare('{}[{}]/{}'.format(prefix, i, key), a[key], b[key], rtol)
            if moved:
                row['note'] = '; '.join(n for n in (row['note'], '{} detections reordered '
                                                    'within score ties'.format(moved)) if n)
            rows.append(row)
    return rows


def compare_all(model, images, prototxt_path, caffemodel_path, rtol):
    """Every row of the module doc, in order; also returns a summary dict
    (detection counts per image, names of layers OpenCV could not give)."""
    import cv2
    x = model.prepare(images)
    blob = cv2.dnn.blobFromImages(images, 1.0, (model.insize[1], model.insize[0]),
                                  model.mean, False, False)
    rows = [metrics.compare('input', x, blob, rtol)]
    names = [layer.name for layer, _ in model.net.entries]
    exact = opencv.forward(opencv.load_net(prototxt_path, caffemodel_path, exact=True),
                           blob, names)
    local = metrics.compare_traces(local_layers(model, exact, blob), exact, rtol)
    for row in local:
        row['name'] = LOCAL_PREFIX + row['name']
    rows += local
    ours = our_layers(model, x)
    rows += metrics.compare_traces(ours, exact, rtol)
    del exact
    bottoms = (model.loc_name, model.conf_name, model.prior_name)
    head = model.net.heads[0].name
    producers = {top: layer.name for layer, _ in model.net.entries for top in layer.tops}
    default = opencv.forward(opencv.load_net(prototxt_path, caffemodel_path, exact=False), blob,
                             [producers[b] for b in bottoms] + [head])
    for bottom in bottoms:
        rows.append(metrics.compare('default/' + bottom, ours[producers[bottom]],
                                    default[producers[bottom]], rtol))
    reference = opencv.detections(default[head], len(images))
    found = model.detect(*(ours[producers[b]] for b in bottoms))
    rows += detection_rows('detections', found, reference, rtol)
    on_reference = model.detect(*(default[producers[b]] for b in bottoms))
    rows += detection_rows('nms_on_reference', on_reference, reference, rtol)
    counts = {'detections_ours': [len(f['labels']) for f in found],
              'detections_opencv': [len(r['labels']) for r in reference]}
    return rows, counts
