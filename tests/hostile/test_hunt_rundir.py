"""Damaged and tampered run folders given to ``python -m compare.score``,
``compare.export``, ``compare.merge`` and a rerun of ``compare/run.py``: each
is one ``error:`` line naming what is wrong (exit 2), and what was saved
(``raw/``) is left as it was."""

import json
import os
import shutil

import pytest
from hunt_helpers import (
    QUICK,
    assert_kept,
    assert_user_error,
    copy_run,
    export,
    make_images,
    merge,
    run,
    score,
    scored_fake_run,
    snapshot,
)


@pytest.fixture(scope='module')
def base(tmp_path_factory):
    root = tmp_path_factory.mktemp('rundir')
    scored_fake_run(make_images(root / 'img', 2), root / 'run')
    return root


@pytest.fixture
def damaged(base, tmp_path):
    return copy_run(base / 'run', tmp_path / 'run')


def _write(path, text):
    with open(path, 'w') as f:
        f.write(text)


META_DAMAGE = {
    'deleted': lambda d: os.remove(os.path.join(d, 'meta.json')),
    'garbage': lambda d: _write(os.path.join(d, 'meta.json'), '{garbage'),
    'a_list': lambda d: _write(os.path.join(d, 'meta.json'), '[]'),
    'empty_object': lambda d: _write(os.path.join(d, 'meta.json'), '{}'),
    'detectors_not_a_list': lambda d: _edit_meta(d, detectors=5),
    'a_directory': lambda d: (
        os.remove(os.path.join(d, 'meta.json')),
        os.mkdir(os.path.join(d, 'meta.json')),
    ),
}


def _edit_meta(run_dir, **fields):
    path = os.path.join(run_dir, 'meta.json')
    with open(path) as f:
        meta = json.load(f)
    meta.update(fields)
    _write(path, json.dumps(meta))


@pytest.mark.parametrize('damage', list(META_DAMAGE))
def test_score_of_damaged_meta_is_one_user_error_and_keeps_raw(capsys, damaged, damage):
    META_DAMAGE[damage](damaged)
    before = snapshot(os.path.join(damaged, 'raw'))
    assert_user_error(score(capsys, damaged), 'meta.json')
    assert_kept(before, os.path.join(damaged, 'raw'))


@pytest.mark.parametrize('damage', ['garbage', 'a_list', 'empty_object'])
def test_export_of_damaged_meta_is_one_user_error(capsys, damaged, tmp_path, damage):
    META_DAMAGE[damage](damaged)
    assert_user_error(export(capsys, damaged, '--coco', tmp_path / 'coco'), 'meta.json')
    assert not os.path.exists(tmp_path / 'coco') or os.listdir(tmp_path / 'coco') == []


def test_rerun_over_garbage_meta_without_force_is_refused_and_keeps_raw(capsys, base, damaged):
    META_DAMAGE['garbage'](damaged)
    before = snapshot(os.path.join(damaged, 'raw'))
    line = assert_user_error(
        run(capsys, base / 'img', '-d', 'fake', '--out', damaged, *QUICK), 'meta.json'
    )
    assert '--force' in line
    assert_kept(before, os.path.join(damaged, 'raw'))


def test_rerun_over_garbage_meta_with_force_recovers(capsys, base, damaged):
    META_DAMAGE['garbage'](damaged)
    code, err, _ = run(capsys, base / 'img', '-d', 'fake', '--out', damaged, '--force', *QUICK)
    assert code == 0, err
    with open(os.path.join(damaged, 'meta.json')) as f:
        assert json.load(f)['detectors'][0]['name'] == 'fake'


def test_rerun_on_another_images_folder_is_refused_and_keeps_raw(capsys, damaged, tmp_path):
    other = make_images(tmp_path / 'other', 2, seed=5)
    before = snapshot(damaged)
    assert_user_error(run(capsys, other, '-d', 'fake', '--out', damaged, *QUICK))
    assert_kept(before, damaged)


def test_score_of_raw_deleted_is_one_user_error(capsys, damaged):
    shutil.rmtree(os.path.join(damaged, 'raw'))
    assert_user_error(score(capsys, damaged))


def test_score_of_a_records_file_replaced_by_a_folder_is_one_user_error(capsys, damaged):
    os.remove(os.path.join(damaged, 'raw', 'fake.jsonl'))
    os.mkdir(os.path.join(damaged, 'raw', 'fake.jsonl'))
    result = score(capsys, damaged)
    assert (
        result[0] == 2 and len([x for x in result[1].splitlines() if x.startswith('error:')]) == 1
    )


def test_score_of_a_file_not_a_folder_is_one_user_error(capsys, tmp_path):
    (tmp_path / 'f').write_text('x')
    assert_user_error(score(capsys, tmp_path / 'f'), 'f')


def _gt(tmp_path):
    path = tmp_path / 'gt.json'
    path.write_text(
        json.dumps(
            {
                'images': [
                    {'id': i + 1, 'file_name': 'im{}.png'.format(i), 'height': 20, 'width': 30}
                    for i in range(2)
                ],
                'categories': [
                    {'id': 1, 'name': 'cat'},
                    {'id': 2, 'name': 'dog'},
                    {'id': 3, 'name': 'person'},
                ],
                'annotations': [
                    {
                        'id': 1,
                        'image_id': 1,
                        'category_id': 1,
                        'bbox': [1, 2, 10, 8],
                        'area': 80,
                        'iscrowd': 0,
                    }
                ],
            }
        )
    )
    return path


def test_export_unknown_detector_is_one_user_error(capsys, damaged, tmp_path):
    assert_user_error(
        export(
            capsys,
            damaged,
            '--coco',
            tmp_path / 'coco',
            '--detector',
            'ghost',
            '--annotations',
            _gt(tmp_path),
        ),
        'ghost',
    )


def test_export_into_an_existing_plain_file_keeps_it(capsys, damaged, tmp_path):
    (tmp_path / 'mine').write_text('mine')
    assert_user_error(
        export(capsys, damaged, '--coco', tmp_path / 'mine', '--annotations', _gt(tmp_path)), 'mine'
    )
    assert (tmp_path / 'mine').read_text() == 'mine'


def test_export_of_a_missing_run_is_one_user_error(capsys, tmp_path):
    assert_user_error(export(capsys, tmp_path / 'nothing', '--coco', tmp_path / 'coco'), 'nothing')


def test_export_then_read_back_as_a_file_detector_round_trips(capsys, base, damaged, tmp_path):
    gt = _gt(tmp_path)
    code, err, _ = export(capsys, damaged, '--coco', tmp_path / 'coco', '--annotations', gt)
    assert code == 0, err
    spec = 'file:{},images={},name=back'.format(tmp_path / 'coco' / 'fake.results.json', gt)
    code, err, _ = run(capsys, base / 'img', '-d', spec, '--out', tmp_path / 'back', *QUICK)
    assert code == 0, err
    with open(os.path.join(damaged, 'raw', 'fake.jsonl')) as f:
        want = sum(len(json.loads(line)['detections']) for line in f)
    with open(tmp_path / 'back' / 'raw' / 'back.jsonl') as f:
        assert sum(len(json.loads(line)['detections']) for line in f) == want


def test_merge_without_shards_is_one_user_error_and_keeps_the_run(capsys, damaged):
    before = snapshot(damaged)
    assert_user_error(merge(capsys, damaged))
    assert_kept(before, damaged)


def test_merge_of_a_plain_folder_named_as_shard_is_one_user_error(capsys, tmp_path):
    (tmp_path / 'notashard').mkdir()
    (tmp_path / 'notashard' / 'x.txt').write_text('x')
    assert_user_error(
        merge(capsys, tmp_path / 'out', '--shards', tmp_path / 'notashard'), 'notashard'
    )
    assert (tmp_path / 'notashard' / 'x.txt').read_text() == 'x'


def test_merge_of_a_complete_run_as_its_own_shard_is_refused(capsys, damaged, tmp_path):
    before = snapshot(damaged)
    assert_user_error(merge(capsys, tmp_path / 'out', '--shards', damaged))
    assert_kept(before, damaged)


def test_merge_of_one_shard_of_two_is_refused_and_keeps_it(capsys, base, tmp_path):
    out = tmp_path / 'run'
    assert run(capsys, base / 'img', '-d', 'fake', '--out', out, '--shard', '1/2', *QUICK)[0] == 0
    before = snapshot(out)
    assert_user_error(merge(capsys, out))
    assert_kept(before, out)
