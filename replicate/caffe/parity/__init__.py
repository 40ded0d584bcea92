"""Layer-by-layer parity of our Chainer build of a Caffe SSD
(:mod:`replicate.caffe`) with OpenCV's DNN module running the same
prototxt and caffemodel.

The reference run is :mod:`replicate.caffe.opencv` (also the harness's
``opencv-dnn`` kind). Modules: :mod:`~replicate.caffe.parity.rows` (what is
compared), :mod:`~replicate.caffe.parity.report` (CSV / Markdown /
meta.json, with :mod:`replicate.parity`'s metrics and verdicts),
:mod:`~replicate.caffe.parity.cli` (``python -m replicate.caffe.parity``).
"""
