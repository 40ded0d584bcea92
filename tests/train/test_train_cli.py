"""``python -m replicate.train`` end to end on a tiny model and dataset:
resume equals an uninterrupted run, fine-tuning with a frozen base, the loss
falls, and a NaN loss stops with the last good snapshot kept."""
import json
import os

import numpy as np
from trainhelp import TINY

from replicate.train import cli
from replicate.train.snapshot import load_model


def train(shapes_voc, out, *extra):
    argv = ['--train', shapes_voc, '--train-split', 'train', '--out', str(out), '--quiet',
            '--batch-size', '4', '--log-interval', '1', '--lr', '0.01'] + TINY + list(extra)
    return cli.main(argv)


def losses(out):
    with open(os.path.join(str(out), 'log')) as f:
        return [entry['main/loss'] for entry in json.load(f)]


def arrays(path):
    with np.load(str(path), allow_pickle=False) as npz:
        return {key: npz[key] for key in npz.files if key != '__meta__'}


def test_resume_equals_an_uninterrupted_run(shapes_voc, tmp_path):
    common = ['--iterations', '6', '--snapshot-interval', '3', '--eval-interval', '3']
    assert train(shapes_voc, tmp_path / 'whole', *common) == 0
    assert sorted(os.listdir(tmp_path / 'whole')) == [
        'log', 'model.npz', 'snapshot_iter_3.npz', 'snapshot_iter_6.npz']
    assert train(shapes_voc, tmp_path / 'resumed', *common, '--resume',
                 str(tmp_path / 'whole' / 'snapshot_iter_3.npz')) == 0
    whole, resumed = arrays(tmp_path / 'whole' / 'model.npz'), \
        arrays(tmp_path / 'resumed' / 'model.npz')
    assert whole.keys() == resumed.keys()
    for key in whole:
        np.testing.assert_array_equal(resumed[key], whole[key], err_msg=key)
    assert losses(tmp_path / 'resumed') == losses(tmp_path / 'whole')
    assert len(set(losses(tmp_path / 'whole'))) == 6


def test_resume_keeps_the_recipe(shapes_voc, tmp_path, capsys):
    assert train(shapes_voc, tmp_path / 'a', '--iterations', '2') == 0
    code = train(shapes_voc, tmp_path / 'b', '--iterations', '4', '--width', '8', '--resume',
                 str(tmp_path / 'a' / 'snapshot_iter_2.npz'))
    assert code == 2
    err = capsys.readouterr().err
    assert '--width 8 differs from the snapshot' in err and err.count('\n') == 1


def test_loss_falls_over_a_few_dozen_iterations(shapes_voc, tmp_path):
    assert train(shapes_voc, tmp_path, '--iterations', '40', '--no-augment', '--lr', '0.05',
                 '--eval-interval', '0', '--snapshot-interval', '0') == 0
    loss = losses(tmp_path)
    assert len(loss) == 40 and np.isfinite(loss).all()
    assert np.mean(loss[-5:]) < 0.6 * np.mean(loss[:5]), loss


def test_finetune_new_classes_with_a_frozen_base(shapes_voc, tmp_path):
    assert train(shapes_voc, tmp_path / 'source', '--iterations', '2') == 0
    source, _ = load_model(str(tmp_path / 'source' / 'model.npz'))
    # a new class set: 3 of the 5 classes, in another order
    assert train(shapes_voc, tmp_path / 'tuned', '--iterations', '3', '--finetune-from',
                 str(tmp_path / 'source' / 'model.npz'), '--freeze-base', '--classes',
                 'star,circle,square,triangle,cross', '--lr', '0.05') == 0
    tuned, meta = load_model(str(tmp_path / 'tuned' / 'model.npz'))
    assert meta['label_names'][0] == 'star' and meta['recipe']['freeze_base']
    before = {k: p.array for k, p in source.namedparams()}
    after = {k: p.array for k, p in tuned.namedparams()}
    base = tuple('/extractor/{}/'.format(n) for n in source.extractor.base_links)
    for key, value in after.items():
        if key.startswith(base):
            np.testing.assert_array_equal(value, before[key], err_msg=key)
        elif key.startswith('/extractor/') or key.startswith('/multibox/loc/'):
            assert not np.array_equal(value, before[key]), key
    # the class heads were new: not the source's
    assert not np.array_equal(after['/multibox/conf/0/W'], before['/multibox/conf/0/W'])


def test_finetune_from_a_file_that_does_not_fit(shapes_voc, tmp_path, capsys):
    path = str(tmp_path / 'other.npz')
    np.savez(path, **{'extractor/conv1/conv/W': np.zeros((1, 1, 1, 1), np.float32)})
    assert train(shapes_voc, tmp_path / 'out', '--iterations', '1', '--finetune-from',
                 path) == 2
    err = capsys.readouterr().err
    assert path in err and 'does not fit' in err and err.count('\n') == 1


def test_nan_loss_stops_and_keeps_the_last_good_snapshot(shapes_voc, tmp_path, capsys):
    code = train(shapes_voc, tmp_path, '--iterations', '30', '--lr', '1e12',
                 '--snapshot-interval', '1', '--eval-interval', '0')
    assert code == 3
    err = capsys.readouterr().err
    assert ('the loss became' in err or 'the parameters became' in err) \
        and err.count('\n') == 1
    snapshots = sorted(f for f in os.listdir(tmp_path) if f.startswith('snapshot_iter_'))
    last = max(int(f[len('snapshot_iter_'):-4]) for f in snapshots)
    assert 'snapshot_iter_{}.npz'.format(last) in err
    assert 'iteration {}'.format(last + 1) in err
    model, meta = load_model(str(tmp_path / 'snapshot_iter_{}.npz'.format(last)))
    assert meta['iteration'] == last
    assert all(np.isfinite(p.array).all() for p in model.params())
    assert not os.path.exists(tmp_path / 'model.npz')
