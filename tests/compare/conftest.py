"""Session fixtures shared by the compare tests: loaded detectors are
expensive (TensorFlow's import ~10 s, a SavedModel ~4 s, an SSD300 forward
~1 s), so each is built once and reused by the contract test and by the
tests of its own adapter."""
import contextlib
import os
import tarfile
import time

import numpy as np
import pytest
import tf_builders

from compare.adapters import build

FIXTURES = os.path.join(os.path.dirname(__file__), '..', 'fixtures')
#: The two real OD API exports (random weights), committed under tests/fixtures.
REAL_EXPORT = os.path.join(FIXTURES, 'odapi_ssd_mobilenet_v2')
REAL_FROZEN = os.path.join(FIXTURES, 'odapi_frozen', 'frozen_inference_graph.pb')


@pytest.fixture(scope='session')
def artifacts(tmp_path_factory):
    """TF models built by :mod:`tf_builders` (known outputs), and a local
    model-zoo cache holding the export as an archive."""
    root = tmp_path_factory.mktemp('tf_artifacts')
    export = tf_builders.build_saved_model_export(str(root / 'export'))
    zoo = root / 'zoo'
    zoo.mkdir()
    with tarfile.open(zoo / 'tiny_zoo_model.tar.gz', 'w:gz') as tar:
        tar.add(os.path.join(export, 'saved_model'), 'tiny_zoo_model/saved_model')
    return {
        'export': export,
        'wrong': tf_builders.build_wrong_signature_model(str(root / 'wrong')),
        'frozen': tf_builders.build_frozen_graph(str(root / 'tf1')),
        'frozen_wrong': tf_builders.build_frozen_graph(str(root / 'tf1_wrong'), 'images'),
        'zoo': str(zoo),
        'root': root,
    }


def loaded(spec, settings=None):
    adapter = build(spec, settings)
    adapter.load()
    return adapter


def contract_images():
    """Two images of different sizes, neither all black."""
    rng = np.random.RandomState(7)
    return [rng.randint(1, 255, (48, 64, 3), np.uint8), rng.randint(1, 255, (31, 17, 3), np.uint8)]


#: Score threshold of the Chainer SSDs on random weights: a few dozen boxes pass.
CHAINER_THRESH = 0.3


@contextlib.contextmanager
def score_thresh(adapter, value):
    """A Chainer SSD adapter whose model keeps only scores >= ``value``."""
    before = adapter.model.score_thresh
    adapter.model.score_thresh = value
    try:
        yield adapter
    finally:
        adapter.model.score_thresh = before


@pytest.fixture(scope='session')
def chainer_adapters():
    """``{'ours': adapter, 'chainercv': adapter}``, both on seeded random
    weights (seed 3), loaded, preset visualize."""
    return {kind: loaded(kind + ':random:3') for kind in ('ours', 'chainercv')}


@pytest.fixture(scope='session')
def chainer_predictions(chainer_adapters):
    """``{kind: (Prediction, wall seconds)}`` of :func:`contract_images` at
    :data:`CHAINER_THRESH`: one SSD300 batch per kind, shared by the tests."""
    found = {}
    for kind, adapter in chainer_adapters.items():
        with score_thresh(adapter, CHAINER_THRESH):
            found[kind] = timed_predict(adapter, contract_images())
    return found


def timed_predict(adapter, images):
    """``(Prediction, wall-clock seconds of the call)``."""
    start = time.perf_counter()
    prediction = adapter.predict(images)
    return prediction, time.perf_counter() - start


@pytest.fixture(scope='session')
def real_export():
    """The committed TF2 OD API export behind the tf adapter."""
    return loaded('tf:' + REAL_EXPORT)


@pytest.fixture(scope='session')
def real_frozen():
    """The committed TF1 OD API frozen graph behind the tf1 adapter."""
    return loaded('tf1:' + REAL_FROZEN)


@pytest.fixture(scope='session')
def real_port():
    """Our Chainer port of the same committed export (the ours-odapi adapter)."""
    return loaded('ours-odapi:' + REAL_EXPORT)
