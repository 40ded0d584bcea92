"""``meta.json``: what produced a run directory (see compare_contract.md).

Layout::

    {"provenance": {...replicate.provenance.provenance()...},
     "args": {...the parsed CLI arguments...},
     "images": {"folder": path, "folder_from_run": path, "listed": N, "not_images": N},
     "state": "complete" | "interrupted" | "running",
     "detectors": [{"name", "status", "weights", "weights_sha256", "random_weights",
                    "device", "threads", "label_names", "info", "images_done",
                    "images_new"}, ...]}

Every path (``args``, ``images``, detector weights and label maps) is recorded
relative to the cwd of the run when inside it, absolute otherwise
(:mod:`compare.paths`), so the same command in another clone writes the same
strings; ``images.folder_from_run`` is the images folder relative to the run
folder, which :func:`compare.paths.resolve_images_dir` tries first.

Written when the detectors are loaded (state "running") and again at the end,
so an interrupted run still explains itself.
"""
import json
import os

TF_KINDS = ('tf', 'tfzoo', 'tf1')


def detector_entry(adapter, status, counts=None):
    """The meta.json entry of one detector (its ``info()`` plus the status)."""
    try:
        entry = dict(adapter.info())
    except Exception as exc:  # info of a half-loaded adapter must not hide its status
        entry = {'name': adapter.name, 'info': {'info_error': repr(exc)}}
    entry['status'] = status
    for key in ('weights', 'weights_sha256', 'random_weights', 'device', 'threads'):
        entry.setdefault(key, None)
    entry.setdefault('label_names', [])
    if counts:
        entry['images_done'] = counts['done'].get(adapter.name, 0)
        entry['images_new'] = counts['new'].get(adapter.name, 0)
    return entry


def build_meta(args, adapters, statuses, images_info, state, counts=None, uses_tf=False):
    """The whole meta.json dict."""
    from replicate.provenance import provenance
    detectors = [detector_entry(a, statuses[a.name], counts) for a in adapters]
    extra = {'detectors': ', '.join('{}={}'.format(d['name'], d['weights']) for d in detectors)}
    return {'provenance': provenance(import_tensorflow=uses_tf, extra=extra),
            'args': args, 'images': images_info, 'state': state, 'detectors': detectors}


def write_meta(out_dir, meta):
    """Write ``meta.json`` atomically (a killed run never leaves half a file)."""
    path = os.path.join(out_dir, 'meta.json')
    partial = path + '.part'
    with open(partial, 'w') as f:
        json.dump(meta, f, indent=2, sort_keys=True, default=str)
        f.write('\n')
    os.replace(partial, path)
    return path


def read_meta(out_dir):
    """Previous ``meta.json`` of ``out_dir`` or None."""
    path = os.path.join(out_dir, 'meta.json')
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def _identity(entry):
    """What must not change between a run and its resumption: the weights' content
    (their sha256 when known, else their recorded name) and the preset. The path is
    not part of it, so a run recorded with another spelling of the same file (absolute
    before, relative now) resumes."""
    return (entry.get('weights_sha256') or entry.get('weights'),
            (entry.get('info') or {}).get('preset'))


def changed_weights(previous, adapters, statuses):
    """Names of detectors whose weights differ from those of the previous run
    (resuming would mix two models' outputs in one file)."""
    before = {d['name']: d for d in (previous or {}).get('detectors', [])}
    changed = []
    for adapter in adapters:
        old = before.get(adapter.name)
        if old is None or statuses[adapter.name] != 'ok' or old.get('status') != 'ok':
            continue
        new = detector_entry(adapter, 'ok')
        if _identity(old) != _identity(new):
            changed.append(adapter.name)
    return changed
