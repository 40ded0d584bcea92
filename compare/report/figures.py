"""Charts of the report: PR curves per class, speed against accuracy, the threshold
sweep, the error breakdown, confusion matrices, the decode grid.

matplotlib through the Agg canvas directly (``Figure`` + ``FigureCanvasAgg``,
no pyplot global state, no backend switch). PNGs (``DPI`` 100) are
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

DPI = 100
_PALETTE = ('#e6194b', '#3cb44b', '#4363d8', '#f58231', '#911eb4', '#42d4f4', '#f032e6',
            '#9a6324', '#800000', '#469990', '#000075', '#808000')


def class_colour(name):
    """A fixed colour per class name."""
    return _PALETTE[zlib.crc32(str(name).encode('utf-8')) % len(_PALETTE)]


def save_png(figure, path):
    """Write ``figure`` to ``path`` (PNG, :data:`DPI`, no metadata); returns ``path``."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    FigureCanvasAgg(figure)
    figure.savefig(path, dpi=DPI, format='png', metadata={'Software': None},
                   bbox_inches='tight')
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


def detector_colour(index):
    """A fixed colour per detector position."""
    return _PALETTE[index % len(_PALETTE)]


def _axes(figure, title, xlabel, ylabel):
    axes = figure.add_subplot(1, 1, 1)
    axes.set_title(title, fontsize=10)
    axes.set_xlabel(xlabel, fontsize=9)
    axes.set_ylabel(ylabel, fontsize=9)
    axes.tick_params(labelsize=8)
    axes.grid(alpha=0.3)
    return axes


def pr_class_figure(name, curves):
    """PR curves of one class, one line per detector.

    Args:
        curves: list of ``(detector, prec, rec, ap)``; ``ap`` VOC area AP.
    """
    figure = Figure(figsize=(5.2, 3.8))
    axes = _axes(figure, 'PR (VOC, IoU 0.5): {}'.format(name), 'recall', 'precision')
    for k, (detector, prec, rec, ap) in enumerate(curves):
        style = '-' if k < 6 else '--'
        axes.plot(np.concatenate([[0], rec]), np.concatenate([[1], np.nan_to_num(prec)]),
                  style, label='{} (AP {:.3f})'.format(detector, ap),
                  color=detector_colour(k), linewidth=1.4, drawstyle='steps-post')
    axes.set_xlim(0, 1.01)
    axes.set_ylim(0, 1.01)
    axes.legend(fontsize=7, loc='upper right')
    figure.tight_layout()
    return figure


def speed_accuracy_figure(points, metric):
    """Milliseconds per image (log axis) against mAP: one labelled point per
    detector family (a detector and its variants share its point).

    Args:
        points: list of ``(label, position, ms_per_image, map, random)``;
            ``random``: drawn hollow (random weights: its mAP means nothing).
        metric: axis name of the mAP (its convention).
    """
    figure = Figure(figsize=(7.2, 4.4))
    axes = _axes(figure, 'speed against accuracy (batch 1; hollow: random weights)',
                 'ms per image (p50 of the whole call, log scale)', metric)
    axes.set_xscale('log')
    low, high = min(p[2] for p in points), max(p[2] for p in points)
    axes.set_xlim(low / 2, high * 2)
    axes.set_ylim(-0.08, 1.08)
    axes.tick_params(labelsize=9)
    for _, position, ms, accuracy, random in points:
        colour = detector_colour(position)
        axes.scatter([ms], [accuracy], s=70, zorder=3, linewidths=1.8, edgecolors=colour,
                     facecolors='none' if random else colour)
    figure.tight_layout()
    renderer = FigureCanvasAgg(figure).get_renderer()
    taken = []
    for label, position, ms, accuracy, _ in sorted(points, key=lambda p: (p[2], p[3], p[0])):
        _label_point(axes, renderer, taken, label, (ms, accuracy), detector_colour(position))
    return figure


#: Offsets (points) tried for a point's label, in order.
_LABEL_OFFSETS = ((8, 6), (8, -14), (-8, 6), (-8, -14), (0, 14), (0, -22), (14, -4), (-14, -4),
                  (0, 26), (0, -34))


def _label_point(axes, renderer, taken, label, xy, colour):
    """Write ``label`` beside the point ``xy`` at the first offset where it
    overlaps no label written before (``taken``: their extents); the last
    offset when none is free."""
    for k, (dx, dy) in enumerate(_LABEL_OFFSETS):
        text = axes.annotate(label, xy, xytext=(dx, dy), textcoords='offset points',
                             ha='left' if dx > 0 else 'right' if dx < 0 else 'center',
                             fontsize=9, color=colour)
        box = text.get_window_extent(renderer).expanded(1.05, 1.1)
        if k == len(_LABEL_OFFSETS) - 1 or not any(box.overlaps(other) for other in taken):
            taken.append(box)
            return
        text.remove()


def sweep_figure(rows, order):
    """Precision, recall and F1 against the score threshold, one line per detector.

    Args:
        rows: the sweep table.
        order: detector names in run order (colours).
    """
    figure = Figure(figsize=(10.5, 3.4))
    for k, metric in enumerate(('precision', 'recall', 'f1')):
        axes = figure.add_subplot(1, 3, k + 1)
        for position, name in enumerate(order):
            mine = rows[rows['detector'] == name]
            if len(mine):
                axes.plot(mine['score_thresh'], mine[metric], marker='.', linewidth=1.2,
                          color=detector_colour(position), label=name,
                          linestyle='-' if position < 6 else '--')
        axes.set_title(metric, fontsize=10)
        axes.set_xlabel('score threshold', fontsize=9)
        axes.set_xlim(0, 1)
        axes.set_ylim(-0.02, 1.02)
        axes.tick_params(labelsize=8)
        axes.grid(alpha=0.3)
    axes.legend(fontsize=7, loc='center left', bbox_to_anchor=(1.01, 0.5))
    figure.tight_layout()
    return figure


def errors_figure(table, kinds):
    """Stacked horizontal bars: each detector's errors by TIDE type."""
    figure = Figure(figsize=(7.0, 0.5 + 0.45 * max(len(table), 1)))
    axes = figure.add_subplot(1, 1, 1)
    left = np.zeros(len(table))
    for k, kind in enumerate(kinds):
        values = table[kind].to_numpy(float)
        axes.barh(np.arange(len(table)), values, left=left, color=_PALETTE[k], label=kind)
        left += values
    axes.set_yticks(np.arange(len(table)))
    axes.set_yticklabels(list(table['detector']), fontsize=8)
    axes.invert_yaxis()
    axes.set_xlabel('count at the operating point', fontsize=9)
    axes.tick_params(labelsize=8)
    axes.legend(fontsize=7, ncol=len(kinds), loc='lower center', bbox_to_anchor=(0.5, 1.0))
    figure.tight_layout()
    return figure


def confusion_figure(matrix, detector):
    """A confusion matrix (DataFrame, truth rows x predicted columns) as a heat map."""
    n = len(matrix)
    side = 1.6 + 0.45 * n
    figure = Figure(figsize=(side + 0.8, side))
    axes = figure.add_subplot(1, 1, 1)
    values = matrix.to_numpy(float)
    axes.imshow(values, cmap='Blues')
    for i in range(n):
        for j in range(n):
            axes.text(j, i, '{:d}'.format(int(values[i, j])), ha='center', va='center',
                      fontsize=8, color='white' if values[i, j] > values.max() / 2 else 'black')
    axes.set_xticks(range(n))
    axes.set_xticklabels(list(matrix.columns), rotation=45, ha='right', fontsize=8)
    axes.set_yticks(range(n))
    axes.set_yticklabels(list(matrix.index), fontsize=8)
    axes.set_xlabel('predicted', fontsize=9)
    axes.set_ylabel('ground truth', fontsize=9)
    axes.set_title('confusion: {}'.format(detector), fontsize=10)
    figure.tight_layout()
    return figure


def grid_figure(table):
    """The decode grid: detections per image and mAP against the NMS IoU
    threshold, one line per (detector, score threshold)."""
    figure = Figure(figsize=(10.0, 3.6))
    for k, (metric, label) in enumerate((('detections_per_image', 'detections per image'),
                                         ('map_voc07', 'mAP (VOC07)'))):
        axes = figure.add_subplot(1, 2, k + 1)
        for position, ((detector, score), rows) in enumerate(
                table.groupby(['detector', 'score_thresh'], sort=True)):
            axes.plot(rows['nms_thresh'], rows[metric], marker='o', linewidth=1.2,
                      color=detector_colour(position),
                      label='{}, score >= {:g}'.format(detector, score))
        axes.set_xlabel('NMS IoU threshold', fontsize=9)
        axes.set_title(label, fontsize=10)
        axes.tick_params(labelsize=8)
        axes.grid(alpha=0.3)
        if metric == 'detections_per_image':
            axes.set_yscale('log')
    axes.legend(fontsize=7, loc='center left', bbox_to_anchor=(1.01, 0.5))
    figure.tight_layout()
    return figure
