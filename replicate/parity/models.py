"""The two systems under comparison and the weights they share.

* the reference: ChainerCV's ``chainercv.links.SSD300``, always on the CPU;
* ours: ``replicate.SSD300`` (``--ours replicate``), or a second ChainerCV
  instance (``--ours chainercv``) to test the tool itself: that pair must be
  exact everywhere, and a perturbed parameter (``--perturb NAME``) must show
  up as the first diverging layer.

Weights: ``random`` fills both with the same seeded values, by sorted
parameter name; ``voc0712`` loads ChainerCV's cached pretrained file (never
downloads); any other value is a path to an ``.npz`` in ChainerCV's layout.
Loading is strict (every key present, every shape equal).
"""
import os

from replicate.parity.errors import ParityError
from replicate.provenance import file_sha256

#: ChainerCV's file name for SSD300 voc0712 (the basename of its model URL).
VOC0712_FILE = 'ssd300_voc0712_converted_2017_06_06.npz'
OURS_CHOICES = ('replicate', 'chainercv')


def build_reference(n_fg_class):
    """ChainerCV's SSD300 with uninitialized-by-us weights (filled later)."""
    from chainercv.links import SSD300
    return SSD300(n_fg_class=n_fg_class, pretrained_model=None)


def build_ours(kind, n_fg_class):
    """Our model: ``kind`` is ``'replicate'`` or ``'chainercv'``.

    Raises:
        ParityError: ``replicate.SSD300`` cannot be imported.
    """
    if kind == 'chainercv':
        return build_reference(n_fg_class)
    try:
        from replicate import SSD300
    except ImportError as exc:
        raise ParityError('replicate.SSD300 is not importable ({}): finish replicate/ or run '
                          'with --ours chainercv to test the tool itself'.format(exc)) from exc
    return SSD300(n_fg_class=n_fg_class, pretrained_model=None)


def voc0712_path():
    """Where ChainerCV keeps the voc0712 SSD300 weights (may not exist)."""
    import chainer
    root = chainer.dataset.get_dataset_directory('pfnet/chainercv/models',
                                                 create_directory=False)
    return os.path.join(root, VOC0712_FILE)


def resolve_weights(weights, n_fg_class):
    """``None`` for ``'random'``, else the path of an existing ``.npz``.

    Raises:
        ParityError: the file is missing, or voc0712 with n_fg_class != 20.
    """
    if weights == 'random':
        return None
    if weights == 'voc0712':
        if n_fg_class != 20:
            raise ParityError('--weights voc0712 has 20 classes: use --n-fg-class 20')
        path = voc0712_path()
        if not os.path.isfile(path):
            raise ParityError('voc0712 weights not found: place {} at {} (no download here)'
                              .format(VOC0712_FILE, path))
        return path
    if not os.path.isfile(weights):
        raise ParityError('weights file {} not found: give an existing .npz, random or voc0712'
                          .format(weights))
    return weights


def load_weights(model, weights_path, seed):
    """Fill ``model``: seeded random values, then, if ``weights_path`` is
    given, a strict ``load_npz`` over them (seeding first also gives
    ChainerCV's lazily shaped parameters their shapes, so a file made for
    another ``n_fg_class`` fails loudly instead of reshaping the model).
    Returns a description of the weights for the report."""
    from replicate.weights import seeded_random_weights
    seeded_random_weights(model, seed=seed)
    if weights_path is None:
        return 'replicate.weights.seeded_random_weights (seed {})'.format(seed)
    import chainer
    try:
        chainer.serializers.load_npz(weights_path, model, strict=True)
    except (KeyError, ValueError) as exc:
        raise ParityError('weights file {} does not fit SSD300 with these settings: {}'
                          .format(weights_path, str(exc).splitlines()[0])) from exc
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
