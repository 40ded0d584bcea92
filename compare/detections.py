"""What every detector returns: :class:`Detections` per image and the
:class:`Prediction` of one call, with the seconds of each of its :data:`STAGES`;
and what it says about itself, :class:`DetectorInfo`.

Boxes are ``(y_min, x_min, y_max, x_max)`` in pixels of the ORIGINAL image as
:func:`compare.images.load_rgb` returns it (EXIF orientation applied), float32,
inside the image: ``0 <= y_min <= y_max <= H`` and ``0 <= x_min <= x_max <= W``
(adapters clip with :meth:`Detections.clipped`, as the TF OD API clips to its
image window; ChainerCV's ``predict`` does not clip).
Labels are the detector's own ids; ``names`` are the detector's own class
names, so two detectors with different vocabularies can be compared by name
(the mapping between vocabularies belongs to scoring, :mod:`compare.score.classes`).
Rows keep the detector's own order (each adapter's ``order`` says which).

Row form (one dict per detection), used in ``raw/<detector>.jsonl``
(:mod:`compare.rundir`)::

    {"y_min": .., "x_min": .., "y_max": .., "x_max": .., "label": int,
     "name": str, "score": float}
"""
import dataclasses
import typing

import numpy as np

BOX_KEYS = ('y_min', 'x_min', 'y_max', 'x_max')
ROW_KEYS = BOX_KEYS + ('label', 'name', 'score')
#: The stages every detector times, in order; their sum is less than the wall
#: clock of the whole call (``total`` in raw/timings.csv), which also holds the
#: adapter's own overhead.
STAGES = ('preprocess', 'inference', 'postprocess')


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
        # (R*4,) or empty -> (R, 4)
        boxes = np.asarray(self.boxes, dtype=np.float32).reshape(-1, 4)
        labels = np.asarray(self.labels, dtype=np.int32).reshape(-1)
        scores = np.asarray(self.scores, dtype=np.float32).reshape(-1)
        names = tuple(str(n) for n in self.names)
        if not (len(labels) == len(scores) == len(names) == len(boxes)):
            raise ValueError('Detections: lengths differ: boxes {}, labels {}, names {}, '
                             'scores {}'.format(len(boxes), len(labels), len(names), len(scores)))
        # frozen dataclass: normalised fields are set through object.__setattr__
        object.__setattr__(self, 'boxes', boxes)
        object.__setattr__(self, 'labels', labels)
        object.__setattr__(self, 'names', names)
        object.__setattr__(self, 'scores', scores)

    def __len__(self):
        return len(self.boxes)

    def is_finite(self):
        """Whether every box coordinate and score is a finite number (NaN or
        Inf come from broken weights or inputs, never from a working model)."""
        return bool(np.isfinite(self.boxes).all() and np.isfinite(self.scores).all())

    def to_rows(self):
        """One plain-Python dict per detection (:data:`ROW_KEYS`, JSON-serialisable)."""
        rows = []
        for box, label, name, score in zip(self.boxes, self.labels, self.names, self.scores,
                                           strict=True):
            row = {key: float(value) for key, value in zip(BOX_KEYS, box, strict=True)}
            row.update(label=int(label), name=name, score=float(score))
            rows.append(row)
        return rows

    def clipped(self, height, width):
        """The same detections with boxes clipped to ``[0, height] x [0, width]``
        (a box wholly outside becomes a degenerate box on the border)."""
        boxes = self.boxes.copy()
        boxes[:, 0::2] = np.clip(boxes[:, 0::2], 0, height)
        boxes[:, 1::2] = np.clip(boxes[:, 1::2], 0, width)
        return dataclasses.replace(self, boxes=boxes)

    @classmethod
    def from_rows(cls, rows):
        """Inverse of :meth:`to_rows`.

        Raises:
            KeyError, TypeError, ValueError: a row lacks a key or holds a
                value of the wrong kind (the caller names the file).
        """
        rows = list(rows)
        return cls(np.array([[row[key] for key in BOX_KEYS] for row in rows],
                            np.float32).reshape(-1, 4),
                   [int(row['label']) for row in rows], [str(row['name']) for row in rows],
                   [float(row['score']) for row in rows])


@dataclasses.dataclass
class Prediction:
    """Result of one ``predict`` call of a detector.

    Attributes:
        detections: list of :class:`Detections`, one per image given, in order.
        times: ``{stage: seconds}`` for the whole call, every stage of :data:`STAGES`.
        raw: None, or one dict per image of the network's outputs to keep
            (``--keep-raw``: the Chainer SSDs give ``locs``, ``confs``, ``size``,
            ``insize``; :func:`compare.rundir.write_netout`).
    """
    detections: list
    times: dict
    raw: typing.Optional[list] = None


@dataclasses.dataclass(frozen=True)
class DetectorInfo:
    """What a detector says about itself; its entry of meta.json.

    Attributes:
        name: as :attr:`Detector.name`.
        weights: what it computes with: a pretrained name, a path (relative
            to the cwd when inside it), ``random (seed N)``, ...
        weights_sha256: hex SHA-256 of the weight file(s), or None.
        random_weights: True when its detections mean nothing for accuracy.
        device: where it runs (None before ``load`` when only loading tells).
        threads: its threading settings, in words (None likewise).
        label_names: its vocabulary, in label order.
        info: details of its kind (preset, thresholds, label map, ...); the
            key ``preset`` takes part in the resume check.
    """
    name: str
    weights: str
    weights_sha256: typing.Optional[str]
    random_weights: bool
    device: typing.Optional[str]
    threads: typing.Optional[str]
    label_names: tuple
    info: dict
