"""Caffe SSDs (W. Liu's SSD layers) in Chainer, from a deploy ``.prototxt``
and its ``.caffemodel``, read without Caffe or protobuf's generated classes.

Modules, one idea each:

* :mod:`~replicate.caffe.wire`: the protobuf wire format, bounds-checked;
* :mod:`~replicate.caffe.caffemodel`: the binary weights (layers, blobs), strictly;
* :mod:`~replicate.caffe.prototxt`: the network definition (text format, via
  :mod:`replicate.odapi.textproto`), typed, with Caffe's defaults;
* :mod:`~replicate.caffe.layers`, :mod:`~replicate.caffe.ops`: each layer type
  as replicate's Chainer parts, with shape inference;
* :mod:`~replicate.caffe.net`: the layers as one chain, filled from the caffemodel;
* :mod:`~replicate.caffe.priorbox`: prior boxes from PriorBox parameters;
* :mod:`~replicate.caffe.detection_output`: decoding and NMS as DetectionOutput does it;
* :mod:`~replicate.caffe.preprocess`: the input as ``cv2.dnn.blobFromImage`` makes it;
* :mod:`~replicate.caffe.ssd`: :class:`CaffeSSD` and :func:`load`;
* :mod:`~replicate.caffe.models`: packaged models by short name (``res10-face``);
* :mod:`~replicate.caffe.opencv`: the same files run by OpenCV's DNN (the reference);
* :mod:`~replicate.caffe.parity`: layer-by-layer parity with OpenCV's DNN.

What is built from replicate's parts: convolutions are
:class:`replicate.ssd.channels_last.Convolution2D`, max pooling
:func:`replicate.ssd.channels_last.max_pooling_2d`, L2 normalization
replicate's :class:`~replicate.ssd.normalize.Normalize` link (with Caffe's
eps inside the root). The multibox heads are the prototxt's own layers
(a Convolution, Permute and Flatten per source map, Concat), each run and
compared on its own: :class:`replicate.ssd.multibox.Multibox` fixes 3x3
heads and ChainerCV's box count (2 + 2 per ratio), which Caffe's PriorBox
does not (several min sizes, ``flip: false``). Prior boxes, decoding and NMS
follow Caffe's arithmetic rather than :mod:`replicate.ssd.coder` /
:mod:`replicate.ssd.nms` (ChainerCV's), see their modules for the
differences. Inputs: ``input`` + ``input_shape``/``input_dim`` or an
``Input`` layer; data layers (LMDB readers of train/test prototxts) are
refused with a pointer to the deploy prototxt.

Usage::

    from replicate.caffe import load
    model = load('deploy.prototxt', 'model.caffemodel', mean=(104, 117, 123))
    bboxes, labels, scores = model.predict([cv2.imread('image.jpg')])
"""
from replicate.caffe.errors import CaffeError, CaffeWeightsError  # noqa: F401
from replicate.caffe.ssd import CaffeSSD, load  # noqa: F401
