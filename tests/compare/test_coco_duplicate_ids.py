"""A COCO annotation file that gives an id twice (an annotation, an image, a
category) or points at an image or category it does not define is one line
naming the file and the id, with the fix, never an object counted twice:
from the reader, from ``python -m compare.score --annotations`` and from
``compare/run.py --annotations`` (exit 2, no traceback)."""
import copy
import json
import os

import pytest
from runhelp import QUICK, error_line, main, make_images

from compare.errors import UserError
from compare.runner.scoring import main as score_main
from compare.score.ground_truth import load_annotations

COCO = {'images': [{'id': i, 'file_name': 'im{}.png'.format(i), 'height': 12, 'width': 16}
                   for i in range(3)],
        'categories': [{'id': 1, 'name': 'cat'}, {'id': 2, 'name': 'dog'}],
        'annotations': [{'id': 7, 'image_id': 0, 'category_id': 1, 'bbox': [1, 1, 5, 5]},
                        {'id': 8, 'image_id': 1, 'category_id': 2, 'bbox': [2, 2, 4, 4]}]}


def _write(path, change=None):
    data = copy.deepcopy(COCO)
    if change:
        change(data)
    path.write_text(json.dumps(data))
    return path


def _twice(data):
    """The first annotation given again under its own id (a copy-paste)."""
    data['annotations'].append(dict(data['annotations'][0]))


@pytest.mark.parametrize('change, words', [
    (_twice, 'annotations[2].id 7 appears twice (first at annotations[0])'),
    (lambda d: d['annotations'][1].update(id=7),
     'annotations[1].id 7 appears twice (first at annotations[0])'),
    (lambda d: d['annotations'][1].update(id=[7]), 'annotations[1].id is [7], expected an '
                                                   'integer id'),
    (lambda d: d['images'][2].update(id=0), 'images[2].id 0 appears twice (first at images[0])'),
    (lambda d: d['categories'][1].update(id=1),
     'categories[1].id 1 appears twice (first at categories[0])'),
    (lambda d: d['annotations'][1].update(image_id=9),
     'annotations[1].image_id is 9, which the file does not define'),
    (lambda d: d['annotations'][1].update(category_id=3),
     'annotations[1].category_id is 3, which the file does not define'),
    (lambda d: d['annotations'][1].update(image_id='1'),
     "annotations[1].image_id is '1', which the file does not define"),
])
def test_the_reader_names_the_file_and_the_id(tmp_path, change, words):
    path = _write(tmp_path / 'coco.json', change)
    with pytest.raises(UserError) as info:
        load_annotations(str(path))
    message = str(info.value)
    assert message.startswith('{}: '.format(path)) and '\n' not in message
    assert words in message, message
    assert 'fix the annotation file' in message


def test_a_repeated_id_names_the_fix(tmp_path):
    path = _write(tmp_path / 'coco.json', _twice)
    with pytest.raises(UserError) as info:
        load_annotations(str(path))
    assert str(info.value).endswith('appears twice (first at annotations[0]): ids must be '
                                    'unique, or one object is counted twice and one entry '
                                    'hides another; give it its own id or remove the copy (fix '
                                    'the annotation file)')


def test_unique_ids_and_annotations_without_id_are_read(tmp_path):
    path = _write(tmp_path / 'coco.json')
    truths, vocabulary = load_annotations(str(path))
    assert vocabulary == ('cat', 'dog')
    assert [len(truth.boxes) for truth in truths] == [1, 1, 0]

    def no_ids(data):
        for ann in data['annotations']:
            del ann['id']
    truths, _ = load_annotations(str(_write(tmp_path / 'no_ids.json', no_ids)))
    assert [truth.names for truth in truths] == [('cat',), ('dog',), ()]


def test_scoring_exits_2_naming_the_file_and_the_id(tmp_path, capsys):
    images = make_images(tmp_path / 'images')
    out = tmp_path / 'run'
    code, _ = main(capsys, images, '-d', 'fake', '--out', out, *QUICK)
    assert code == 0
    path = _write(tmp_path / 'dup.json', _twice)
    assert score_main([str(out), '--annotations', str(path)]) == 2
    err = capsys.readouterr().err
    assert 'Traceback' not in err
    line = error_line(err)
    assert line.startswith('error: {}: annotations[2].id 7 appears twice'.format(path)), line


def test_the_run_exits_2_before_any_image(tmp_path, capsys):
    images = make_images(tmp_path / 'images')
    out = tmp_path / 'run'
    path = _write(tmp_path / 'dup.json', lambda d: d['images'][2].update(id=1))
    code, err = main(capsys, images, '-d', 'fake', '--out', out, '--annotations', path,
                     *QUICK)
    assert code == 2
    assert error_line(err).startswith('error: {}: images[2].id 1 appears twice (first at '
                                      'images[1])'.format(path))
    assert not os.path.exists(out / 'raw' / 'fake.jsonl')
