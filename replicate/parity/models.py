"""The two systems under comparison and the weights they share.

* the reference: ChainerCV's ``chainercv.links.SSD300``, always on the CPU;
* ours: ``replicate.SSD300`` (``--ours replicate``), or a second ChainerCV
  instance (``--ours chainercv``) to test the tool itself: that pair must be
  exact everywhere, and a perturbed parameter (``--perturb NAME``) must show
  up as the first diverging layer.

Weights: ``random`` fills both with the same seeded values, by sorted
parameter name; a name of :data:`replicate.ssd.pretrained.PRETRAINED`
(``voc0712``, ``imagenet``) is ChainerCV's file, cached or downloaded by
:func:`replicate.ssd.pretrained.fetch`; any other value is a path to an ``.npz``
in ChainerCV's layout. Both models are loaded by the suite's one strict
loader, :func:`replicate.ssd.weights.load_weights` (every key present, every
shape equal, pickled objects refused unread).
"""
import os

from provenance.stamp import file_sha256
from replicate.parity.errors import ParityError
from replicate.ssd import pretrained
from replicate.ssd.weights import load_weights, seeded_random_weights

OURS_CHOICES = ('replicate', 'chainercv')


def build_reference(n_fg_class):
    """ChainerCV's SSD300 with uninitialized-by-us weights (filled later)."""
    from chainercv.links import SSD300
    return SSD300(n_fg_class=n_fg_class, pretrained_model=None)


def build_ours(kind, n_fg_class):
    """Our model: ``kind`` is ``'replicate'`` or ``'chainercv'``."""
    if kind == 'chainercv':
        return build_reference(n_fg_class)
    from replicate.ssd.ssd300 import SSD300
    return SSD300(n_fg_class=n_fg_class, pretrained_model=None)


def resolve_weights(weights, n_fg_class):
    """``None`` for ``'random'``, else the path of an existing ``.npz``.

    Raises:
        ParityError: the file is missing, or a named file made for another
            n_fg_class.
        replicate.errors.PretrainedModelError: a named file is neither cached
            nor downloadable (the message names the file, URL and folder).
    """
    if weights == 'random':
        return None
    if weights in pretrained.PRETRAINED:
        required = pretrained.PRETRAINED[weights].n_fg_class
        if required not in (None, n_fg_class):
            raise ParityError('--weights {} has {} classes: use --n-fg-class {}'.format(
                weights, required, required))
        return pretrained.fetch(weights)
    if not os.path.isfile(weights):
        raise ParityError('weights file {} not found: give an existing .npz, random, or one of '
                          '{}'.format(weights, ', '.join(sorted(pretrained.PRETRAINED))))
    return weights


def load_weights_into(model, weights, weights_path, seed):
    """Fill ``model``: seeded random values, then, if ``weights_path`` is
    given, the strict loader over them (seeding first also gives ChainerCV's
    lazily shaped parameters their shapes, so a file made for another
    ``n_fg_class`` fails loudly instead of reshaping the model). Returns a
    description of the weights for the report.

    Args:
        weights (str): the ``--weights`` value (a name selects which keys the
            file may lack).
    """
    seeded_random_weights(model, seed=seed)
    if weights_path is None:
        return 'replicate.ssd.weights.seeded_random_weights (seed {})'.format(seed)
    entry = pretrained.PRETRAINED.get(weights)
    load_weights(model, weights_path, allow_missing=entry.optional if entry else ())
    return '{} (sha256 {})'.format(weights_path, file_sha256(weights_path))


def perturb(model, param_name, amount=1e-3):
    """Add ``amount`` to the first element of parameter ``param_name``
    (e.g. ``extractor/conv3_2/b``) to prove the tool catches a divergence.

    Raises:
        ParityError: no such parameter (the message lists a few valid ones).
    """
    params = {name.strip('/'): p for name, p in model.namedparams()}
    if param_name not in params:
        raise ParityError('--perturb {}: no such parameter; e.g. {}'.format(
            param_name, ', '.join(sorted(params)[:4])))
    params[param_name].array.ravel()[0] += amount
