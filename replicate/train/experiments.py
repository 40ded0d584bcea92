"""Shared steps of the training benchmark and the tunables study: the
generated dataset, a training run, evaluation on a held-out split, timing
and the machine's load."""
import json
import os
import time

import numpy as np

from replicate.datasets import synthetic
from replicate.ssd.voc_eval import eval_detection_voc
from replicate.train import cli
from replicate.train.data import load_dataset
from replicate.train.evaluator import predict_dataset

#: The generated dataset both commands use: seed 0, 2000 train, 200 val, 500 test.
DATA_SEED = 0


def default_data_dir():
    """Where the generated dataset is kept between runs (made if absent):
    ``data/shapes`` under the current folder (git-ignored in the repository),
    so that the harness's reports name it by a relative path."""
    return os.path.join('data', 'shapes')


def ensure_dataset(root, seed=DATA_SEED, counts=synthetic.SPLITS):
    """Generate the dataset at ``root`` unless the same one is already there."""
    want = {'generator': 'replicate.datasets.synthetic', 'version': synthetic.VERSION,
            'seed': seed, 'counts': dict(counts), 'classes': list(synthetic.CLASSES)}
    path = os.path.join(root, 'generator.json')
    if os.path.isfile(path):
        with open(path) as f:
            if json.load(f) == want:
                return root
    synthetic.generate(root, seed, counts)
    return root


def train(data, out, options, quiet=True):
    """``python -m replicate.train`` on the generated data (train split,
    validation on val) with ``options``; returns (seconds, log entries)."""
    argv = ['--train', data, '--train-split', 'train', '--val-split', 'val', '--out', out]
    argv += list(options) + (['--quiet'] if quiet else [])
    start = time.perf_counter()
    code = cli.main(argv)
    seconds = time.perf_counter() - start
    if code != 0:
        raise RuntimeError('training failed (exit {}): {}'.format(code, ' '.join(argv)))
    with open(os.path.join(out, 'log')) as f:
        return seconds, json.load(f)


def predict_split(model, data, split, label_names):
    """Predictions and ground truth of a VOC split, as
    :func:`replicate.train.evaluator.predict_dataset` returns them."""
    return predict_dataset(model, load_dataset(data, split, label_names, evaluation=True))


def above(predictions, score_thresh):
    """Predictions with score >= ``score_thresh`` only: the same as
    predicting with that threshold, since per-class NMS never lets a
    lower-scored box suppress a higher one."""
    bboxes, labels, scores, *truth = predictions
    keep = [score >= score_thresh for score in scores]
    return ([b[k] for b, k in zip(bboxes, keep, strict=True)],
            [lab[k] for lab, k in zip(labels, keep, strict=True)],
            [s[k] for s, k in zip(scores, keep, strict=True)], *truth)


def voc07(predictions):
    """{'ap': per class, 'map'} of (predictions, ground truth)."""
    return eval_detection_voc(*predictions, use_07_metric=True)


def inference_seconds(model, imgs, repeats=3):
    """Median seconds of ``model.predict`` on one image, over ``imgs`` x repeats."""
    times = []
    for _ in range(repeats):
        for img in imgs:
            start = time.perf_counter()
            model.predict([img])
            times.append(time.perf_counter() - start)
    return float(np.median(times))


def load_average():
    """'1 min, 5 min, 15 min' load averages as a string."""
    return ', '.join('{:.2f}'.format(v) for v in os.getloadavg())


def seconds_per_iteration(log):
    """Training seconds per iteration from the log (elapsed time over
    iterations, evaluation included)."""
    last = log[-1]
    return last['elapsed_time'] / last['iteration']
