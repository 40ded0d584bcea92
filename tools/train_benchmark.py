"""``python tools/train_benchmark.py``: evidence that the training
pipeline learns, as one command that regenerates reports/train/.

Generates the shapes dataset (:mod:`replicate.datasets.synthetic`, seed 0:
2000 train, 200 val, 500 test images, written as a Pascal VOC folder and read
back by the real loader), trains the CPU configuration below with the
recipe's optimizer, evaluates VOC07 mAP on the held-out test split, and
writes:

- ``benchmark.md``: configuration, result, time, machine, load average;
- ``benchmark_ap.csv`` / ``.md``: AP per class on the test split;
- ``benchmark_log.csv``: the training log (loss, loc, conf, validation mAP);
- ``loss_curve.png``: losses and validation mAP against iterations;
- ``benchmark.meta.json``: provenance and the numbers above.

The configuration fits a 2-core CPU: the small SSD (:mod:`replicate.ssd.small`,
128x128 input, base width 8, SSD300's aspect ratio pattern, 6 source maps,
6132 default boxes derived from the configuration), batch 32, trained from
scratch (no pretrained base can be downloaded here), lr 0.01 (0.05 stalled
with the loss of a constant predictor), without augmentation: on 2 cores
ChainerCV's (its zoom out makes objects of a few pixels at a 128-pixel
input) slowed the first hundreds of iterations 3-4x in mAP (measured at 150
iterations: 0.08 without, 0.024 with zoom out up to 2x, 0.019 up to 4x).
"""
import argparse
import json
import os
import shutil
import sys

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))

from compare import rundir  # noqa: E402
from provenance.stamp import provenance, provenance_markdown  # noqa: E402
from provenance.tables import FLOAT_FORMAT, frame_to_markdown, write_table  # noqa: E402
from replicate.train import experiments as X  # noqa: E402

#: The trained configuration (options of ``python -m replicate.train``).
CONFIG = ['--model', 'small', '--insize', '128', '--width', '8', '--ratios', 'ssd',
          '--batch-size', '32', '--lr', '0.01', '--lr-steps', '1000,1300',
          '--iterations', '1500', '--seed', '0', '--no-augment']
TARGET = 0.7
#: Files of the harness's run folder copied to ``<out>/harness/``.
HARNESS_FILES = ((rundir.SUMMARY,) + rundir.table_files('map_summary')
                 + rundir.table_files('map_per_class'))


def plot_log(log, path):
    """Loss (total, loc, conf) and validation mAP against iterations."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    frame = pd.DataFrame(log)
    fig, loss_axis = plt.subplots(figsize=(7, 4))
    for key, style in (('main/loss', '-'), ('main/loss/conf', '--'), ('main/loss/loc', ':')):
        loss_axis.plot(frame['iteration'], frame[key], style, label=key.split('/', 1)[1])
    loss_axis.set_xlabel('iteration')
    loss_axis.set_ylabel('training loss (per positive)')
    loss_axis.set_ylim(bottom=0)
    if 'validation/main/map' in frame:
        val = frame.dropna(subset=['validation/main/map'])
        map_axis = loss_axis.twinx()
        map_axis.plot(val['iteration'], val['validation/main/map'], 'o-', color='black',
                      label='validation mAP (VOC07)')
        map_axis.set_ylim(0, 1)
        map_axis.set_ylabel('validation mAP')
        map_axis.legend(loc='center right')
    loss_axis.legend(loc='upper right')
    loss_axis.set_title('small SSD on the generated shapes: training')
    fig.tight_layout()
    fig.savefig(path, dpi=100, metadata={'Software': None})
    plt.close(fig)


def log_table(log):
    keys = ['iteration', 'epoch', 'lr', 'main/loss', 'main/loss/loc', 'main/loss/conf',
            'validation/main/map']
    frame = pd.DataFrame(log)
    return frame[[k for k in keys if k in frame]]


def harness_run(data, work, model_path):
    """The trained model through the comparison harness (``compare/run.py -d
    trained:MODEL``) on the test split; returns (its VOC07 mAP, run folder).

    The harness takes a folder of images with VOC annotations beside it: a
    folder of links to the test split's images and annotations is made."""
    from compare.run import main as run_compare
    split = os.path.join(work, 'test_split')
    for sub in ('JPEGImages', 'Annotations'):
        os.makedirs(os.path.join(split, sub), exist_ok=True)
    with open(os.path.join(data, 'ImageSets', 'Main', 'test.txt')) as f:
        ids = f.read().split()
    for image_id in ids:
        for sub, ext in (('JPEGImages', '.jpg'), ('Annotations', '.xml')):
            link = os.path.join(split, sub, image_id + ext)
            if not os.path.lexists(link):
                os.symlink(os.path.abspath(os.path.join(data, sub, image_id + ext)), link)
    run = os.path.join(work, 'compare')
    code = run_compare([os.path.join(split, 'JPEGImages'), '--out', run, '-d',
                             'trained:' + model_path, '--force', '--no-speed', '--no-progress'])
    if code != 0:
        raise RuntimeError('compare/run.py failed (exit {})'.format(code))
    summary = pd.read_csv(os.path.join(run, rundir.table_files('map_summary')[0]))
    return float(summary.loc[summary['detector'] == 'trained', 'map_voc07'].iloc[0]), run


def write_report(out, result, names, seconds, log, load, info):
    ap = pd.DataFrame({'class': names, 'ap_voc07': result['ap']})
    write_table(ap, os.path.join(out, 'benchmark_ap'), sort_by=['class'])
    log_table(log).to_csv(os.path.join(out, 'benchmark_log.csv'), index=False,
                          float_format=FLOAT_FORMAT, lineterminator='\n')
    plot_log(log, os.path.join(out, 'loss_curve.png'))
    iterations = log[-1]['iteration']
    lines = [
        '# Training the small SSD on the generated shapes (CPU)',
        '',
        'Made by `python tools/train_benchmark.py` (one command: dataset, training, '
        'evaluation, this report).',
        '',
        '**VOC07 mAP on the held-out test split (500 images): {:.4f}** (target >= {}: {}).'
        .format(result['map'], TARGET, 'met' if result['map'] >= TARGET else 'NOT met'),
        '',
        '| what | value |', '| --- | --- |',
        '| data | generated shapes, seed {}, 2000 train / 200 val / 500 test images, '
        'written as Pascal VOC and read by the VOC loader |'.format(X.DATA_SEED),
        '| model | small SSD: 128x128 input, base width 8, aspect ratios as SSD300, '
        'maps 32/16/8/4/2/1, 6132 default boxes, {} parameters |'.format(info['parameters']),
        '| training | `python -m replicate.train {}` ({}; MomentumSGD 0.9, weight decay '
        '5e-4, bias gradient x2, from scratch) |'.format(
            ' '.join(CONFIG), 'resize only, no augmentation' if '--no-augment' in CONFIG
            else "ChainerCV's augmentation"),
        '| iterations | {} (batch 32: {:.1f} passes over the training images) |'.format(
            iterations, iterations * 32 / 2000),
        '| wall time | {:.0f} s training (with validation every 250 iterations), {:.3f} s '
        'per iteration |'.format(seconds, X.seconds_per_iteration(log)),
        '| load average (1, 5, 15 min) | before {}; after {} |'.format(*load),
        '| device | {} |'.format(info['device']),
        '',
        'The same model through the comparison harness (`python compare/run.py TEST_IMAGES '
        '-d trained:model.npz`, scored by ChainerCV\'s `eval_detection_voc` there, by '
        '`replicate.ssd.voc_eval` here): VOC07 mAP **{:.4f}** on the same 500 images; its report: '
        '`harness/summary.md` (and the mAP tables beside it).'.format(info['harness_map']),
        '',
        'AP per class (`benchmark_ap.csv`):', '',
        frame_to_markdown(ap),
        'Loss curve: `loss_curve.png`; the log: `benchmark_log.csv`. The machine is shared: '
        'timings depend on the load average above.', '',
        '## Provenance', '',
        provenance_markdown(info['provenance']),
    ]
    with open(os.path.join(out, 'benchmark.md'), 'w') as f:
        f.write('\n'.join(lines))
    with open(os.path.join(out, 'benchmark.meta.json'), 'w') as f:
        json.dump({'provenance': info['provenance'], 'config': CONFIG,
                   'map_voc07_test': round(float(result['map']), 6),
                   'map_voc07_test_harness': round(info['harness_map'], 6),
                   'train_seconds': round(seconds, 1), 'load_average': list(load)},
                  f, indent=1, sort_keys=True)
        f.write('\n')


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python tools/train_benchmark.py',
                                     description=__doc__.split('\n\n')[0])
    parser.add_argument('--out', default=os.path.join('reports', 'train'),
                        help='report folder (default reports/train)')
    parser.add_argument('--data', default=X.default_data_dir(),
                        help='where the generated dataset is kept (made if absent)')
    parser.add_argument('--work', help='training output folder (default: <data>-run)')
    parser.add_argument('--reuse', action='store_true',
                        help='rewrite the report from the finished run in --work (no training)')
    args = parser.parse_args(argv)
    work = args.work or args.data.rstrip('/') + '-run'
    X.ensure_dataset(args.data)
    run_file = os.path.join(work, 'benchmark_run.json')
    if args.reuse:
        with open(run_file) as f:
            run = json.load(f)
        if run['config'] != CONFIG:
            sys.exit('error: {} was trained with another configuration: run without '
                     '--reuse'.format(work))
        with open(os.path.join(work, 'log')) as f:
            log = json.load(f)
    else:
        run = {'config': CONFIG, 'load_before': X.load_average()}
        run['seconds'], log = X.train(args.data, work, CONFIG + [
            '--eval-interval', '250', '--snapshot-interval', '500', '--log-interval', '25',
            '--loaders', '2'])
        run['load_after'] = X.load_average()
        with open(run_file, 'w') as f:
            json.dump(run, f, indent=1)
    seconds, load_before, load_after = run['seconds'], run['load_before'], run['load_after']
    from replicate.train.snapshot import load_model
    model, meta = load_model(os.path.join(work, 'model.npz'))
    model.use_preset('evaluate')
    result = X.voc07(X.predict_split(model, args.data, 'test', meta['label_names']))
    harness_map, run = harness_run(args.data, work, os.path.join(work, 'model.npz'))
    info = {'parameters': sum(p.size for p in model.params()), 'harness_map': harness_map,
            'device': provenance()['device'],
            'provenance': provenance(extra={'threads': os.cpu_count()})}
    os.makedirs(os.path.join(args.out, 'harness'), exist_ok=True)
    # the harness's own report (its detections, 50k rows, stay in the run folder)
    for name in HARNESS_FILES:
        shutil.copyfile(os.path.join(run, name), os.path.join(args.out, 'harness', name))
    write_report(args.out, result, meta['label_names'], seconds, log,
                 (load_before, load_after), info)
    print('VOC07 mAP on the test split: {:.4f}; report in {}'.format(result['map'], args.out))
    return 0 if np.isfinite(result['map']) else 1


if __name__ == '__main__':
    sys.exit(main())
