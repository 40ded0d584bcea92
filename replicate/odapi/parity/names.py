"""Which TF tensor of the export stands for each recorded output of ours.

Our records are named by :mod:`replicate.parity.tracing` after our links,
which carry the Keras layer names; the TF counterpart of ``extractor/base/L``
is the output of layer ``L`` in the export's graph, and so on (the table
below). Arrays are converted to our layout: NHWC -> NCHW for feature maps,
(B, N, 1, 4) -> (B, N, 4) for box-head rows.
"""
import re

#: (pattern on our name, what it is in TF, layout); the first match wins.
#: what: ('layer', scope) a layer's output; ('map', k) the k-th feature map
#: (the input of the k-th box head); ('tensor', key) a post-processor tensor.
RULES = (
    (r'^extractor/base/(?P<layer>[^/>#\[]+)$', ('layer', '{layer}'), 'nchw'),
    (r'^extractor/extras/(?P<layer>[^/>#\[]+)$', ('layer', 'FeatureMaps/{layer}'), 'nchw'),
    (r'^extractor\[(?P<k>\d+)\]$', ('map', '{k}'), 'nchw'),
    (r'^extractor/base\[(?P<k>\d+)\]$', ('map', '{k}'), 'nchw'),
    (r'^extractor/extras\[(?P<j>\d+)\]$', ('extra_map', '{j}'), 'nchw'),
    (r'^multibox/(?P<head>\w+Head_\d+)/(?P<conv>\w+)$', ('layer', 'BoxPredictor/{head}/{conv}'),
     'nchw'),
    (r'^multibox/(?P<head>\w+Head_\d+)/(?P<conv>\w+)>transpose$',
     ('layer', 'BoxPredictor/{head}/{conv}'), 'nhwc'),
    (r'^multibox/(?P<head>\w+Head_\d+)(/\w+>reshape)?$', ('layer', 'BoxPredictor/{head}'), 'rows'),
    (r'^(multibox/.*>concat|multibox\[0\]|box_encodings)$', ('tensor', 'box_encodings'),
     'same'),
    (r'^(multibox/.*>concat#2|multibox\[1\]|class_predictions)$',
     ('tensor', 'class_predictions'), 'same'),
)


def counterpart(name):
    """``(what, layout)`` for our record ``name`` (see :data:`RULES`), or None."""
    for pattern, (kind, template), layout in RULES:
        match = re.match(pattern, name)
        if match:
            return (kind, template.format(**match.groupdict())), layout
    return None


def to_ours(value, layout):
    """A TF array -> our layout (see the module doc)."""
    if layout == 'nchw':
        return value.transpose(0, 3, 1, 2)
    if layout == 'rows':
        # (B, N, 1, 4) or (B, N, C) -> (B, N, last)
        return value.reshape(value.shape[0], value.shape[1], value.shape[-1])
    return value
