"""Degenerate data never produces a NaN: zero-area and inverted boxes, boxes
partly or wholly outside the image, and images without boxes; and a COCO
JSON trains like a VOC folder."""
import json
import os
import shutil

import numpy as np
import pytest
from PIL import Image
from trainhelp import TINY

from replicate.datasets import read_voc
from replicate.datasets.voc import write_voc_annotation
from replicate.train import cli

DEGENERATE = np.array([[10, 10, 10, 40],      # zero height
                       [30, 30, 20, 50],      # inverted
                       [-80, -80, -20, -20],  # wholly outside
                       [-15, 150, 60, 400],   # partly outside
                       [5, 5, 5.5, 5.5]], np.float32)  # half a pixel


@pytest.fixture(scope='module')
def degenerate_voc(shapes_voc, tmp_path_factory):
    root = str(tmp_path_factory.mktemp('degenerate') / 'voc')
    shutil.copytree(shapes_voc, root)
    records, names = read_voc(root, 'train')
    for i, record in enumerate(records):
        size = Image.open(record.image).size[::-1]
        if i % 3 == 0:  # no boxes at all
            bbox, label = np.zeros((0, 4), np.float32), np.zeros(0, np.int32)
        else:  # the real boxes plus every kind of degenerate one
            bbox = np.concatenate((record.bbox, DEGENERATE))
            label = np.concatenate((record.label, np.arange(len(DEGENERATE)) % len(names)))
        write_voc_annotation(record.source, os.path.basename(record.image), size, bbox,
                             label, names)
    return root


@pytest.mark.parametrize('augment', [True, False])
def test_degenerate_boxes_never_give_nan(degenerate_voc, tmp_path, augment):
    argv = ['--train', degenerate_voc, '--train-split', 'train', '--out', str(tmp_path),
            '--quiet', '--batch-size', '4', '--iterations', '9', '--log-interval', '1',
            '--eval-interval', '3', '--lr', '0.05'] + TINY
    assert cli.main(argv + ([] if augment else ['--no-augment'])) == 0
    with open(tmp_path / 'log') as f:
        log = json.load(f)
    for key in ('main/loss', 'main/loss/loc', 'main/loss/conf'):
        assert all(np.isfinite(entry[key]) for entry in log), key
    assert [entry['validation/main/map'] for entry in log if 'validation/main/map' in entry]


def test_a_coco_json_trains(shapes_voc, tmp_path):
    records, names = read_voc(shapes_voc, 'train')
    data = {'images': [], 'annotations': [],
            'categories': [{'id': 10 + i, 'name': n} for i, n in enumerate(names)]}
    for i, record in enumerate(records):
        data['images'].append({'id': i, 'file_name': os.path.basename(record.image)})
        for box, label in zip(record.bbox, record.label, strict=True):
            y0, x0, y1, x1 = (float(v) for v in box)
            data['annotations'].append({'image_id': i, 'category_id': 10 + int(label),
                                        'bbox': [x0, y0, x1 - x0, y1 - y0]})
    path = tmp_path / 'train.json'
    path.write_text(json.dumps(data))
    out = tmp_path / 'out'
    assert cli.main(['--train', str(path), '--image-dir', os.path.join(shapes_voc, 'JPEGImages'),
                     '--out', str(out), '--quiet', '--batch-size', '4', '--iterations', '2',
                     '--val', str(path), '--eval-interval', '2', '--log-interval', '1'] + TINY) == 0
    with open(out / 'log') as f:
        assert 'validation/main/map' in json.load(f)[-1]
