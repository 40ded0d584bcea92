"""Figures of the report: detections side by side, PR curves, speed vs accuracy.

matplotlib through the Agg canvas directly (``Figure`` + ``FigureCanvasAgg``,
no pyplot global state, no backend switch). PNGs are small (``DPI`` 80) and
deterministic: no ``Software`` entry in the PNG metadata, no timestamps, and
class colours from a crc32 of the class name (not Python's salted ``hash``).
"""
import os
import zlib

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from compare.errors import UserError
from compare.images import load_rgb
from compare.paths import display_path

DPI = 80
#: Boxes drawn per detector and image (highest scores first).
MAX_BOXES = 10
_PALETTE = ('#e6194b', '#3cb44b', '#4363d8', '#f58231', '#911eb4', '#42d4f4', '#f032e6',
            '#9a6324', '#800000', '#469990', '#000075', '#808000')


def class_colour(name):
    """A fixed colour per class name."""
    return _PALETTE[zlib.crc32(str(name).encode('utf-8')) % len(_PALETTE)]


def save_png(figure, path):
    """Write ``figure`` to ``path`` (PNG, :data:`DPI`, no metadata); returns ``path``."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    FigureCanvasAgg(figure)
    figure.savefig(path, dpi=DPI, format='png', metadata={'Software': None})
    return path


def read_image(images_dir, image, size):
    """``(pixels, note)``: the image as ``(H, W, 3)`` uint8, or a grey canvas of
    ``size`` = (H, W) and a note saying why the image is not shown."""
    if not os.path.isdir(images_dir):
        return np.full(size + (3,), 200, np.uint8), 'images folder {} not found'.format(
            display_path(images_dir))
    try:
        return load_rgb(os.path.join(images_dir, image)), ''
    except UserError:
        return np.full(size + (3,), 200, np.uint8), 'image not readable'


def _draw_boxes(axes, boxes, labels, edge=None):
    """Draw ``(R, 4)`` ``(y_min, x_min, y_max, x_max)`` boxes with text labels."""
    from matplotlib.patches import Rectangle
    for (y_min, x_min, y_max, x_max), (text, colour) in zip(boxes, labels, strict=True):
        axes.add_patch(Rectangle((x_min, y_min), x_max - x_min, y_max - y_min, fill=False,
                                 edgecolor=edge or colour, linewidth=1.5))
        axes.text(x_min, y_min, text, fontsize=6, color='white', va='bottom',
                  bbox={'facecolor': edge or colour, 'alpha': 0.7, 'pad': 1, 'linewidth': 0})


def detections_figure(pixels, panels, title):
    """Side-by-side panels of one image.

    Args:
        pixels: ``(H, W, 3)`` uint8.
        panels: list of ``(panel title, boxes (R, 4) yxyx, [(text, colour)])``.
        title: figure title.
    """
    figure = Figure(figsize=(3.2 * len(panels), 3.4))
    for k, (name, boxes, labels) in enumerate(panels):
        axes = figure.add_subplot(1, len(panels), k + 1)
        axes.imshow(pixels)
        _draw_boxes(axes, boxes, labels)
        axes.set_title(name, fontsize=7)
        axes.axis('off')
    figure.suptitle(title, fontsize=8)
    return figure


def pr_figure(detector, classes, prec, rec):
    """VOC precision-recall curves of one detector (one line per class with
    ground truth); None if no class has a curve."""
    lines = [(name, p, r) for name, p, r in zip(classes, prec, rec, strict=True)
             if p is not None and r is not None and len(r)]
    if not lines:
        return None
    figure = Figure(figsize=(4.5, 3.4))
    axes = figure.add_subplot(1, 1, 1)
    for name, p, r in lines:
        axes.plot(r, np.nan_to_num(p), label=name, color=class_colour(name), linewidth=1)
    axes.set_xlim(0, 1.01)
    axes.set_ylim(0, 1.01)
    axes.set_xlabel('recall', fontsize=7)
    axes.set_ylabel('precision', fontsize=7)
    axes.set_title('PR (VOC, IoU 0.5): {}'.format(detector), fontsize=8)
    axes.tick_params(labelsize=6)
    axes.legend(fontsize=5, loc='lower left', ncol=2)
    figure.tight_layout()
    return figure


def speed_accuracy_figure(points, metric):
    """Images per second against mAP.

    Args:
        points: list of ``(label, images_per_s, map)``.
        metric: axis name of the mAP (its convention).
    """
    figure = Figure(figsize=(4.5, 3.4))
    axes = figure.add_subplot(1, 1, 1)
    for label, speed, accuracy in points:
        axes.scatter([speed], [accuracy], color=class_colour(label), s=20)
        axes.annotate(label, (speed, accuracy), fontsize=6, xytext=(3, 3),
                      textcoords='offset points')
    axes.set_xlabel('images / s (p50 of total, per batch size)', fontsize=7)
    axes.set_ylabel(metric, fontsize=7)
    axes.set_ylim(0, 1.05)
    axes.set_xlim(left=0)
    axes.tick_params(labelsize=6)
    axes.set_title('speed against accuracy', fontsize=8)
    figure.tight_layout()
    return figure
