"""What ``python -m compare.merge`` guarantees beyond the shards being one run
(test_shard.py): the records it merges are those a resume would keep (each
record's sha256 is its image file's now), the shards agree on every scoring
setting, every option is checked before anything is written, ``--shard K/N``
refuses in one line whatever it is given, and a folder given twice is said
to be given twice (never "in use" by the merge itself)."""
import argparse
import hashlib
import json
import os
import shutil

import numpy as np
import pytest
from PIL import Image
from shardhelp import OPTIONS, make_images

from compare import rundir
from compare.errors import UserError
from compare.run import main as run_compare
from compare.runner import cli, shard
from compare.runner.scoring import add_scoring_options
from compare.shards import check, merge, mpi_launch, options


def run(*args):
    assert run_compare([str(a) for a in args]) == 0


def error_line(capsys, code):
    """The one ``error:`` line of a command that returned ``code`` (2)."""
    assert code == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith('error: ')]
    assert len(lines) == 1 and 'Traceback' not in err, err
    return lines[0]


def merge_error(capsys, *argv):
    return error_line(capsys, merge.main([str(a) for a in argv]))


@pytest.fixture(scope='module')
def made(tmp_path_factory):
    """The images and the three complete shards of a run over them, under one
    root, run from there (so the shards name their images folder by a
    relative path: a copy of the root is a run of its own images)."""
    root = tmp_path_factory.mktemp('guarantees')
    make_images(root, count=6)
    cwd = os.getcwd()
    os.chdir(str(root))
    try:
        for k in (1, 2, 3):
            run('images', '--out', 'run', '--shard', '{}/3'.format(k), *OPTIONS)
    finally:
        os.chdir(cwd)
    return root


@pytest.fixture
def shards(made, tmp_path):
    """A fresh copy of the images and the shards, keeping their relative places
    (the shards find the copied images): ``(images, run folder, [folders])``."""
    shutil.copytree(made / 'images', tmp_path / 'images')
    shutil.copytree(made / 'run', tmp_path / 'run')
    run_dir = str(tmp_path / 'run')
    folders = [rundir.shard_folder(run_dir, k, 3) for k in (1, 2, 3)]
    assert rundir.read_meta(folders[0]).images.folder_from_run == '../../../images'
    assert rundir.read_meta(folders[0]).images_dir(folders[0]) == str(tmp_path / 'images')
    return str(tmp_path / 'images'), run_dir, folders


def assert_nothing_merged(run_dir):
    """The run folder holds its shards only: no meta.json, raw/ or table."""
    assert sorted(os.listdir(run_dir)) == ['shards']


def shard_records(folder, detector):
    """``{image: sha256}`` of a folder's records of ``detector``."""
    with open(os.path.join(folder, 'raw', detector + '.jsonl')) as f:
        return {row['image']: row['sha256'] for row in map(json.loads, f)}


def first_record(folder, detector='fake'):
    with open(os.path.join(folder, 'raw', detector + '.jsonl')) as f:
        return json.loads(f.readline())


# -- 4: records are checked against the images as they are now ----------------------

def test_an_image_rewritten_after_its_shard_ran_is_refused_then_redone(shards, capsys):
    images, run_dir, folders = shards
    image = first_record(folders[1])['image']
    path = os.path.join(images, image)
    size = Image.open(path).size
    Image.fromarray(np.full((size[1], size[0], 3), 7, np.uint8)).save(path)
    line = merge_error(capsys, run_dir)
    assert line.startswith('error: {}: the record of shard 2/3 ({}) (in {})'.format(
        path, folders[1], os.path.join(folders[1], 'raw', 'fake.jsonl')))
    assert 'rewritten since that shard ran' in line
    # its size changed, so did the listing every shard holds: every shard reruns
    assert 'rerun every shard over the images as they are now' in line
    assert '--shard K/3` for K = 1..3' in line and 'shard 2/3 runs that one again' in line
    assert_nothing_merged(run_dir)
    run(images, '--out', run_dir, '--shard', '2/3', *OPTIONS)
    assert 'changed since' in capsys.readouterr().err
    line = merge_error(capsys, run_dir, '--no-score')  # shards 1 and 3 are of the old listing
    assert 'listed other images than shard 1/3' in line and 'rerun every shard' in line
    for k in (1, 3):
        run(images, '--out', run_dir, '--shard', '{}/3'.format(k), *OPTIONS)
    assert merge.main([run_dir, '--no-score']) == 0
    merged = {r['image']: r['sha256'] for r in map(json.loads, open(
        os.path.join(run_dir, 'raw', 'fake.jsonl')))}
    with open(path, 'rb') as f:
        assert merged[image] == hashlib.sha256(f.read()).hexdigest()


def test_a_file_resized_without_a_record_is_refused(shards, capsys):
    """A file the shards listed but could not read (no record) changed: a
    resume would try it again, so the merge does not merge without it."""
    images, run_dir, folders = shards
    with open(os.path.join(images, 'a', 'broken.jpg'), 'ab') as f:
        f.write(b' still not a jpeg')
    line = merge_error(capsys, run_dir)
    assert line.startswith('error: {}: a file the shards listed was resized or removed'.format(
        images))
    assert 'rerun every shard' in line
    assert_nothing_merged(run_dir)


def test_a_record_with_a_forged_sha256_is_refused(shards, capsys):
    images, run_dir, folders = shards
    path = os.path.join(folders[2], 'raw', 'other.jsonl')
    rows = [json.loads(line) for line in open(path)]
    rows[-1]['sha256'] = 'f' * 64  # well formed, not the file's
    with open(path, 'w') as f:
        f.writelines(json.dumps(row) + '\n' for row in rows)
    line = merge_error(capsys, run_dir, '--no-score')
    assert line.startswith('error: {}: the record of shard 3/3'.format(
        os.path.join(images, rows[-1]['image'])))
    assert 'sha256 ffffffffffff recorded' in line and path in line
    assert 'rerun that shard (it runs that image again), `python compare/run.py' in line
    assert '--shard 3/3' in line
    assert_nothing_merged(run_dir)
    run(images, '--out', run_dir, '--shard', '3/3', *OPTIONS)  # the fix: it runs that image
    assert 'changed since' in capsys.readouterr().err
    assert merge.main([run_dir, '--no-score']) == 0
    assert shard_records(run_dir, 'other')[rows[-1]['image']] == shard_records(
        folders[2], 'other')[rows[-1]['image']] != 'f' * 64


def test_an_image_removed_after_its_shard_ran_is_refused(shards, capsys):
    images, run_dir, folders = shards
    image = first_record(folders[0], 'other')['image']
    os.remove(os.path.join(images, image))
    line = merge_error(capsys, run_dir)
    assert line.startswith('error: {}: the record of shard 1/3'.format(
        os.path.join(images, image)))
    assert 'cannot be read now' in line and 'rerun every shard' in line
    assert_nothing_merged(run_dir)


def test_without_the_images_folder_nothing_is_merged(shards, capsys):
    images, run_dir, folders = shards
    shutil.rmtree(images)
    path = os.path.join(folders[0], 'meta.json')
    meta = json.load(open(path))
    meta['images']['folder'] = os.path.join(os.path.dirname(images), 'gone')  # the fallback too
    json.dump(meta, open(path, 'w'))
    line = merge_error(capsys, run_dir)
    assert 'the images folder' in line and 'is not there' in line and 'shard 1/3' in line
    assert_nothing_merged(run_dir)


def test_an_image_name_leaving_the_folder_is_not_read(shards):
    assert check._fingerprint(shards[0], '../images/b/im00.png') == (
        None, 'a name outside the images folder')
    assert check._fingerprint(shards[0], '/etc/hostname')[0] is None
    assert len(check._fingerprint(shards[0], 'b/im00.png')[0]) == 64


# -- 8: the shards agree on every setting the merge scores with ----------------------

def test_every_scoring_option_is_compared_and_checked():
    parser = argparse.ArgumentParser()
    add_scoring_options(parser)
    keys = {a.dest for a in parser._actions if a.option_strings and a.dest != 'help'}
    assert {key for key, _ in check.SETTINGS} == keys == set(options.CHECKS)


def test_shards_run_with_another_score_thresh_are_refused(shards, capsys):
    images, run_dir, folders = shards
    run(images, '--out', run_dir, '--shard', '3/3', '--score-thresh', '0.3', *OPTIONS)
    capsys.readouterr()
    line = merge_error(capsys, run_dir)
    assert line.startswith('error: shard 3/3 ({}) ran with --score-thresh 0.3, shard 1/3 ({}) '
                           'with --score-thresh 0.5'.format(folders[2], folders[0]))
    assert 'or pass --score-thresh to the merge' in line
    assert_nothing_merged(run_dir)
    elsewhere = os.path.join(os.path.dirname(run_dir), 'elsewhere')  # made, then removed
    assert 'ran with --score-thresh 0.3' in merge_error(capsys, elsewhere, '--shards', *folders)
    assert not os.path.exists(elsewhere)
    # the merge's own option replaces the shards': compared no more, and recorded
    assert merge.main([run_dir, '--no-score', '--score-thresh', '0.4']) == 0
    assert json.load(open(os.path.join(run_dir, 'meta.json')))['args']['score_thresh'] == 0.4


@pytest.mark.parametrize('key, value, said', [
    ('iou', 0.7, '--iou 0.7'), ('box_convention', 'odapi', '--box-convention odapi'),
    ('annotations', 'none', '--annotations none'), ('pair', ['fake=other'], '--pair fake=other'),
    ('coco_evaluator', 'faster-coco-eval', '--coco-evaluator faster-coco-eval')])
def test_every_setting_that_changes_the_scores_is_compared(shards, capsys, key, value, said):
    run_dir, folders = shards[1:]
    path = os.path.join(folders[1], 'meta.json')
    meta = json.load(open(path))
    assert meta['args'][key] != value
    meta['args'][key] = value
    json.dump(meta, open(path, 'w'))
    line = merge_error(capsys, run_dir, '--no-score')
    assert 'shard 2/3 ({}) ran with {}, shard 1/3'.format(folders[1], said) in line
    assert 'or pass {} to the merge'.format(said.split()[0]) in line
    assert_nothing_merged(run_dir)


# -- 8: every option is checked before anything is written --------------------------

@pytest.mark.parametrize('argv, said', [
    (['--score-thresh', 'nan'], '--score-thresh must be a number between 0 and 1, got nan'),
    (['--score-thresh', '1.5'], '--score-thresh must be a number between 0 and 1'),
    (['--score-thresh=-inf'], '--score-thresh must be a number between 0 and 1'),
    (['--iou', 'nan'], '--iou must be a number with 0 < IOU <= 1'),
    (['--iou', '0'], '--iou must be a number with 0 < IOU <= 1'),
    (['--annotations', 'no/such.json'], '--annotations no/such.json does not exist'),
    (['--no-score', '--score-thresh', 'nan'], '--score-thresh must be a number')])
def test_a_bad_option_stops_the_merge_before_it_writes(shards, capsys, argv, said):
    run_dir = shards[1]
    assert said in merge_error(capsys, run_dir, *argv)
    assert_nothing_merged(run_dir)


def test_a_bad_option_the_shards_ran_with_is_named_with_its_shard(shards, capsys):
    run_dir, folders = shards[1:]
    for folder in folders:  # as a hand-edited meta.json (the run refuses 2.0 itself)
        path = os.path.join(folder, 'meta.json')
        meta = json.load(open(path))
        meta['args']['score_thresh'] = 2.0
        json.dump(meta, open(path, 'w'))
    line = merge_error(capsys, run_dir)
    assert line.startswith('error: shard 1/3 ({}) ran with --score-thresh 2.0, which cannot '
                           'score the merged run'.format(folders[0]))
    assert line.endswith('pass --score-thresh to the merge')
    assert_nothing_merged(run_dir)
    assert merge.main([run_dir, '--no-score']) == 0  # not scored: not used


# -- 9: --shard K/N, whatever it is given ---------------------------------------------

@pytest.mark.parametrize('text', [
    '0/2', '3/2', '-1/2', '1/0', 'a/b', '1/2/3', '', '/', '1/', '١/٢', '1/٢', '1/10001',
    '1/' + '9' * 5000, '9' * 5000 + '/1', '1/2\n', '1\u00a0/2', '+1/2', '1.0/2', '0x1/2'])
def test_a_bad_shard_is_one_short_line(text):
    with pytest.raises(UserError) as caught:
        shard.parse(text)
    message = str(caught.value)
    assert message.startswith('--shard ') and 'expected K/N with 1 <= K <= N <= 10000' in message
    assert '\n' not in message and len(message) < 300


@pytest.mark.parametrize('text, k, n', [(' 1/2', 1, 2), ('1 / 2 ', 1, 2), ('02/03', 2, 3),
                                        ('10000/10000', 10000, 10000),
                                        ('0' * 5000 + '1/2', 1, 2)])
def test_a_good_shard_is_read(text, k, n):
    assert shard.parse(text) == (k, n)


@pytest.mark.parametrize('text', ['1/' + '9' * 5000, '١/٢', '0/2'])
def test_a_bad_shard_stops_the_run_before_it_writes(made, tmp_path, capsys, text):
    out = tmp_path / 'out'
    line = error_line(capsys, run_compare([str(made / 'images'), '--out', str(out),
                                           '--shard', text] + OPTIONS))
    assert line.startswith('error: --shard ') and len(line) < 300
    assert not out.exists()


def test_shard_folders_and_files_with_odd_numbers_are_not_shards(shards, capsys):
    assert rundir.shard_of_folder('2-of-3') == (2, 3)
    for name in ('1-of-' + '9' * 200, '١-of-٢', '1-of-3\n', '-1-of-3'):
        assert rundir.shard_of_folder(name) is None
    run_dir, folders = shards[1:]
    os.makedirs(os.path.join(run_dir, 'shards', '1-of-' + '9' * 200))
    path = os.path.join(folders[0], 'raw', 'shard.json')
    info = json.load(open(path))
    info['n'] = 10 ** 9  # a merge must not count to a billion
    json.dump(info, open(path, 'w'))
    line = merge_error(capsys, run_dir)
    assert line.startswith('error: {} names shard 1/1000000000: not a shard'.format(path))


# -- 10a: a folder given twice is said to be --------------------------------------

def test_a_shard_folder_given_twice_is_named(shards, capsys):
    run_dir, folders = shards[1:]
    os.symlink(folders[0], os.path.join(os.path.dirname(run_dir), 'link'))
    for again in (folders[0], folders[0] + os.sep + '.',
                  os.path.join(os.path.dirname(run_dir), 'link')):
        line = merge_error(capsys, run_dir, '--shards', *(folders + [again]))
        assert line == ('error: {} given twice (also as {}): the same shard folder; pass each '
                        'shard folder once'.format(again, folders[0]))
        assert 'in use' not in line
    line = merge_error(capsys, run_dir, '--shards', run_dir, *folders)
    assert line.startswith('error: {} is the run folder {} itself'.format(run_dir, run_dir))
    assert not any(os.path.exists(os.path.join(f, 'lock')) for f in folders + [run_dir])
    assert_nothing_merged(run_dir)
    assert merge.main([run_dir, '--no-score', '--shards'] + folders) == 0


class Job:
    """A stand-in MPI communicator: rank 0 of a job of ``size`` ranks, each
    bringing what rank 0 brings to every meeting."""

    def __init__(self, size):
        self.size = size

    def Get_rank(self):
        return 0

    def Get_size(self):
        return self.size

    def Ibarrier(self):
        return type('Done', (), {'Test': lambda self: True})()

    def allgather(self, mine):
        return [mine] * self.size


def test_an_mpi_job_of_too_many_ranks_stops_before_it_runs(made, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(mpi_launch, 'communicator', lambda: Job(10001))
    out = tmp_path / 'out'
    args = cli.parser().parse_args([str(made / 'images'), '--out', str(out), '--mpi'] + OPTIONS)
    lines = []
    assert mpi_launch.main(args, lines.append) == 2
    assert lines == ['error: an MPI job of 10001 processes: a run has at most 10000 shards (one '
                     'per rank); launch at most 10000 (mpiexec -n) (every rank)']
    assert not out.exists()


def test_a_slice_of_the_wrong_length_is_one_line(shards, capsys):
    run_dir, folders = shards[1:]
    path = os.path.join(folders[1], 'raw', 'shard.json')
    info = json.load(open(path))
    info['images'] = info['images'][:1]  # the interleaving ran past its end: IndexError
    json.dump(info, open(path, 'w'))
    line = merge_error(capsys, run_dir)
    assert 'do not make up the listing of 7 images they name' in line


def test_a_merge_into_a_folder_of_other_files_is_refused_untouched(shards, capsys, tmp_path):
    _, _, folders = shards
    mine = tmp_path / 'mine'
    mine.mkdir()
    (mine / 'summary.md').write_text('my notes')
    (mine / 'meta.json').write_text('{"tool": "another"}')
    line = merge_error(capsys, mine, '--shards', *folders)
    assert 'not a run folder of this suite' in line and str(mine) in line
    assert sorted(os.listdir(mine)) == ['meta.json', 'summary.md']
    assert (mine / 'summary.md').read_text() == 'my notes'


def test_a_second_merge_deletes_only_what_a_merge_wrote(shards, tmp_path):
    _, _, folders = shards
    out = str(tmp_path / 'merged')
    assert merge.main([out, '--no-score', '--shards', *folders]) == 0
    netout = os.path.join(out, 'raw', 'netout')
    os.makedirs(os.path.join(netout, 'fake'), exist_ok=True)
    keep = os.path.join(netout, 'fake', 'my-notes.txt')
    with open(keep, 'w') as f:
        f.write('mine')
    assert merge.main([out, '--no-score', '--shards', *folders]) == 0
    with open(keep) as f:
        assert f.read() == 'mine'
