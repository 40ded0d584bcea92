"""Kind ``trained``: a model written by ``python -m replicate.train`` runs
through the harness like any other detector and is scored against the
annotations of its own class set."""
import os

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from compare.adapters import build
from compare.errors import UserError
from compare.run import main as run_compare
from replicate.datasets.synthetic import generate
from replicate.train import cli as train_cli
from replicate.train.snapshot import load_model


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    """(VOC folder of generated shapes, a tiny model trained 3 iterations on it)."""
    root = str(tmp_path_factory.mktemp('shapes'))
    generate(root, seed=0, counts=[('train', 6), ('test', 3)])
    out = os.path.join(root, 'run')
    assert train_cli.main(['--train', root, '--train-split', 'train', '--out', out, '--quiet',
                           '--model', 'small', '--insize', '32', '--width', '4',
                           '--batch-size', '3', '--iterations', '3', '--log-interval', '1',
                           '--lr', '0.01']) == 0
    return root, os.path.join(out, 'model.npz')


def test_predict_is_the_models_predict(trained):
    root, path = trained
    adapter = build('trained:' + path)
    adapter.load()
    model, meta = load_model(path)
    model.use_preset('evaluate')
    images = [np.asarray(Image.open(os.path.join(root, 'JPEGImages', '00000{}.jpg'.format(i))))
              for i in (6, 7)]
    prediction = adapter.predict(images)
    bboxes, labels, scores = model.predict([image.transpose(2, 0, 1).astype(np.float32)
                                            for image in images])
    for got, image, bbox, label, score in zip(prediction.detections, images, bboxes, labels,
                                              scores, strict=True):
        height, width = image.shape[:2]
        clipped = np.clip(bbox, 0, [height, width, height, width])
        np.testing.assert_allclose(got.boxes, clipped, rtol=1e-6, atol=1e-4)
        assert list(got.names) == [meta['label_names'][i] for i in label]
        np.testing.assert_array_equal(got.scores, score)
    candidates, _ = adapter.predict_candidates(images[:1])
    assert candidates[0].scores.shape == (sum(model.coder.counts), 5)
    assert candidates[0].names == tuple(meta['label_names'])
    info = adapter.info()
    assert info.label_names == tuple(meta['label_names']) and not info.random_weights
    assert info.info['preset'] == 'evaluate'


def test_a_compare_run_scores_it_on_its_classes(trained, tmp_path):
    root, path = trained
    out = tmp_path / 'run'
    assert run_compare([os.path.join(root, 'JPEGImages'), '--out', str(out), '-d',
                     'trained:' + path, '--no-speed', '--no-progress']) == 0
    summary = pd.read_csv(out / 'map_summary.csv')
    row = summary[summary['detector'] == 'trained'].iloc[0]
    assert row['classes_evaluated'] == 5 and 0 <= row['map_voc07'] <= 1


def test_missing_or_foreign_file(tmp_path):
    with pytest.raises(UserError, match='not found'):
        build('trained:' + str(tmp_path / 'none.npz')).load()
    path = tmp_path / 'weights.npz'
    np.savez(str(path), W=np.zeros(2))
    with pytest.raises(UserError, match='not a file written by python -m replicate.train'):
        build('trained:' + str(path)).load()


def test_its_identity_is_the_files_content_and_nan_weights_are_refused(trained, tmp_path):
    import hashlib

    from compare.rundir.identity import identity
    root, path = trained
    adapter = build('trained:' + path)
    adapter.load()
    with open(path, 'rb') as f:
        assert identity(adapter.info())['weights'] == hashlib.sha256(f.read()).hexdigest()
    with np.load(path, allow_pickle=False) as npz:
        arrays = {key: npz[key] for key in npz.files}
    key = sorted(k for k, v in arrays.items() if v.dtype.kind == 'f' and v.size)[0]
    arrays[key] = np.full_like(arrays[key], np.nan)
    broken = tmp_path / 'broken.npz'
    np.savez(str(broken), **arrays)
    with pytest.raises(UserError, match='{} holds NaN or Inf values in 1 array'.format(broken)):
        build('trained:' + str(broken)).load()
