"""Hostile option values of ``compare/run.py`` and ``python -m compare.score``:
out-of-range, NaN, infinite, negative, huge, empty and contradictory values
are each one ``error:`` line naming the option (exit 2), before any work."""

import os

import pytest
from hunt_helpers import (
    QUICK,
    SCORED,
    assert_user_error,
    copy_run,
    make_images,
    run,
    score,
    scored_fake_run,
)

RUN_BAD = [
    ('--score-thresh', 'nan'),
    ('--score-thresh', 'inf'),
    ('--score-thresh', '-0.5'),
    ('--score-thresh', '1.5'),
    ('--score-thresh', ''),
    ('--score-thresh', 'abc'),
    ('--iou', '0'),
    ('--iou', '-0.1'),
    ('--iou', '1.5'),
    ('--iou', 'nan'),
    ('--batch-sizes', '0'),
    ('--batch-sizes', '-1'),
    ('--batch-sizes', ''),
    ('--batch-sizes', '1,,2'),
    ('--batch-sizes', '65'),
    ('--batch-sizes', '1,2,3,4,5,6,7,8,9'),
    ('--batch-sizes', 'abc'),
    ('--batch-sizes', '1' + '0' * 400),
    ('--repeats', '-1'),
    ('--repeats', '1001'),
    ('--repeats', 'nan'),
    ('--repeats', '0'),
    ('--warmup', '101'),
    ('--warmup', '-1'),
    ('--common-iou', 'nan'),
    ('--common-iou', '2'),
    ('--common-score', 'nan'),
    ('--common-score', '-1'),
    ('--common-cap', '-1'),
    ('--common-cap', '1' + '0' * 30),
    ('--shard', '0/2'),
    ('--shard', '3/2'),
    ('--shard', '1/0'),
    ('--shard', 'abc'),
    ('--shard', '-1/2'),
    ('--shard', '1/2/3'),
    ('--shard', ''),
]


def _ids(cases):
    return ['{}={}'.format(o.lstrip('-'), v[:12] or 'empty') for o, v in cases]


@pytest.fixture(scope='module')
def images(tmp_path_factory):
    return make_images(tmp_path_factory.mktemp('cli') / 'img', 1)


# Found by the hunt and fixed since: --common-cap 10**30 accepted.
RUN_DEFECTS = {}


@pytest.mark.parametrize(
    'option,value',
    [
        pytest.param(
            o,
            v,
            id=i,
            marks=[pytest.mark.xfail(strict=True, reason='DEFECT: ' + RUN_DEFECTS[(o, v)])]
            if (o, v) in RUN_DEFECTS
            else [],
        )
        for (o, v), i in zip(RUN_BAD, _ids(RUN_BAD), strict=True)
    ],
)
def test_bad_run_option_is_one_user_error_naming_it(capsys, images, tmp_path, option, value):
    extra = ['--common-nms'] if option.startswith('--common') else []
    result = run(
        capsys,
        images,
        '-d',
        'fake',
        '--out',
        tmp_path / 'run',
        option,
        value,
        '--no-progress',
        *extra,
    )
    assert_user_error(result, option)
    assert not os.path.exists(tmp_path / 'run' / 'raw' / 'fake.jsonl')


SPEC_BAD = {
    'unknown_kind': 'nosuchkind',
    'seed_not_a_number': 'fake:abc',
    'count_negative': 'fake,count=-1',
    'count_huge': 'fake,count=1000000000000',
    'delay_nan': 'fake,delay=nan',
    'delay_negative': 'fake,delay=-1',
    'delay_inf': 'fake,delay=inf',
    'empty_name': 'fake,name=',
    'name_too_long': 'fake,name=' + 'x' * 101,
    'name_path_traversal': 'fake,name=../evil',
    'name_with_slash': 'fake,name=a/b',
    'name_nul': 'fake,name=a\x00b',
    'unknown_option': 'fake,bogus=1',
    'empty_spec': '',
    'option_without_value': 'fake,count',
    'file_without_images': 'file:results.json',
    'ours_missing_npz': 'ours:/nonexistent/w.npz',
    'random_weights_bad_value': 'fake,random_weights=maybe',
}


@pytest.mark.parametrize('spec', SPEC_BAD.values(), ids=list(SPEC_BAD))
def test_bad_detector_spec_is_one_user_error(capsys, images, tmp_path, spec):
    result = run(capsys, images, '-d', spec, '--out', tmp_path / 'run', *QUICK)
    assert_user_error(result)
    assert not os.path.exists(tmp_path / 'evil')
    assert not os.path.exists(tmp_path / 'run' / 'raw' / 'fake.jsonl')


def test_two_detectors_of_one_name_are_refused(capsys, images, tmp_path):
    assert_user_error(
        run(capsys, images, '-d', 'fake:1', '-d', 'fake:2', '--out', tmp_path / 'run', *QUICK),
        'fake',
    )


def test_pair_naming_an_unknown_detector_is_refused(capsys, images, tmp_path):
    assert_user_error(
        run(
            capsys, images, '-d', 'fake', '--out', tmp_path / 'run', '--pair', 'fake=ghost', *SCORED
        ),
        'ghost',
    )


def test_pair_without_equals_is_refused(capsys, images, tmp_path):
    assert_user_error(
        run(capsys, images, '-d', 'fake', '--out', tmp_path / 'run', '--pair', 'fake', *SCORED),
        '--pair',
    )


def test_empty_out_is_refused(capsys, tmp_path, monkeypatch):
    images = make_images(tmp_path / 'img', 1)
    monkeypatch.chdir(tmp_path)
    result = run(capsys, images, '-d', 'fake', '--out', '', *QUICK)
    assert not os.path.exists(tmp_path / 'reports')
    assert_user_error(result, '--out')


def test_out_is_an_existing_file_is_refused_and_kept(capsys, images, tmp_path):
    (tmp_path / 'notes.txt').write_text('mine')
    assert_user_error(run(capsys, images, '-d', 'fake', '--out', tmp_path / 'notes.txt', *QUICK))
    assert (tmp_path / 'notes.txt').read_text() == 'mine'


def test_out_equal_to_the_images_folder_keeps_the_images(capsys, tmp_path):
    folder = make_images(tmp_path / 'img', 1)
    before = (tmp_path / 'img' / 'im0.png').read_bytes()
    code, err, _ = run(capsys, folder, '-d', 'fake', '--out', folder, *QUICK)
    assert (tmp_path / 'img' / 'im0.png').read_bytes() == before
    assert code == 2 or code == 0, err


def test_shard_with_mpi_is_contradictory(capsys, images, tmp_path):
    assert_user_error(
        run(
            capsys,
            images,
            '-d',
            'fake',
            '--out',
            tmp_path / 'run',
            '--shard',
            '1/2',
            '--mpi',
            *QUICK,
        )
    )


@pytest.fixture(scope='module')
def scored_run(tmp_path_factory, images):
    return scored_fake_run(images, tmp_path_factory.mktemp('cli_run') / 'run')


SCORE_BAD = [
    ('--score-thresh', 'nan'),
    ('--score-thresh', '-inf'),
    ('--iou', '0'),
    ('--iou', 'nan'),
    ('--nms-thresh', 'nan'),
    ('--nms-thresh', '-1'),
    ('--nms-thresh', '2'),
    ('--decode-score-thresh', 'nan'),
    ('--decode-score-thresh', '-1'),
    ('--box-convention', 'yolo'),
    ('--coco-evaluator', 'mine'),
    pytest.param('--pair', 'a=b', id='pair=a=b'),
]


@pytest.mark.parametrize('option,value', SCORE_BAD, ids=_ids(SCORE_BAD[:-1]) + ['pair=a=b'])
def test_bad_score_option_is_one_user_error_and_keeps_the_tables(
    capsys, scored_run, tmp_path, option, value
):
    run_dir = copy_run(scored_run, tmp_path / 'run')
    before = (tmp_path / 'run' / 'summary.md').read_bytes()
    assert_user_error(score(capsys, run_dir, option, value), option)
    assert (tmp_path / 'run' / 'summary.md').read_bytes() == before


def test_score_of_a_missing_folder_is_a_user_error(capsys, tmp_path):
    assert_user_error(score(capsys, tmp_path / 'nothing'), 'nothing')


def test_score_of_an_empty_folder_is_a_user_error(capsys, tmp_path):
    (tmp_path / 'empty').mkdir()
    assert_user_error(score(capsys, tmp_path / 'empty'), 'empty')
    assert os.listdir(tmp_path / 'empty') == []
