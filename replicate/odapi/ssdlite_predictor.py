"""The OD API's TF1 (slim) ``convolutional_box_predictor`` without layers
before the heads, with SSDLite's depthwise heads (``use_depthwise: true``)
or plain convolutional ones.

Per feature map k, scope ``BoxPredictor_k``:

* depthwise (SSDLite): ``BoxEncodingPredictor_depthwise``, a depthwise kxk
  stride-1 convolution followed by the box predictor's batch norm and
  activation (ReLU6), then ``BoxEncodingPredictor``, a 1x1 convolution with
  ``biases`` to ``boxes * 4`` channels, no batch norm, no activation; the same
  for classes (``ClassPredictor_depthwise``, ``ClassPredictor`` to
  ``boxes * (num_classes + 1)``);
* convolutional: ``BoxEncodingPredictor`` and ``ClassPredictor`` alone, kxk
  convolutions with biases.

Outputs are reshaped as the OD API does it: NHWC order, one row per anchor
(row, column, anchor of the cell), maps concatenated in order.
"""
import chainer
import chainer.functions as F

from replicate.odapi.slim_mobilenet_v2 import SlimConv

HEADS = ('BoxEncodingPredictor', 'ClassPredictor')


class SlimPredictionHeads(chainer.Chain):
    """Both heads on one feature map (scope ``BoxPredictor_k``).

    Args:
        in_channels (int), boxes (int): anchors per cell, n_class (int):
            class slots (background included), kernel_size (int),
            box_code_size (int): 4.
        use_depthwise (bool): SSDLite heads.
        hyperparams (replicate.odapi.config.ConvHyperparams or None): batch
            norm and activation of the depthwise layers.
    """

    def __init__(self, in_channels, boxes, n_class, kernel_size, box_code_size, use_depthwise,
                 hyperparams=None):
        super().__init__()
        self.values = {'BoxEncodingPredictor': box_code_size, 'ClassPredictor': n_class}
        self.order = []
        with self.init_scope():
            for head in HEADS:
                ksize = kernel_size
                if use_depthwise:
                    setattr(self, head + '_depthwise', SlimConv(
                        in_channels, in_channels, kernel_size, 1, True, hyperparams.batch_norm,
                        hyperparams.activation, bias=hyperparams.use_bias))
                    self.order.append(head + '_depthwise')
                    ksize = 1
                setattr(self, head, SlimConv(in_channels, boxes * self.values[head], ksize,
                                             bias=True))
                self.order.append(head)

    def forward(self, x):
        """(B, C, H, W) -> (box rows (B, H*W*boxes, 4), class rows (B, H*W*boxes, n_class))."""
        rows = []
        for head in HEADS:
            h = x
            if head + '_depthwise' in self.order:
                h = self[head + '_depthwise'](h)
            h = self[head](h)
            # (B, boxes*values, H, W) -> (B, H, W, boxes*values): TF's NHWC order
            h = F.transpose(h, (0, 2, 3, 1))
            # (B, H, W, boxes*values) -> (B, H*W*boxes, values)
            rows.append(F.reshape(h, (h.shape[0], -1, self.values[head])))
        return tuple(rows)


class SlimBoxPredictor(chainer.Chain):
    """Box codes and class logits for every anchor.

    Args:
        in_channels (sequence of int), boxes_per_location (sequence of int),
        n_class (int), kernel_size (int), box_code_size (int), use_depthwise
        (bool), hyperparams: see :class:`SlimPredictionHeads`.

    Attributes:
        n_class (int): as given.
    """

    def __init__(self, in_channels, boxes_per_location, n_class, kernel_size=3, box_code_size=4,
                 use_depthwise=True, hyperparams=None):
        super().__init__()
        self.n_class, self.n_maps = n_class, len(in_channels)
        with self.init_scope():
            for k, (channels, boxes) in enumerate(
                    zip(in_channels, boxes_per_location, strict=True)):
                setattr(self, 'BoxPredictor_{}'.format(k), SlimPredictionHeads(
                    channels, boxes, n_class, kernel_size, box_code_size, use_depthwise,
                    hyperparams))

    def forward(self, maps):
        """Feature maps -> (box_encodings, class_predictions): Variables
        float32 (B, K, 4) codes (ty, tx, th, tw) and float32 (B, K, n_class)
        logits, class 0 the background."""
        rows = [self['BoxPredictor_{}'.format(k)](x) for k, x in enumerate(maps)]
        return (F.concat([boxes for boxes, _ in rows], axis=1),
                F.concat([classes for _, classes in rows], axis=1))
