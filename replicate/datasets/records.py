"""One annotated image as a record, and the dataset that loads records."""
import dataclasses

import numpy as np
from PIL import Image

from replicate.errors import UserError, one_line


@dataclasses.dataclass(frozen=True)
class Record:
    """The annotation of one image.

    Attributes:
        image: path of the image file.
        bbox: float32 (R, 4) (y_min, x_min, y_max, x_max), 0-based pixels.
        label: int32 (R,) indices into the dataset's label names.
        difficult: bool (R,) (VOC ``difficult``, COCO ``iscrowd``).
        source: the annotation file (for messages).
    """
    image: str
    bbox: np.ndarray
    label: np.ndarray
    difficult: np.ndarray
    source: str


def load_image(path):
    """RGB image file -> float32 (3, H, W) in [0, 255]; UserError if unreadable."""
    try:
        with Image.open(path) as image:
            array = np.asarray(image.convert('RGB'), dtype=np.float32)
    except (OSError, ValueError, Image.DecompressionBombError) as error:
        raise UserError('cannot read image {}: {} (replace the file or remove it from '
                        'the split)'.format(path, one_line(error))) from None
    # (H, W, 3) -> (3, H, W)
    return array.transpose(2, 0, 1)


def clean_boxes(bbox, size):
    """Boxes clipped to an image of ``size`` (H, W), and the mask of those
    kept: boxes left with no area (zero-area, inverted, wholly outside) are
    dropped, so the coder never takes the log of 0."""
    height, width = size
    low = np.zeros(2, dtype=np.float32)
    high = np.array((height, width), dtype=np.float32)
    clipped = np.concatenate((np.clip(bbox[:, :2], low, high),
                              np.clip(bbox[:, 2:], low, high)), axis=1)
    keep = (clipped[:, :2] < clipped[:, 2:]).all(axis=1)
    return clipped, keep


class DetectionDataset:
    """Images and boxes of a list of :class:`Record`, loaded on access.

    Args:
        records: list of :class:`Record`.
        label_names: tuple of str.
        use_difficult (bool): keep difficult boxes (evaluation) or drop them
            (training, as ChainerCV's VOCBboxDataset by default).
        return_difficult (bool): also return the difficult flags.

    ``dataset[i]`` is ``(img, bbox, label)`` (+ ``difficult``), boxes clipped
    to the image and degenerate boxes dropped (:func:`clean_boxes`).
    """

    def __init__(self, records, label_names, use_difficult=False, return_difficult=False):
        self.records = list(records)
        self.label_names = tuple(label_names)
        self.use_difficult = use_difficult
        self.return_difficult = return_difficult

    def __len__(self):
        return len(self.records)

    def __getitem__(self, index):
        record = self.records[index]
        img = load_image(record.image)
        bbox, keep = clean_boxes(record.bbox, img.shape[1:])
        if not self.use_difficult:
            keep &= ~record.difficult
        out = (img, bbox[keep], record.label[keep])
        return out + (record.difficult[keep],) if self.return_difficult else out

    def subset(self, indices):
        """A dataset of the records at ``indices`` (same settings)."""
        return DetectionDataset([self.records[i] for i in indices], self.label_names,
                                self.use_difficult, self.return_difficult)
