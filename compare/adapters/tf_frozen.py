"""A TF1 OD API ``frozen_inference_graph.pb``, loaded.

Imported with ``tf.compat.v1.import_graph_def`` into its own graph and run in
a ``tf.compat.v1.Session``: the input is the placeholder the TF1 exporter
names after its input type (``image_tensor``, ``encoded_image_string_tensor``
or ``tf_example``, see :mod:`compare.adapters.tf_inputs`); the outputs are
``detection_boxes:0``, ``detection_scores:0``, ``detection_classes:0``,
``num_detections:0`` (same meaning as the TF2 outputs, see ``tf_common``);
for ``--common-nms``, the pre-NMS tensors of :data:`POSTPROCESSOR_RAW`.
"""
from compare.adapters import tf_common, tf_finite, tf_inputs
from compare.errors import UserError
from replicate.errors import one_line

FETCHES = tuple(key + ':0' for key in tf_common.OUTPUT_KEYS)
#: The SSD post-processor's decoded boxes before NMS (normalized, not clipped)
#: and its converted scores with the background column: ``ssd_meta_arch``
#: names them so, and they are what the TF2 exporter returns as
#: ``raw_detection_boxes`` / ``raw_detection_scores`` (TF1 exporters do not).
POSTPROCESSOR_RAW = ('Postprocessor/raw_box_locations', 'Postprocessor/raw_box_scores')


class LoadedFrozenGraph:
    """A loaded frozen graph: ``spec``, ``format`` and
    ``call(value) -> {output key: numpy array}``."""

    format = 'TF1 frozen graph (OD API export)'

    def __init__(self, path, tf):
        graph_def = _read_graph_def(path, tf)
        tf_finite.check_graph(tf, graph_def, path)
        placeholders = [(node.name, tf.dtypes.as_dtype(node.attr['dtype'].type).name,
                         _shape(node)) for node in graph_def.node if node.op == 'Placeholder']
        specs = [tf_inputs.from_placeholder(name, dtype, shape, path)
                 for name, dtype, shape in placeholders]
        specs = [spec for spec in specs if spec is not None]
        names = {node.name for node in graph_def.node}
        missing = [fetch for fetch in FETCHES if fetch[:-2] not in names]
        if len(specs) != 1 or missing:
            found = ', '.join('{} {} {}'.format(*p) for p in placeholders) or 'none'
            raise UserError('frozen graph {} is not an OD API detection export: placeholders '
                            '({}){}; expected one input named {} and outputs {}'.format(
                                path, found, ', lacks ' + ', '.join(missing) if missing else '',
                                ' or '.join(tf_inputs.TF1_PLACEHOLDERS.values()),
                                ', '.join(FETCHES)))
        self.spec = specs[0]
        graph = tf.Graph()
        try:
            with graph.as_default():
                tf.compat.v1.import_graph_def(graph_def, name='')
        except Exception as exc:  # ValueError / InvalidArgumentError: not a valid graph
            raise UserError('{} is not a graph TF can import: {}: {}'.format(
                path, type(exc).__name__, one_line(exc)[:200])) from None
        self.session = tf.compat.v1.Session(graph=graph)
        self.input = graph.get_tensor_by_name(self.spec.key)
        self.fetches = [graph.get_tensor_by_name(name) for name in FETCHES]
        # pre-NMS outputs (--common-nms): the exporter's raw_detection_* when it
        # wrote them, else the same tensors inside the SSD post-processor
        self.raw_fetches = self.raw_source = None
        for keys in (tf_common.RAW_KEYS, POSTPROCESSOR_RAW):
            if all(key in names for key in keys):
                self.raw_fetches = [graph.get_tensor_by_name(key + ':0') for key in keys]
                self.raw_source = ', '.join(keys)
                break
        self.where = path

    def call(self, value):
        values = self.session.run(self.fetches, {self.input: value})
        return dict(zip(tf_common.OUTPUT_KEYS, values, strict=True))

    def call_raw(self, value):
        """``{raw output key: numpy array}`` (:data:`tf_common.RAW_KEYS`)."""
        return tf_common.call_raw(self, value)


def _shape(node):
    """A placeholder's shape as a list (None: unknown), or None (unknown rank)."""
    shape = node.attr['shape'].shape
    if shape.unknown_rank:
        return None
    return [d.size if d.size >= 0 else None for d in shape.dim]


def _read_graph_def(path, tf):
    graph_def = tf.compat.v1.GraphDef()
    try:
        with open(path, 'rb') as f:
            graph_def.ParseFromString(f.read())
    except Exception as exc:  # protobuf DecodeError and friends
        raise UserError('{} is not a TF GraphDef: {}: {} (pass a frozen_inference_graph.pb, '
                        'or the export folder)'.format(
                            path, type(exc).__name__, one_line(exc))) from None
    return graph_def
