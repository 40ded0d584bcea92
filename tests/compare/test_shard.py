"""Sharding a run: ``--shard K/N`` slices partition the sorted image list,
``python -m compare.merge`` turns the N shard folders into the run folder an
unsharded run writes (same tables, records, skipped files, meta.json), and
refuses, in one line naming the shard, shards that are not one run. The MPI
launch's meetings are checked here on a stand-in communicator; two real
processes run in test_mpi_shard.py (tox -e mpi)."""
import json
import os
import shutil

import pytest
from shardhelp import OPTIONS, assert_same_run, make_images

from compare import rundir
from compare.errors import UserError
from compare.paths import display_path
from compare.run import main as run_compare
from compare.rundir.lock import RunLock
from compare.runner import cli, shard
from compare.shards import merge, mpi_launch


@pytest.mark.parametrize('n', [1, 2, 3, 4, 7, 10])
def test_slices_partition_the_list_in_order(n):
    listing = ['{:02d}.png'.format(i) for i in range(9)]
    slices = [shard.select(listing, k, n) for k in range(1, n + 1)]
    assert sorted(sum(slices, [])) == listing  # nothing lost, nothing twice
    assert max(map(len, slices)) - min(map(len, slices)) <= 1
    assert shard.interleave(slices) == listing
    assert slices[0][:2] == listing[0:2 * n:n]  # shard 1: positions 0, n, ...


@pytest.mark.parametrize('text, k, n', [('1/1', 1, 1), ('2/3', 2, 3), (' 3 / 3', 3, 3)])
def test_parse_accepts_k_from_1_to_n(text, k, n):
    assert shard.parse(text) == (k, n)


@pytest.mark.parametrize('text', ['3/2', '0/2', '1/0', '2', 'a/b', '-1/2', '1/2/3'])
def test_parse_refuses_in_one_line(text):
    with pytest.raises(UserError, match=r'--shard .*expected K/N with 1 <= K <= N'):
        shard.parse(text)


def run(*args):
    assert run_compare([str(a) for a in args]) == 0


@pytest.fixture(scope='module')
def runs(tmp_path_factory):
    """One unsharded run and the three shards of the same images, merged."""
    root = tmp_path_factory.mktemp('shards')
    images = make_images(root)
    single, sharded = str(root / 'single'), str(root / 'sharded')
    run(images, '--out', single, *OPTIONS)
    for k in (2, 1, 3):  # any order
        run(images, '--out', sharded, '--shard', '{}/3'.format(k), *OPTIONS)
    assert merge.main([sharded]) == 0
    return {'root': root, 'images': images, 'single': single, 'sharded': sharded}


def test_merged_shards_equal_one_run(runs):
    assert_same_run(runs['single'], runs['sharded'])
    meta = json.load(open(os.path.join(runs['sharded'], 'meta.json')))
    assert meta['args']['merged_from'] == [
        display_path(rundir.shard_folder(runs['sharded'], k, 3)) for k in (1, 2, 3)]
    assert meta['args']['out'] == display_path(runs['sharded'])


def test_each_shard_holds_its_slice_and_only_shard_1_is_timed(runs):
    listing = [json.loads(line)['image']
               for line in open(os.path.join(runs['single'], 'raw', 'fake.jsonl'))]
    listing.append('a/broken.jpg')  # listed, unreadable: in its shard's skipped.csv
    listing.sort()
    for k in (1, 2, 3):
        folder = rundir.shard_folder(runs['sharded'], k, 3)
        info = json.load(open(os.path.join(folder, 'raw', 'shard.json')))
        assert (info['k'], info['n'], info['listed_total']) == (k, 3, 10)
        assert info['images'] == listing[k - 1::3]
        assert set(r['image'] for r in map(json.loads, open(
            os.path.join(folder, 'raw', 'fake.jsonl')))) <= set(info['images'])
        assert os.path.exists(os.path.join(folder, 'raw', 'timings.csv')) == (k == 1)
        assert not os.path.exists(os.path.join(folder, 'summary.md'))  # shards are not scored
    # the merge times nothing: shard 1's timings, as shard 1 wrote them
    first_shard = rundir.shard_folder(runs['sharded'], 1, 3)
    with open(os.path.join(runs['sharded'], 'raw', 'timings.csv')) as merged, open(
            os.path.join(first_shard, 'raw', 'timings.csv')) as first:
        assert merged.read() == first.read()


@pytest.fixture
def shards(runs, tmp_path):
    """A fresh copy of the three shard folders: ``(run folder, [folders])``."""
    run_dir = str(tmp_path / 'run')
    shutil.copytree(os.path.join(runs['sharded'], rundir.SHARDS),
                    os.path.join(run_dir, rundir.SHARDS))
    return run_dir, [rundir.shard_folder(run_dir, k, 3) for k in (1, 2, 3)]


def merge_error(capsys, *argv):
    assert merge.main([str(a) for a in argv]) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith('error: ')]
    assert len(lines) == 1 and 'Traceback' not in err, err
    return lines[0]


def test_a_missing_shard_is_named(shards, capsys):
    run_dir, folders = shards
    shutil.rmtree(folders[1])
    line = merge_error(capsys, run_dir)
    assert 'shard 2/3 missing (have 1/3, 3/3)' in line and '--shard 2/3' in line
    assert not os.path.exists(os.path.join(run_dir, 'meta.json'))  # nothing written


def test_a_shard_given_twice_and_shards_of_another_n(shards, runs, tmp_path, capsys):
    run_dir, folders = shards
    copy = str(tmp_path / 'copy_of_1')
    shutil.copytree(folders[0], copy)
    line = merge_error(capsys, run_dir, '--shards', *(folders + [copy]))
    assert 'shard 1/3 given twice' in line and copy in line
    other = str(tmp_path / 'other')
    run(runs['images'], '--out', other, '--shard', '2/2', '--no-speed', *OPTIONS)
    line = merge_error(capsys, run_dir, '--shards', folders[0], rundir.shard_folder(other, 2, 2))
    assert 'one of 2 shards' in line and 'same N' in line


def test_a_shard_of_another_detector_or_images(shards, runs, tmp_path, capsys):
    run_dir, folders = shards
    changed = [o.replace('fake:2', 'fake:5') for o in OPTIONS]
    # resuming a shard follows a run's rules: another identity needs --force
    assert run_compare([runs['images'], '--out', run_dir, '--shard', '2/3'] + changed) == 2
    assert 'already holds results of other (written with other weights, settings.seed)' in \
        capsys.readouterr().err
    run(runs['images'], '--out', run_dir, '--shard', '2/3', '--force', *changed)
    line = merge_error(capsys, run_dir)
    assert 'detector other of shard 2/3' in line and '(weights, settings.seed differ)' in line
    run(runs['images'], '--out', run_dir, '--shard', '2/3', '--force', *OPTIONS)
    assert merge.main([run_dir, '--no-score']) == 0  # redone with the same detector: merges
    images = str(tmp_path / 'images')
    shutil.copytree(runs['images'], images)
    os.remove(os.path.join(images, 'b', 'im00.png'))  # shard 3 sees another folder
    assert run_compare([images, '--out', run_dir, '--shard', '3/3'] + OPTIONS) == 2
    assert 'holds a run over the images folder' in capsys.readouterr().err
    run(images, '--out', run_dir, '--shard', '3/3', '--force', *OPTIONS)
    line = merge_error(capsys, run_dir)
    assert 'shard 3/3' in line and 'listed other images' in line


def test_a_loaded_detector_without_its_identity_is_refused(shards, capsys):
    run_dir, folders = shards
    os.remove(os.path.join(folders[0], 'raw', 'other.identity.json'))
    line = merge_error(capsys, run_dir)
    assert 'shard 1/3' in line and 'has no raw/other.identity.json' in line
    assert '--force' in line


@pytest.mark.parametrize('state, said', [('interrupted', 'was interrupted'),
                                         ('failed', 'was stopped by an error'),
                                         ('running', 'did not finish')])
def test_an_unfinished_shard_names_its_command(shards, capsys, state, said):
    run_dir, folders = shards
    path = os.path.join(folders[2], 'meta.json')
    meta = json.load(open(path))
    meta['state'] = state
    json.dump(meta, open(path, 'w'))
    line = merge_error(capsys, run_dir)
    assert 'shard 3/3' in line and said in line and '--shard 3/3' in line


def test_a_shard_still_running_is_refused(shards, capsys):
    """The merge holds each shard's lock while it reads them, and RUN's while
    it writes and scores: a shard (or RUN) in use by another process stops it."""
    run_dir, folders = shards
    with RunLock(folders[1], 'compare/run.py'):
        line = merge_error(capsys, run_dir)
    assert line.startswith('error: {} is in use by pid {}'.format(folders[1], os.getpid()))
    assert 'a shard is merged once it has ended' in line
    assert not os.path.exists(os.path.join(run_dir, 'meta.json'))  # nothing written
    with RunLock(run_dir, 'python -m compare.score'):
        line = merge_error(capsys, run_dir)
    assert line.startswith('error: {} is in use by pid {}'.format(run_dir, os.getpid()))
    assert merge.main([run_dir, '--no-score']) == 0
    assert not any(os.path.exists(os.path.join(folder, 'lock')) for folder in folders + [run_dir])
    os.remove(os.path.join(folders[1], 'raw', 'shard.json'))  # a shard just starting
    with RunLock(folders[1], 'compare/run.py'):
        assert 'is in use by pid' in merge_error(capsys, run_dir)


def test_a_detector_failing_in_one_shard_makes_the_merge_incomplete(shards, runs, capsys):
    """Exit status 3, as one run: the detector is marked failed, and its
    records are only those of the shards where it loaded (shard 2 keeps its
    earlier records, which are not merged)."""
    run_dir, folders = shards
    failing = [o.replace('name=other', 'name=other,fail=gone') for o in OPTIONS]
    assert run_compare([runs['images'], '--out', run_dir, '--shard', '2/3'] + failing) == 3
    capsys.readouterr()
    assert merge.main([run_dir, '--no-score']) == 3
    err = capsys.readouterr().err
    assert 'incomplete: {}: detector other failed: shard 2/3: fake detector asked to fail: ' \
        'gone (exit status 3)'.format(run_dir) in err and 'done:' not in err
    entry = {e['name']: e for e in json.load(open(os.path.join(run_dir, 'meta.json')))[
        'detectors']}['other']
    assert entry['loaded'] and entry['status'].startswith('failed: shard 2/3: ')
    slices = [json.load(open(os.path.join(f, 'raw', 'shard.json')))['images'] for f in folders]
    merged = [json.loads(line)['image'] for line in open(
        os.path.join(run_dir, 'raw', 'other.jsonl'))]
    assert merged and set(merged) <= set(slices[0] + slices[2])
    assert os.path.getsize(os.path.join(folders[1], 'raw', 'other.jsonl'))  # left, not merged
    assert entry['images_done'] == len(merged)


def test_a_record_of_another_shard_is_refused(shards, capsys):
    """Each image is counted once: a record outside its shard's slice stops the merge."""
    run_dir, folders = shards
    with open(os.path.join(folders[0], 'raw', 'fake.jsonl')) as f:
        stolen = f.readline()
    with open(os.path.join(folders[1], 'raw', 'fake.jsonl'), 'a') as f:
        f.write(stolen)
    line = merge_error(capsys, run_dir)
    assert 'shard 2/3' in line and 'of another shard' in line
    assert json.loads(stolen)['image'] in line


def test_a_record_without_its_image_fingerprint_is_refused(shards, capsys):
    run_dir, folders = shards
    path = os.path.join(folders[0], 'raw', 'fake.jsonl')
    rows = [json.loads(line) for line in open(path)]
    del rows[0]['sha256']  # an older format
    with open(path, 'w') as f:
        f.writelines(json.dumps(row) + '\n' for row in rows)
    line = merge_error(capsys, run_dir)
    assert 'shard 1/3' in line and 'without the image\'s sha256' in line
    assert rows[0]['image'] in line


def test_not_a_shard_and_not_into_an_unsharded_run(shards, runs, capsys):
    run_dir, folders = shards
    assert 'has no shard folders' in merge_error(capsys, runs['root'] / 'nowhere')
    assert 'is not a shard folder' in merge_error(capsys, run_dir, '--shards', runs['single'])
    line = merge_error(capsys, runs['single'], '--shards', *folders)
    assert 'holds the results of an unsharded run' in line


def test_shard_option_errors_are_one_line(runs, capsys):
    for text in ('3/2', 'x'):
        assert run_compare([runs['images'], '--out', str(runs['root'] / 'bad'), '--shard', text,
                         '--no-progress'] + OPTIONS[:2]) == 2
        err = capsys.readouterr().err
        assert err.count('error: ') == 1 and '--shard {!r}'.format(text) in err, err


# -- the MPI launch's meetings, on a stand-in communicator -------------------------

class Request:
    def Test(self):
        return True


class Comm:
    """What every rank brings to each allgather, given in advance."""

    def __init__(self, gathered):
        self.gathered = list(gathered)

    def Ibarrier(self):
        return Request()

    def allgather(self, mine):
        return self.gathered.pop(0)


def test_a_failure_at_set_up_stops_every_rank():
    meeting = mpi_launch.Meeting(Comm([[None, 'no detector could be loaded']]))
    with pytest.raises(mpi_launch.PeerFailed):
        meeting.meet('ready')
    assert meeting.failures == [(1, 'no detector could be loaded')]
    meeting.fail('later')  # no meeting is left: returns at once
    assert meeting.failures == [(1, 'no detector could be loaded')]


def test_a_later_failure_reaches_rank_0_at_the_next_meeting():
    meeting = mpi_launch.Meeting(Comm([[None, None], [None, 'interrupted']]))
    meeting.meet('ready')
    assert meeting.failures == []
    meeting.meet('images')  # no raise: this rank's slice is done and kept
    assert meeting.failures == [(1, 'interrupted')]
    plan = mpi_launch._Plan(1, 2, meeting)
    assert plan.sharded and not plan.times  # no timing: the shards will not be merged
    with pytest.raises(RuntimeError, match='out of order'):
        mpi_launch.Meeting(Comm([])).meet('images')


def test_rank_0_reports_one_line(capsys):
    lines = []
    code = mpi_launch._report([(1, 'bad file x'), (2, 'bad file y')], 3, lines.append)
    assert code == 2 and lines == ['error: shard 2/3 (rank 1): bad file x; 1 other rank(s) '
                                   'failed too']
    lines.clear()
    assert mpi_launch._report([(0, 'same'), (1, 'same')], 2, lines.append) == 2
    assert lines == ['error: same (every rank)']


def test_mpi_is_wanted_under_mpiexec_or_with_the_flag(monkeypatch):
    args = cli.parser().parse_args(['images'])
    for name in mpi_launch.SIZE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    assert not mpi_launch.wanted(args)
    monkeypatch.setenv('OMPI_COMM_WORLD_SIZE', '1')
    assert not mpi_launch.wanted(args)
    monkeypatch.setenv('OMPI_COMM_WORLD_SIZE', '2')
    assert mpi_launch.wanted(args)
    monkeypatch.delenv('OMPI_COMM_WORLD_SIZE')
    assert mpi_launch.wanted(cli.parser().parse_args(['images', '--mpi']))


def test_without_mpi4py_the_mpi_launch_says_what_to_install(runs, monkeypatch, capsys):
    monkeypatch.setitem(__import__('sys').modules, 'mpi4py', None)  # import fails
    for name in mpi_launch.RANK_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    assert run_compare([runs['images'], '--mpi', '--out', str(runs['root'] / 'm')]) == 2
    err = capsys.readouterr().err
    assert err.count('error: ') == 1 and 'needs mpi4py' in err and 'openmpi-bin' in err


def set_status(folder, detector, status):
    """Edit a shard's meta.json: ``detector``'s status."""
    path = os.path.join(folder, 'meta.json')
    meta = json.load(open(path))
    for entry in meta['detectors']:
        if entry['name'] == detector:
            entry['status'] = status
    json.dump(meta, open(path, 'w'))


def test_kept_network_outputs_and_error_files_are_carried_over(shards):
    """raw/netout/ (--keep-raw) of every shard, and raw/<detector>.error.txt
    of a shard where the detector failed, reach the merged folder; a second
    merge replaces the first's."""
    import numpy as np

    from compare import rundir
    run_dir, folders = shards
    for k, folder in enumerate(folders, 1):
        image = json.load(open(os.path.join(folder, 'raw', 'shard.json')))['images'][0]
        rundir.write_netout(folder, 'fake', image, np.full((3, 4), k, np.float32),
                            np.zeros((3, 2), np.float32), (20, 28), 300)
    rundir.write_error(folders[0], 'fake', 'an error file of an earlier run\n')  # status ok
    rundir.write_error(folders[1], 'other', 'Traceback: the second shard\n')
    set_status(folders[1], 'other', 'failed: on a/im01.png: RuntimeError: boom')
    assert merge.main([run_dir, '--no-score']) == 3
    kept = sorted(os.listdir(os.path.join(run_dir, 'raw', 'netout', 'fake')))
    images = [name[:-4].replace('%2F', '/').replace('%25', '%') for name in kept]
    assert [int(rundir.read_netout(run_dir, 'fake', image)[0][0, 0])
            for image in images] == [1, 2, 3]  # shard k's first image: positions k-1, in order
    error = open(os.path.join(run_dir, 'raw', 'other.error.txt')).read()
    assert error == '== shard 2/3 ({}) ==\nTraceback: the second shard\n'.format(folders[1])
    assert not os.path.exists(os.path.join(run_dir, 'raw', 'fake.error.txt'))
    set_status(folders[1], 'other', 'ok')
    assert merge.main([run_dir, '--no-score']) == 0
    assert not os.path.exists(os.path.join(run_dir, 'raw', 'other.error.txt'))


def test_the_merge_scores_with_the_shards_options_unless_told_otherwise():
    """--iou and --coco-evaluator, like --box-convention: the merge's own
    option if given, else what the shards ran with (meta.json's args)."""
    meta = rundir.RunMeta({}, {'annotations': 'a.json', 'box_convention': 'odapi', 'iou': 0.7,
                               'coco_evaluator': 'faster-coco-eval', 'score_thresh': 0.3},
                          None, 'complete', ())
    assert merge.scoring_options(meta) == {
        'annotations': 'a.json', 'box_convention': 'odapi', 'iou': 0.7,
        'coco_evaluator': 'faster-coco-eval', 'score_thresh': 0.3, 'pair': None}
    given = merge.scoring_options(meta, iou=0.5, coco_evaluator='pycocotools')
    assert (given['iou'], given['coco_evaluator']) == (0.5, 'pycocotools')
    args = merge.parser().parse_args(['run', '--iou', '0.6', '--coco-evaluator',
                                      'faster-coco-eval'])
    assert (args.iou, args.coco_evaluator) == (0.6, 'faster-coco-eval')
    assert merge.parser().parse_args(['run']).iou is None  # then the shards' own
    # --pair repeats, as on the run and in re-scoring
    args = merge.parser().parse_args(['run', '--pair', 'a=b', '--pair', 'c=d'])
    assert merge.scoring_options(meta, pair=args.pair)['pair'] == args.pair
    assert len(args.pair) == 2
