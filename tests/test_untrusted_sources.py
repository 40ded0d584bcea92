"""Nothing in the sources unpickles or executes a file (issue 7): a check of every
loader call in replicate/, compare/, provenance/ and tools/, so a path added
later (a training snapshot, a checkpoint, an ONNX file, a reference) is held
to the same rule as the ones tested one by one in tests/test_untrusted_npz.py.

- every ``np.load`` / ``numpy.load`` and ``np.lib.format.read_array`` passes
  ``allow_pickle=False``;
- no call reads with pickle: ``pickle``/``cPickle``/``dill``/``joblib``/
  ``marshal``/``shelve`` loads, ``torch.load``, ``yaml.load``, Chainer's
  ``load_npz`` (it reads with pickling allowed), ``eval``/``exec``;
- every ``extractall`` / ``extract`` of an archive passes tarfile's
  ``filter=`` or is in :data:`CHECKED_EXTRACTIONS` (members checked first).
"""
import ast
import os

import pytest
from sourcefiles import python_files

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGES = ('replicate', 'compare', 'provenance', 'tools')
#: ``(module, callee)`` names whose call reads a pickle or runs code.
FORBIDDEN = {('pickle', 'load'), ('pickle', 'loads'), ('cPickle', 'load'), ('dill', 'load'),
             ('joblib', 'load'), ('marshal', 'load'), ('marshal', 'loads'),
             ('shelve', 'open'), ('torch', 'load'), ('yaml', 'load'),
             ('serializers', 'load_npz'), (None, 'load_npz'), (None, 'eval'),
             (None, 'exec')}
#: Extractions whose members are checked by hand before (file: why).
CHECKED_EXTRACTIONS = {
    'tools/gpu_pack.py': 'the pack\'s own Chainer wheel: sha256 checked against the manifest, '
                         'every member checked to land inside the install folder first',
}


def sources():
    return python_files(*PACKAGES)


def calls(path):
    with open(os.path.join(ROOT, path), encoding='utf-8') as f:
        tree = ast.parse(f.read(), path)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute):
                owner = func.value.id if isinstance(func.value, ast.Name) else (
                    func.value.attr if isinstance(func.value, ast.Attribute) else None)
                yield node, owner, func.attr
            elif isinstance(func, ast.Name):
                yield node, None, func.id


def keyword(node, name):
    return next((k.value for k in node.keywords if k.arg == name), None)


SOURCES = sorted(sources())


def test_the_scan_sees_the_loaders_it_guards():
    """The scan is not vacuous: it finds the known .npy reads and the zoo extraction."""
    found = {(path, owner, callee) for path in SOURCES for _, owner, callee in calls(path)}
    assert ('replicate/npz.py', 'format', 'read_array') in found
    assert ('compare/adapters/tf_zoo.py', 'tar', 'extractall') in found


@pytest.mark.parametrize('path', SOURCES)
def test_no_loader_unpickles_or_executes(path):
    problems = []
    for node, owner, callee in calls(path):
        where = '{}:{}'.format(path, node.lineno)
        if (callee == 'load' and owner in ('np', 'numpy')) or (
                callee == 'read_array' and owner == 'format'):
            value = keyword(node, 'allow_pickle')
            if not (isinstance(value, ast.Constant) and value.value is False):
                problems.append('{} {} without allow_pickle=False'.format(where, callee))
        if (owner, callee) in FORBIDDEN:
            problems.append('{} calls {}{}'.format(where, owner + '.' if owner else '', callee))
        if callee in ('extractall', 'extract') and keyword(node, 'filter') is None \
                and path not in CHECKED_EXTRACTIONS:
            problems.append('{} extracts an archive without filter='.format(where))
    assert problems == []
