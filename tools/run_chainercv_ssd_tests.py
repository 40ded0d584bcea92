"""Run ChainerCV's own SSD unit tests against ``replicate`` and write the
result to reports/train/chainercv_tests.md.

ChainerCV's test files are read from a ChainerCV source tree (a checkout, or
a bare git repository: its HEAD is used), copied to a temporary folder with
``from chainercv.links import X`` / ``from chainercv.links.model.ssd import X``
rewritten to ``from replicate import X`` (ChainerCV's test helpers in
``chainercv.utils`` stay), run with pytest, and deleted. Nothing of theirs is
committed.

Usage (project env, from the repository root):
    git clone https://github.com/chainer/chainercv /tmp/chainercv
    python tools/run_chainercv_ssd_tests.py /tmp/chainercv [--mpi]

``--mpi`` also runs the multi-node loss test under ``mpiexec -n 2`` (needs
mpi4py, ``tox -e mpi``). Tests marked ``gpu`` are deselected on a machine
without CUDA; those that download pretrained weights fail without network
(ChainerCV's own code fails them the same way there).
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))

from provenance.stamp import provenance, provenance_markdown  # noqa: E402

TESTS = 'tests/links_tests/model_tests/ssd_tests'
IMPORT = re.compile(r'^from chainercv\.links(?:\.model\.ssd)? import (\w+)', re.M)
REPORT = os.path.join('reports', 'train', 'chainercv_tests.md')
MPI_ENV = {'OMPI_ALLOW_RUN_AS_ROOT': '1', 'OMPI_ALLOW_RUN_AS_ROOT_CONFIRM': '1'}


def read_tests(source):
    """{file name: text} of ChainerCV's SSD tests, and the source's commit."""
    if os.path.isdir(os.path.join(source, TESTS)):
        folder = os.path.join(source, TESTS)
        files = {}
        for name in sorted(os.listdir(folder)):
            if name.startswith('test_') and name.endswith('.py'):
                with open(os.path.join(folder, name)) as f:
                    files[name] = f.read()
        git = ['git', '-C', source]
    else:  # a bare repository
        git = ['git', '--git-dir', source]
        names = subprocess.run(git + ['ls-tree', '--name-only', 'HEAD', TESTS + '/'],
                               capture_output=True, text=True, check=True).stdout.split()
        files = {os.path.basename(n): subprocess.run(
            git + ['show', 'HEAD:' + n], capture_output=True, text=True, check=True).stdout
            for n in names if os.path.basename(n).startswith('test_')}
    commit = subprocess.run(git + ['rev-parse', 'HEAD'], capture_output=True,
                            text=True).stdout.strip() or 'unknown'
    if not files:
        sys.exit('error: no {} in {}: pass a ChainerCV checkout'.format(TESTS, source))
    return files, commit


def redirect(text):
    """ChainerCV's SSD imports -> replicate's (same names)."""
    return IMPORT.sub(r'from replicate import \1', text)


def pytest(folder, name, mpi=False):
    """(summary line, exit code) of one test file."""
    command = [sys.executable, '-m', 'pytest', '-c', os.devnull, '-p', 'no:cacheprovider',
               '-q', '-W', 'ignore', '-m', 'not gpu', name]
    env = dict(os.environ, PYTHONWARNINGS='ignore')
    if mpi:
        command = [shutil.which('mpiexec'), '-n', '2'] + command + ['-k', 'multi_node']
        env.update(MPI_ENV)
    result = subprocess.run(command, cwd=folder, capture_output=True, text=True, env=env,
                            timeout=1800)
    lines = [re.sub(r'\x1b\[[0-9;]*m', '', line) for line in result.stdout.splitlines()]
    summary = [re.sub(r' in [0-9.]+s.*', '', line).strip('= ') for line in lines
               if re.search(r'\d+ (passed|failed|error)', line)]
    # FAILED file.py::Class_param_3_{model=..., ...}::test_name - reason
    failed = sorted(m.group(1) for line in lines
                    for m in [re.match(r'FAILED [^:]+::(.+?)(?: - |$)', line)] if m)
    return (summary[-1] if summary else 'no result'), failed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('source', help='ChainerCV source tree or bare git repository')
    parser.add_argument('--mpi', action='store_true',
                        help='also the multi-node loss test under mpiexec -n 2')
    args = parser.parse_args(argv)
    files, commit = read_tests(args.source)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for name, text in sorted(files.items()):
            with open(os.path.join(folder, name), 'w') as f:
                f.write(redirect(text))
        for name in sorted(files):
            summary, failed = pytest(folder, name)
            rows.append((name, 'pytest', summary, '; '.join(failed) or '-'))
        if args.mpi:
            summary, failed = pytest(folder, 'test_multibox_loss.py', mpi=True)
            rows.append(('test_multibox_loss.py', 'mpiexec -n 2', summary,
                         '; '.join(failed) or '-'))
    os.makedirs(os.path.dirname(REPORT), exist_ok=True)
    with open(REPORT, 'w') as f:
        f.write('# ChainerCV\'s SSD unit tests run against replicate\n\n')
        f.write('Made by `python tools/run_chainercv_ssd_tests.py CHAINERCV_SOURCE{}`: '
                'ChainerCV\'s `{}/` (commit `{}`), with `from chainercv.links[.model.ssd] '
                'import X` rewritten to `from replicate import X`, run with pytest '
                '(`-m "not gpu"`). Their helpers from `chainercv.utils` stay. Tests that '
                'download pretrained weights fail where the download server is '
                'unreachable (ChainerCV\'s own classes fail them there too).\n\n'.format(
                    ' --mpi' if args.mpi else '', TESTS, commit))
        totals = {word: sum(int(n) for _, _, summary, _ in rows
                            for n, w in re.findall(r'(\d+) (\w+)', summary) if w == word)
                  for word in ('passed', 'failed', 'skipped')}
        f.write('**{passed} passed, {failed} failed, {skipped} skipped.**\n\n'.format(**totals))
        f.write('| file | run | result | failed tests |\n| --- | --- | --- | --- |\n')
        for row in rows:
            f.write('| {} |\n'.format(' | '.join(row)))
        f.write('\n## Provenance\n\n')
        f.write(provenance_markdown(provenance(extra={'chainercv_tests_commit': commit})))
    print('wrote', REPORT)
    for row in rows:
        print(' | '.join(row))
    return 0


if __name__ == '__main__':
    sys.exit(main())
