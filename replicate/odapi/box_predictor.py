"""The OD API's ``convolutional_box_predictor`` without shared layers
(``num_layers_before_predictor: 0``): per feature map one convolution for box
codes and one for class logits, each with a bias, TF 'SAME' padding.

Link names are the OD API's: ``ConvolutionalBoxHead_k/BoxEncodingPredictor``
and ``ConvolutionalClassHead_k/ClassPredictor``.
"""
import chainer
import chainer.functions as F

from replicate.odapi.layers import Conv2D


class PredictionHead(chainer.Chain):
    """One head on one feature map: a convolution, then one row per anchor.

    Args:
        conv_name (str): the convolution's OD API name.
        in_channels (int), boxes (int): anchors per cell, values (int) per anchor.
        ksize (int): kernel side.
    """

    def __init__(self, conv_name, in_channels, boxes, values, ksize):
        super().__init__()
        self.conv_name, self.values = conv_name, values
        with self.init_scope():
            setattr(self, conv_name, Conv2D(in_channels, boxes * values, ksize, bias=True))

    def forward(self, x):
        """(B, C, H, W) -> (B, H * W * boxes, values), rows by row, column, anchor."""
        y = self[self.conv_name](x)
        # (B, boxes*values, H, W) -> (B, H, W, boxes*values): TF's NHWC order
        y = F.transpose(y, (0, 2, 3, 1))
        # (B, H, W, boxes*values) -> (B, H*W*boxes, values)
        return F.reshape(y, (y.shape[0], -1, self.values))


class ConvolutionalBoxPredictor(chainer.Chain):
    """Box codes and class logits for every anchor.

    Args:
        in_channels (sequence of int): width of each feature map.
        boxes_per_location (sequence of int): anchors per cell of each map.
        n_class (int): class slots, background included (num_classes + 1).
        kernel_size (int): the heads' kernel side (the config's kernel_size).
        box_code_size (int): 4.

    Attributes:
        n_class (int): as given.
    """

    def __init__(self, in_channels, boxes_per_location, n_class, kernel_size=1,
                 box_code_size=4):
        super().__init__()
        self.n_class = n_class
        self.n_maps = len(in_channels)
        with self.init_scope():
            for k, (channels, boxes) in enumerate(
                    zip(in_channels, boxes_per_location, strict=True)):
                setattr(self, 'ConvolutionalBoxHead_{}'.format(k), PredictionHead(
                    'BoxEncodingPredictor', channels, boxes, box_code_size, kernel_size))
                setattr(self, 'ConvolutionalClassHead_{}'.format(k), PredictionHead(
                    'ClassPredictor', channels, boxes, n_class, kernel_size))

    def forward(self, maps):
        """Feature maps -> (box_encodings, class_predictions).

        Returns:
            Variables float32 (B, K, 4) codes (ty, tx, th, tw) and float32
            (B, K, n_class) logits, class 0 the background, anchors in the
            order of :func:`replicate.odapi.anchors.generate`.
        """
        boxes = [self['ConvolutionalBoxHead_{}'.format(k)](x) for k, x in enumerate(maps)]
        classes = [self['ConvolutionalClassHead_{}'.format(k)](x) for k, x in enumerate(maps)]
        return F.concat(boxes, axis=1), F.concat(classes, axis=1)
