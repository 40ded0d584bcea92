"""``python -m replicate.train.tunables``: the seed's tunables measured on the
generated shapes, one table and one figure in reports/train/.

- default boxes: aspect ratio sets '2' (4 boxes per location), 'ssd'
  (SSD300's pattern) and '2,3' (6 everywhere): accuracy against time;
- base network: width 8 (lighter) against width 16 (heavier, ~3x the
  parameters);
- thresholds: NMS IoU and score threshold of the trained benchmark model (or
  the 'ssd' variant when the benchmark has not run), evaluated without
  retraining.

Every architecture variant trains with the same shorter schedule
(:data:`SCHEDULE`) from the same seed, so their mAPs compare with each other
(not with the benchmark's longer run). Writes ``tunables.csv`` / ``.md``,
``tunables.png`` and ``tunables.meta.json``; ``--reuse`` rewrites the page
and the figure from an earlier run's ``tunables.csv`` and meta data.
"""
import argparse
import json
import os
import sys

import numpy as np
import pandas as pd

from provenance.stamp import provenance
from provenance.tables import FLOAT_FORMAT, sorted_frame
from replicate.train import experiments as X
from replicate.train import tunables_report
from replicate.train.snapshot import load_model

SCHEDULE = ['--batch-size', '32', '--lr', '0.01', '--lr-steps', '350,450', '--iterations',
            '500', '--seed', '0', '--insize', '128', '--no-augment']
#: (study, setting, options)
VARIANTS = (
    ('aspect ratios', "'2' (4 per location)", ['--width', '8', '--ratios', '2']),
    ('aspect ratios', "'ssd' (SSD300's)", ['--width', '8', '--ratios', 'ssd']),
    ('aspect ratios', "'2,3' (6 per location)", ['--width', '8', '--ratios', '2,3']),
    ('base width', '16 (heavier)', ['--width', '16', '--ratios', 'ssd']),
)
NMS_THRESHOLDS = (0.3, 0.45, 0.6, 0.75)
SCORE_THRESHOLDS = (0.01, 0.05, 0.1, 0.2, 0.3, 0.45, 0.6, 0.8)
#: Test images timed for inference (batch 1, three passes, median).
TIMED = 20


def _variant_row(study, setting, model, log, seconds, result, infer, predictions):
    return {'study': study, 'setting': setting,
            'default_boxes': int(sum(model.coder.counts)),
            'parameters': int(sum(p.size for p in model.params())),
            'train_s_per_iter': X.seconds_per_iteration(log), 'train_s': seconds,
            'infer_ms_per_image': 1000 * infer, 'nms_thresh': model.nms_thresh,
            'score_thresh': model.score_thresh, 'map_voc07': result['map'],
            'detections_per_image': float(np.mean([len(s) for s in predictions[2]]))}


def train_variants(data, work):
    rows = []
    for study, setting, options in VARIANTS:
        out = os.path.join(work, 'tunable-' + '-'.join(options[1::2]).replace(',', ''))
        seconds, log = X.train(data, out, ['--model', 'small'] + SCHEDULE + options + [
            '--eval-interval', '0', '--snapshot-interval', '0', '--log-interval', '25'])
        model, meta = load_model(os.path.join(out, 'model.npz'))
        model.use_preset('evaluate')
        predictions = X.predict_split(model, data, 'test', meta['label_names'])
        imgs = [X.load_dataset(data, 'test', meta['label_names'])[i][0] for i in range(TIMED)]
        rows.append(_variant_row(study, setting, model, log, seconds, X.voc07(predictions),
                                 X.inference_seconds(model, imgs), predictions))
        print('{} {}: mAP {:.4f}'.format(study, setting, rows[-1]['map_voc07']), flush=True)
    return rows


def threshold_rows(model_path, data, split='test'):
    """mAP and detections per image for every (NMS, score) threshold pair."""
    model, meta = load_model(model_path)
    rows = []
    for nms in NMS_THRESHOLDS:
        model.nms_thresh, model.score_thresh = nms, min(SCORE_THRESHOLDS)
        predictions = X.predict_split(model, data, split, meta['label_names'])
        for score in SCORE_THRESHOLDS:
            kept = X.above(predictions, score)
            rows.append({'study': 'thresholds', 'setting': 'nms {} score {}'.format(
                nms, score), 'nms_thresh': nms, 'score_thresh': score,
                'map_voc07': X.voc07(kept)['map'],
                'detections_per_image': float(np.mean([len(s) for s in kept[2]]))})
    return rows


def plot(frame, path):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    arch = frame[frame['study'] != 'thresholds']
    for _, row in arch.iterrows():
        left.scatter(row['infer_ms_per_image'], row['map_voc07'],
                     marker='o' if row['study'] == 'aspect ratios' else 's')
        left.annotate('{}: {}'.format(row['study'], row['setting']),
                      (row['infer_ms_per_image'], row['map_voc07']), fontsize=8,
                      xytext=(4, 4), textcoords='offset points')
    left.set_xlabel('inference ms per image (batch 1, CPU, NMS included)')
    left.set_ylabel('VOC07 mAP, test split')
    left.set_title('default boxes and base width (same schedule)')
    thresholds = frame[frame['study'] == 'thresholds']
    for nms, group in thresholds.groupby('nms_thresh'):
        right.plot(group['score_thresh'], group['map_voc07'], 'o-',
                   label='NMS IoU {}'.format(nms))
    right.set_xscale('log')
    right.set_xlabel('score threshold')
    right.set_ylabel('VOC07 mAP, test split')
    right.set_title('thresholds of one trained model')
    right.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100, metadata={'Software': None})
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python -m replicate.train.tunables',
                                     description=__doc__.split('\n\n')[0])
    parser.add_argument('--out', default=os.path.join('reports', 'train'))
    parser.add_argument('--data', default=X.default_data_dir())
    parser.add_argument('--work', help='training folders (default: <data>-tunables)')
    parser.add_argument('--model', help='trained model for the threshold study (default: '
                                        "the benchmark's, else the 'ssd' variant)")
    parser.add_argument('--reuse', action='store_true',
                        help='rewrite tunables.md and tunables.png from <out>/tunables.csv '
                             'and tunables.meta.json, without training')
    args = parser.parse_args(argv)
    if args.reuse:
        return reuse(args.out)
    work = args.work or args.data.rstrip('/') + '-tunables'
    X.ensure_dataset(args.data)
    load_before = X.load_average()
    rows = train_variants(args.data, work)
    benchmark = args.data.rstrip('/') + '-run/model.npz'
    model_path = args.model or (benchmark if os.path.isfile(benchmark) else
                                os.path.join(work, 'tunable-8-ssd', 'model.npz'))
    rows += threshold_rows(model_path, args.data)
    stem = os.path.join(args.out, 'tunables')
    frame = sorted_frame(pd.DataFrame(rows), ['study', 'setting'])
    frame.to_csv(stem + '.csv', index=False, float_format=FLOAT_FORMAT, lineterminator='\n')
    meta = {'provenance': provenance(), 'schedule': SCHEDULE,
            'threshold_model': 'benchmark' if model_path == benchmark else
            os.path.basename(os.path.dirname(model_path)),
            'load_average': [load_before, X.load_average()]}
    with open(stem + '.meta.json', 'w') as f:
        json.dump(meta, f, indent=1, sort_keys=True)
        f.write('\n')
    return _write_page(args.out, frame, meta)


def _threshold_model_words(name):
    if name == 'benchmark':
        return "the benchmark's trained model (`benchmark.md`)"
    return 'the variant `{}` of the table above'.format(name)


def _write_page(out, frame, meta):
    plot(frame, os.path.join(out, 'tunables.png'))
    path = tunables_report.write(out, frame, meta, _threshold_model_words(
        meta['threshold_model']))
    print('wrote {}'.format(path))
    return 0


def reuse(out):
    """Rewrite the page and the figure from ``<out>/tunables.csv`` and its meta data."""
    stem = os.path.join(out, 'tunables')
    try:
        frame = pd.read_csv(stem + '.csv')
        with open(stem + '.meta.json') as f:
            meta = json.load(f)
    except (OSError, ValueError) as exc:
        print('error: --reuse needs {0}.csv and {0}.meta.json of an earlier run ({1}); '
              'run without --reuse to make them'.format(stem, exc), file=sys.stderr)
        return 2
    return _write_page(out, frame, meta)


if __name__ == '__main__':
    sys.exit(main())
