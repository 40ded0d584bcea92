"""An OD API SavedModel, loaded: TF2 exports (``exporter_lib_v2``) and the
``saved_model/`` of TF1 exports (input ``inputs``, weights in the graph).

``tf.saved_model.load(dir).signatures['serving_default']`` must have ONE
input of an OD API input type (:mod:`compare.adapters.tf_inputs`) and the
outputs of :data:`compare.adapters.tf_common.OUTPUT_KEYS`; anything else is
a one-line error listing what the SavedModel has. The call (the export's own
decoding, resize, network, box decoding and NMS) is one stage, inference: it
cannot be split from outside.
"""
from compare.adapters import tf_common, tf_finite, tf_inputs
from compare.errors import UserError
from replicate.errors import one_line

SIGNATURE = 'serving_default'
EXPECTED = ('an OD API detection signature: serving_default with one input (input_tensor: '
            'uint8 [1, H, W, 3], float32 [N, H, W, 3] or string [N]; TF1: inputs) and outputs '
            + ', '.join(tf_common.OUTPUT_KEYS))


class LoadedSavedModel:
    """A loaded SavedModel: ``spec`` (:class:`tf_inputs.InputSpec`), ``format``
    (words) and ``call(value) -> {output key: numpy array}``.

    Loaded as TF Serving loads it: the ``serve`` MetaGraph into a session
    (``tf.compat.v1.saved_model.load``), run through its signature's tensor
    names. For the same outputs (checked equal on the committed exports) this
    is about 4x faster to load than ``tf.saved_model.load``, which rebuilds
    every Keras layer's function of a TF2 export.
    """

    def __init__(self, model_dir, tf):
        tf_finite.check_saved_model(tf, model_dir)
        graph = tf.Graph()
        self.session = tf.compat.v1.Session(graph=graph)
        try:
            with graph.as_default():
                meta_graph = tf.compat.v1.saved_model.load(self.session, ['serve'], model_dir)
        except Exception as exc:
            raise UserError('cannot load SavedModel {}: {}: {}'.format(
                model_dir, type(exc).__name__, one_line(exc)[:300])) from None
        signature, self.spec = _check_signature(meta_graph, model_dir, tf)
        self.input = graph.get_tensor_by_name(signature.inputs[self.spec.key].name)
        self.fetches = [graph.get_tensor_by_name(signature.outputs[key].name)
                        for key in tf_common.OUTPUT_KEYS]
        # pre-NMS outputs, when the export has them (--common-nms)
        self.raw_fetches = ([graph.get_tensor_by_name(signature.outputs[key].name)
                             for key in tf_common.RAW_KEYS]
                            if all(key in signature.outputs for key in tf_common.RAW_KEYS)
                            else None)
        self.where = model_dir
        tf1 = self.spec.key == 'inputs'
        self.format = 'TF{} SavedModel (OD API export, signature {})'.format(
            1 if tf1 else 2, SIGNATURE)

    def call(self, value):
        values = self.session.run(self.fetches, {self.input: value})
        return dict(zip(tf_common.OUTPUT_KEYS, values, strict=True))

    def call_raw(self, value):
        """``{raw output key: numpy array}`` (:data:`tf_common.RAW_KEYS`)."""
        return tf_common.call_raw(self, value)


def _check_signature(meta_graph, model_dir, tf):
    """``(SignatureDef, InputSpec)``, or UserError saying what was found."""
    signatures = meta_graph.signature_def
    if SIGNATURE not in signatures:
        raise UserError('SavedModel {} has signatures {}; expected {}'.format(
            model_dir, ', '.join(sorted(signatures)) or 'none', EXPECTED))
    signature = signatures[SIGNATURE]
    inputs = {key: (tf.dtypes.as_dtype(info.dtype).name, _shape(info.tensor_shape))
              for key, info in signature.inputs.items()}
    outputs = sorted(signature.outputs)
    missing = [key for key in tf_common.OUTPUT_KEYS if key not in outputs]
    spec = None
    if len(inputs) == 1 and not missing:
        (key, (dtype, shape)), = inputs.items()
        spec = tf_inputs.from_signature(key, dtype, shape, op_types(meta_graph.graph_def),
                                        model_dir)
    if spec is None:
        found = ', '.join('{} {} {}'.format(key, dtype, '?' if shape is None else shape)
                          for key, (dtype, shape) in sorted(inputs.items()))
        raise UserError('SavedModel {} is not an OD API detection export: its {} signature has '
                        'inputs ({}) and outputs ({}); expected {}'.format(
                            model_dir, SIGNATURE, found or 'none', ', '.join(outputs),
                            EXPECTED))
    return signature, spec


def _shape(shape):
    """TensorShapeProto -> list (None: unknown size), or None (unknown rank)."""
    if shape.unknown_rank:
        return None
    return [d.size if d.size >= 0 else None for d in shape.dim]


def op_types(graph_def):
    """Op types of a graph and of every function in its library."""
    found = {node.op for node in graph_def.node}
    for function in graph_def.library.function:
        found.update(node.op for node in function.node_def)
    return found
