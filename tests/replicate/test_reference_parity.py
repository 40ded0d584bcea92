"""Ours against ChainerCV's outputs saved in the repository: identical.

``tests/fixtures/parity_chainercv_random_b2.npz`` is ChainerCV 0.13.1's run
on the CPU under Python 3.10 + numpy 1.26.4 (seeded random weights, seed 0,
two generated images, preset ``evaluate``), saved compact: each of the 116
records as its SHA-256 and max |value| plus 1024 sampled elements, the
final detections whole (1.4 MB; remake with the command in
``tests/fixtures/README.md``). Here our model runs in whatever environment
the test runs in: Python 3.10 (``tox -e py310``) or Python 3.12 + numpy 2
without ChainerCV (``tox -e py312``), and every record must be bit-identical
(equal SHA-256, or equal arrays for the small ones).
"""
import os

import pandas as pd

from replicate.parity import cli
from replicate.parity.reference import load_reference
from replicate.parity.sampled import SampledArray

FIXTURE = os.path.join(os.path.dirname(__file__), os.pardir, 'fixtures',
                       'parity_chainercv_random_b2.npz')


def test_fixture_is_chainercv_on_python_3_10():
    records, config, x, images = load_reference(FIXTURE)
    assert config['provenance']['version.chainercv'] == '0.13.1'
    assert config['provenance']['version.numpy'] == '1.26.4'
    assert config['provenance']['python'].startswith('3.10.')
    assert (config['batch'], config['seed'], config['weights'], config['sample']) == \
        (2, 0, 'random', 1024)
    assert len(records) == 116 and x.shape == (2, 3, 300, 300) and len(images) == 2
    assert isinstance(records['extractor/conv1_1'], SampledArray)
    assert not isinstance(records['predict[0]/bbox'], SampledArray)  # detections whole


def test_ours_is_identical_to_the_saved_chainercv_run(tmp_path):
    # --rtol 0: anything but an identical record diverges
    code = cli.main(['--reference', FIXTURE, '--out', str(tmp_path), '--rtol', '0'])
    rows = pd.read_csv(tmp_path / 'cpu_random.csv', keep_default_na=False)
    not_exact = rows[rows['verdict'] != 'exact']
    assert not_exact.empty, not_exact[['name', 'scaled_err', 'note']].to_string()
    assert code == 0 and len(rows) == 116
    # the large records were proven by their digest, all of them
    assert (rows['note'] == 'sha256 equal').sum() == 98
    assert list(rows['shape'][rows['name'] == 'predict[0]/bbox']) == ['1609x4']
