"""Every annotation mistake is one line, never a traceback (issue 7, class "user
mistakes", annotations and scoring).

Malformed COCO JSON and VOC XML name the file and the field; annotations
given with --annotations are read before any image runs; a broken file found
beside the images costs the mAP tables only; ``--annotations none`` looks
nothing up; annotations with nothing to evaluate write every other table and
say what could not be scored.
"""
import copy
import csv
import json
import os

import pytest
from runhelp import error_line, main, make_images

from compare.errors import UserError
from compare.runner.scoring import main as score_main
from compare.score.ground_truth import load_annotations

QUICK = ['--no-progress', '--no-speed']
COCO = {'images': [{'id': i, 'file_name': 'im{}.png'.format(i), 'height': 12, 'width': 16}
                   for i in range(3)],
        'categories': [{'id': 1, 'name': 'cat'}],
        'annotations': [{'id': 1, 'image_id': 0, 'category_id': 1, 'bbox': [1, 1, 5, 5]}]}


def written(out):
    return sorted(name[:-4] for name in os.listdir(out) if name.endswith('.csv'))


def voc(path, objects, name='im0.png'):
    """A VOC XML file; ``objects``: ``(name, xmin, ymin, xmax, ymax)`` strings or numbers."""
    body = ''.join('<object><name>{}</name><bndbox><xmin>{}</xmin><ymin>{}</ymin><xmax>{}'
                   '</xmax><ymax>{}</ymax></bndbox></object>'.format(*obj) for obj in objects)
    with open(path, 'w') as f:
        f.write('<annotation><filename>{}</filename>{}</annotation>'.format(name, body))


# -- malformed COCO JSON and VOC XML: the file and the field ----------------------------------

def _set(path, value):
    def change(data):
        *head, last = path
        target = data
        for key in head:
            target = target[key]
        if value is KeyError:
            del target[last]
        else:
            target[last] = value
    return change


@pytest.mark.parametrize('change, words', [
    (_set(['annotations', 0, 'bbox'], [1, 2, 3]), 'annotations[0].bbox is [1, 2, 3], expected '
                                                 '[x, y, width, height]: 4 finite numbers'),
    (_set(['annotations', 0, 'bbox'], None), 'annotations[0] has no bbox'),
    (_set(['annotations', 0, 'bbox'], ['1', '2', '3', '4']), 'annotations[0].bbox is'),
    (_set(['annotations', 0, 'bbox'], [1, 2, True, 4]), 'annotations[0].bbox is'),
    (_set(['images', 1, 'file_name'], KeyError), 'images[1] has no file_name'),
    (_set(['images', 1, 'file_name'], 7), 'images[1].file_name is 7, expected a non-empty'),
    (_set(['images', 0, 'height'], 'tall'), "images[0].height / width are 'tall' / 16"),
    (_set(['images', 2, 'id'], 0), 'images[2].id 0 appears twice'),
    (_set(['images', 2, 'id'], [2]), 'images[2].id is [2], expected an integer id'),
    (_set(['annotations', 0, 'image_id'], 77), 'annotations[0].image_id is 77, which the file '
                                               'does not define'),
    (_set(['annotations', 0, 'category_id'], KeyError), 'annotations[0] has no category_id'),
    (_set(['annotations', 0, 'iscrowd'], 7), 'annotations[0].iscrowd is 7, expected 0 or 1'),
    (_set(['categories', 0, 'name'], None), 'categories[0] has no name'),
    (_set(['images'], None), 'the file has no images'),
    (_set(['images'], {'id': 1}), 'images is not a list of objects'),
    (_set(['annotations'], [3]), 'annotations is not a list of objects'),
])
def test_malformed_coco_json_names_the_file_and_field(tmp_path, change, words):
    data = copy.deepcopy(COCO)
    change(data)
    path = tmp_path / 'coco.json'
    path.write_text(json.dumps(data))
    with pytest.raises(UserError) as info:
        load_annotations(str(path))
    assert str(info.value).startswith(str(path)) and words in str(info.value), str(info.value)


@pytest.mark.parametrize('text, words', [
    ('[1, 2]', 'the top level is a list, expected a COCO object'),
    ('{"images": [1, 2', 'malformed COCO JSON'),
    ('{"images": [], "categories": [], "annotations": [{"bbox": [0, 0, NaN, 1], '
     '"image_id": 1}]}', 'annotations[0].image_id is 1, which the file does not define'),
])
def test_coco_json_that_is_not_an_object_or_not_json(tmp_path, text, words):
    path = tmp_path / 'coco.json'
    path.write_text(text)
    with pytest.raises(UserError, match=None) as info:
        load_annotations(str(path))
    assert str(path) in str(info.value) and words in str(info.value), str(info.value)


@pytest.mark.parametrize('objects, words', [
    ([('cat', 'a', 1, 3, 3)], "object 0: <xmin> 'a' is not a number"),
    ([('cat', 1, 1, 3, 'inf')], "object 0: <ymax> 'inf' is not finite"),
    ([('', 1, 1, 3, 3)], 'object 0 has no <name>'),
    ([('cat', 1, 1, 3, 3), ('dog', 1, 1, 3, '')], 'object 1 has no <ymax>'),
])
def test_malformed_voc_xml_names_the_file_and_field(tmp_path, objects, words):
    path = tmp_path / 'x.xml'
    voc(str(path), objects)
    with pytest.raises(UserError) as info:
        load_annotations(str(path))
    assert str(info.value).startswith(str(path)) and words in str(info.value), str(info.value)


@pytest.mark.parametrize('text, words', [
    ('<html/>', 'root element is <html>, expected <annotation>'),
    ('<annotation><object><name>cat</name><bnd', 'malformed XML in'),
    ('<annotation><object><name>cat</name></object></annotation>', 'object 0 has no <bndbox>'),
    ('<?xml version="1.0" encoding="utf-16"?><annotation/>', 'malformed XML in'),
])
def test_voc_xml_that_is_not_an_annotation(tmp_path, text, words):
    path = tmp_path / 'x.xml'
    path.write_bytes(text.encode('latin-1'))
    with pytest.raises(UserError) as info:
        load_annotations(str(path))
    assert str(path) in str(info.value) and words in str(info.value), str(info.value)


def test_given_annotations_are_read_before_any_image_runs(tmp_path, capsys):
    images = make_images(tmp_path / 'a')
    (tmp_path / 'coco.json').write_text(json.dumps(dict(COCO, images=None)))
    out = tmp_path / 'o'
    code, err = main(capsys, images, '-d', 'fake', '--out', out, '--annotations',
                     tmp_path / 'coco.json', *QUICK)
    assert code == 2
    assert error_line(err) == 'error: {}: the file has no images (fix the annotation file)' \
        .format(tmp_path / 'coco.json')
    assert not out.exists()


# -- broken annotations beside the images, --annotations none ---------------------------------

def test_a_broken_file_beside_the_images_costs_only_the_map_tables(tmp_path, capsys):
    images = make_images(tmp_path / 'a')
    (tmp_path / 'a' / 'annotations.json').write_text('{"images": [1, 2')
    out = tmp_path / 'o'
    code, err = main(capsys, images, '-d', 'fake', '-d', 'fake:1,name=b', '--out', out,
                     '--no-progress', '--repeats', '1', '--warmup', '0')
    assert code == 0 and 'done: {}'.format(out) in err.splitlines()
    (line,) = [line for line in err.splitlines() if line.startswith('not scored: ')]
    assert line.startswith('not scored: mAP: the annotations found beside the images cannot be '
                           'used: malformed COCO JSON {}'.format(tmp_path / 'a' /
                                                                 'annotations.json'))
    assert line.endswith('fix them, or pass --annotations none')
    assert written(out) == ['agreement_pairs', 'agreement_per_class', 'agreement_per_image',
                            'agreement_summary', 'classes', 'detections', 'findings',
                            'headline', 'pairs', 'score_warnings', 'speed']
    warnings = [row['warning'] for row in csv.DictReader(open(out / 'score_warnings.csv'))]
    assert line in warnings


def test_annotations_none_looks_nothing_up(tmp_path, capsys):
    images = make_images(tmp_path / 'a')
    (tmp_path / 'a' / 'annotations.json').write_text('{"images": [1, 2')
    out = tmp_path / 'o'
    code, err = main(capsys, images, '-d', 'fake', '--out', out, '--annotations', 'none', *QUICK)
    assert code == 0 and 'annotations.json' not in err
    assert json.load(open(out / 'meta.json'))['args']['annotations'] == 'none'
    assert score_main([str(out), '--annotations', 'none']) == 0
    assert 'annotations.json' not in capsys.readouterr().err
    warnings = [row['warning'] for row in csv.DictReader(open(out / 'score_warnings.csv'))]
    assert 'annotations turned off (--annotations none): no mAP' in warnings


def test_rescoring_with_broken_annotations_is_refused_before_anything_changes(tmp_path, capsys):
    images, out = make_images(tmp_path / 'a'), tmp_path / 'o'
    assert main(capsys, images, '-d', 'fake', '--out', out, '--no-score', *QUICK)[0] == 0
    before = written(out)
    (tmp_path / 'bad.json').write_text(json.dumps(dict(COCO, categories=[{'id': 1}])))
    assert score_main([str(out), '--annotations', str(tmp_path / 'bad.json')]) == 2
    err = capsys.readouterr().err
    assert 'Traceback' not in err and len(err.splitlines()) == 1
    assert err.startswith('error: {}: categories[0] has no name'.format(tmp_path / 'bad.json'))
    assert written(out) == before  # a refused re-score rewrites nothing


# -- nothing to evaluate -------------------------------------------------------------------------

@pytest.mark.parametrize('objects', [
    [],                                                  # negative images only
    [('zebra_unicorn', 1, 1, 5, 5)],                     # a class no detector names
    [('cat', 500, 500, 600, 600)],                       # every box outside the image
])
def test_nothing_to_evaluate_writes_every_table_and_says_why(tmp_path, capsys, objects):
    images = make_images(tmp_path / 'a')
    os.makedirs(tmp_path / 'a' / 'Annotations')
    for i in range(3):
        voc(str(tmp_path / 'a' / 'Annotations' / 'im{}.xml'.format(i)), objects,
            'im{}.png'.format(i))
    out = tmp_path / 'o'
    code, err = main(capsys, images, '-d', 'fake', '-d', 'fake:1,name=b', '--out', out, *QUICK)
    assert code == 0 and 'max() arg' not in err
    not_scored = [line for line in err.splitlines() if line.startswith('not scored: ')]
    assert not_scored == ['not scored: mAP of {}: none of the annotation classes it can name '
                          'has an object on the images it processed (negative images only, or '
                          'classes it cannot name)'.format(name) for name in ('b', 'fake')]
    assert {'agreement_summary', 'map_summary', 'map_per_class', 'classes'} <= set(written(out))
    summary = list(csv.DictReader(open(out / 'map_summary.csv')))
    assert [row['map_voc07'] for row in summary] == ['', '']  # NaN, not a number made up
