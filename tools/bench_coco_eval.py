"""How fast pycocotools and faster-coco-eval score the same synthetic COCO set.

``python tools/bench_coco_eval.py [--images 5000] [--repeats 3] [--out reports/bench]``
generates a COCO-like set (seeded: 80 categories, about 7 objects per image,
1% crowd regions, ``area`` 0.4-0.9 of the box as a segmentation's is, and
about 20 detections per image: jittered hits, wrong classes, duplicates,
background), then scores it with each library (``--coco-evaluator`` of
``python -m compare.score``, :mod:`compare.score.coco_eval`), the two taking
turns ``--repeats`` times. It times each step (``load``: ground truth index
and ``loadRes``; ``evaluate``; ``accumulate``; ``summarize``; ``total``) and
checks that both give the same 12 stats. Writes ``coco_eval.csv`` and
``coco_eval.md`` (medians, the 12 stats of each, their largest difference,
the settings, the load average before and after, the CPU and the
provenance) under ``--out``. A benchmark, not a test: numbers measured while
other work runs are slower and noisier (the load average says so).
"""
import argparse
import contextlib
import io
import os
import sys
import time

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from compare.score.coco_eval import EVALUATORS, _classes  # noqa: E402
from provenance.stamp import cpu_name, provenance, provenance_markdown  # noqa: E402
from provenance.tables import frame_to_markdown, write_table  # noqa: E402

STEPS = ('load', 'evaluate', 'accumulate', 'summarize', 'total')


def synthetic(n_images, seed=0, n_classes=80):
    """``(ground-truth dataset, results list)`` of the set described above."""
    rng = np.random.RandomState(seed)
    images, annotations, results = [], [], []
    for image_id in range(1, n_images + 1):
        height, width = 480, 640
        images.append({'id': image_id, 'file_name': '{:06d}.jpg'.format(image_id),
                       'height': height, 'width': width})
        for _ in range(rng.poisson(7)):
            w, h = np.exp(rng.uniform(np.log(8), np.log(400), 2))
            x, y = rng.uniform(0, width - min(w, width - 1)), rng.uniform(0, height - min(h, 479))
            w, h = min(w, width - x), min(h, height - y)
            category = int(rng.randint(1, n_classes + 1))
            annotations.append({'id': len(annotations) + 1, 'image_id': image_id,
                                'category_id': category, 'bbox': [x, y, w, h],
                                'area': w * h * rng.uniform(0.4, 0.9),
                                'iscrowd': int(rng.uniform() < 0.01)})
            for _ in range(rng.randint(1, 4)):
                dx, dy, dw, dh = rng.normal(0, 0.12, 4) * [w, h, w, h]
                label = category if rng.uniform() < 0.8 else int(rng.randint(1, n_classes + 1))
                results.append({'image_id': image_id, 'category_id': label,
                                'bbox': [x + dx, y + dy, max(w + dw, 1), max(h + dh, 1)],
                                'score': float(rng.uniform())})
        for _ in range(rng.poisson(4)):
            x, y = rng.uniform(0, 600), rng.uniform(0, 440)
            results.append({'image_id': image_id, 'category_id': int(rng.randint(1, 81)),
                            'bbox': [x, y, rng.uniform(5, 40), rng.uniform(5, 40)],
                            'score': float(rng.uniform())})
    categories = [{'id': k, 'name': 'class{}'.format(k)} for k in range(1, n_classes + 1)]
    return {'images': images, 'annotations': annotations, 'categories': categories}, results


def timed_run(name, dataset, results):
    """``({step: seconds}, stats)`` of one library on the set."""
    coco_class, eval_class = _classes(name)
    times = {}
    with contextlib.redirect_stdout(io.StringIO()):
        start = time.perf_counter()
        gt = coco_class()
        gt.dataset = {key: list(value) for key, value in dataset.items()}
        gt.createIndex()
        dt = gt.loadRes([dict(r) for r in results])
        times['load'] = time.perf_counter() - start
        evaluator = eval_class(gt, dt, 'bbox')
        for step in ('evaluate', 'accumulate', 'summarize'):
            begin = time.perf_counter()
            getattr(evaluator, step)()
            times[step] = time.perf_counter() - begin
        times['total'] = time.perf_counter() - start
    return times, np.asarray(evaluator.stats[:12], np.float64)


def cpu_flags():
    """The vector-instruction flags of /proc/cpuinfo that change numpy's speed."""
    try:
        with open('/proc/cpuinfo') as f:
            flags = next((line.split(':', 1)[1].split() for line in f
                          if line.startswith('flags')), [])
    except OSError:
        return 'unknown'
    wanted = ('avx512f', 'avx512_vnni', 'avx2', 'fma', 'sse4_2')
    return ' '.join(flag for flag in wanted if flag in flags) or 'none of ' + ' '.join(wanted)


def _version(name):
    import importlib.metadata as metadata
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return 'not installed'


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--images', type=int, default=5000)
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out', default='reports/bench')
    args = parser.parse_args(argv)
    dataset, results = synthetic(args.images, args.seed)
    load_before = os.getloadavg()
    rows, stats = [], {}
    for repeat in range(args.repeats):
        for name in EVALUATORS:  # taking turns: a change of load hits both alike
            times, stats[name] = timed_run(name, dataset, results)
            rows += [{'evaluator': name, 'repeat': repeat, 'step': step, 'seconds': times[step]}
                     for step in STEPS]
            print('{} repeat {}: total {:.2f} s'.format(name, repeat, times['total']),
                  file=sys.stderr)
    load_after = os.getloadavg()
    frame = pd.DataFrame(rows)
    summary = frame.groupby(['evaluator', 'step'], sort=False)['seconds'].agg(
        median_s='median', min_s='min', max_s='max').reset_index()
    reference = summary[summary['evaluator'] == 'pycocotools'].set_index('step')['median_s']
    summary['speedup_vs_pycocotools'] = [reference[step] / value for step, value in
                                         zip(summary['step'], summary['median_s'], strict=True)]
    summary['images'] = args.images
    summary['repeats'] = args.repeats
    diff = float(np.max(np.abs(stats['pycocotools'] - stats['faster-coco-eval'])))
    stem = os.path.join(args.out, 'coco_eval')
    write_table(summary, stem, ('evaluator', 'step'))
    info = provenance(extra={
        'command': 'python tools/bench_coco_eval.py ' + ' '.join(argv or sys.argv[1:]),
        'cpu': cpu_name(), 'cpu_count': os.cpu_count(), 'cpu_flags': cpu_flags(),
        'load_average_1_5_15_before': ' '.join('%.2f' % v for v in load_before),
        'load_average_1_5_15_after': ' '.join('%.2f' % v for v in load_after),
        'version.faster-coco-eval': _version('faster-coco-eval'),
        'version.pycocotools': _version('pycocotools')})
    stat_table = pd.DataFrame({'stat': ['stats[{}]'.format(k) for k in range(12)],
                               'pycocotools': stats['pycocotools'],
                               'faster-coco-eval': stats['faster-coco-eval']})
    with open(stem + '.md', 'w') as f:
        f.write('# COCO evaluation speed: pycocotools against faster-coco-eval\n\n')
        f.write('{} synthetic images, {} ground-truth boxes ({} crowd), {} detections, 80 '
                'categories (tools/bench_coco_eval.py, seed {}); each library {} times, '
                'taking turns; seconds per whole evaluation step, median (min, max).\n\n'.format(
                    args.images, len(dataset['annotations']),
                    sum(a['iscrowd'] for a in dataset['annotations']), len(results), args.seed,
                    args.repeats))
        f.write(frame_to_markdown(summary, '%.4g'))
        f.write('\nSame numbers: the 12 stats differ by at most {:.3g}.\n\n'.format(diff))
        f.write(frame_to_markdown(stat_table, '%.6f'))
        f.write('\nLoad average (1, 5, 15 min) before {} and after {} on {} cores: above the '
                'core count, the machine was shared and the times are slower and noisier.\n\n'
                .format(info['load_average_1_5_15_before'], info['load_average_1_5_15_after'],
                        os.cpu_count()))
        f.write('## Provenance\n\n' + provenance_markdown(info))
    print(stem + '.md')
    return 0 if diff <= 1e-12 else 1


if __name__ == '__main__':
    sys.exit(main())
