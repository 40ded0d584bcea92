"""Hostile suite, class C "user mistakes": every mistake a user can make is
one ``error:`` line naming the file or option (exit 2), a detector's failure
line (exit 3), or a file skipped with its reason -- never a traceback, a hang
or a lost result.

Annotation files the loader tests do not hold, an annotation folder without
XML, a zero-byte image beside a decompression bomb, an unreadable images
folder, numbers out of range, a zoo cache that is a file, the parity tool's
arguments, and SIGTERM mid-run then resume (a forked child: the signal is the
point). The other cases of the class are proven where their code is tested
(tests/hostile/cases.py maps each).
"""
import json
import os
import signal

import pytest
from hostile_helpers import (
    FAST,
    clean,
    every,
    exit_status,
    forked_run,
    images,
    parity,
    rows,
    run,
    wait_for_rows,
)
from PIL import Image

COCO = {'images': [{'id': i, 'file_name': 'im{}.png'.format(i), 'height': 20, 'width': 30}
                   for i in range(3)],
        'categories': [{'id': 1, 'name': 'cat'}],
        'annotations': [{'id': 1, 'image_id': 0, 'category_id': 1, 'bbox': [1, 1, 5, 5]}]}
BOX = ('<object><name>cat</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>5</xmax>'
       '<ymax>5</ymax></bndbox></object>')


@pytest.mark.parametrize('name, content, words', [
    pytest.param('coco.json', json.dumps({}), 'images', id='coco_top_level_list'),
    pytest.param('c.json', b'{"images": "\xff"}', '', id='coco_json_not_utf8'),
    pytest.param('coco.json', json.dumps(COCO).replace('[1, 1, 5, 5]', '[1, 1, Infinity, 5]'),
                 'bbox', id='coco_bbox_infinite'),
    pytest.param('big.xml', '<annotation><filename>im0.png</filename>' + BOX * 200000 +
                 '</annotation>', '', id='xml_200000_boxes'),
])
def test_given_annotation_file_is_one_line(tmp_path, capsys, name, content, words):
    """Given with --annotations: read before any image runs, refused naming it."""
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    out = tmp_path / 'o'
    clean(run(capsys, images(tmp_path / 'a'), '-d', 'fake', '--out', out, '--annotations',
              path, *FAST), 2, path, words)
    assert not os.path.exists(out / 'raw' / 'fake.jsonl')


def test_annotations_folder_without_xml(tmp_path, capsys):
    (tmp_path / 'ann').mkdir()
    clean(run(capsys, images(tmp_path / 'a'), '-d', 'fake', '--out', tmp_path / 'o',
              '--annotations', tmp_path / 'ann', *FAST), 2, tmp_path / 'ann')


def test_zero_byte_and_bomb_images(tmp_path, capsys):
    folder, out = images(tmp_path / 'a'), tmp_path / 'o'
    open(os.path.join(folder, 'empty.png'), 'wb').close()
    Image.new('1', (20000, 20000)).save(os.path.join(folder, 'bomb.png'))  # 400 Mpx, 50 kB
    clean(run(capsys, folder, '-d', 'fake', '--out', out, *FAST), 0)
    skipped = (out / 'raw' / 'skipped.csv').read_text()
    assert 'empty.png' in skipped and 'bomb.png' in skipped, skipped
    assert rows(out, 'fake') == every(3)


def test_images_folder_unreadable(tmp_path, capsys, monkeypatch):
    """chmod 000; as root (for whom nothing is unreadable) the listing's
    PermissionError is simulated where os.walk meets it."""
    folder = images(tmp_path / 'a')
    os.chmod(folder, 0o000)
    try:
        if os.access(folder, os.R_OK):
            real = os.scandir

            def refused(path='.'):
                if os.path.realpath(path) == os.path.realpath(folder):
                    raise PermissionError(13, 'Permission denied', path)
                return real(path)
            monkeypatch.setattr(os, 'scandir', refused)
        clean(run(capsys, folder, '-d', 'fake', '--out', tmp_path / 'o', *FAST), 2, folder,
              'Permission denied')
    finally:
        os.chmod(folder, 0o755)


@pytest.mark.parametrize('extra, option', [
    (['--repeats', '-1'], '--repeats'),
    (['--warmup', '1000'], '--warmup'),
    (['--batch-sizes', ''], '--batch-sizes'),
    (['-d', 'fake,count=-1'], 'count'),
    (['-d', 'fake:x'], 'fake'),
])
def test_bad_numbers_on_the_command_line(tmp_path, capsys, extra, option):
    """The old case's sub-cases that tests/compare/test_mistakes_files.py
    (test_limits_are_enforced_before_anything_runs) does not already hold."""
    detector = [] if '-d' in extra else ['-d', 'fake']
    out = tmp_path / 'o'
    clean(run(capsys, images(tmp_path / 'a', 1), '--out', out, *detector, *extra, *FAST), 2,
          option)
    assert not out.exists()


def test_images_argument_is_a_file(tmp_path, capsys):
    image = os.path.join(images(tmp_path / 'a', 1), 'im0.png')
    out = tmp_path / 'o'
    clean(run(capsys, image, '-d', 'fake', '--out', out, *FAST), 2, image, 'not a folder')
    assert not out.exists()


def test_zoo_dir_is_a_file(tmp_path, capsys):
    (tmp_path / 'zoofile').write_text('')
    out = tmp_path / 'o'
    err = clean(run(capsys, images(tmp_path / 'a', 1), '-d', 'tfzoo:some_model', '-d', 'fake',
                    '--tf-zoo-dir', tmp_path / 'zoofile', '--out', out, *FAST), 3, 'zoofile')
    assert 'traceback in' not in err
    assert rows(out, 'fake') == every(1)  # the other detector ran


@pytest.mark.parametrize('args, names', [
    pytest.param(['--batch', '100000'], '--batch', id='batch'),
    pytest.param(['--images', 'nope.png'], 'nope.png', id='images'),
    pytest.param(['--out', 'file', '--batch', '1', '--only', 'mb_locs'], 'file', id='out-file',
                 marks=pytest.mark.slow),  # refused when the report is written, after both runs
])
def test_parity_bad_arguments(tmp_path, capsys, args, names):
    (tmp_path / 'file').write_text('')
    args = [str(tmp_path / a) if a in ('nope.png', 'file') else a for a in args]
    clean(parity(capsys, *args), 2, names)
    assert (tmp_path / 'file').read_text() == ''


def test_interrupted_then_sigterm(tmp_path, capsys):
    """SIGTERM (kill, a batch system's stop) mid-run ends it as Ctrl-C does
    (exit 130, no traceback); the same command then finishes every image once."""
    folder, out = images(tmp_path / 'a', count=8), tmp_path / 'o'
    pid = forked_run([folder, '-d', 'fake:0,delay=0.3', '--out', out, *FAST],
                     tmp_path / 'term.err')
    try:
        wait_for_rows(pid, out, 'fake', 2)
    finally:
        os.kill(pid, signal.SIGTERM)
    assert exit_status(pid) == 130
    err = (tmp_path / 'term.err').read_text()
    assert 'Traceback' not in err and 'interrupted: re-run the same command' in err, err
    assert json.load(open(out / 'meta.json'))['state'] == 'interrupted'
    assert not (out / 'lock').exists()
    clean(run(capsys, folder, '-d', 'fake:0', '--out', out, *FAST), 0)
    assert rows(out, 'fake') == every(8)
