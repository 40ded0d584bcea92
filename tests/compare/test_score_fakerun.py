"""Builders of hand-made run folders and annotations for the score tests.

Imported by the other ``test_*`` files of tests/compare (pytest puts this
folder on ``sys.path``). The files are written here by hand, byte by byte as
the format in compare/rundir/__init__.py's docstring says (not through
compare.rundir), so a change of the format that the reader follows but the
text does not fails here: ``raw/<detector>.jsonl``, ``raw/timings.csv``,
``raw/skipped.csv``, ``meta.json``. The tests at the bottom check the reading
rule on them.
"""
import json
import os

import numpy as np
import pytest
from PIL import Image

from compare.errors import UserError
from compare.score.inputs import read_run


def det(y_min, x_min, y_max, x_max, name, score, label=0):
    """One detection row of the jsonl format."""
    return {'y_min': float(y_min), 'x_min': float(x_min), 'y_max': float(y_max),
            'x_max': float(x_max), 'label': int(label), 'name': name, 'score': float(score)}


def entry(name, label_names, random_weights=False, status='ok'):
    """A meta.json detector entry."""
    return {'name': name, 'status': status, 'weights': 'random (seed 0)' if random_weights
            else 'w.npz', 'weights_sha256': 'ab' * 32, 'random_weights': random_weights,
            'device': 'CPU', 'threads': '2', 'label_names': list(label_names), 'info': {}}


def write_run(root, outputs, sizes, entries, timings=None, images_dir='no_images_here',
              skipped=(), state='complete'):
    """A run folder ``root``.

    Args:
        outputs: ``{detector: {image: [det(...), ...]}}``.
        sizes: ``{image: (height, width)}``.
        entries: list of meta.json detector entries.
        timings: list of ``(detector, batch_size, repeat, stage, seconds)``.
        images_dir: the images folder meta.json records.
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
            'args': {'images': images_dir},
            'images': {'folder': images_dir, 'listed': len(sizes), 'not_images': 0,
                       'folder_from_run': os.path.relpath(os.path.abspath(images_dir), root)},
            'state': state, 'detectors': entries}
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
    np.testing.assert_array_equal(frame['score'], np.float32([0.9, 0.2]))  # float32, as written
    assert list(frame['class']) == ['tvmonitor', 'aeroplane']
    assert run.sizes() == {'x.png': (10, 12)}
    assert run.ok_detectors() == ['a']


def test_reader_ignores_a_partial_last_line_with_warning(tmp_path):
    run_dir = write_run(tmp_path, {'a': {'x.png': [det(0, 0, 5, 5, 'cat', 0.5)]}},
                        {'x.png': (10, 10)}, [entry('a', ['cat'])])
    path = os.path.join(run_dir, 'raw', 'a.jsonl')
    with open(path, 'a') as f:
        f.write('{"image": "y.png", "hei')
    size = os.path.getsize(path)
    run = read_run(run_dir)
    assert list(run.images['image']) == ['x.png']
    assert run.warnings == ['{}: the last line is a partial record (a killed run); '
                            'ignored'.format(path), 'raw/timings.csv missing: no speed table']
    assert os.path.getsize(path) == size  # scoring changes nothing


@pytest.mark.parametrize('line, words', [
    ('{"image": "x.png", "height": 10, "width": 10, "detections": [], "times": '
     '{"preprocess": 0, "inference": 0, "postprocess": 0}}\n', 'line 2 repeats image x.png'),
    ('{"image": "y.png"}\n', 'line 2 is not a record of this harness'),
    ('[1, 2]\n', 'line 2 is not a record'),
    ('{"image": "y.png", "height": 10, "width": 10, "detections": [{"y_min": 0}], '
     '"times": {"preprocess": 0, "inference": 0, "postprocess": 0}}\n', 'line 2 is not a record'),
])
def test_reader_refuses_what_the_harness_never_writes(tmp_path, line, words):
    """The same rule as resuming (test_runner): an error naming the file and line."""
    run_dir = write_run(tmp_path, {'a': {'x.png': []}}, {'x.png': (10, 10)},
                        [entry('a', ['cat'])])
    path = os.path.join(run_dir, 'raw', 'a.jsonl')
    with open(path, 'a') as f:
        f.write(line)
    with pytest.raises(UserError, match=words) as info:
        read_run(run_dir)
    assert path in str(info.value) and '\n' not in str(info.value)


def test_meta_json_with_unknown_keys_is_refused(tmp_path):
    bad = dict(entry('a', ['cat']), colour='red')
    run_dir = write_run(tmp_path, {'a': {'x.png': []}}, {'x.png': (10, 10)}, [bad])
    with pytest.raises(UserError, match="meta.json is not a meta.json of this harness.*colour"):
        read_run(run_dir)
