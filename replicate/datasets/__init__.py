"""Detection datasets for training: Pascal VOC folders, COCO JSON, and a
generated dataset of shapes written as a VOC folder.

Every dataset yields ``(img, bbox, label)`` (or with ``difficult``):
float32 (3, H, W) RGB in [0, 255], float32 (R, 4) (y_min, x_min, y_max, x_max)
0-based pixels, int32 (R,) indices into ``label_names``.
"""
from replicate.datasets.coco import read_coco  # noqa: F401
from replicate.datasets.records import DetectionDataset, Record  # noqa: F401
from replicate.datasets.voc import VOC_LABEL_NAMES, read_voc, write_voc  # noqa: F401
