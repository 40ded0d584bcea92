"""The parity tool end to end on ChainerCV vs ChainerCV (the tool's self-check),
through a saved reference file, and its one-line user errors.

One ChainerCV reference run (batch 1, 4 foreground classes, weights from an
.npz written here, only the records matching ONLY to keep the file small) is
saved once per module and reused.
"""
import json
import os
import urllib.error

import chainer
import pandas as pd
import pytest

from replicate.parity import cli, models, report
from replicate.parity.reference import load_reference
from replicate.ssd import pretrained
from replicate.ssd.weights import seeded_random_weights

ONLY = r'^(input|extractor/conv3|extractor\[|mb_|decode|predict)'
IMAGE = os.path.join(os.path.dirname(__file__), '..', '..', 'images', 'coffee.jpg')


@pytest.fixture(scope='module')
def reference(tmp_path_factory):
    """``(reference .npz, weights .npz)`` of a ChainerCV run saved by the CLI."""
    tmp = tmp_path_factory.mktemp('parity')
    model = models.build_reference(4)
    seeded_random_weights(model, seed=3)
    weights = str(tmp / 'weights4.npz')
    chainer.serializers.save_npz(weights, model, compression=False)
    ref = str(tmp / 'ref.npz')
    code = cli.main(['--save-reference', ref, '--weights', weights, '--n-fg-class', '4',
                     '--batch', '1', '--seed', '3', '--only', ONLY, '--images', IMAGE,
                     '--preset', 'visualize', '--resize-backend', 'PIL'])
    assert code == 0
    return ref, weights


def _rows(out_dir, stem):
    return pd.read_csv(os.path.join(out_dir, stem + '.csv'), keep_default_na=False)


def test_reference_file_round_trip(reference):
    records, config, x, images = load_reference(reference[0])
    assert config['n_fg_class'] == 4 and config['weights'] == reference[1]
    assert (config['preset'], config['resize_backend']) == ('visualize', 'PIL')
    assert config['images'] == IMAGE
    assert config['provenance']['version.chainercv'] == '0.13.1'
    assert x.shape == (1, 3, 300, 300) and len(images) == 1
    assert images[0].shape == (3, 400, 600)  # images/coffee.jpg, read as ChainerCV reads it
    assert list(records)[0] == 'input' and records['input'].shape == x.shape
    assert 'extractor/conv3_2>relu' in records and 'extractor/conv4_1' not in records
    assert 'predict[0]/score' in records and len(records) == 25
    assert records['mb_confs'].shape == (1, 8732, 5)


def test_chainercv_against_itself_is_exact(reference, tmp_path, monkeypatch):
    """Without --out the report goes to a folder of its own, never reports/parity/."""
    monkeypatch.chdir(tmp_path)
    names = tmp_path / 'names.json'
    names.write_text('{"input": "input"}')
    code = cli.main(['--reference', reference[0], '--ours', 'chainercv', '--name-map',
                     str(names)])
    assert code == 0
    assert os.listdir(tmp_path / 'reports') == ['parity-latest']
    tmp_path = tmp_path / 'reports' / 'parity-latest'
    rows = _rows(tmp_path, 'selfcheck_cpu_weights4')
    assert set(rows['verdict']) == {'exact'}
    assert len(rows) == len(load_reference(reference[0])[0])
    meta = json.load(open(tmp_path / 'selfcheck_cpu_weights4.meta.json'))
    assert meta['summary']['verdict'] == 'PASS'
    assert meta['provenance']['version.chainer'] == '7.8.1'
    md = open(tmp_path / 'selfcheck_cpu_weights4.md').read()
    assert '**PASS**' in md and '| version.numpy |' in md
    assert '| name map (reference -> ours) | `input` -> `input` |' in md
    # a folder outside the repository: the columns page is named, not linked
    assert 'Columns are explained in reports/parity/README.md of the repository.' in md


def test_the_columns_link_leads_to_the_readme_from_any_report_folder(tmp_path):
    repository = tmp_path / 'repo'
    (repository / 'reports' / 'parity').mkdir(parents=True)
    (repository / 'reports' / 'parity' / 'README.md').write_text('columns')
    for out, link in (('reports/parity', 'README.md'),
                      ('reports/parity-latest', '../parity/README.md'),
                      ('a/b', '../../reports/parity/README.md')):
        folder = repository / out
        folder.mkdir(parents=True, exist_ok=True)
        assert report.columns_sentence(str(folder), str(repository)) == \
            'Columns are explained in [{}]({}).'.format(link, link)
        assert (folder / link).read_text() == 'columns'
    # the committed reports keep their link; this checkout holds the page
    assert report.columns_sentence(os.path.join(report.REPOSITORY, 'reports', 'parity')) == \
        'Columns are explained in [README.md](README.md).'


def test_perturbed_copy_names_the_first_diverging_layer(reference, tmp_path):
    code = cli.main(['--reference', reference[0], '--ours', 'chainercv', '--out', str(tmp_path),
                     '--perturb', 'extractor/conv3_2/b'])
    assert code == 1
    rows = _rows(tmp_path, 'selfcheck_cpu_weights4')
    names = list(rows['name'])
    first = names.index('extractor/conv3_2')
    assert set(rows['verdict'][:first]) == {'exact'}
    assert rows['verdict'][first] == 'DIVERGES'
    assert rows['max_abs_err'][first] == pytest.approx(1e-3, rel=1e-2)
    md = open(tmp_path / 'selfcheck_cpu_weights4.md').read()
    assert 'the first diverging layer is `extractor/conv3_2`' in md


def _error(capsys, argv):
    code = cli.main(argv)
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith('error: ') and err.count('\n') == 1
    return err


def test_user_errors_are_one_line(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(chainer.backends.cuda, 'available', False)
    assert 'CuPy' in _error(capsys, ['--device', '@cupy:0'])
    assert 'nope.npz' in _error(capsys, ['--weights', str(tmp_path / 'nope.npz')])
    assert 'ref.npz not found' in _error(capsys, ['--reference', str(tmp_path / 'ref.npz')])
    assert '--rtol-reason' in _error(capsys, ['--rtol', '1e-3'])
    assert '--n-fg-class 20' in _error(capsys, ['--weights', 'voc0712', '--n-fg-class', '4'])
    bad = tmp_path / 'names.json'
    bad.write_text('[1, 2]')
    assert '--name-map {}'.format(bad) in _error(capsys, ['--name-map', str(bad)])


def test_missing_pretrained_file_names_file_url_and_folder(capsys, tmp_path, monkeypatch):
    root = chainer.dataset.get_dataset_root()
    chainer.dataset.set_dataset_root(str(tmp_path))

    def offline(url, timeout=None):
        raise urllib.error.URLError('no route (test)')
    monkeypatch.setattr(pretrained, 'urlopen', offline)
    try:
        err = _error(capsys, ['--weights', 'voc0712'])
    finally:
        chainer.dataset.set_dataset_root(root)
    entry = pretrained.PRETRAINED['voc0712']
    assert entry.file in err and entry.url in err and 'no route (test)' in err
    assert str(tmp_path / 'pfnet' / 'chainercv' / 'models') in err


def test_weights_that_do_not_fit_are_a_user_error(reference, capsys):
    # the saved weights have 4 foreground classes, the model 20
    assert 'does not fit' in _error(capsys, ['--weights', reference[1]])


@pytest.mark.pretrained
def test_voc0712_weights(tmp_path):
    if not pretrained.is_cached('voc0712'):
        pytest.skip('no pretrained weights: place {} in {} to run this test'.format(
            pretrained.PRETRAINED['voc0712'].file, pretrained.models_dir()))
    code = cli.main(['--weights', 'voc0712', '--batch', '1', '--out', str(tmp_path)])
    assert code == 0
    assert set(_rows(tmp_path, 'cpu_voc0712')['verdict']) <= {'exact', 'within tolerance'}


def test_voc0712_is_looked_up_in_chainercv_cache(tmp_path):
    root = chainer.dataset.get_dataset_root()
    try:
        chainer.dataset.set_dataset_root(str(tmp_path))
        expected = tmp_path / 'pfnet' / 'chainercv' / 'models' / pretrained.PRETRAINED[
            'voc0712'].file
        expected.parent.mkdir(parents=True)
        expected.write_bytes(b'placeholder')
        assert models.resolve_weights('voc0712', 20) == str(expected)
    finally:
        chainer.dataset.set_dataset_root(root)
