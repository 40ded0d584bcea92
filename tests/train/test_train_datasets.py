"""The generated dataset (deterministic by seed, read back through the VOC
reader), the COCO reader, and box cleaning."""
import hashlib
import json
import os

import numpy as np
import pytest
from PIL import Image

from replicate.datasets import DetectionDataset, read_coco, read_voc
from replicate.datasets.records import Record, clean_boxes
from replicate.datasets.synthetic import CLASSES, generate, main, make_image
from replicate.errors import UserError


def digest(root):
    h = hashlib.sha256()
    for folder, _, files in sorted(os.walk(root)):
        for name in sorted(files):
            h.update(name.encode())
            with open(os.path.join(folder, name), 'rb') as f:
                h.update(f.read())
    return h.hexdigest()


def test_generation_is_deterministic_by_seed(tmp_path):
    counts = [('train', 3), ('test', 2)]
    for name, seed in (('a', 4), ('b', 4), ('c', 5)):
        generate(str(tmp_path / name), seed, counts)
    assert digest(tmp_path / 'a') == digest(tmp_path / 'b') != digest(tmp_path / 'c')
    a, b = make_image(4, 1), make_image(4, 1)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)


def test_the_command_writes_a_voc_folder(tmp_path, capsys):
    assert main([str(tmp_path), '--seed', '1', '--train', '2', '--val', '1', '--test',
                 '1']) == 0
    assert 'wrote 4 images' in capsys.readouterr().out
    with open(tmp_path / 'generator.json') as f:
        assert json.load(f)['seed'] == 1
    records, names = read_voc(str(tmp_path), 'test')
    assert names == CLASSES and [os.path.basename(r.image) for r in records] == ['000003.jpg']


def test_voc_reader_gets_the_drawn_boxes(shapes_voc):
    records, names = read_voc(shapes_voc, 'val')
    assert names == CLASSES and len(records) == 4
    dataset = DetectionDataset(records, names)
    for i, record in enumerate(records):
        img, bbox, label = dataset[i]
        _, want_bbox, want_label = make_image(0, 12 + i)
        assert img.shape[1:] == Image.open(record.image).size[::-1]
        # VOC's convention: the max coordinate is the last pixel inside
        np.testing.assert_array_equal(bbox, want_bbox - np.array([0, 0, 1, 1]))
        np.testing.assert_array_equal(label, want_label)


def test_generated_objects_vary(shapes_voc):
    records, _ = read_voc(shapes_voc, 'train')
    labels = np.concatenate([r.label for r in records])
    sides = np.concatenate([r.bbox[:, 2:] - r.bbox[:, :2] for r in records])
    assert len(set(labels.tolist())) == len(CLASSES)
    assert sides.min() < 40 and sides.max() > 80


def test_clean_boxes_clips_and_drops_degenerate():
    bbox = np.array([[-5, 10, 20, 30], [10, 10, 10, 20], [5, 5, 2, 9],
                     [-30, -30, -10, -10], [50, 90, 70, 130]], np.float32)
    clipped, keep = clean_boxes(bbox, (60, 100))
    np.testing.assert_array_equal(keep, [True, False, False, False, True])
    np.testing.assert_array_equal(clipped[[0, 4]], [[0, 10, 20, 30], [50, 90, 60, 100]])


def test_dataset_drops_degenerate_and_difficult(tmp_path):
    image = str(tmp_path / 'a.png')
    Image.fromarray(np.zeros((40, 50, 3), np.uint8)).save(image)
    bbox = np.array([[0, 0, 10, 10], [5, 5, 5, 9], [0, 0, 20, 20], [-9, 30, 30, 80]],
                    np.float32)
    record = Record(image, bbox, np.array([0, 1, 2, 0], np.int32),
                    np.array([False, False, True, False]), 'x.xml')
    img, out_bbox, label = DetectionDataset([record], ('a', 'b', 'c'))[0]
    np.testing.assert_array_equal(out_bbox, [[0, 0, 10, 10], [0, 30, 30, 50]])
    np.testing.assert_array_equal(label, [0, 0])
    *_, difficult = DetectionDataset([record], ('a', 'b', 'c'), True, True)[0]
    np.testing.assert_array_equal(difficult, [False, True, False])


def test_coco_reader(tmp_path):
    Image.fromarray(np.zeros((30, 40, 3), np.uint8)).save(tmp_path / 'x.jpg')
    Image.fromarray(np.zeros((30, 40, 3), np.uint8)).save(tmp_path / 'y.jpg')
    data = {'images': [{'id': 7, 'file_name': 'y.jpg'}, {'id': 2, 'file_name': 'x.jpg'}],
            'categories': [{'id': 9, 'name': 'dog'}, {'id': 3, 'name': 'cat'}],
            'annotations': [{'image_id': 2, 'category_id': 9, 'bbox': [1, 2, 10, 5]},
                            {'image_id': 2, 'category_id': 3, 'bbox': [0, 0, 4, 4],
                             'iscrowd': 1}]}
    path = tmp_path / 'ann.json'
    path.write_text(json.dumps(data))
    records, names = read_coco(str(path))
    assert names == ('cat', 'dog')
    assert [os.path.basename(r.image) for r in records] == ['x.jpg', 'y.jpg']
    np.testing.assert_array_equal(records[0].bbox, [[2, 1, 7, 11], [0, 0, 4, 4]])
    np.testing.assert_array_equal(records[0].label, [1, 0])
    np.testing.assert_array_equal(records[0].difficult, [False, True])
    assert records[1].bbox.shape == (0, 4)
    data['annotations'][0]['category_id'] = 4
    path.write_text(json.dumps(data))
    with pytest.raises(UserError, match='category_id 4'):
        read_coco(str(path))
