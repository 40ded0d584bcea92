"""A run never damages what it did not write, never writes through a link,
and never claims records it does not hold (the hostile audit of the run folder).

Each test runs ``compare/run.py`` in-process on tiny images with fake
detectors and checks the exit status, the one error line, and the bytes left
on disk: a folder that is not a run folder of this suite is refused untouched
(``--force`` included), a link where the run writes is refused and its target
left as it was, the lock refuses a link and a named pipe without blocking,
and records truncated or deleted while the run goes on make it fail in one
line, after which rerunning the same command redoes exactly the missing
images.
"""
import json
import os
import threading

import pytest
from runhelp import QUICK, error_line, main, make_images

from compare import rundir
from compare.adapters import fake
from compare.errors import UserError
from compare.rundir import files
from compare.rundir.lock import RunLock
from compare.runner import loop
from compare.runner.scoring import main as score_main
from compare.shards.merge import main as merge_main


def snapshot(folder):
    """``{relative path: bytes, '->target' (a link) or 'dir'}`` of all under ``folder``."""
    found = {}
    for root, dirs, names in os.walk(folder):
        for name in dirs + names:
            path = os.path.join(root, name)
            key = os.path.relpath(path, folder)
            if os.path.islink(path):
                found[key] = '->' + os.readlink(path)
            elif os.path.isdir(path):
                found[key] = 'dir'
            else:
                found[key] = open(path, 'rb').read()
    return found


def users_folder(root):
    """A folder of the user's own results, with the names a run would write."""
    folder = os.path.join(str(root), 'mine')
    os.makedirs(os.path.join(folder, 'figures'))
    for name, text in [('summary.md', '# my summary\n'), ('report.html', '<p>mine</p>'),
                       ('detections.csv', 'a,b\n1,2\n'), ('figures/pr_cat.png', 'my png'),
                       ('figures/det_001_x.jpg', 'my jpg'), ('notes.txt', 'notes')]:
        with open(os.path.join(folder, name), 'w') as f:
            f.write(text)
    return folder


def meta_state(out):
    with open(os.path.join(out, 'meta.json')) as f:
        return json.load(f)


def lines(out, detector='fake'):
    with open(rundir.records_file(out, detector)) as f:
        return [json.loads(line)['image'] for line in f]


# -- 1. only an empty, new or own run folder is written ----------------------------------

@pytest.mark.parametrize('force', [[], ['--force']])
def test_a_users_folder_is_refused_untouched(tmp_path, capsys, force):
    images, out = make_images(tmp_path / 'a'), users_folder(tmp_path)
    before = snapshot(out)
    code, err = main(capsys, images, '-d', 'fake', '--out', out, *QUICK, *force)
    assert code == 2
    line = error_line(err)
    assert line.startswith('error: {}: not a run folder of this suite (no meta.json of a run; '
                           'it holds detections.csv, figures, notes.txt, report.html, ...)'
                           .format(out))
    assert line.endswith('pass a new or empty --out')
    assert snapshot(out) == before


def test_another_tools_meta_json_is_refused_even_with_force(tmp_path, capsys):
    images, out = make_images(tmp_path / 'a'), str(tmp_path / 'other')
    os.makedirs(os.path.join(out, 'raw'))
    with open(os.path.join(out, 'meta.json'), 'w') as f:
        json.dump({'tool': 'someone else', 'state': 'complete'}, f)
    with open(os.path.join(out, 'raw', 'fake.jsonl'), 'w') as f:
        f.write('their data\n')
    before = snapshot(out)
    code, err = main(capsys, images, '-d', 'fake', '--out', out, '--force', *QUICK)
    assert code == 2
    assert ('{}: not a run folder of this suite (its meta.json is not one of this suite\'s and '
            'there is no raw/README.md of a run; it holds meta.json, raw)'.format(out)
            in error_line(err))
    assert snapshot(out) == before


def test_an_empty_folder_and_what_a_stopped_run_left_are_written(tmp_path, capsys):
    images = make_images(tmp_path / 'a')
    empty, early = str(tmp_path / 'empty'), str(tmp_path / 'early')
    os.makedirs(empty)
    os.makedirs(os.path.join(early, 'raw'))  # a run stopped before its first file
    open(os.path.join(early, 'lock'), 'w').close()
    for out in (empty, early):
        assert main(capsys, images, '-d', 'fake', '--out', out, *QUICK)[0] == 0
        assert lines(out) == ['im0.png', 'im1.png', 'im2.png']


def test_force_recovers_a_run_folder_whose_meta_json_is_damaged(tmp_path, capsys):
    images, out = make_images(tmp_path / 'a'), str(tmp_path / 'o')
    assert main(capsys, images, '-d', 'fake', '--out', out, *QUICK)[0] == 0
    with open(os.path.join(out, 'meta.json'), 'w') as f:
        f.write('{"half')
    code, err = main(capsys, images, '-d', 'fake', '--out', out, *QUICK)
    assert code == 2 and 'meta.json is not valid JSON' in error_line(err)
    assert main(capsys, images, '-d', 'fake', '--out', out, '--force', *QUICK)[0] == 0
    assert meta_state(out)['state'] == 'complete'


def test_force_and_scoring_delete_only_what_the_suite_wrote(tmp_path, capsys):
    images, out = make_images(tmp_path / 'a'), str(tmp_path / 'o')
    assert main(capsys, images, '-d', 'fake', '--out', out, '--no-progress', '--no-speed')[0] == 0
    drawn = sorted(os.listdir(os.path.join(out, 'figures')))
    assert drawn and all(rundir.layout.is_figure(name) for name in drawn)
    mine = {'notes.txt': b'mine', 'figures/my_plot.png': b'png', 'raw/keep.txt': b'raw',
            'raw/netout/fake/my.txt': b'kept'}
    for name, data in mine.items():
        os.makedirs(os.path.dirname(os.path.join(out, name)), exist_ok=True)
        with open(os.path.join(out, name), 'wb') as f:
            f.write(data)
    assert main(capsys, images, '-d', 'fake', '--out', out, '--force', '--no-progress',
                '--no-speed')[0] == 0
    assert sorted(os.listdir(os.path.join(out, 'figures'))) == sorted(drawn + ['my_plot.png'])
    after = snapshot(out)
    assert {name: after[name] for name in mine} == mine  # raw/netout/fake: only .npz removed
    assert lines(out) == ['im0.png', 'im1.png', 'im2.png']


def test_a_figure_name_the_layout_does_not_own_is_a_bug():
    assert rundir.figure('pr_cat.png') == os.path.join('figures', 'pr_cat.png')
    with pytest.raises(ValueError):
        rundir.figure('anything.png')


# -- 2. never written through a link -----------------------------------------------------

@pytest.mark.parametrize('name', ['lock', 'meta.json', 'raw/fake.jsonl', 'raw/fake.identity.json',
                                  'raw/skipped.csv', 'raw/README.md', 'raw/fake.jsonl.part'])
def test_a_link_where_the_run_writes_is_refused_and_its_target_unchanged(tmp_path, capsys,
                                                                         name):
    images, out = make_images(tmp_path / 'a'), str(tmp_path / 'o')
    assert main(capsys, images, '-d', 'fake', '--out', out, *QUICK)[0] == 0
    target = str(tmp_path / 'target.txt')
    with open(target, 'wb') as f:
        f.write(b'the user\'s file')
    link = os.path.join(out, name)
    files.remove(link)
    os.symlink(target, link)
    before = snapshot(out)
    for force in ([], ['--force']):
        code, err = main(capsys, images, '-d', 'fake', '--out', out, *QUICK, *force)
        assert code == 2
        assert error_line(err).startswith('error: {} is a symbolic link: '.format(link))
        assert open(target, 'rb').read() == b'the user\'s file'
        assert snapshot(out) == before


def test_scoring_refuses_a_linked_report_and_leaves_its_target(tmp_path, capsys):
    images, out = make_images(tmp_path / 'a'), str(tmp_path / 'o')
    assert main(capsys, images, '-d', 'fake', '--out', out, *QUICK)[0] == 0
    target = str(tmp_path / 'page.html')
    with open(target, 'w') as f:
        f.write('mine')
    os.symlink(target, os.path.join(out, 'report.html'))
    assert score_main([out]) == 2
    err = capsys.readouterr().err
    assert error_line(err).startswith('error: {} is a symbolic link'.format(
        os.path.join(out, 'report.html')))
    assert open(target).read() == 'mine' and not os.path.exists(os.path.join(out, 'summary.md'))


def test_a_linked_raw_folder_is_refused(tmp_path, capsys):
    images, out = make_images(tmp_path / 'a'), str(tmp_path / 'o')
    assert main(capsys, images, '-d', 'fake', '--out', out, *QUICK)[0] == 0
    os.rename(os.path.join(out, 'raw'), str(tmp_path / 'elsewhere'))
    os.symlink(str(tmp_path / 'elsewhere'), os.path.join(out, 'raw'))
    before = snapshot(tmp_path / 'elsewhere')
    code, err = main(capsys, images, '-d', 'fake', '--out', out, '--force', *QUICK)
    assert code == 2
    assert error_line(err).startswith('error: {} is a symbolic link'.format(
        os.path.join(out, 'raw')))
    assert snapshot(tmp_path / 'elsewhere') == before


def test_the_writers_never_follow_a_link(tmp_path):
    target = str(tmp_path / 'target')
    with open(target, 'w') as f:
        f.write('T')
    link = str(tmp_path / 'file')
    os.symlink(target, link)
    for write in (lambda: files.write_text(link, 'x'), lambda: files.AppendFile(link),
                  lambda: files.truncate(link, 0)):
        with pytest.raises(UserError, match='is a symbolic link'):
            write()
    os.symlink(target, str(tmp_path / 'new.part'))  # the temporary file of an atomic write
    with pytest.raises(UserError, match='new.part is a symbolic link'):
        files.write_text(str(tmp_path / 'new'), 'fresh')
    assert open(target).read() == 'T' and not os.path.lexists(str(tmp_path / 'new'))
    with open(str(tmp_path / 'old.part'), 'w') as f:  # left by a killed run: replaced
        f.write('half')
    files.write_text(str(tmp_path / 'old'), 'whole')
    assert open(str(tmp_path / 'old')).read() == 'whole'
    assert not os.path.lexists(str(tmp_path / 'old.part'))


def test_a_linked_lock_of_a_shard_is_refused_by_the_shard_and_the_merge(tmp_path, capsys):
    images, out = make_images(tmp_path / 'a', count=4), str(tmp_path / 'o')
    for k in (1, 2):
        assert main(capsys, images, '-d', 'fake', '--out', out, '--shard', '{}/2'.format(k),
                    *QUICK)[0] == 0
    target = str(tmp_path / 'target')
    with open(target, 'w') as f:
        f.write('T')
    lock = os.path.join(rundir.shard_folder(out, 2, 2), 'lock')
    os.symlink(target, lock)
    code, err = main(capsys, images, '-d', 'fake', '--out', out, '--shard', '2/2', *QUICK)
    assert code == 2 and error_line(err).startswith('error: {} is a symbolic link'.format(lock))
    assert merge_main([out, '--no-score']) == 2
    assert error_line(capsys.readouterr().err).startswith(
        'error: the lock file {} is a symbolic link'.format(lock))
    assert open(target).read() == 'T' and os.path.islink(lock)


# -- 10b. the lock: a link or a named pipe, one line, never blocking ------------------------

@pytest.mark.timeout(60)
@pytest.mark.parametrize('kind', ['fifo', 'link'])
def test_the_lock_refuses_a_pipe_or_a_link_without_blocking(tmp_path, kind):
    lock = str(tmp_path / 'lock')
    target = str(tmp_path / 'target')
    with open(target, 'w') as f:
        f.write('T')
    os.mkfifo(lock) if kind == 'fifo' else os.symlink(target, lock)
    found = []

    def take():
        try:
            with RunLock(str(tmp_path), 'test'):
                found.append('taken')
        except UserError as exc:
            found.append(str(exc))
    thread = threading.Thread(target=take, daemon=True)
    thread.start()
    thread.join(20)
    assert not thread.is_alive(), 'the lock blocked on {}'.format(kind)
    what = 'a named pipe' if kind == 'fifo' else 'a symbolic link'
    assert found == ['the lock file {} is {}: a run folder\'s lock is a regular file, never '
                     'opened through a link; remove it (rm {} removes only that entry: the lock '
                     'holds nothing of the run) and rerun'.format(lock, what, lock)]
    assert open(target).read() == 'T'


@pytest.mark.timeout(60)
def test_a_run_whose_lock_is_a_named_pipe_says_so(tmp_path, capsys):
    images, out = make_images(tmp_path / 'a'), str(tmp_path / 'o')
    assert main(capsys, images, '-d', 'fake', '--out', out, *QUICK)[0] == 0
    os.mkfifo(os.path.join(out, 'lock'))
    code, err = main(capsys, images, '-d', 'fake', '--out', out, *QUICK)
    assert code == 2
    assert error_line(err) == (
        'error: {} is a named pipe: a run folder\'s files are written only as regular files at '
        'their own path (never through a link, never into a pipe); remove it (that removes only '
        'the entry) or pass another --out'.format(os.path.join(out, 'lock')))


# -- 3. records that change while the run goes on ---------------------------------------

class Calls:
    """Counts the fake detectors' ``predict`` calls per detector, and runs
    ``hook(adapter, number)`` before each (number from 1)."""

    def __init__(self, monkeypatch, hook=None):
        self.done, self.hook = {}, hook
        original = fake.FakeAdapter.predict
        calls = self

        def predict(adapter, images):
            calls.done[adapter.name] = calls.done.get(adapter.name, 0) + 1
            if calls.hook:
                calls.hook(adapter, calls.done[adapter.name])
            return original(adapter, images)
        monkeypatch.setattr(fake.FakeAdapter, 'predict', predict)


def cut(out, name, keep, extra=b''):
    """Truncate ``raw/<name>.jsonl`` to its first ``keep`` lines (+ ``extra`` bytes of the next)."""
    path = rundir.records_file(out, name)
    data = open(path, 'rb').read()
    ends = [i + 1 for i, byte in enumerate(data) if byte == ord('\n')]
    size = (ends[keep - 1] if keep else 0) + len(extra)
    with open(path, 'r+b') as f:
        f.truncate(size)


IMAGES5 = ['im{}.png'.format(i) for i in range(5)]


@pytest.mark.parametrize('how', ['lines', 'mid-line', 'deleted'])
def test_records_cut_while_the_run_goes_on_fail_it_and_a_rerun_redoes_them(
        tmp_path, capsys, monkeypatch, how):
    images, out = make_images(tmp_path / 'a', count=5), str(tmp_path / 'o')
    path = rundir.records_file(out, 'a')

    fired = []

    def hook(adapter, number):
        if adapter.name == 'a' and number == 4 and not fired:  # after 3 images of a, once
            fired.append(number)
            if how == 'deleted':
                os.remove(path)
            else:
                cut(out, 'a', 2, b'{"ima' if how == 'mid-line' else b'')
    calls = Calls(monkeypatch, hook)
    code, err = main(capsys, images, '-d', 'fake:1,name=a', '-d', 'fake:2,name=b', '--out',
                     out, *QUICK)
    assert code == 2
    line = error_line(err)
    assert line.startswith('error: {} '.format(path))
    assert line.endswith('while the run went on; rerun the same command to redo the missing '
                         'images')
    assert meta_state(out)['state'] == 'failed'
    calls.done.clear()
    code, err = main(capsys, images, '-d', 'fake:1,name=a', '-d', 'fake:2,name=b', '--out',
                     out, *QUICK)
    assert code == 0, err
    assert calls.done == {'a': 5 if how == 'deleted' else 3, 'b': 2}  # b stopped at image 4
    assert sorted(lines(out, 'a')) == IMAGES5 and sorted(lines(out, 'b')) == IMAGES5
    meta = meta_state(out)
    assert meta['state'] == 'complete'
    assert [d['images_done'] for d in meta['detectors']] == [5, 5]


@pytest.mark.parametrize('keep', [0, 2])
def test_records_cut_after_the_last_image_are_found_at_the_end(tmp_path, capsys, monkeypatch,
                                                               keep):
    images, out = make_images(tmp_path / 'a', count=5), str(tmp_path / 'o')
    original = loop.run_images

    def run_images(*args, **kwargs):
        counts = original(*args, **kwargs)
        cut(out, 'fake', keep)
        return counts
    monkeypatch.setattr(loop, 'run_images', run_images)
    code, err = main(capsys, images, '-d', 'fake', '--out', out, *QUICK)
    assert code == 2
    missing = IMAGES5[keep:]
    assert error_line(err) == (
        'error: {} holds records of {} of the 5 images this run did or resumed ({} missing: {}'
        '): it changed while the run went on; rerun the same command to redo the missing '
        'images'.format(rundir.records_file(out, 'fake'), keep, len(missing),
                        ', '.join(missing[:3]) + (', ...' if len(missing) > 3 else '')))
    meta = meta_state(out)
    assert meta['state'] == 'failed' and meta['detectors'][0]['images_done'] == keep
    monkeypatch.setattr(loop, 'run_images', original)
    calls = Calls(monkeypatch)
    assert main(capsys, images, '-d', 'fake', '--out', out, *QUICK)[0] == 0
    assert calls.done == {'fake': 5 - keep}
    assert lines(out) == IMAGES5
    assert meta_state(out)['detectors'][0]['images_done'] == 5
