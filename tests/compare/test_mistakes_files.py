"""Every file-system and command-line mistake is one line or a skipped file with
its reason, never a traceback or a hang (issue 7, class "user mistakes").

Odd things among the images (a named pipe or a device called x.jpg, a name
that is not UTF-8, a folder named like an image, link loops, a link to a
folder), resource limits, an --out that is a file or cannot be written, a
disk that fills, detector names scoring would skip.
"""
import errno
import json
import os
import shutil

import numpy as np
import pytest
from PIL import Image
from runhelp import QUICK, error_line, main, make_images

from compare import images, rundir
from compare.errors import UserError
from compare.runner.scoring import main as score_main


def records(out, detector='fake'):
    with open(os.path.join(out, 'raw', detector + '.jsonl')) as f:
        return sorted(json.loads(line)['image'] for line in f)


# -- odd things among the images --------------------------------------------------------------

@pytest.mark.timeout(60)
def test_special_files_and_odd_names_are_skipped_with_the_reason(tmp_path, capsys):
    folder = make_images(tmp_path / 'a')
    os.mkfifo(os.path.join(folder, 'pipe.jpg'))  # opened for reading, it would block forever
    os.symlink('/dev/zero', os.path.join(folder, 'zero.jpg'))  # read, it would never end
    shutil.copy(os.path.join(folder, 'im0.png'), os.fsencode(folder) + b'/bad\xff.png')
    os.makedirs(os.path.join(folder, 'folder.jpg'))
    make_images(os.path.join(folder, 'folder.jpg'), 1)  # a folder named like an image: walked
    os.symlink('loop.jpg', os.path.join(folder, 'loop.jpg'))
    os.symlink('missing.png', os.path.join(folder, 'dangling.png'))
    os.symlink('.', os.path.join(folder, 'again'))  # a link to a folder: not followed
    out = str(tmp_path / 'o')
    code, err = main(capsys, folder, '-d', 'fake', '--out', out, *QUICK)
    assert code == 0
    assert records(out) == ['folder.jpg/im0.png', 'im0.png', 'im1.png', 'im2.png']
    skipped = dict(rundir.read_skipped(out))
    assert skipped == {
        'again': 'link to a folder (not followed)',
        'bad\\xff.png': 'file name is not valid UTF-8; rename it to read it',
        'dangling.png': 'cannot open: No such file or directory',
        'loop.jpg': 'cannot open: Too many levels of symbolic links',
        'pipe.jpg': 'not a regular file (named pipe); not read',
        'zero.jpg': 'not a regular file (character device); not read'}
    meta = json.load(open(os.path.join(out, 'meta.json')))
    assert meta['images']['listed'] == 4 and meta['images']['not_images'] == 6


@pytest.mark.timeout(30)
def test_a_pipe_swapped_in_after_listing_is_refused_not_waited_on(tmp_path):
    os.mkfifo(str(tmp_path / 'x.jpg'))
    with pytest.raises(UserError, match=r'x.jpg is not a regular file \(named pipe\); not read'):
        images.read_image(str(tmp_path / 'x.jpg'))


def test_an_image_over_the_size_limit_is_skipped(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(images, 'MAX_IMAGE_BYTES', 5000)
    folder = make_images(tmp_path / 'a', 1)
    Image.fromarray(np.zeros((64, 64, 3), np.uint8)).save(os.path.join(folder, 'big.bmp'))
    code, err = main(capsys, folder, '-d', 'fake', '--out', tmp_path / 'o', *QUICK)
    assert code == 0
    reason = dict(rundir.read_skipped(str(tmp_path / 'o')))['big.bmp']
    assert reason.endswith('big.bmp is larger than 0 MiB (the limit); not read')


def test_only_odd_files_is_one_line(tmp_path, capsys):
    folder = tmp_path / 'a'
    folder.mkdir()
    os.mkfifo(str(folder / 'x.jpg'))
    code, err = main(capsys, folder, '-d', 'fake', '--out', tmp_path / 'o', *QUICK)
    assert code == 2 and error_line(err).startswith('error: no images found in {}'.format(
        folder))


# -- resource limits --------------------------------------------------------------------------

@pytest.mark.parametrize('extra, words', [
    (['--batch-sizes', '20000'], "--batch-sizes '20000': at most 8 sizes, each at most 64"),
    (['--batch-sizes', '1,2,3,4,5,6,7,8,9'], 'at most 8 sizes'),
    (['--batch-sizes', '0'], '--batch-sizes must be positive integers'),
    (['--repeats', '100000'], '--repeats must be 1..1000 and --warmup 0..100'),
    (['--warmup', '101'], '--repeats must be 1..1000 and --warmup 0..100'),
    (['-d', 'fake,count=99999999'], 'count 0..10000'),
    (['-d', 'fake,delay=nan'], 'delay 0..60 seconds'),
])
def test_limits_are_enforced_before_anything_runs(tmp_path, capsys, extra, words):
    folder = make_images(tmp_path / 'a', 1)
    detector = [] if '-d' in extra else ['-d', 'fake']
    code, err = main(capsys, folder, '--out', tmp_path / 'o', *(detector + extra + QUICK))
    assert code == 2 and words in error_line(err)
    assert not (tmp_path / 'o').exists()


# -- the output folder --------------------------------------------------------------------------

@pytest.mark.parametrize('out, words', [
    ('file', '--out {tmp}/file is a file, not a folder'),
    ('file/run', 'cannot create the run folder {tmp}/file/run: Not a directory'),
    ('a', '--out {tmp}/a is the images folder itself'),
])
def test_an_out_that_cannot_be_a_run_folder_is_one_line(tmp_path, capsys, out, words):
    folder = make_images(tmp_path / 'a', 1)
    (tmp_path / 'file').write_text('a file')
    code, err = main(capsys, folder, '-d', 'fake', '--out', tmp_path / out, *QUICK)
    assert code == 2 and words.format(tmp=tmp_path) in error_line(err)


def test_a_read_only_out_is_one_line(tmp_path, capsys, monkeypatch):
    """Simulated: the tests may run as root, for whom nothing is read-only."""
    folder = make_images(tmp_path / 'a', 1)
    real = os.makedirs

    def read_only(path, *args, **kwargs):
        if str(path).startswith(str(tmp_path / 'ro')):
            raise OSError(errno.EROFS, 'Read-only file system', str(path))
        return real(path, *args, **kwargs)
    monkeypatch.setattr(os, 'makedirs', read_only)
    code, err = main(capsys, folder, '-d', 'fake', '--out', tmp_path / 'ro' / 'run', *QUICK)
    assert code == 2 and error_line(err) == (
        'error: cannot create the run folder {0}: Read-only file system ({0}/raw); pass a '
        'writable --out'.format(tmp_path / 'ro' / 'run'))


def test_a_disk_that_fills_midway_is_one_line_and_the_run_resumes(tmp_path, capsys,
                                                                 monkeypatch):
    folder, out = make_images(tmp_path / 'a'), str(tmp_path / 'o')
    real, calls = rundir.RecordWriter.write, []

    def fills(self, record):
        calls.append(record.image)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, 'No space left on device', self.path)
        return real(self, record)
    monkeypatch.setattr(rundir.RecordWriter, 'write', fills)
    code, err = main(capsys, folder, '-d', 'fake', '--out', out, *QUICK)
    assert code == 2 and error_line(err).startswith(
        'error: {}: No space left on device (OSError)'.format(
            os.path.join(out, 'raw', 'fake.jsonl')))
    assert json.load(open(os.path.join(out, 'meta.json')))['state'] == 'failed'
    assert not os.path.exists(os.path.join(out, 'lock'))
    monkeypatch.setattr(rundir.RecordWriter, 'write', real)
    assert main(capsys, folder, '-d', 'fake', '--out', out, *QUICK)[0] == 0
    assert records(out) == ['im0.png', 'im1.png', 'im2.png']


def test_score_of_what_is_not_a_run_folder_is_one_line(tmp_path, capsys):
    (tmp_path / 'file').write_text('x')
    (tmp_path / 'empty').mkdir()
    for path, words in ((tmp_path / 'nope', 'is not a folder'),
                        (tmp_path / 'file', 'is not a folder'),
                        (tmp_path / 'empty', 'has no meta.json and raw/: not a run folder')):
        assert score_main([str(path)]) == 2
        err = capsys.readouterr().err
        assert err.startswith('error: {} {}'.format(path, words)) and len(err.splitlines()) == 1


# -- detector names -----------------------------------------------------------------------------

@pytest.mark.parametrize('spec, words', [
    ('fake,name=.hidden', "detector name '.hidden' must start with a letter, digit or \"_\""),
    ('fake,name=a/b', "detector name 'a/b' must start"),
    ('fake,name=' + 'x' * 101, 'at most 100 characters'),
    ('fake,name=annotations', "detector name 'annotations' is taken by a column of the tables"),
    ('fake,name=Canonical', "detector name 'Canonical' is taken"),
])
def test_a_name_scoring_would_skip_is_refused(tmp_path, capsys, spec, words):
    code, err = main(capsys, make_images(tmp_path / 'a', 1), '-d', spec, '--out',
                     tmp_path / 'o', *QUICK)
    assert code == 2 and words in error_line(err)


def test_names_equal_but_for_case_are_refused(tmp_path, capsys):
    code, err = main(capsys, make_images(tmp_path / 'a', 1), '-d', 'fake,name=Model', '-d',
                     'fake:1,name=model', '--out', tmp_path / 'o', *QUICK)
    assert code == 2 and 'two detectors named model' in error_line(err)
