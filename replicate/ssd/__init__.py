"""The paper's SSD300 (Liu et al., 2016), one file per idea, as a newcomer reads it.

The network and its numbers:

- :mod:`~replicate.ssd.vgg16`: the VGG-16 base and the extra layers, the
  source maps (grids 38, 19, 10, 5, 3, 1 for 300x300: the one owner of them);
- :mod:`~replicate.ssd.normalize`: the L2 normalisation of conv4_3;
- :mod:`~replicate.ssd.multibox`: the per-map box and class predictors;
- :mod:`~replicate.ssd.channels_last`: the convolutions and poolings these use
  (ChainerCV's results, a faster CPU memory layout);
- :mod:`~replicate.ssd.ssd`: the model (preprocess -> forward -> decode), built
  from its parts, with ChainerCV's API;
- :mod:`~replicate.ssd.ssd300`, :mod:`~replicate.ssd.ssd512`: the builders that
  fix the paper's numbers for 300x300 and 512x512 inputs;
- :mod:`~replicate.ssd.small`: a narrow SSD with the same head, coder and loss
  that trains from scratch on a CPU (the paper allows a lighter base).

Boxes, from default boxes to detections:

- :mod:`~replicate.ssd.geometry`: the paper's scale rule (default box sizes);
- :mod:`~replicate.ssd.coder`: default boxes, encoding (matching) and decoding;
- :mod:`~replicate.ssd.boxes`, :mod:`~replicate.ssd.overlap`: IoU;
- :mod:`~replicate.ssd.nms`: per-class non-maximum suppression;
- :mod:`~replicate.ssd.preprocess`: images in, resized and mean-subtracted.

Training and evaluation rules of the paper:

- :mod:`~replicate.ssd.loss`: the multibox loss (hard negative mining);
- :mod:`~replicate.ssd.voc_eval`: the VOC07 metric the paper reports.

Weights: :mod:`~replicate.ssd.weights` (strict loading, seeded random
weights) and :mod:`~replicate.ssd.pretrained` (ChainerCV's published files).

What is NOT here: the training loop (:mod:`replicate.train`), the OD API
SSD-MobileNetV2 port (:mod:`replicate.odapi`), the parity proof
(:mod:`replicate.parity`), benchmarks (:mod:`replicate.bench`), datasets
(:mod:`replicate.datasets`) and the ONNX Runtime path (:mod:`replicate.ort`):
siblings that import this package, never the other way round. Public names are
re-exported by :mod:`replicate` (``from replicate import SSD300``).
"""
