"""User errors of the Caffe SSD reader and builder: one line naming the file
(and the layer, field or byte offset) and what to do."""
from replicate.errors import UserError, WeightsError


class CaffeError(UserError, ValueError):
    """A ``.prototxt`` or ``.caffemodel`` that cannot be read, or a network
    that asks for something this builder does not build (the message names
    the layer and its type)."""


class CaffeWeightsError(WeightsError, CaffeError):
    """The caffemodel's blobs do not fit the network the prototxt describes:
    a layer without its blobs, or blobs of another count or shape."""
