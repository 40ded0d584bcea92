"""Bad input to ``python -m replicate.train`` is one line naming the file and
the fix, exit code 2; nothing a user points at is unpickled."""
import os
import shutil

import numpy as np
import pytest
from trainhelp import TINY

from replicate.train import cli


def run(capsys, *argv):
    code = cli.main(list(argv) + ['--quiet'] + TINY)
    err = capsys.readouterr().err
    return code, err


def one_line(err, *parts):
    assert err.startswith('error: ') and err.count('\n') == 1, err
    for part in parts:
        assert part in err, (part, err)


@pytest.fixture
def broken(shapes_voc, tmp_path):
    """A writable copy of the dataset to break."""
    root = str(tmp_path / 'voc')
    shutil.copytree(shapes_voc, root)
    return root


def test_missing_folder(capsys, tmp_path):
    code, err = run(capsys, '--train', str(tmp_path / 'nowhere'))
    assert code == 2
    one_line(err, str(tmp_path / 'nowhere'), 'Pascal VOC folder')


def test_missing_split_lists_the_splits(capsys, shapes_voc):
    code, err = run(capsys, '--train', shapes_voc, '--train-split', 'trainval')
    assert code == 2
    one_line(err, 'trainval.txt', 'train, val')


def test_malformed_annotation(capsys, broken):
    path = os.path.join(broken, 'Annotations', '000001.xml')
    with open(path, 'w') as f:
        f.write('<annotation><object>')
    code, err = run(capsys, '--train', broken, '--train-split', 'train')
    assert code == 2
    one_line(err, path)


def test_unsafe_xml_is_refused(capsys, broken):
    path = os.path.join(broken, 'Annotations', '000002.xml')
    with open(path, 'w') as f:
        f.write('<!DOCTYPE a [<!ENTITY x "y">]><annotation>&x;</annotation>')
    code, err = run(capsys, '--train', broken, '--train-split', 'train')
    assert code == 2
    one_line(err, path, 'unsafe XML')


def test_unknown_class_names_the_fix(capsys, shapes_voc):
    code, err = run(capsys, '--train', shapes_voc, '--train-split', 'train', '--classes',
                    'circle,square')
    assert code == 2
    one_line(err, 'Annotations', 'not among the 2 classes', '--classes')


def test_corrupt_image_at_training_time(capsys, broken):
    path = os.path.join(broken, 'JPEGImages', '000003.jpg')
    with open(path, 'wb') as f:
        f.write(b'not a jpeg')
    code, err = run(capsys, '--train', broken, '--train-split', 'train', '--batch-size', '12',
                    '--iterations', '1', '--out', os.path.join(broken, 'out'))
    assert code == 2
    one_line(err, path, 'cannot read image')


def test_resume_from_a_pickle_is_refused_without_unpickling(capsys, shapes_voc, tmp_path):
    path = str(tmp_path / 'evil.npz')
    # an object array: loading it would unpickle
    np.savez(path, __meta__=np.array([{'format': 'x'}], dtype=object))
    code, err = run(capsys, '--train', shapes_voc, '--train-split', 'train', '--resume', path)
    assert code == 2
    one_line(err, path, 'allow_pickle=False')


@pytest.mark.parametrize('content', [b'', b'PK\x03\x04 truncated', b'plain text'])
def test_resume_from_garbage(capsys, shapes_voc, tmp_path, content):
    path = str(tmp_path / 'snapshot.npz')
    with open(path, 'wb') as f:
        f.write(content)
    code, err = run(capsys, '--train', shapes_voc, '--train-split', 'train', '--resume', path)
    assert code == 2
    one_line(err, path)


def test_resume_from_a_weights_file_names_the_right_flag(capsys, shapes_voc, tmp_path):
    path = str(tmp_path / 'weights.npz')
    np.savez(path, W=np.zeros(3))
    code, err = run(capsys, '--train', shapes_voc, '--train-split', 'train', '--resume', path)
    assert code == 2
    one_line(err, path, '--finetune-from')


def test_named_weights_need_a_vgg_model(capsys, shapes_voc):
    code, err = run(capsys, '--train', shapes_voc, '--train-split', 'train',
                    '--finetune-from', 'imagenet')
    assert code == 2
    one_line(err, 'ssd300 and ssd512 only')


def test_communicator_without_mpi_or_unknown(capsys, shapes_voc):
    code, err = run(capsys, '--train', shapes_voc, '--train-split', 'train',
                    '--communicator', 'carrier_pigeon')
    assert code == 2
    one_line(err, "unknown --communicator 'carrier_pigeon'", 'naive')


def test_coco_json_missing_image(capsys, tmp_path):
    path = str(tmp_path / 'instances.json')
    with open(path, 'w') as f:
        f.write('{"images": [{"id": 1, "file_name": "a.jpg"}], "categories": '
                '[{"id": 3, "name": "cat"}], "annotations": []}')
    code, err = run(capsys, '--train', path)
    assert code == 2
    one_line(err, os.path.join(str(tmp_path), 'a.jpg'), '--image-dir')
