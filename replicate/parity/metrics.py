"""How two arrays that should be equal are compared, and the verdict.

``a`` is the array under test (ours), ``b`` the reference (ChainerCV). All
errors are computed in float64 on host arrays.

* ``max_abs_err``  = max_i |a_i - b_i|
* ``mean_abs_err`` = mean_i |a_i - b_i|
* ``max_rel_err``  = max_i |a_i - b_i| / max(|b_i|, TINY), TINY the smallest
  normal float32 (1.18e-38): the element-wise relative error. It is reported
  but is NOT the verdict's criterion, because it is unbounded wherever the
  reference is (near) zero, which after a ReLU is most elements: a 1e-9
  difference on a 1e-12 activation reads as 1e3.
* ``scaled_err``   = max_abs_err / max(max_i |b_i|, TINY): the largest
  difference relative to the layer's largest reference magnitude. The
  verdict uses this one.
* ``cosine``       = <a, b> / (|a| |b|); 1 when both are all zero, 0 when only
  one is.

Verdict: ``exact`` when shapes, dtypes and every element (NaN in the same
places) are equal; ``within tolerance`` when shapes match, non-finite values
sit in the same places with the same values and ``scaled_err <= rtol``;
``DIVERGES`` otherwise (also for a shape mismatch or a layer missing on one
side).

A reference record may be a :class:`~replicate.parity.sampled.SampledArray`
(a compact reference file): ``exact`` then means the SHA-256 of our whole
array equals the reference's; otherwise the errors are those of the sampled
elements, ``scaled_err`` divides by the whole reference's max |value|, and
the note gives the sample size.
"""
import numpy as np

from replicate.parity.sampled import SampledArray, same_digest

TINY = float(np.finfo(np.float32).tiny)
EXACT = 'exact'
WITHIN = 'within tolerance'
DIVERGES = 'DIVERGES'

#: Columns of one comparison row, in report order.
COLUMNS = ('name', 'shape', 'dtype', 'max_abs_err', 'max_rel_err', 'mean_abs_err',
           'scaled_err', 'cosine', 'verdict', 'note')


def _shape_text(a):
    return 'x'.join(str(d) for d in a.shape) or 'scalar'


def _row(name, a, b, **values):
    row = dict.fromkeys(COLUMNS, float('nan'))
    row.update(name=name, note='')
    row['shape'] = _shape_text(b if b is not None else a)
    row['dtype'] = str((b if b is not None else a).dtype)
    row.update(values)
    return row


def cosine(a, b):
    """Cosine similarity of two same-shape arrays, as float (see module doc)."""
    a = a.astype(np.float64).ravel()
    b = b.astype(np.float64).ravel()
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na == 0 and nb == 0:
        return 1.0
    if na == 0 or nb == 0:
        return 0.0
    return float(np.dot(a, b) / (na * nb))


def errors(a, b):
    """``{max_abs_err, max_rel_err, mean_abs_err, scaled_err, cosine}`` for
    two same-shape arrays, over the finite elements; 0 errors for size 0."""
    finite = np.isfinite(a) & np.isfinite(b)
    a64, b64 = a[finite].astype(np.float64), b[finite].astype(np.float64)
    if a64.size == 0:
        return dict(max_abs_err=0.0, max_rel_err=0.0, mean_abs_err=0.0, scaled_err=0.0,
                    cosine=1.0)
    diff = np.abs(a64 - b64)
    magnitude = np.abs(b64)
    return dict(max_abs_err=float(diff.max()),
                max_rel_err=float((diff / np.maximum(magnitude, TINY)).max()),
                mean_abs_err=float(diff.mean()),
                scaled_err=float(diff.max() / max(magnitude.max(), TINY)),
                cosine=cosine(a64, b64))


def compare(name, a, b, rtol):
    """One report row comparing ``a`` (ours) with ``b`` (reference).

    Args:
        name (str): the layer name.
        a, b (numpy.ndarray or None): ``None`` means the layer is missing on
            that side.
        rtol (float): the tolerance on ``scaled_err``.

    Returns:
        dict: keys :data:`COLUMNS`.
    """
    if a is None or b is None:
        side = 'ours' if a is None else 'reference'
        return _row(name, a, b, verdict=DIVERGES, note='missing in ' + side)
    if a.shape != b.shape:
        return _row(name, a, b, verdict=DIVERGES,
                    note='shape {} vs reference {}'.format(_shape_text(a), _shape_text(b)))
    if isinstance(b, SampledArray):
        return _compare_sampled(name, a, b, rtol)
    note = '' if a.dtype == b.dtype else 'dtype {} vs reference {}'.format(a.dtype, b.dtype)
    if not note and np.array_equal(a, b, equal_nan=a.dtype.kind == 'f'):
        # identical arrays: every error is 0 and the cosine 1 by definition
        return _row(name, a, b, max_abs_err=0.0, max_rel_err=0.0, mean_abs_err=0.0,
                    scaled_err=0.0, cosine=1.0, verdict=EXACT)
    row = _row(name, a, b, **errors(a, b))
    same_nonfinite = np.array_equal(np.where(np.isfinite(a), 0, a), np.where(np.isfinite(b), 0, b),
                                    equal_nan=True)
    if not same_nonfinite:
        note = (note + '; ' if note else '') + 'non-finite values differ'
    ok = not note and row['scaled_err'] <= rtol
    row.update(verdict=WITHIN if ok else DIVERGES, note=note)
    return row


def _compare_sampled(name, a, b, rtol):
    """:func:`compare` against a :class:`SampledArray` of the same shape."""
    if same_digest(a, b):
        return _row(name, a, b, max_abs_err=0.0, max_rel_err=0.0, mean_abs_err=0.0,
                    scaled_err=0.0, cosine=1.0, verdict=EXACT, note='sha256 equal')
    notes = [] if a.dtype == b.dtype else ['dtype {} vs reference {}'.format(a.dtype, b.dtype)]
    ours = a.ravel()[b.index]
    row = _row(name, a, b, **errors(ours, b.values))
    row['scaled_err'] = row['max_abs_err'] / max(b.absmax, TINY)
    if not np.array_equal(np.where(np.isfinite(ours), 0, ours),
                          np.where(np.isfinite(b.values), 0, b.values), equal_nan=True):
        notes.append('non-finite values differ')
    ok = not notes and row['scaled_err'] <= rtol
    notes.append('sampled {} of {} elements'.format(b.index.size, b.size))
    row.update(verdict=WITHIN if ok else DIVERGES, note='; '.join(notes))
    return row


def compare_traces(ours, reference, rtol, name_map=None):
    """Rows for every name of ``reference`` (in its order) then for names
    found only in ``ours``.

    Args:
        ours, reference (dict): ``{name: numpy array}`` in execution order.
        rtol (float): tolerance on ``scaled_err``.
        name_map (dict): ``{reference name: our name}`` for layers that are
            the same computation under another name; unmapped names must match.

    Returns:
        list of dict: one row per name, keys :data:`COLUMNS`.
    """
    name_map = dict(name_map or {})
    rows, used = [], set()
    for name, b in reference.items():
        ours_name = name_map.get(name, name)
        used.add(ours_name)
        row = compare(name, ours.get(ours_name), b, rtol)
        if ours_name != name:
            row['note'] = ('ours: {}; '.format(ours_name) + row['note']).rstrip('; ')
        rows.append(row)
    rows += [compare(name, a, None, rtol) for name, a in ours.items() if name not in used]
    return rows


def first_divergence(rows):
    """The first row whose verdict is ``DIVERGES``, or ``None``."""
    return next((row for row in rows if row['verdict'] == DIVERGES), None)
