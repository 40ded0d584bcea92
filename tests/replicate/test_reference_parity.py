"""Ours against ChainerCV's outputs saved in the repository.

``tests/fixtures/parity_chainercv_random_b2.npz`` is ChainerCV 0.13.1's run
on the CPU under Python 3.10 + numpy 1.26.4 (seeded random weights, seed 0,
two generated images, preset ``evaluate``), saved compact: each of the 116
records as its SHA-256 and max |value| plus 1024 sampled elements, the
final detections whole (1.4 MB; remake with the command in
``tests/fixtures/README.md``). Its provenance records the BLAS it was computed
with (library, version, the kernel OpenBLAS picked for that processor, threads).

Here our model runs in whatever environment the test runs in: Python 3.10
(``tox -e py310``) or Python 3.12 + numpy 2 without ChainerCV (``tox -e
py312``), on whatever processor, with or without ``OPENBLAS_CORETYPE``. Bits
are a property of the BLAS kernel, not of the code: where this process's BLAS
is the file's, every record must be identical; elsewhere every record must lie
within ``SAVED_RUN_CPU`` (``replicate/tolerances.py``). Identity of ours and
ChainerCV run side by side in one process is proven on every machine by
``tests/replicate/test_parity.py``.
"""
import json
import os

import pandas as pd

from provenance.stamp import blas_description
from replicate.parity import cli
from replicate.parity.metrics import DIVERGES, EXACT
from replicate.parity.reference import load_reference
from replicate.parity.sampled import SampledArray
from replicate.tolerances import PARITY_CPU, SAVED_RUN_CPU

FIXTURE = os.path.join(os.path.dirname(__file__), os.pardir, 'fixtures',
                       'parity_chainercv_random_b2.npz')


def test_fixture_is_chainercv_on_python_3_10():
    records, config, x, images = load_reference(FIXTURE)
    assert config['provenance']['version.chainercv'] == '0.13.1'
    assert config['provenance']['version.numpy'] == '1.26.4'
    assert config['provenance']['python'].startswith('3.10.')
    assert config['provenance']['blas'].startswith('OpenBLAS 0.3.23.dev, kernel ')
    assert (config['batch'], config['seed'], config['weights'], config['sample']) == \
        (2, 0, 'random', 1024)
    assert len(records) == 116 and x.shape == (2, 3, 300, 300) and len(images) == 2
    assert isinstance(records['extractor/conv1_1'], SampledArray)
    assert not isinstance(records['predict[0]/bbox'], SampledArray)  # detections whole


def test_ours_matches_the_saved_chainercv_run(tmp_path):
    saved_blas = load_reference(FIXTURE)[1]['provenance']['blas']
    code = cli.main(['--reference', FIXTURE, '--out', str(tmp_path)])
    rows = pd.read_csv(tmp_path / 'cpu_random.csv', keep_default_na=False)
    settings = json.loads((tmp_path / 'cpu_random.meta.json').read_text())['settings']
    assert len(rows) == 116 and settings['reference_blas'] == saved_blas
    assert list(rows['shape'][rows['name'] == 'predict[0]/bbox']) == ['1609x4']
    if saved_blas == blas_description():
        # the same BLAS: identical, the large records proven by their digest
        not_exact = rows[rows['verdict'] != EXACT]
        assert not_exact.empty, not_exact[['name', 'scaled_err', 'note']].to_string()
        assert (rows['note'] == 'sha256 equal').sum() == 98
        assert settings['rtol'] == PARITY_CPU
    else:
        # another kernel or library: within the saved-run tolerance
        assert settings['rtol'] == SAVED_RUN_CPU
        diverging = rows[rows['verdict'] == DIVERGES]
        assert diverging.empty, diverging[['name', 'scaled_err', 'note']].to_string()
        assert rows['scaled_err'].max() <= SAVED_RUN_CPU
    assert code == 0
    report = (tmp_path / 'cpu_random.md').read_text()
    assert saved_blas in report and blas_description() in report

