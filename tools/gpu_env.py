"""The GPU check's steps that run inside its prepared environment.

``tools/gpu_check.py`` runs them with ``PYTHONPATH`` = the unpacked wheels +
the repository:

    python3 tools/gpu_env.py describe [--device @cupy:0]
        one JSON object on stdout: Python, numpy (and its BLAS), Chainer and
        what ``replicate.compat`` restored, CuPy, the GPU (name, compute
        capability, memory), the driver and CUDA versions, cuDNN (installed,
        and whether Chainer uses it), the float32 GEMM math. CuPy's own
        ``show_config()`` goes to stderr (the log): it names local paths.
    python3 tools/gpu_env.py detections --reference NPZ --device D --out JSON
        our final detections on the device for the reference's raw images,
        matched one to one with the reference's (same label, best IoU >= 0.5):
        counts, smallest IoU and largest score difference of the matched
        pairs, so a near-tie that changes the list shows by how much;
    python3 tools/gpu_env.py parity --math fp32|tf32 -- ARGS...
        ``python -m replicate.parity ARGS`` with CuPy's float32 GEMMs set to
        full FP32 (CuPy's default) or to TF32 tensor-core math
        (``COMPUTE_TYPE_TF32``: 10-bit mantissa inputs, FP32 accumulate).
"""
import argparse
import contextlib
import importlib.metadata
import json
import os
import platform
import subprocess
import sys


def _guard(fn):
    """``fn()``, or the error's type and first line (a missing piece of the
    environment is a fact to report, not a crash)."""
    try:
        return fn()
    except Exception as exc:
        return 'unavailable ({}: {})'.format(type(exc).__name__,
                                             str(exc).splitlines()[0] if str(exc) else '')


def _nvidia_smi():
    out = subprocess.run(['nvidia-smi', '--query-gpu=name,driver_version,memory.total',
                          '--format=csv,noheader'], capture_output=True, text=True,
                         timeout=30, check=True).stdout
    return out.strip().splitlines()


def _installed(prefix):
    """``{distribution: version}`` of installed distributions named ``prefix*``."""
    found = {}
    for dist in importlib.metadata.distributions():
        name = dist.metadata['Name'] or ''
        if name.lower().startswith(prefix):
            found[name] = dist.version
    return dict(sorted(found.items()))


def _gemm_math():
    import cupy._core._routines_linalg as linalg
    import numpy
    return linalg.compute_type_to_str(linalg.get_compute_type(numpy.dtype('float32')))


def _gpu(index):
    import cupy
    props = cupy.cuda.runtime.getDeviceProperties(index)
    name = props['name'].decode() if isinstance(props['name'], bytes) else props['name']
    return {'name': name, 'compute_capability': '{}.{}'.format(props['major'], props['minor']),
            'memory_gib': '{:.1f}'.format(props['totalGlobalMem'] / 2 ** 30),
            'multiprocessors': str(props['multiProcessorCount'])}


def describe(device):
    """The environment as a flat-ish JSON-able dict (see module doc)."""
    import numpy

    import replicate.compat as compat  # before chainer
    from provenance import stamp
    info = {'python': platform.python_version(), 'numpy': numpy.__version__,
            'numpy_blas': _guard(lambda: '{name} {version}'.format(
                **numpy.show_config(mode='dicts')['Build Dependencies']['blas'])),
            'compat_restored': ', '.join(compat.RESTORED) or 'nothing (numpy 1)',
            'chainer': _guard(lambda: importlib.metadata.version('chainer')),
            'chainer_cuda': _guard(compat.cuda_report),
            'env': {k: os.environ.get(k, '(unset)') for k in
                    ('NVIDIA_TF32_OVERRIDE', 'CUPY_TF32', 'CUPY_ACCELERATORS')},
            'cudnn_packages': _guard(lambda: _installed('nvidia-cudnn')) or 'none'}
    if 'cupy' not in device:
        info['device'] = stamp.device_description(device)
        return info
    import cupy
    index = int(device.rsplit(':', 1)[1]) if ':' in device else 0
    info.update({
        'cupy': cupy.__version__,
        'cuda_driver': _guard(lambda: stamp._cuda_version(
            cupy.cuda.runtime.driverGetVersion())),
        'cuda_runtime': _guard(lambda: stamp._cuda_version(
            cupy.cuda.runtime.runtimeGetVersion())),
        'gpu': _guard(lambda: _gpu(index)),
        'nvidia_smi': _guard(_nvidia_smi),
        'cudnn': stamp.cudnn_description(),
        'float32_gemm_math': _guard(_gemm_math),
        'device': stamp.device_description(device)})
    with contextlib.redirect_stdout(sys.stderr):  # the log, not the JSON
        _guard(cupy.show_config)
    return info


def match(ref, ours, iou_thresh=0.5):
    """Greedy one-to-one matching of two detection lists ``(bbox, label,
    score)`` (bbox (R, 4) as (y_min, x_min, y_max, x_max)): reference boxes
    by descending score take the unmatched box of ours with the same label
    and the highest IoU >= ``iou_thresh``. Returns a row dict."""
    import numpy as np

    from replicate.ssd.boxes import bbox_iou
    (rb, rl, rs), (ob, ol, os_) = ref, ours
    iou = bbox_iou(rb.astype(np.float64), ob.astype(np.float64)) if len(rb) and len(ob) \
        else np.zeros((len(rb), len(ob)))
    iou = np.where(rl[:, None] == ol[None, :], np.nan_to_num(iou), -1.0)
    taken, ious, diffs = np.zeros(len(ob), dtype=bool), [], []
    for i in np.argsort(-rs, kind='stable'):
        if not len(ob):
            break
        candidates = np.where(taken, -1.0, iou[i])
        j = int(np.argmax(candidates))
        if candidates[j] >= iou_thresh:
            taken[j] = True
            ious.append(float(candidates[j]))
            diffs.append(abs(float(rs[i]) - float(os_[j])))
    return {'reference': len(rb), 'ours': len(ob), 'matched': len(ious),
            'only_reference': len(rb) - len(ious), 'only_ours': len(ob) - len(ious),
            'min_iou': min(ious) if ious else float('nan'),
            'max_abs_score_diff': max(diffs) if diffs else float('nan')}


def detections(reference, device):
    """Match our detections on ``device`` with the reference's (module doc)."""
    import chainer

    from replicate import SSD300
    from replicate.parity import models
    from replicate.parity.reference import load_reference
    records, config, _, images = load_reference(reference)
    model = SSD300(n_fg_class=config['n_fg_class'])
    path = models.resolve_weights(config['weights'], config['n_fg_class'])
    # the parity tool's rule and loader: seeded values, then the file, strictly
    models.load_weights_into(model, config['weights'], path, config['seed'])
    model.to_device(chainer.get_device(device))
    model.use_preset(config['preset'])
    with chainer.using_config('cv_resize_backend', config['resize_backend']):
        ours = model.predict([img.copy() for img in images])
    columns = ['image', 'reference', 'ours', 'matched', 'only_reference', 'only_ours',
               'min_iou', 'max_abs_score_diff']
    rows = []
    for i in range(len(images)):
        ref = tuple(records['predict[{}]/{}'.format(i, k)] for k in ('bbox', 'label', 'score'))
        row = match(ref, tuple(out[i] for out in ours))
        rows.append([i] + [row[c] for c in columns[1:]])
    return {'iou': 0.5, 'columns': columns, 'rows': rows}


def set_gemm_math(math):
    """CuPy's float32 GEMM compute type: ``fp32`` leaves CuPy's default
    (``COMPUTE_TYPE_DEFAULT``: FP32), ``tf32`` sets ``COMPUTE_TYPE_TF32``."""
    if math == 'tf32':
        import cupy._core._routines_linalg as linalg
        import numpy
        linalg.set_compute_type(numpy.dtype('float32'), linalg.COMPUTE_TYPE_TF32)


def main(argv=None):
    p = argparse.ArgumentParser(prog='tools/gpu_env.py')
    sub = p.add_subparsers(dest='command', required=True)
    d = sub.add_parser('describe')
    d.add_argument('--device', default='@cupy:0')
    m = sub.add_parser('detections')
    m.add_argument('--reference', required=True)
    m.add_argument('--device', default='@cupy:0')
    m.add_argument('--out', required=True)
    q = sub.add_parser('parity')
    q.add_argument('--math', choices=('fp32', 'tf32'), default='fp32')
    q.add_argument('rest', nargs=argparse.REMAINDER)
    args = p.parse_args(argv)
    if args.command == 'describe':
        info = describe(args.device)
        print(json.dumps(info, indent=2, sort_keys=True, default=str))
        return 0
    import replicate.compat  # noqa: F401  (before chainer)
    if args.command == 'detections':
        with open(args.out, 'w') as f:
            json.dump(detections(args.reference, args.device), f, indent=2)
        return 0
    from replicate.parity import cli
    if any(a.startswith('@cupy') for a in args.rest):
        set_gemm_math(args.math)
    rest = args.rest[1:] if args.rest[:1] == ['--'] else args.rest
    return cli.main(rest)


if __name__ == '__main__':
    sys.exit(main())
