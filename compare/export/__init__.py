"""Exports of a run folder for the tools people already use.

``python -m compare.export RUN_DIR --coco OUT`` (:mod:`compare.export.coco`):
each detector's detections as a COCO results JSON, with the category and
image ids of the ground truth, plus the ground truth itself as a COCO JSON
when it came from VOC XML; pycocotools, FiftyOne or any COCO tool opens them,
and the ``file`` detector kind (:mod:`compare.adapters.coco_results`) reads
them back into a comparison.
"""
