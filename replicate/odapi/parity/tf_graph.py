"""The reference: TensorFlow running an OD API export, every layer's output
taken from the export's own graph.

How the tensors are obtained: the SavedModel's ``serving_default`` concrete
function is frozen (``convert_variables_to_constants_v2``: variables become
constants and the nested function calls are inlined into one GraphDef), the
GraphDef is imported into a ``tf.Graph`` and run in a ``tf.compat.v1.Session``
that fetches, besides the signature's outputs, intermediate tensors by name.
The export's Keras layers keep their names as op scopes
(``.../model/block_1_expand/Conv2D``, ``.../FeatureMaps/layer_19_2_Conv2d_2_3x3_s2_512/
Relu6``, ``BoxPredictor/ConvolutionalBoxHead_0/Reshape``), so a layer's output
is the op of its scope whose output leaves the scope. Nothing is rebuilt: the
ops are the export's, computing with its weights.
"""
import collections
import re

import numpy as np

from replicate.odapi.errors import ExportError

#: Tensors of the exported SSD's post-processor (``ssd_meta_arch.postprocess``).
POSTPROCESSOR = {'box_encodings': 'Postprocessor/raw_box_encodings',
                 'decoded': 'Postprocessor/raw_box_locations',
                 'scores': 'Postprocessor/raw_box_scores'}


class ExportGraph:
    """An OD API SavedModel export, frozen, ready to run with any fetches.

    Args:
        saved_model_dir (str): the export's ``saved_model/`` folder.

    Attributes:
        outputs (dict): signature output name -> tensor name.
        input_name (str): the uint8 image placeholder's tensor name.
    """

    def __init__(self, saved_model_dir):
        import tensorflow as tf
        from tensorflow.python.framework.convert_to_constants import (
            convert_variables_to_constants_v2,
        )
        try:
            # the loaded object owns the variables: keep it while freezing
            loaded = tf.saved_model.load(saved_model_dir)
            function = loaded.signatures['serving_default']
        except Exception as exc:  # TF raises many types for a bad SavedModel
            raise ExportError('cannot load the SavedModel {}: {}'.format(
                saved_model_dir, str(exc).splitlines()[0] if str(exc) else exc)) from None
        frozen = convert_variables_to_constants_v2(function)
        outputs = tf.nest.pack_sequence_as(function.structured_outputs, frozen.outputs)
        self.outputs = {key: tensor.name for key, tensor in outputs.items()}
        self.input_name = frozen.inputs[0].name
        graph_def = frozen.graph.as_graph_def()
        self.graph = tf.Graph()
        with self.graph.as_default():
            tf.graph_util.import_graph_def(graph_def, name='')
        self.session = tf.compat.v1.Session(graph=self.graph)
        self._nodes = {node.name: node for node in graph_def.node}
        self._consumers = collections.defaultdict(set)
        for node in graph_def.node:
            for name in node.input:
                if not name.startswith('^'):  # data edges only, not control ones
                    self._consumers[name.split(':')[0]].add(node.name)

    def op_names(self):
        return list(self._nodes)

    def find(self, suffix):
        """The unique op whose name ends with ``/suffix`` (or is ``suffix``), or None."""
        hits = [n for n in self._nodes if n == suffix or n.endswith('/' + suffix)]
        return hits[0] if len(hits) == 1 else None

    def _scope(self, scope):
        """The full prefix (ending in '/') of the unique op scope that ends
        with ``scope``, or None."""
        pattern = re.compile(r'(^|/){}/'.format(re.escape(scope)))
        prefixes = {name[:match.end()] for name in self._nodes
                    for match in [pattern.search(name)] if match}
        return prefixes.pop() if len(prefixes) == 1 else None

    def layer_output(self, scope):
        """Tensor name of the output of the layer ``scope`` (a path that ends
        a scope, e.g. ``block_1_expand`` or ``BoxPredictor/ConvolutionalBoxHead_0``):
        the op inside it whose output is used outside it; None if there is no
        unique such scope and op."""
        prefix = self._scope(scope)
        if prefix is None:
            return None
        leaving = [n for n in self._nodes if n.startswith(prefix)
                   and any(not c.startswith(prefix) for c in self._consumers[n])]
        return leaving[0] + ':0' if len(leaving) == 1 else None

    def _is_constant(self, name):
        """Whether op ``name`` is a constant (a frozen weight), through Identities."""
        node = self._nodes.get(name)
        while node is not None and node.op == 'Identity':
            node = self._nodes.get(node.input[0].split(':')[0])
        return node is not None and node.op == 'Const'

    def layer_inputs(self, scope):
        """Tensor names of the data the layer ``scope`` takes from outside it
        (weights excluded), in the order its ops use them; None if unknown."""
        prefix = self._scope(scope)
        if prefix is None:
            return None
        inputs = []
        for name, node in self._nodes.items():
            if not name.startswith(prefix):
                continue
            for tensor in node.input:
                source = tensor.split(':')[0]
                if tensor.startswith('^') or source.startswith(prefix) or \
                        self._is_constant(source):
                    continue
                tensor = tensor if ':' in tensor else tensor + ':0'
                if tensor not in inputs:
                    inputs.append(tensor)
        return inputs

    def input_of(self, op_suffix, index=0):
        """Tensor name of input ``index`` of the unique op ending with ``op_suffix``."""
        op = self.find(op_suffix)
        if op is None:
            return None
        name = self._nodes[op].input[index]
        return name if ':' in name else name + ':0'

    def find_anchors(self):
        """The anchors (K, 4): ``Concatenate/concat`` beside ``Postprocessor/``
        (``ssd_meta_arch.predict`` concatenates the anchor generator's lists)."""
        op = self.find(POSTPROCESSOR['box_encodings'])
        if op is None:
            return None
        name = op[:-len(POSTPROCESSOR['box_encodings'])] + 'Concatenate/concat'
        return name + ':0' if name in self._nodes else None

    def preprocessed_name(self):
        """The preprocessed batch: the input of the first convolution (Conv1)."""
        return self.input_of('Conv1/Conv2D')

    def run(self, image, fetches):
        """Run the export on one image.

        Args:
            image: uint8 (H, W, 3) RGB.
            fetches (dict): record name -> tensor name.

        Returns:
            dict record name -> numpy array (batch axis kept, 1).
        """
        values = self.session.run(dict(fetches), feed_dict={
            self.input_name: np.asarray(image, dtype=np.uint8)[None]})
        return {key: np.asarray(value) for key, value in values.items()}

    def close(self):
        self.session.close()
