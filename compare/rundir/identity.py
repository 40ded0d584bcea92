"""What makes two runs of a detector the same detector, and
``raw/<detector>.identity.json``, which says who wrote its records.

A run folder resumes a detector's saved records only when the detector about
to run is the one that wrote them: the same name, the same weights (their
sha256 when the adapter knows it, else how the weights were named: a seed, a
pretrained name), the same vocabulary, the same declared randomness, and the
same settings, which are every key of ``DetectorInfo.info`` except those that
say where things are, how fast they go or what else is kept
(:data:`NOT_IDENTITY`): paths change with the cwd and a copied checkout, a
delay or ``--keep-raw`` changes no detection.
Device and thread counts are not part of it either.

Unknown keys count (a key an adapter adds later is part of the identity until
it is listed here): a spurious refusal asks for ``--force``, a missing key
would mix two models' outputs under one name.
"""
import json
import os

from compare.errors import UserError
from compare.rundir.files import load_json, write_json
from compare.rundir.layout import identity_file

#: ``info`` keys that do not change what a detector outputs.
NOT_IDENTITY = ('weights_path', 'label_map', 'origin', 'weights_choice', 'delay', 'keep_raw')


def identity(info):
    """The identity of a detector, a JSON-able dict.

    Args:
        info: its :class:`compare.detections.DetectorInfo` (after ``load``).
    """
    settings = {key: value for key, value in info.info.items() if key not in NOT_IDENTITY}
    return _plain({'name': info.name, 'weights': info.weights_sha256 or info.weights,
                   'random_weights': bool(info.random_weights),
                   'label_names': [str(name) for name in info.label_names],
                   'settings': settings})


def _plain(value):
    """``value`` as JSON would give it back (tuples -> lists, keys -> str)."""
    return json.loads(json.dumps(value, sort_keys=True, default=str))


def differences(saved, current):
    """Names of the identity parts that differ (``settings.<key>`` for settings),
    sorted; ``[]`` when they are the same detector."""
    found = sorted(key for key in set(saved) | set(current)
                   if key != 'settings' and saved.get(key) != current.get(key))
    old, new = saved.get('settings') or {}, current.get('settings') or {}
    found += sorted('settings.' + key for key in set(old) | set(new)
                    if old.get(key) != new.get(key))
    return found


def write_identity(run_dir, detector, identity):
    """``raw/<detector>.identity.json`` (atomically): who wrote the records."""
    write_json(identity_file(run_dir, detector), identity)


def read_identity(run_dir, detector):
    """The saved identity of ``detector`` (a dict), or None when absent.

    Raises:
        UserError: the file is not a JSON object.
    """
    path = identity_file(run_dir, detector)
    if not os.path.lexists(path):
        return None
    data = load_json(path, 'rerun with --force to redo that detector, or delete the file')
    if not isinstance(data, dict):
        raise UserError('{} is not an identity of this harness (a {}); rerun with --force to '
                        'redo that detector'.format(path, type(data).__name__))
    return data
