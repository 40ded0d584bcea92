"""The common detection format every adapter converts its system's output to.

Boxes are ``(y_min, x_min, y_max, x_max)`` in pixels of the ORIGINAL image as
:func:`compare.images.load_rgb` returns it (EXIF orientation applied), float32.
Labels are the detector's own ids; ``names`` are the detector's own class
names, so two detectors with different vocabularies can be compared by name
(the mapping between vocabularies belongs to the scoring step).

Row form (one dict per detection), used in ``raw/<detector>.jsonl``::

    {"y_min": .., "x_min": .., "y_max": .., "x_max": .., "label": int,
     "name": str, "score": float}

:meth:`Detections.to_rows` adds ``detector`` and ``image`` keys when given;
:meth:`Detections.from_rows` ignores keys it does not know.
"""
import dataclasses

import numpy as np

BOX_KEYS = ('y_min', 'x_min', 'y_max', 'x_max')


@dataclasses.dataclass(frozen=True)
class Detections:
    """Detections of one image.

    Attributes:
        boxes: ``(R, 4)`` float32, ``(y_min, x_min, y_max, x_max)``,
            original-image pixels.
        labels: ``(R,)`` int32, the detector's own label ids.
        names: tuple of ``R`` str, class names in the detector's vocabulary.
        scores: ``(R,)`` float32 confidences.
    """
    boxes: np.ndarray
    labels: np.ndarray
    names: tuple
    scores: np.ndarray

    def __post_init__(self):
        boxes = np.asarray(self.boxes, dtype=np.float32)
        # (R*4,) or empty -> (R, 4)
        boxes = boxes.reshape(-1, 4)
        labels = np.asarray(self.labels, dtype=np.int32).reshape(-1)
        scores = np.asarray(self.scores, dtype=np.float32).reshape(-1)
        names = tuple(str(n) for n in self.names)
        count = len(boxes)
        if not (len(labels) == len(scores) == len(names) == count):
            raise ValueError('Detections: lengths differ: boxes {}, labels {}, names {}, '
                             'scores {}'.format(count, len(labels), len(names), len(scores)))
        # frozen dataclass: normalised fields are set through object.__setattr__
        object.__setattr__(self, 'boxes', boxes)
        object.__setattr__(self, 'labels', labels)
        object.__setattr__(self, 'names', names)
        object.__setattr__(self, 'scores', scores)

    def __len__(self):
        return len(self.boxes)

    @classmethod
    def empty(cls):
        """No detections."""
        return cls(np.zeros((0, 4), np.float32), np.zeros(0, np.int32), (),
                   np.zeros(0, np.float32))

    def to_rows(self, detector=None, image=None):
        """One plain-Python dict per detection (JSON-serialisable).

        Args:
            detector: detector name added as ``"detector"`` if not None.
            image: image path added as ``"image"`` if not None.
        """
        prefix = {}
        if detector is not None:
            prefix['detector'] = detector
        if image is not None:
            prefix['image'] = image
        rows = []
        for box, label, name, score in zip(self.boxes, self.labels, self.names, self.scores,
                                           strict=True):
            row = dict(prefix)
            row.update({key: float(value) for key, value in zip(BOX_KEYS, box, strict=True)})
            row.update(label=int(label), name=name, score=float(score))
            rows.append(row)
        return rows

    @classmethod
    def from_rows(cls, rows):
        """Inverse of :meth:`to_rows` (extra keys such as ``image`` ignored)."""
        rows = list(rows)
        if not rows:
            return cls.empty()
        boxes = [[row[key] for key in BOX_KEYS] for row in rows]
        return cls(np.array(boxes, np.float32), [row['label'] for row in rows],
                   [row['name'] for row in rows], [row['score'] for row in rows])

    def clipped(self, height, width):
        """Boxes clipped to the image ``[0, height] x [0, width]``."""
        boxes = self.boxes.copy()
        boxes[:, 0::2] = np.clip(boxes[:, 0::2], 0, height)
        boxes[:, 1::2] = np.clip(boxes[:, 1::2], 0, width)
        return dataclasses.replace(self, boxes=boxes)


def image_record(image, height, width, detections, times):
    """The ``raw/<detector>.jsonl`` record of one image (see the contract).

    Args:
        image: path relative to the images folder, posix.
        height, width: size of the image as loaded (pixels).
        detections: :class:`Detections`.
        times: ``{"preprocess": s, "inference": s, "postprocess": s}``.
    """
    return {'image': image, 'height': int(height), 'width': int(width),
            'detections': detections.to_rows(),
            'times': {key: float(value) for key, value in times.items()}}


def detections_from_record(record):
    """:class:`Detections` of one ``raw/<detector>.jsonl`` record."""
    return Detections.from_rows(record['detections'])
