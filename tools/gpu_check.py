"""The GPU check in one command: our SSD300 on the GPU against ChainerCV's CPU
outputs, layer by layer, and its speed by stage.

On a machine with CUDA and CuPy (no package index needed), from the
repository root, with ``.gpu_pack/`` made beforehand by ``tools/gpu_pack.py``
where ChainerCV runs:

    python3 tools/gpu_check.py --out DIR

Phases, each guarded (a failing one is logged and the next one runs):

* ``probe``: CuPy sees a CUDA GPU, else ONE line and exit 2 (nothing runs);
* ``setup``: ``.gpu_pack/MANIFEST.json`` checked (sizes, SHA-256), its wheels
  unpacked into a private folder (Chainer 7.8.1 always, the fallbacks only
  where the module is missing), put first on ``PYTHONPATH``;
* ``env``: ``tools/gpu_env.py describe``: GPU, driver, CUDA, CuPy, cuDNN...;
* ``parity``: ``python -m replicate.parity --reference
  .gpu_pack/reference_random_b2.npz --device @cupy:0`` with
  ``NVIDIA_TF32_OVERRIDE=0`` -> ``reports/parity/gpu_random.{csv,md,meta.json}``;
* ``detections``: our final detections matched one to one with the
  reference's (``tools/gpu_env.py detections``), for when a near-tie changes
  the list;
* ``bench``: ``python -m replicate.bench --device @cupy:0 --batch-sizes 1,32
  --stem gpu`` (also with ``NVIDIA_TF32_OVERRIDE=0``) -> ``reports/bench/gpu.*``;
* ``parity-hostcpu``, ``parity-default`` and ``parity-tf32`` (each skipped
  once ``--budget-s`` is spent): the same parity with ours on this machine's
  CPU (numpy's OpenBLAS there: the summation-order baseline), on the GPU
  without the override, and with CuPy's float32 GEMMs in TF32 ->
  ``gpu_random_hostcpu.*``, ``gpu_random_default.*``, ``gpu_random_tf32.*``;
* ``report``: ``reports/parity/gpu.md``, the summary (``tools/gpu_report.py``).

The whole run ends within ``--deadline-s`` (default 360 s): a phase still
running then is stopped and the rest skipped, so that the summary and the
tarball are always written. ``DIR`` then holds ``gpu_check.tar.gz`` (every
report written + the logs),
``gpu_check.log`` and copies of the two summaries (``parity_gpu.md``,
``bench_gpu.md``). ``--device @numpy`` runs every phase on the CPU instead
(a dry run where there is no GPU; files named ``cpu_dryrun*``).

Exit codes: 0 parity PASS and every phase ran; 1 a phase failed or the
parity diverged; 2 no GPU, or the pack is missing or altered (one line).
"""
import argparse
import glob
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import traceback
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gpu_pack  # noqa: E402
import gpu_report  # noqa: E402

ROOT = gpu_pack.ROOT
#: Phases whose failure (or skipping for lack of time) fails the run.
ESSENTIAL = ('setup', 'env', 'parity', 'detections', 'bench', 'report')


def in_repo(path):
    """``path`` relative to the repository root when it lies inside it (the
    commands run from there, and reports must name no outside path)."""
    relative = os.path.relpath(os.path.abspath(path), ROOT)
    return path if relative.startswith(os.pardir) else relative


class NoGpu(Exception):
    """No usable CUDA GPU: the one-line stop."""


class PhaseError(Exception):
    """A phase did not produce its result (the message says which and why)."""


def probe(device):
    """Raise :class:`NoGpu` unless ``device`` is ``@numpy`` or a CUDA device
    CuPy can see. Imports CuPy quietly (its import warns about optional
    libraries)."""
    if 'cupy' not in device:
        return
    try:
        index = int(device.rsplit(':', 1)[1]) if ':' in device else 0
    except ValueError:
        raise NoGpu('--device {}: give @cupy:N or @numpy'.format(device)) from None
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        try:
            import cupy
        except Exception as exc:
            raise NoGpu('CuPy is not importable ({})'.format(
                str(exc).splitlines()[0] if str(exc) else type(exc).__name__)) from None
        try:
            count = cupy.cuda.runtime.getDeviceCount()
        except Exception as exc:
            raise NoGpu('CUDA: {}'.format(str(exc).splitlines()[0])) from None
    if index >= count:
        raise NoGpu('{} CUDA device(s) visible, {} asked for'.format(count, device))


class Check(object):
    """One run: the settings, the log, the phases' outcomes, the files written."""

    def __init__(self, args, work):
        self.args, self.work = args, work
        self.tag = 'gpu' if 'cupy' in args.device else 'cpu_dryrun'
        self.logs = os.path.join(work, 'logs')
        os.makedirs(self.logs, exist_ok=True)
        self.log_file = open(os.path.join(self.logs, 'gpu_check.log'), 'w')
        self.start = time.time()
        self.phases = []  # dicts: phase, status, seconds
        self.written = []  # report files, relative to ROOT-like reports parent
        self.env = dict(os.environ, PYTHONUNBUFFERED='1', NVIDIA_TF32_OVERRIDE='0')
        self.manifest = None

    def log(self, message):
        line = '[{:6.1f}s] {}'.format(time.time() - self.start, message)
        print(line, flush=True)
        self.log_file.write(line + '\n')
        self.log_file.flush()

    def phase(self, name, fn, optional=False):
        """Run ``fn`` (returns a status text or None for ``ok``), never raising."""
        skipped = None
        if name in set(self.args.skip.split(',')):
            skipped = 'skipped: --skip'
        elif optional and time.time() - self.start > self.args.budget_s:
            skipped = 'skipped: past --budget-s {:g}'.format(self.args.budget_s)
        elif name not in ('report', 'package') and self.left() < 30:
            skipped = 'skipped: --deadline-s {:g} near'.format(self.args.deadline_s)
        if skipped:
            status = skipped
            self.phases.append({'phase': name, 'status': status, 'seconds': 0.0})
            self.log('{}: {}'.format(name, status))
            return status
        self.log('{}: start'.format(name))
        began = time.time()
        try:
            status = fn() or 'ok'
        except PhaseError as exc:
            status = 'failed: {}'.format(exc)
        except Exception as exc:  # a bug in this script must not lose the other phases
            self.log_file.write(traceback.format_exc())
            status = 'crashed: {}: {}'.format(type(exc).__name__, exc)
        seconds = time.time() - began
        self.phases.append({'phase': name, 'status': status, 'seconds': seconds})
        self.log('{}: {} ({:.1f} s)'.format(name, status, seconds))
        return status

    def left(self):
        """Seconds until ``--deadline-s``, keeping 15 s for the report and the
        tarball (a run stopped from outside would lose every result)."""
        return self.start + self.args.deadline_s - 15 - time.time()

    def command(self, name, argv, env=None, timeout=180):
        """Run ``argv`` from the repository root, output to ``logs/<name>.log``,
        stopped after ``timeout`` s or at the deadline; returns the exit code."""
        timeout = max(1, int(min(timeout, self.left())))
        path = os.path.join(self.logs, name + '.log')
        self.log('  $ {}  (log: logs/{}.log)'.format(' '.join(argv), name))
        with open(path, 'w') as out:
            try:
                done = subprocess.run(argv, cwd=ROOT, env=env or self.env, stdout=out,
                                      stderr=subprocess.STDOUT, timeout=timeout)
            except subprocess.TimeoutExpired:
                raise PhaseError('timed out after {} s (logs/{}.log)'.format(
                    timeout, name)) from None
        with open(path) as f:
            tail = f.read().strip().splitlines()[-3:]
        for line in tail:
            self.log('  | ' + line[:200])
        return done.returncode

    def keep(self, src, relative):
        """Copy ``src`` to ``<reports>/<relative>`` and remember it."""
        dst = os.path.join(self.args.reports, relative)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copyfile(src, dst)
        self.written.append(relative)

    # -- phases ------------------------------------------------------------

    def setup(self):
        site = os.path.join(self.work, 'site')
        os.makedirs(site, exist_ok=True)
        import importlib.util
        for entry in self.manifest['files']:
            if 'modules' not in entry:
                continue
            missing = [m for m in entry['modules'] if importlib.util.find_spec(m) is None]
            if entry['role'] == 'always' or missing:
                gpu_pack.unpack_wheel(os.path.join(self.args.pack, entry['file']), site)
                self.log('  unpacked {} ({})'.format(entry['file'], entry['role'] if
                                                      entry['role'] == 'always' else
                                                      'missing: ' + ', '.join(missing)))
        paths = [site, ROOT] + [p for p in [os.environ.get('PYTHONPATH')] if p]
        self.env['PYTHONPATH'] = os.pathsep.join(paths)
        commit, differing = gpu_pack.tree_commit(self.manifest)
        self.env[gpu_pack.COMMIT_ENV] = commit
        self.log('  tree: {} ({})'.format(commit, 'every tracked file as packed' if not differing
                                          else '{} file(s) differ from the pack, e.g. {}'.format(
                                              len(differing), ', '.join(differing[:3]))))
        code = 'import replicate, chainer; print("chainer", chainer.__version__)'
        if self.command('setup', [sys.executable, '-c', code], timeout=120) != 0:
            raise PhaseError('replicate/chainer do not import (logs/setup.log)')

    def describe(self):
        argv = [sys.executable, os.path.join(ROOT, 'tools', 'gpu_env.py'), 'describe',
                '--device', self.args.device]
        path = os.path.join(self.logs, 'environment.json')
        with open(path, 'w') as out, open(os.path.join(self.logs, 'env.log'), 'w') as err:
            try:
                done = subprocess.run(argv, cwd=ROOT, env=self.env, stdout=out, stderr=err,
                                      timeout=max(1, int(min(120, self.left()))))
            except subprocess.TimeoutExpired:
                raise PhaseError('tools/gpu_env.py describe timed out (logs/env.log)') from None
        if done.returncode != 0:
            raise PhaseError('tools/gpu_env.py describe failed (logs/env.log)')

    def parity(self, variant):
        """One parity run; ``variant`` is ``''`` (FP32, override 0),
        ``'default'`` (no override), ``'tf32'`` or ``'hostcpu'`` (ours on this
        machine's CPU: what another summation order alone changes)."""
        out = os.path.join(self.work, 'parity' + (variant and '_' + variant))
        env = dict(self.env)
        if variant:
            env.pop('NVIDIA_TF32_OVERRIDE', None)
        if variant == 'tf32':
            env['CUPY_TF32'] = '1'
        argv = [sys.executable, os.path.join(ROOT, 'tools', 'gpu_env.py'), 'parity',
                '--math', 'tf32' if variant == 'tf32' else 'fp32', '--',
                '--reference', in_repo(os.path.join(self.args.pack, gpu_pack.REFERENCE)),
                '--device', '@numpy' if variant == 'hostcpu' else self.args.device, '--out', out]
        if variant == 'hostcpu':
            tol = gpu_report.tolerances()
            argv += ['--rtol', tol.spelled(tol.PARITY_GPU), '--rtol-reason',
                     "the GPU run's bound, for comparison: "
                     "this machine's numpy/OpenBLAS sums in another order than the reference's"]
        elif self.args.rtol:
            argv += ['--rtol', str(self.args.rtol), '--rtol-reason', 'set by tools/gpu_check.py']
        code = self.command('parity' + (variant and '_' + variant), argv, env,
                            timeout=self.args.phase_timeout_s)
        metas = glob.glob(os.path.join(out, '*.meta.json'))
        if code not in (0, 1) or len(metas) != 1:
            raise PhaseError('replicate.parity exit {} (logs/parity{}.log)'.format(
                code, variant and '_' + variant))
        stem = metas[0][:-len('.meta.json')]
        name = '{}_random{}'.format(self.tag, variant and '_' + variant)
        for ext in ('.csv', '.md', '.meta.json'):
            self.keep(stem + ext, os.path.join('parity', name + ext))
        return 'PASS' if code == 0 else 'DIVERGES'

    def detections(self):
        argv = [sys.executable, os.path.join(ROOT, 'tools', 'gpu_env.py'), 'detections',
                '--reference', in_repo(os.path.join(self.args.pack, gpu_pack.REFERENCE)),
                '--device', self.args.device,
                '--out', os.path.join(self.logs, 'detections.json')]
        if self.command('detections', argv, timeout=self.args.phase_timeout_s) != 0:
            raise PhaseError('tools/gpu_env.py detections failed (logs/detections.log)')

    def bench(self):
        a = self.args
        argv = [sys.executable, '-m', 'replicate.bench', '--device', a.device,
                '--batch-sizes', a.batch_sizes, '--repeats', str(a.repeats),
                '--warmup', str(a.warmup), '--budget-s', str(a.bench_budget_s),
                '--out', in_repo(os.path.join(a.reports, 'bench')), '--stem', self.tag]
        code = self.command('bench', argv, timeout=a.phase_timeout_s)
        written = [os.path.join('bench', self.tag + ext) for ext in ('.csv', '.md', '.meta.json')
                   if os.path.isfile(os.path.join(a.reports, 'bench', self.tag + ext))]
        self.written += written
        if code != 0 or len(written) != 3:
            raise PhaseError('replicate.bench exit {} (logs/bench.log)'.format(code))

    def report(self):
        path = gpu_report.write_summary(self.args.reports, self.tag, self.logs, self.phases,
                                        self.manifest, self.args.device)
        self.written.append(os.path.relpath(path, self.args.reports))

    def package(self):
        """The tarball and the loose copies in ``--out``."""
        out = self.args.out
        os.makedirs(out, exist_ok=True)
        self.log_file.flush()
        with tarfile.open(os.path.join(out, 'gpu_check.tar.gz'), 'w:gz') as tar:
            for relative in sorted(set(self.written)):
                tar.add(os.path.join(self.args.reports, relative),
                        arcname=os.path.join('reports', relative))
            tar.add(self.logs, arcname='logs')
        shutil.copyfile(os.path.join(self.logs, 'gpu_check.log'),
                        os.path.join(out, 'gpu_check.log'))
        for relative, name in ((os.path.join('parity', self.tag + '.md'), 'parity_gpu.md'),
                               (os.path.join('bench', self.tag + '.md'), 'bench_gpu.md')):
            src = os.path.join(self.args.reports, relative)
            if relative in self.written and os.path.isfile(src):
                shutil.copyfile(src, os.path.join(out, name))


def parser():
    p = argparse.ArgumentParser(prog='python3 tools/gpu_check.py',
                                description=__doc__.split('\n\n')[0])
    p.add_argument('--out', required=True, help='folder for the tarball, log and summaries')
    p.add_argument('--device', default='@cupy:0', help='@cupy:N, or @numpy for a CPU dry run')
    p.add_argument('--pack', default=os.path.join(ROOT, gpu_pack.PACK))
    p.add_argument('--reports', default=os.path.join(ROOT, 'reports'),
                   help='where the reports go (parity/, bench/)')
    p.add_argument('--work', help='scratch folder (default: a new temporary one)')
    p.add_argument('--batch-sizes', default='1,32')
    p.add_argument('--repeats', type=int, default=10)
    p.add_argument('--warmup', type=int, default=2)
    p.add_argument('--bench-budget-s', type=float, default=20.0,
                   help='bench: timed seconds per batch size at most')
    p.add_argument('--budget-s', type=float, default=200.0,
                   help='after this many seconds the optional parity runs are skipped')
    p.add_argument('--phase-timeout-s', type=int, default=240)
    p.add_argument('--deadline-s', type=float, default=360.0,
                   help='whole run: phases are stopped or skipped so that the report and '
                        'the tarball are written by then')
    p.add_argument('--rtol', type=float, help='parity tolerance (default: the tool\'s)')
    p.add_argument('--skip', default='', metavar='PHASE,PHASE',
                   help='phases not to run (e.g. parity,detections,bench: a quick '
                        'test of the rest)')
    return p


def main(argv=None):
    args = parser().parse_args(argv)
    try:
        probe(args.device)
        manifest = gpu_pack.read_manifest(args.pack)
    except (NoGpu, gpu_pack.PackError) as exc:
        print('gpu_check: stopped: {}{}'.format(exc, '; run it on a machine with a CUDA GPU '
                                                'and CuPy, or pass --device @numpy for a CPU '
                                                'dry run' if isinstance(exc, NoGpu) else ''),
              file=sys.stderr)
        return 2
    work = args.work or tempfile.mkdtemp(prefix='gpu_check_')
    check = Check(args, work)
    check.manifest = manifest
    check.log('gpu_check on {} (pack commit {}, work folder {})'.format(
        args.device, manifest['commit'], work))
    if check.phase('setup', check.setup) == 'ok':
        check.phase('env', check.describe)
        check.phase('parity', lambda: check.parity(''))
        check.phase('detections', check.detections)
        check.phase('bench', check.bench)
        if 'cupy' in args.device:
            check.phase('parity-hostcpu', lambda: check.parity('hostcpu'), optional=True)
            check.phase('parity-default', lambda: check.parity('default'), optional=True)
            check.phase('parity-tf32', lambda: check.parity('tf32'), optional=True)
    check.phase('report', check.report)
    failed = [p for p in check.phases if p['phase'] in ESSENTIAL
              and p['status'] not in ('ok', 'PASS', 'skipped: --skip')]
    check.log('done in {:.0f} s: {}'.format(time.time() - check.start, ', '.join(
        '{} {}'.format(p['phase'], p['status'].split(':')[0]) for p in check.phases)))
    check.phase('package', check.package)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
