"""``reports/parity/gpu.md``: the summary page of one GPU check run.

Written by ``tools/gpu_check.py`` from what its phases left: the environment
(``logs/environment.json``), the parity runs' ``.meta.json``/``.csv`` under
``reports/parity/`` and the phases' outcomes. Standard library only (it runs
before anything is known to import). Floats use the project's ``%.6g``.
"""
import csv
import importlib.util
import json
import os

#: (file suffix, what the run is), in report order.
RUNS = (('', 'FP32: `NVIDIA_TF32_OVERRIDE=0`, CuPy float32 GEMM compute type left at its '
             'default'),
        ('_hostcpu', "ours on this machine's CPU (its numpy and OpenBLAS): what another "
                     'summation order alone changes'),
        ('_default', 'as the machine comes: no `NVIDIA_TF32_OVERRIDE`, CuPy defaults'),
        ('_tf32', 'TF32: CuPy float32 GEMMs set to `COMPUTE_TYPE_TF32` (tensor cores, '
                  '10-bit mantissa inputs), no override'))
FLOAT = '%.6g'
#: The suite's table of tolerances (it imports nothing: read by its path here,
#: where importing ``replicate`` would need Chainer).
TOLERANCES_PY = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                             'replicate', 'tolerances.py')


def tolerances():
    """:mod:`replicate.tolerances`, loaded from :data:`TOLERANCES_PY` alone."""
    spec = importlib.util.spec_from_file_location('replicate_tolerances', TOLERANCES_PY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _num(value):
    try:
        return FLOAT % float(value)
    except (TypeError, ValueError):
        return str(value)


def _cell(value):
    return str(value).replace('|', '\\|').replace('\n', ' ')


def _table(header, rows):
    lines = ['| ' + ' | '.join(header) + ' |', '| ' + ' | '.join('---' for _ in header) + ' |']
    lines += ['| ' + ' | '.join(_cell(v) for v in row) + ' |' for row in rows]
    return '\n'.join(lines) + '\n'


def _load_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def _rows(path):
    try:
        with open(path, newline='') as f:
            return list(csv.DictReader(f))
    except OSError:
        return []


def _max(rows, keep):
    values = [(float(r['scaled_err']), r['name']) for r in rows
              if keep(r['name']) and r['scaled_err'] not in ('', 'nan')]
    return max(values) if values else (float('nan'), '-')


def is_layer(name):
    """Network outputs (everything up to and including the heads)."""
    return not name.startswith(('decode', 'predict'))


def run_rows(parity_dir, stem):
    """One summary row per parity run found (see :data:`RUNS`)."""
    rows = []
    for suffix, what in RUNS:
        meta = _load_json(os.path.join(parity_dir, stem + suffix + '.meta.json'))
        if meta is None:
            continue
        table = _rows(os.path.join(parity_dir, stem + suffix + '.csv'))
        summary, settings = meta['summary'], meta['settings']
        layer_err, layer_name = _max(table, is_layer)
        out_err, out_name = _max(table, lambda n: not is_layer(n))
        rows.append(['[{0}]({0}.md)'.format(stem + suffix), what, summary['verdict'],
                     summary['rows'], summary['counts'].get('exact', 0),
                     summary['counts'].get('within tolerance', 0),
                     summary['counts'].get('DIVERGES', 0), _num(settings['rtol']),
                     '{} (`{}`)'.format(_num(layer_err), layer_name),
                     '{} (`{}`)'.format(_num(out_err), out_name),
                     summary['first_diverging'] or '-'])
    return rows


def largest_errors(rows, n=12):
    """The ``n`` rows with the largest ``scaled_err``, largest first."""
    ranked = sorted((r for r in rows if r['scaled_err'] not in ('', 'nan')),
                    key=lambda r: -float(r['scaled_err']))
    return [[r['name'], r['shape'], _num(r['scaled_err']), _num(r['max_abs_err']),
             _num(r['cosine']), r['verdict'], r['note']] for r in ranked[:n]]


def environment_rows(env):
    """``(key, value)`` rows of the environment, paths left out."""
    if not env:
        return [['environment', 'not recorded (see the env phase)']]
    keys = ('device', 'gpu', 'nvidia_smi', 'cuda_driver', 'cuda_runtime', 'cupy', 'cudnn',
            'cudnn_packages', 'float32_gemm_math', 'chainer', 'chainer_cuda', 'compat_restored',
            'numpy', 'numpy_blas', 'python', 'env')
    return [[k, json.dumps(env[k], sort_keys=True) if isinstance(env[k], (dict, list))
             else env[k]] for k in keys if k in env]


def summary_text(tag, env, runs, main_rows, detections, phases, manifest, device):
    """The whole Markdown page."""
    tol = tolerances()
    stem = tag + '_random'
    main = runs[0] if runs and runs[0][0].startswith('[' + stem + ']') else None
    gpu = env.get('device', device) if env else device
    if main:
        head = ('**{}** on {}: {} of {} outputs exact, {} within the tolerance scaled_err <= {}, '
                '{} diverging; largest scaled_err over the network {}, over decoded boxes, '
                'scores and detections {}.').format(main[2], gpu, main[4], main[3], main[5],
                                                    main[7], main[6], main[8], main[9])
    else:
        head = '**The main parity run did not complete** on {}: see the phases below.'.format(gpu)
    parts = [
        '# SSD300 parity on the GPU: ours (CuPy) vs ChainerCV (CPU, saved)' + (
            '' if tag == 'gpu' else ' -- CPU dry run of the check'), '', head, '',
        'Ours (`replicate.SSD300`, Chainer 7.8.1 on CuPy) ran on the GPU; the reference is '
        "ChainerCV 0.13.1's SSD300 run on the CPU (Python 3.10, numpy 1.26.4) with the same "
        'seeded random weights and inputs, saved by `tools/gpu_pack.py` as '
        '`python -m replicate.parity --save-reference ... --batch 2 --sample 32768`: each '
        'network output as its SHA-256, its max |value| and 32768 sampled elements (errors '
        "on a sampled row are the sample's; `scaled_err` divides by the whole output's max "
        '|value|), the decoded boxes likewise, the final detections whole. Columns and row '
        'names: [README.md](README.md).', '',
        '## Runs', '',
        _table(('report', 'math', 'verdict', 'rows', 'exact', 'within', 'diverging', 'rtol',
                'max scaled_err, network', 'max scaled_err, decode/predict',
                'first diverging'), runs) if runs else 'No parity run completed.\n',
        '## Why this tolerance', '',
        'The GPU default is scaled_err <= {} (the CPU one {}). ChainerCV is the '.format(
            tol.spelled(tol.PARITY_GPU), tol.spelled(tol.PARITY_CPU)) +
        'reference on the CPU; on the GPU the same float32 arithmetic is summed in another '
        "order (CuPy's cuBLAS GEMMs over im2col columns instead of OpenBLAS), which moves each "
        'sum by a few units in its last place, and these differences grow through 23 '
        'convolutions. Reordering alone, without the GPU, is the `_hostcpu` run: ours on '
        "this machine's CPU, whose OpenBLAS sums differently from the reference's (on the "
        'project\'s CPU, numpy 2.5 against numpy 1.26 gave up to 2e-6 of a layer\'s scale and '
        '6.1e-6 on the softmax scores: docs/install.md, "Python 3.12 and numpy 2"). The GPU runs '
        'above are measured against the same bound; a real error (a wrong layer) shows as '
        '1e-3 or more. '
        'TF32 math rounds GEMM inputs to 10 bits of mantissa (about 1e-3) and is expected to '
        'exceed the bound: that run shows by how much.', '']
    if main_rows:
        parts += ['## Largest errors (FP32 run)', '',
                  _table(('name', 'shape', 'scaled_err', 'max_abs_err', 'cosine', 'verdict',
                          'note'), largest_errors(main_rows)),
                  '## Final detections (FP32 run)', '',
                  _table(('name', 'shape', 'verdict', 'max_abs_err', 'note'),
                         [[r['name'], r['shape'], r['verdict'], _num(r['max_abs_err']),
                           r['note']] for r in main_rows if r['name'].startswith('predict[')])]
    if detections:
        parts += ['Detections matched one to one (same label, IoU >= {}):'.format(
            detections['iou']), '',
            _table(tuple(detections['columns']),
                   [[_num(v) if isinstance(v, float) else v for v in row]
                    for row in detections['rows']])]
    parts += ['## Environment', '', _table(('what', 'value'), environment_rows(env)),
              '## Phases of `python3 tools/gpu_check.py`', '',
              _table(('phase', 'status', 'seconds'),
                     [[p['phase'], p['status'], '%.1f' % p['seconds']] for p in phases]),
              'Pack: commit {} ({} files, {:.1f} MB).'.format(
                  manifest.get('commit', '?'), len(manifest.get('files', [])),
                  manifest.get('total_bytes', 0) / 1e6) if manifest else 'Pack: not read.', '',
              'Speed on this GPU: [../bench/{}.md](../bench/{}.md).'.format(tag, tag), '']
    return '\n'.join(parts)


def write_summary(reports, tag, logs, phases, manifest, device):
    """Write ``<reports>/parity/<tag>.md``; returns its path."""
    parity_dir = os.path.join(reports, 'parity')
    os.makedirs(parity_dir, exist_ok=True)
    env = _load_json(os.path.join(logs, 'environment.json')) or {}
    detections = _load_json(os.path.join(logs, 'detections.json'))
    runs = run_rows(parity_dir, tag + '_random')
    main_rows = _rows(os.path.join(parity_dir, tag + '_random.csv'))
    path = os.path.join(parity_dir, tag + '.md')
    with open(path, 'w') as f:
        f.write(summary_text(tag, env, runs, main_rows, detections, phases, manifest, device))
    return path
