"""Detector adapters and the detector spec syntax of the command line.

A spec is ``KIND[:ARG][,KEY=VALUE...]``:

=============  ==========================================  =========================
kind           ARG                                         options
=============  ==========================================  =========================
ours           voc0712 | imagenet | PATH.npz | random[:N]  preset=auto|visualize|evaluate
chainercv      (same; default voc0712 if cached else       (same)
               random, loudly recorded)
tf             TF2 OD API export folder or SavedModel      labels=PATH|coco
tfzoo          TF2 model zoo archive name                  labels=PATH|coco (default coco)
tf1            path to frozen_inference_graph.pb           labels=PATH|coco
fake           seed (synthetic detections, no model)       count=N, delay=S, fail=MSG
=============  ==========================================  =========================

Every kind also takes ``name=NAME`` (the raw output file name) and
``random_weights=yes|no``: ``yes`` records the detector as holding RANDOM
(untrained) weights, so the report's banner names it -- for exports that cannot
know it themselves, such as an OD API model exported before training
(:mod:`compare.adapters.declared`). Frameworks are imported inside each
adapter's ``load``, never here.
"""
import re

from compare.adapters.chainer_ssd import build_chainercv, build_ours
from compare.adapters.declared import DeclaredRandom, parse_flag
from compare.adapters.fake import build_fake
from compare.adapters.tf_frozen import build_tf1
from compare.adapters.tf_saved_model import build_tf
from compare.adapters.tf_zoo import build_tfzoo
from compare.errors import UserError

#: kind -> builder ``(arg, options, settings) -> adapter``; read-only.
BUILDERS = {
    'ours': build_ours,
    'chainercv': build_chainercv,
    'tf': build_tf,
    'tfzoo': build_tfzoo,
    'tf1': build_tf1,
    'fake': build_fake,
}
_SAFE_NAME = re.compile(r'^[A-Za-z0-9_.-]+$')


def parse_spec(spec):
    """``'tf:dir,labels=coco'`` -> ``('tf', 'dir', {'labels': 'coco'})``."""
    head, *pairs = spec.split(',')
    kind, _, arg = head.partition(':')
    kind = kind.strip()
    if kind not in BUILDERS:
        raise UserError('unknown detector kind {!r} in {!r}; valid kinds: {}'.format(
            kind, spec, ', '.join(BUILDERS)))
    options = {}
    for pair in pairs:
        key, sep, value = pair.partition('=')
        if not sep or not key:
            raise UserError('detector option {!r} in {!r} is not KEY=VALUE'.format(pair, spec))
        options[key.strip()] = value.strip()
    return kind, arg.strip(), options


def build(spec, settings=None):
    """An adapter (not loaded) from a spec string.

    Args:
        settings: CLI-wide defaults such as ``{'preset': 'auto',
            'tf_zoo_dir': None}``.
    """
    kind, arg, options = parse_spec(spec)
    declared_random = parse_flag(options.pop('random_weights', None), spec)
    adapter = BUILDERS[kind](arg, options, settings or {})
    if options:
        raise UserError('unknown option(s) {} for detector kind {!r} in {!r}'.format(
            ', '.join(sorted(options)), kind, spec))
    if not _SAFE_NAME.match(adapter.name):
        raise UserError('detector name {!r} must use only letters, digits, "-", "_", "." '
                        '(set name=...)'.format(adapter.name))
    return DeclaredRandom(adapter) if declared_random else adapter


def build_all(specs, settings=None):
    """Adapters for all specs; duplicate names are an error (set name=...)."""
    adapters = [build(spec, settings) for spec in specs]
    names = [adapter.name for adapter in adapters]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise UserError('two detectors named {}; add ,name=OTHER to one of them'.format(
            ', '.join(duplicates)))
    return adapters
