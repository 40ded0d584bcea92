"""Both runs of the parity check, as two ``{name: array}`` records.

1. The network, layer by layer: TF runs the export on each raw uint8 image;
   its preprocessed batch (the input of ``Conv1``) is fed to our model, so
   both networks see the same input and every row measures the network only.
   Rows: every recorded output of ours that has a TF counterpart
   (:mod:`replicate.odapi.parity.names`), in our execution order, batch of
   all images.
2. After the network, per image i: ``preprocess[i]`` (our resize and
   normalization of the raw image vs TF's), ``anchors``, ``decoded[i]`` (all
   K boxes decoded from our box encodings vs TF's ``raw_box_locations``),
   ``scores[i]`` (converted scores, background first), ``detections[i]/*``
   (the final detections, normalized) and ``predict[i]/*`` (our ``predict``
   on the raw image vs TF's outputs in pixels, classes 0-based).
"""
import collections

import chainer
import numpy as np

from replicate.odapi.parity import names
from replicate.odapi.parity.tf_graph import POSTPROCESSOR
from replicate.parity.tracing import trace_call

ROOT = 'ssd'
ROOT_OUTPUTS = {ROOT + '[0]': 'box_encodings', ROOT + '[1]': 'class_predictions'}
DETECTION_KEYS = ('boxes', 'classes', 'scores', 'anchor_indices')


def trace_ours(model, x):
    """Records of ``model(x)`` (test mode), root outputs renamed."""
    x = model.device.send(x)
    with chainer.using_config('train', False), chainer.no_backprop_mode():
        records, _ = trace_call(model, lambda: model(x), root_name=ROOT)
    return collections.OrderedDict((ROOT_OUTPUTS.get(k, k), v) for k, v in records.items())


def _tensor_name(graph, what):
    """TF tensor name for a :func:`names.counterpart` target, or None."""
    kind, arg = what
    if kind == 'layer':
        return graph.layer_output(arg)
    if kind in ('map', 'extra_map'):
        k = int(arg) + (2 if kind == 'extra_map' else 0)
        return graph.input_of('BoxPredictor/ConvolutionalBoxHead_{}/BoxEncodingPredictor/'
                              'Conv2D'.format(k))
    if arg == 'class_predictions':
        return graph.input_of('Postprocessor/scale_logits')
    return _postprocessor(graph, arg)


def _postprocessor(graph, key):
    op = graph.find(POSTPROCESSOR[key])
    return None if op is None else op + ':0'


def tf_fetches(graph, our_names):
    """``({our name: (tensor name, layout)}, [our names without a counterpart])``."""
    fetches, unmatched = {}, []
    for name in our_names:
        found = names.counterpart(name)
        tensor = None if found is None else _tensor_name(graph, found[0])
        if tensor is None:
            unmatched.append(name)
        else:
            fetches[name] = (tensor, found[1])
    return fetches, unmatched


def run_tf(graph, images, layer_fetches):
    """Run the export on each image (uint8 (H, W, 3)).

    Returns:
        (layers, per_image): ``layers`` {our name: array, batch of all
        images, in our layout}, plus ``'input'``: the preprocessed batch
        float32 (B, 3, h, w); ``per_image`` a list of dicts of the
        signature's outputs and the post-processor tensors.
    """
    fetches = {name: tensor for name, (tensor, _) in layer_fetches.items()}
    fetches['input'] = graph.preprocessed_name()
    for key in ('decoded', 'scores'):
        fetches['post/' + key] = _postprocessor(graph, key)
    fetches['post/anchors'] = graph.find_anchors()
    fetches.update(('out/' + key, tensor) for key, tensor in graph.outputs.items())
    runs = [graph.run(img, fetches) for img in images]
    layouts = dict((name, layout) for name, (_, layout) in layer_fetches.items())
    layouts['input'] = 'nchw'
    layers = collections.OrderedDict(
        (name, names.to_ours(np.concatenate([run[name] for run in runs]), layout))
        for name, layout in layouts.items())
    per_image = [{k: v for k, v in run.items() if k.startswith(('post/', 'out/'))}
                 for run in runs]
    return layers, per_image


def tf_detections(out):
    """The signature's detections of one image (batch 1) in our convention:
    boxes normalized, classes 0-based int32, anchor indices int32."""
    n = int(out['out/num_detections'][0])
    return {'boxes': out['out/detection_boxes'][0, :n],
            'classes': out['out/detection_classes'][0, :n].astype(np.int32) - 1,
            'scores': out['out/detection_scores'][0, :n],
            'anchor_indices': out['out/detection_anchor_indices'][0, :n].astype(np.int32)}


def ours_detections(model, box_encodings, class_predictions):
    """Our post-processing of one image's network outputs."""
    out = model.detect(box_encodings, class_predictions)
    return out, {key: out[key] for key in DETECTION_KEYS}


def _leaf_links(model):
    """{our name: link} of the links without children (one Keras layer each)."""
    return {path.lstrip('/'): link for path, link in model.namedlinks(skipself=True)
            if not any(True for _ in link.children())}


def local_fetches(graph, model, our_names):
    """{our name: (input tensor names, output tensor name)} for each of our
    layers whose TF layer is found: its inputs and output in the export."""
    leaves = _leaf_links(model)
    fetches = {}
    for name in our_names:
        found = names.counterpart(name)
        if name not in leaves or found is None or found[0][0] != 'layer' or found[1] != 'nchw':
            continue
        scope = found[0][1]
        ins, out = graph.layer_inputs(scope), graph.layer_output(scope)
        if ins and out:
            fetches[name] = (ins, out)
    return fetches


def run_local(model, graph, images, fetches):
    """Each of our layers run on TF's inputs of the same layer.

    Returns:
        (ours, reference): {our name: array} of our layer's output and TF's,
        batch of all images, NCHW.
    """
    tensors = {}
    for name, (ins, out) in fetches.items():
        tensors.update(('in/{}/{}'.format(name, j), t) for j, t in enumerate(ins))
        tensors['out/' + name] = out
    runs = [graph.run(img, tensors) for img in images]
    leaves = _leaf_links(model)
    ours, reference = collections.OrderedDict(), collections.OrderedDict()
    for name, (ins, _) in fetches.items():
        args = [model.device.send(names.to_ours(np.concatenate(
            [run['in/{}/{}'.format(name, j)] for run in runs]), 'nchw')) for j in range(len(ins))]
        with chainer.using_config('train', False), chainer.no_backprop_mode():
            ours[name] = chainer.backends.cuda.to_cpu(chainer.as_array(leaves[name](*args)))
        reference[name] = names.to_ours(np.concatenate([run['out/' + name] for run in runs]),
                                        'nchw')
    return ours, reference


def float64_copy(model):
    """A CPU copy of ``model`` computing in float64 (parameters and batch-norm
    statistics cast): a near-exact evaluation of the same network."""
    import copy
    exact = copy.deepcopy(model)
    exact.to_cpu()
    for param in exact.params():
        param.array = param.array.astype(np.float64)
    for link in exact.links():
        for name in getattr(link, '_persistent', ()):
            setattr(link, name, np.asarray(getattr(link, name), dtype=np.float64))
    return exact
