"""Shared by the TF1 frozen-graph tests of the OD API port: the committed
fixture graph, the packaged SSDLite, a real photograph, and graphs changed
one node at a time (a module with a unique name: conftest modules of other
test folders share the name 'conftest')."""
import os

import numpy as np
from odapi_paths import FROZEN

FROZEN_GRAPH = os.path.join(FROZEN, 'frozen_inference_graph.pb')
IMAGES = os.path.join(os.path.dirname(__file__), '..', '..', 'images')
PACKAGED_KEY = 'ssdlite_mobilenet_v2_person.pb'


def photo(name='astronaut.jpg'):
    """A photograph of images/ as uint8 (H, W, 3) RGB."""
    from PIL import Image
    with Image.open(os.path.join(IMAGES, name)) as image:
        return np.asarray(image.convert('RGB'))


def graph_def(path=FROZEN_GRAPH):
    from tensorflow.core.framework import graph_pb2
    found = graph_pb2.GraphDef()
    with open(path, 'rb') as f:
        found.ParseFromString(f.read())
    return found


def write_changed(folder, change, source=FROZEN_GRAPH):
    """A copy of the graph ``source`` (no pipeline.config beside it) after
    ``change(graph_def)``; returns its path."""
    found = graph_def(source)
    change(found)
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, 'frozen_inference_graph.pb')
    with open(path, 'wb') as f:
        f.write(found.SerializeToString())
    return path


def node(graph, name):
    return next(n for n in graph.node if n.name == name)


def set_constant(graph, name, value):
    """Replace the value (and shape) of Const node ``name``."""
    import tensorflow as tf
    node(graph, name).attr['value'].tensor.CopyFrom(tf.make_tensor_proto(value))


def add_constant(graph, name, value):
    """A new Const node ``name`` read through ``name/read``, as a frozen variable."""
    import tensorflow as tf
    const = graph.node.add(name=name, op='Const')
    const.attr['dtype'].type = tf.float32.as_datatype_enum
    const.attr['value'].tensor.CopyFrom(tf.make_tensor_proto(value))
    read = graph.node.add(name=name + '/read', op='Identity', input=[name])
    read.attr['T'].type = tf.float32.as_datatype_enum


def run_tf(path, image, fetches):
    """TensorFlow running the graph ``path`` on one uint8 image: {key: array}."""
    import tensorflow as tf
    graph = tf.Graph()
    with graph.as_default():
        tf.compat.v1.import_graph_def(graph_def(path), name='')
    with tf.compat.v1.Session(graph=graph) as session:
        return session.run(dict(fetches), {'image_tensor:0': image[None]})
