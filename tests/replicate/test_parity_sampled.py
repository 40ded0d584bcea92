"""Compact reference records (digest + max |value| + a sample) and how ours
are compared against them; the compact reference file round trip."""
import collections

import numpy as np
import pytest

from replicate.parity.errors import ParityError
from replicate.parity.metrics import DIVERGES, EXACT, WITHIN, compare
from replicate.parity.reference import load_reference, save_reference
from replicate.parity.sampled import SampledArray, reduce_record


def _layer(seed=0, shape=(2, 8, 30, 30)):
    return np.random.RandomState(seed).standard_normal(shape).astype(np.float32)


def test_small_and_detection_records_stay_whole():
    assert isinstance(reduce_record('x', np.ones(10), 10), np.ndarray)
    assert isinstance(reduce_record('predict[0]/bbox', np.ones((500, 4)), 10), np.ndarray)
    assert isinstance(reduce_record('decode[0]/bbox', np.ones((500, 4)), None), np.ndarray)


def test_large_record_keeps_digest_scale_and_a_sample_with_its_largest_element():
    ref = _layer()
    ref.ravel()[1234] = -99.0  # the largest magnitude
    red = reduce_record('extractor/conv1_1', ref, 100)
    assert isinstance(red, SampledArray)
    assert red.shape == ref.shape and red.dtype == np.float32 and red.absmax == 99.0
    assert 1234 in red.index and 90 <= red.index.size <= 101
    assert np.array_equal(red.values, ref.ravel()[red.index])
    again = reduce_record('extractor/conv1_1', ref, 100)  # same positions on a rerun
    assert np.array_equal(again.index, red.index)


def test_identical_array_is_exact_by_digest():
    ref = _layer()
    row = compare('l', ref.copy(), reduce_record('l', ref, 100), rtol=0)
    assert row['verdict'] == EXACT and row['note'] == 'sha256 equal'


def test_error_inside_the_sample_is_measured_against_the_whole_scale():
    ref = _layer()
    red = reduce_record('l', ref, 100)
    ours = ref.copy()
    k = int(red.index[5])
    ours.ravel()[k] += 1e-3
    row = compare('l', ours, red, rtol=1e-6)
    assert row['verdict'] == DIVERGES
    assert row['max_abs_err'] == pytest.approx(1e-3, rel=1e-3)
    assert row['scaled_err'] == pytest.approx(row['max_abs_err'] / red.absmax)
    assert 'sampled' in row['note'] and str(ref.size) in row['note']
    assert compare('l', ours, red, rtol=1e-3)['verdict'] == WITHIN


def test_change_outside_the_sample_is_not_called_exact():
    ref = _layer()
    red = reduce_record('l', ref, 100)
    outside = next(i for i in range(ref.size) if i not in set(red.index.tolist()))
    ours = ref.copy()
    ours.ravel()[outside] += 1.0
    row = compare('l', ours, red, rtol=1e-6)
    assert row['verdict'] == WITHIN and row['scaled_err'] == 0  # what the sample sees
    assert 'sampled' in row['note']  # ... and the row says it is a sample


def test_shape_or_dtype_mismatch_diverges():
    ref = _layer()
    red = reduce_record('l', ref, 100)
    assert compare('l', ref[:1], red, 1)['verdict'] == DIVERGES
    row = compare('l', ref.astype(np.float64), red, 1)
    assert row['verdict'] == DIVERGES and 'dtype' in row['note']


def test_compact_file_round_trip(tmp_path):
    records = collections.OrderedDict([('input', _layer(1, (1, 3, 8, 8))),
                                       ('extractor/conv1_1', _layer(2)),
                                       ('predict[0]/score', np.linspace(0, 1, 300))])
    path = str(tmp_path / 'ref.npz')
    save_reference(path, records, {'seed': 0}, records['input'], [np.zeros((3, 5, 7))],
                   sample=200)
    loaded, config, x, images = load_reference(path)
    assert list(loaded) == list(records) and config == {'seed': 0}
    assert isinstance(loaded['extractor/conv1_1'], SampledArray)
    assert compare('c', records['extractor/conv1_1'], loaded['extractor/conv1_1'],
                   0)['verdict'] == EXACT
    assert np.array_equal(loaded['input'], records['input'])  # 192 <= 200 elements: whole
    assert np.array_equal(loaded['predict[0]/score'], records['predict[0]/score'])
    assert images[0].shape == (3, 5, 7) and x.shape == (1, 3, 8, 8)


def test_damaged_file_is_a_one_line_error(tmp_path):
    path = tmp_path / 'ref.npz'
    path.write_bytes(b'PK\x03\x04 not really a zip')
    with pytest.raises(ParityError,
                       match='truncated or corrupt .npz .*expected a parity reference file'):
        load_reference(str(path))
