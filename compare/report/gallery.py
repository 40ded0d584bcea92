"""Which figures the report has, drawn and saved under ``<run dir>/figures/``.

- ``detections_NNN.png``: the first :data:`MAX_IMAGES` images (sorted by
  name), one panel for the ground truth (if annotated) and one per detector,
  each showing its :data:`~compare.report.figures.MAX_BOXES` highest-scoring
  boxes.
- ``pr_<detector>.png``: ChainerCV's VOC PR curves, one line per class.
- ``speed_accuracy.png``: images/s (each batch size) against VOC area mAP.
"""
import dataclasses
import os

from compare import rundir
from compare.report.figures import (
    MAX_BOXES,
    class_colour,
    detections_figure,
    pr_figure,
    read_image,
    save_png,
    speed_accuracy_figure,
)
from compare.score.classes import canonical

#: Images drawn (the first ones by name).
MAX_IMAGES = 12
SPEED_METRIC = 'map_voc'


@dataclasses.dataclass
class Gallery:
    """Relative paths (under the run dir) of the figures, and notes about them."""
    detections: list = dataclasses.field(default_factory=list)   # [(image, path)]
    pr: list = dataclasses.field(default_factory=list)           # [(detector, path)]
    speed_accuracy: object = None
    notes: list = dataclasses.field(default_factory=list)


def _truth_panel(truth):
    labels = [('{}{}'.format(name, ' (difficult)' if hard else ''), class_colour(canonical(name)))
              for name, hard in zip(truth.names, truth.difficult, strict=True)]
    return ('ground truth ({} boxes)'.format(len(truth.names)), truth.boxes, labels)


def _detector_panel(rows, detector):
    top = rows[rows['rank'] <= MAX_BOXES]
    boxes = top[['y_min', 'x_min', 'y_max', 'x_max']].to_numpy(float)
    labels = [('{} {:.2f}'.format(name, score), class_colour(cls))
              for name, score, cls in zip(top['name'], top['score'], top['class'], strict=True)]
    return ('{} (top {} of {})'.format(detector, len(top), len(rows)), boxes, labels)


def draw_detections(scored, gallery):
    run = scored.run
    images = sorted(set(run.images['image']))
    if len(images) > MAX_IMAGES:
        gallery.notes.append('detections drawn for the first {} of {} images'.format(
            MAX_IMAGES, len(images)))
    sizes = run.sizes()
    by_key = dict(tuple(run.detections.groupby(['detector', 'image'], sort=True)))
    empty = run.detections.iloc[:0]
    for number, image in enumerate(images[:MAX_IMAGES]):
        pixels, note = read_image(scored.images_dir, image, sizes[image])
        if note:
            gallery.notes.append('{}: {} (boxes drawn on a grey canvas)'.format(image, note))
        panels = [_truth_panel(scored.truths[image])] if image in scored.truths else []
        panels += [_detector_panel(by_key.get((detector, image), empty), detector)
                   for detector in run.ok_detectors()]
        path = rundir.figure('detections_{:03d}.png'.format(number))
        figure = detections_figure(pixels, panels, image + (' [{}]'.format(note) if note
                                                            else ''))
        save_png(figure, os.path.join(run.run_dir, path))
        gallery.detections.append((image, path))


def draw_pr(scored, gallery):
    for detector, (classes, prec, rec) in sorted(scored.curves.items()):
        figure = pr_figure(detector, classes, prec, rec)
        if figure is None:
            gallery.notes.append('{}: no PR curve (no class with ground truth)'.format(detector))
            continue
        path = rundir.figure('pr_{}.png'.format(detector))
        save_png(figure, os.path.join(scored.run.run_dir, path))
        gallery.pr.append((detector, path))


def draw_speed_accuracy(scored, gallery):
    speed, summary = scored.tables['speed'], scored.tables.get('map_summary')
    if summary is None or summary.empty or speed.empty:
        gallery.notes.append('no speed-against-accuracy chart: needs both timings and mAP')
        return
    accuracy = dict(zip(summary['detector'], summary[SPEED_METRIC], strict=True))
    points = [('{} b{}'.format(row.detector, row.batch_size), row.images_per_s,
               accuracy[row.detector]) for row in speed.itertuples()
              if row.detector in accuracy]
    if not points:
        gallery.notes.append('no speed-against-accuracy chart: no detector has both')
        return
    path = rundir.figure('speed_accuracy.png')
    save_png(speed_accuracy_figure(points, 'mAP (VOC area, ChainerCV, +1 px)'),
             os.path.join(scored.run.run_dir, path))
    gallery.speed_accuracy = path


def draw_all(scored):
    """Draw and save every figure; returns a :class:`Gallery`."""
    gallery = Gallery()
    draw_detections(scored, gallery)
    draw_pr(scored, gallery)
    draw_speed_accuracy(scored, gallery)
    return gallery
