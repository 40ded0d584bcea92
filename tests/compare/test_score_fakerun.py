"""Builders of hand-made run directories and annotations for the score tests.

Imported by the other ``test_*`` files of tests/compare (pytest puts this
folder on ``sys.path``). The files follow notes/compare_contract.md exactly:
``raw/<detector>.jsonl``, ``raw/timings.csv``, ``raw/skipped.csv``,
``meta.json``. The tests at the bottom check the builders and the reader.
"""
import json
import os

import numpy as np
from PIL import Image

from compare.score_inputs import read_run


def det(y_min, x_min, y_max, x_max, name, score, label=0):
    """One detection row of the jsonl format."""
    return {'y_min': float(y_min), 'x_min': float(x_min), 'y_max': float(y_max),
            'x_max': float(x_max), 'label': int(label), 'name': name, 'score': float(score)}


def entry(name, label_names, random_weights=False, status='ok'):
    """A meta.json detector entry."""
    return {'name': name, 'status': status, 'weights': 'random (seed 0)' if random_weights
            else 'w.npz', 'weights_sha256': 'ab' * 32, 'random_weights': random_weights,
            'device': 'CPU', 'threads': '2', 'label_names': list(label_names), 'info': {}}


def write_run(root, outputs, sizes, entries, timings=None, images_dir=None, skipped=()):
    """A run directory under ``root``.

    Args:
        outputs: ``{detector: {image: [det(...), ...]}}``.
        sizes: ``{image: (height, width)}``.
        entries: list of meta.json detector entries.
        timings: list of ``(detector, batch_size, repeat, stage, seconds)``.
        images_dir: recorded as the ``images`` CLI argument.
        skipped: ``(image, reason)`` rows.
    """
    raw = os.path.join(root, 'raw')
    os.makedirs(raw, exist_ok=True)
    for detector, per_image in outputs.items():
        with open(os.path.join(raw, detector + '.jsonl'), 'w') as f:
            for image, rows in per_image.items():
                height, width = sizes[image]
                f.write(json.dumps({'image': image, 'height': height, 'width': width,
                                    'detections': rows,
                                    'times': {'preprocess': 0.01, 'inference': 0.1,
                                              'postprocess': 0.02}}) + '\n')
    if timings is not None:
        with open(os.path.join(raw, 'timings.csv'), 'w') as f:
            f.write('detector,batch_size,repeat,stage,seconds\n')
            f.writelines('{},{},{},{},{!r}\n'.format(*row) for row in timings)
    with open(os.path.join(raw, 'skipped.csv'), 'w') as f:
        f.write('image,reason\n')
        f.writelines('{},{}\n'.format(*row) for row in skipped)
    meta = {'provenance': {'commit': 'abc', 'date': '2026-01-01T00:00:00Z',
                           'version.numpy': np.__version__},
            'args': {'images': images_dir}, 'detectors': entries}
    with open(os.path.join(root, 'meta.json'), 'w') as f:
        json.dump(meta, f)
    return str(root)


def write_images(folder, sizes):
    """Plain PNG files for ``{image: (height, width)}``."""
    for image, (height, width) in sizes.items():
        path = os.path.join(folder, image)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        Image.fromarray(np.full((height, width, 3), 90, np.uint8)).save(path)


def write_voc_xml(path, filename, size, objects):
    """A VOC XML file. ``objects``: ``(name, (xmin, ymin, xmax, ymax), difficult)``
    in VOC's 1-based pixel coordinates."""
    parts = ['<annotation><filename>{}</filename>'.format(filename)]
    if size is not None:
        parts.append('<size><width>{}</width><height>{}</height><depth>3</depth></size>'
                     .format(size[1], size[0]))
    for name, (x0, y0, x1, y1), difficult in objects:
        parts.append('<object><name>{}</name><difficult>{}</difficult><bndbox><xmin>{}</xmin>'
                     '<ymin>{}</ymin><xmax>{}</xmax><ymax>{}</ymax></bndbox></object>'
                     .format(name, int(difficult), x0, y0, x1, y1))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write(''.join(parts) + '</annotation>')


def write_coco_json(path, sizes, objects, categories):
    """COCO JSON. ``objects``: ``(image, category name, [x, y, w, h], iscrowd)``."""
    names = sorted(sizes)
    ids = {name: 10 + k for k, name in enumerate(names)}  # ids not starting at 1 on purpose
    cat_ids = {name: 3 * k + 1 for k, name in enumerate(categories)}
    data = {'images': [{'id': ids[n], 'file_name': n, 'height': sizes[n][0],
                        'width': sizes[n][1]} for n in names],
            'categories': [{'id': cat_ids[c], 'name': c} for c in categories],
            'annotations': [{'id': k + 1, 'image_id': ids[img], 'category_id': cat_ids[cat],
                             'bbox': list(box), 'area': box[2] * box[3], 'iscrowd': crowd}
                            for k, (img, cat, box, crowd) in enumerate(objects)]}
    with open(path, 'w') as f:
        json.dump(data, f)


def test_reader_ranks_and_canonical_classes(tmp_path):
    outputs = {'a': {'x.png': [det(0, 0, 5, 5, 'airplane', 0.2), det(1, 1, 4, 4, 'tv', 0.9)]}}
    run_dir = write_run(tmp_path, outputs, {'x.png': (10, 12)},
                        [entry('a', ['airplane', 'tv'])])
    run = read_run(run_dir)
    frame = run.detections
    assert list(frame['rank']) == [1, 2]
    assert list(frame['score']) == [0.9, 0.2]
    assert list(frame['class']) == ['tvmonitor', 'aeroplane']
    assert run.sizes() == {'x.png': (10, 12)}
    assert run.ok_detectors() == ['a']


def test_reader_drops_truncated_last_line_with_warning(tmp_path):
    run_dir = write_run(tmp_path, {'a': {'x.png': [det(0, 0, 5, 5, 'cat', 0.5)]}},
                        {'x.png': (10, 10)}, [entry('a', ['cat'])])
    with open(os.path.join(run_dir, 'raw', 'a.jsonl'), 'a') as f:
        f.write('{"image": "y.png", "hei')
    run = read_run(run_dir)
    assert list(run.images['image']) == ['x.png']
    assert any('truncated' in w for w in run.warnings)
