"""``reports/train/tunables.md``: the page people read for the tunables study.

Built from the study's rows (``tunables.csv``) and its meta data
(``tunables.meta.json``), so ``python -m replicate.train.tunables --reuse``
rewrites it without training again. Two parts:

- architecture variants (``study`` 'aspect ratios' and 'base width'): one row
  each, trained with the same schedule from the same seed;
- thresholds of one trained model: VOC07 mAP and detections per image as
  grids, score threshold down, NMS IoU threshold across.
"""
import os

from provenance.stamp import provenance_markdown
from provenance.tables import frame_to_markdown

ARCH_COLUMNS = ['study', 'setting', 'default_boxes', 'parameters', 'train_s_per_iter',
                'infer_ms_per_image', 'detections_per_image', 'map_voc07']


def _grid(thresholds, value):
    """``value`` of the threshold rows as score threshold (rows) x NMS IoU (columns)."""
    grid = thresholds.pivot(index='score_thresh', columns='nms_thresh', values=value)
    grid.columns = ['nms {:g}'.format(c) for c in grid.columns]
    return grid.reset_index().rename(columns={'score_thresh': 'score threshold'})


def _arch_table(frame):
    arch = frame[frame['study'] != 'thresholds'][ARCH_COLUMNS].copy()
    for column in ('default_boxes', 'parameters'):
        arch[column] = arch[column].astype(int)
    return arch


def markdown(frame, meta, threshold_model):
    """The page as a string. ``frame``: the rows of ``tunables.csv``; ``meta``:
    ``tunables.meta.json``; ``threshold_model``: words naming the model of the
    threshold study."""
    arch = _arch_table(frame)
    thresholds = frame[frame['study'] == 'thresholds']
    best = thresholds.loc[thresholds['map_voc07'].idxmax()]
    load_before, load_after = meta['load_average']
    lines = [
        "# The seed's tunables, measured on the generated shapes (CPU)",
        '',
        'Made by `python -m replicate.train.tunables` (`--reuse` rewrites this page from '
        '`tunables.csv`). Figure: `tunables.png`. Data: the generated shapes (5 classes), '
        'VOC07 11-point mAP on the 500-image test split.',
        '',
        '## Default boxes and base network',
        '',
        'Each variant is the small SSD (128x128 input) trained from scratch with the same '
        'schedule and seed: `python -m replicate.train --model small {}`, plus the options '
        'of its row (`--ratios`, `--width`). This schedule is shorter than the benchmark\'s '
        '(`benchmark.md`), so these mAPs compare with each other, not with it.'.format(
            ' '.join(meta['schedule'])),
        '',
        '`train_s_per_iter`: wall seconds per iteration (batch 32, loading included); '
        '`infer_ms_per_image`: median `predict` time of one test image at batch 1 with the '
        '`evaluate` preset (score threshold 0.01), NMS included: a weaker model keeps more '
        'boxes above 0.01 (`detections_per_image`), and its NMS costs more.',
        '',
        frame_to_markdown(arch),
        '## NMS and score thresholds of one trained model',
        '',
        'The model: {}. No retraining: its detections at score >= 0.01 for each NMS IoU '
        'threshold, then cut at each score threshold. Best: mAP {:.4f} at NMS IoU {:g} '
        'and score threshold {:g}.'.format(threshold_model, best['map_voc07'],
                                          best['nms_thresh'], best['score_thresh']),
        '',
        'VOC07 mAP:',
        '',
        frame_to_markdown(_grid(thresholds, 'map_voc07')),
        'Detections kept per test image:',
        '',
        frame_to_markdown(_grid(thresholds, 'detections_per_image')),
        '## Machine',
        '',
        'Load average (1, 5, 15 min) before the study: {}; after: {}. The machine has 2 '
        'cores: timings taken under load are slower than on a quiet machine, so compare them '
        'within this page only.'.format(load_before, load_after),
        '',
        '## Provenance',
        '',
        provenance_markdown(meta['provenance']),
    ]
    return '\n'.join(lines)


def write(out, frame, meta, threshold_model):
    """Write ``<out>/tunables.md``; returns its path."""
    path = os.path.join(out, 'tunables.md')
    with open(path, 'w') as f:
        f.write(markdown(frame, meta, threshold_model))
    return path
