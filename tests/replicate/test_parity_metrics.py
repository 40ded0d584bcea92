"""Comparison metrics and verdicts on hand-made arrays."""
import numpy as np
import pytest

from replicate.parity import metrics
from replicate.parity.metrics import DIVERGES, EXACT, WITHIN, compare, compare_traces


def test_exact():
    b = np.arange(6, dtype=np.float32).reshape(2, 3)
    row = compare('x', b.copy(), b, rtol=1e-6)
    assert row['verdict'] == EXACT
    assert row['max_abs_err'] == 0 and row['cosine'] == pytest.approx(1.0)
    assert row['shape'] == '2x3' and row['dtype'] == 'float32'


def test_within_tolerance_and_errors_by_hand():
    b = np.array([1.0, -2.0, 4.0], dtype=np.float64)
    a = b + np.array([0.0, 1e-7, -2e-7])
    row = compare('x', a, b, rtol=1e-6)
    assert row['verdict'] == WITHIN
    assert row['max_abs_err'] == pytest.approx(2e-7)
    assert row['mean_abs_err'] == pytest.approx(1e-7)
    assert row['max_rel_err'] == pytest.approx(5e-8)      # max(1e-7/2, 2e-7/4)
    assert row['scaled_err'] == pytest.approx(2e-7 / 4)


def test_diverges_names_the_size_of_the_error():
    b = np.ones(4, dtype=np.float32)
    a = b.copy()
    a[2] = 1.01
    row = compare('x', a, b, rtol=1e-6)
    assert row['verdict'] == DIVERGES
    assert row['max_abs_err'] == pytest.approx(0.01, rel=1e-5)


def test_relative_error_with_zeros():
    b = np.array([0.0, 1.0], dtype=np.float32)
    a = np.array([1e-30, 1.0], dtype=np.float32)
    row = compare('x', a, b, rtol=1e-6)
    # element-wise relative error divides by TINY where b == 0 ...
    assert row['max_rel_err'] == pytest.approx(float(np.float32(1e-30)) / metrics.TINY, rel=1e-6)
    # ... the verdict uses the error relative to the layer's scale
    assert row['scaled_err'] == pytest.approx(1e-30, rel=1e-6)
    assert row['verdict'] == WITHIN
    zeros = np.zeros(3, dtype=np.float32)
    assert compare('z', zeros, zeros, 1e-6)['verdict'] == EXACT
    assert compare('z', zeros + 1e-3, zeros, 1e-6)['verdict'] == DIVERGES


def test_cosine():
    assert metrics.cosine(np.array([1.0, 0.0]), np.array([0.0, 3.0])) == 0.0
    assert metrics.cosine(np.array([1.0, 1.0]), np.array([2.0, 2.0])) == pytest.approx(1.0)
    assert metrics.cosine(np.array([1.0, 0.0]), np.array([-1.0, 0.0])) == pytest.approx(-1.0)
    assert metrics.cosine(np.zeros(2), np.zeros(2)) == 1.0
    assert metrics.cosine(np.zeros(2), np.ones(2)) == 0.0


def test_shape_dtype_missing_and_nonfinite():
    b = np.zeros((2, 3), dtype=np.float32)
    assert 'shape 3x2' in compare('x', b.T.copy(), b, 1e-6)['note']
    assert compare('x', b.astype(np.float64), b, 1)['verdict'] == DIVERGES
    assert compare('x', None, b, 1)['note'] == 'missing in ours'
    assert compare('x', b, None, 1)['note'] == 'missing in reference'
    n = np.array([np.nan, 1.0], dtype=np.float32)
    assert compare('x', n.copy(), n, 1e-6)['verdict'] == EXACT
    assert compare('x', np.array([1.0, np.nan], np.float32), n, 1e-6)['verdict'] == DIVERGES


def test_integer_labels_and_count_mismatch():
    labels = np.array([0, 3, 3], dtype=np.int32)
    assert compare('l', labels.copy(), labels, 1e-6)['verdict'] == EXACT
    assert compare('l', labels + 1, labels, 1e-6)['verdict'] == DIVERGES
    row = compare('l', labels[:2], labels, 1e-6)
    assert row['verdict'] == DIVERGES and row['note'] == 'shape 2 vs reference 3'


def test_compare_traces_order_missing_extra_and_map():
    one = np.ones(2, dtype=np.float32)
    reference = {'a': one, 'b': one, 'c': one}
    ours = {'a': one, 'c2': one, 'extra': one}
    rows = compare_traces(ours, reference, 1e-6, name_map={'c': 'c2'})
    assert [r['name'] for r in rows] == ['a', 'b', 'c', 'extra']
    assert [r['verdict'] for r in rows] == [EXACT, DIVERGES, EXACT, DIVERGES]
    assert rows[2]['note'] == 'ours: c2'
    assert metrics.first_divergence(rows)['name'] == 'b'
    assert metrics.first_divergence(rows[:1]) is None
