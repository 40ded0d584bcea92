"""Run the hostile suite and count what holds, per class of case.

``python tools/hostile_check.py [--slow]`` runs ``pytest tests/hostile`` plus
every test that ``tests/hostile/cases.py`` names as the proof of one of the
102 cases of the former standalone script, then prints one line per class:
how many cases, how many held. ``--slow`` adds the cases marked slow (two
processes on one folder, a killed run, TensorFlow exports). Exit status:
pytest's (0 when every case held). The cases themselves are pytest tests:
this is only a summary (docs/reliability.md).
"""
import argparse
import collections
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'tests', 'hostile'))

from cases import CASES  # noqa: E402  (the table lives beside its tests)


def outcomes(junit_xml):
    """``{node id without parameters: held}`` from pytest's JUnit XML (a
    parametrized test holds when all its parameters do; xfail holds not)."""
    held = {}
    for case in ET.parse(junit_xml).getroot().iter('testcase'):
        path = case.get('classname', '').replace('.', '/') + '.py'
        node = '{}::{}'.format(path, case.get('name', '').split('[')[0])
        ok = not any(child.tag in ('failure', 'error') for child in case)
        skipped = any(child.tag == 'skipped' for child in case)
        held[node] = held.get(node, True) and ok and not skipped
    return held


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--slow', action='store_true', help='also the cases marked slow')
    args = p.parse_args(argv)
    proofs = sorted({proof for _, _, ps in CASES for proof in ps})
    # one pytest per test folder: test modules import their folder's conftest
    # by name, which one process holding two folders' conftests would confuse
    groups = collections.defaultdict(list, {os.path.join('tests', 'hostile'): []})
    for proof in proofs:
        if not proof.startswith('tests/hostile/'):
            groups[os.path.dirname(proof.split('::')[0])].append(proof)
    held, code = {}, 0
    with tempfile.TemporaryDirectory() as tmp:
        for k, (folder, nodes) in enumerate(sorted(groups.items())):
            report = os.path.join(tmp, '{}.xml'.format(k))
            command = [sys.executable, '-m', 'pytest', '-q', '-p', 'no:cacheprovider',
                       '--disable-warnings', '--junitxml', report,
                       *([] if args.slow else ['-m', 'not slow']),
                       *(nodes or [folder])]
            code = code or subprocess.call(command, cwd=ROOT)
            if os.path.exists(report):
                held.update(outcomes(report))
    counts = collections.defaultdict(lambda: [0, 0])
    for _, klass, ps in CASES:
        counts[klass][0] += 1
        counts[klass][1] += all(held.get(proof, False) for proof in ps)
    for klass, (total, ok) in sorted(counts.items()):
        print('{}: {} of {} cases held'.format(klass, ok, total))
    hunt = {node: ok for node, ok in held.items() if '/test_hunt_' in node}
    print('hunt (tests/hostile/test_hunt_*.py): {} of {} test functions held '
          '(xfail: a known defect)'.format(sum(hunt.values()), len(hunt)))
    return code


if __name__ == '__main__':
    sys.exit(main())
