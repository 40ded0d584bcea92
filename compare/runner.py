"""The per-image loop: every loaded detector on every image, resumable.

Images are the outer loop (each file is decoded once), detectors the inner
one. After each (image, detector) the record is appended to
``raw/<detector>.jsonl`` and flushed, so an interrupted run (Ctrl-C, a killed
process) resumes where it stopped: on restart the existing records are read
(a partial last line is dropped) and images already done by a detector are
not run again for it. ``force=True`` deletes the raw outputs first.

A detector whose ``load`` fails, or whose ``predict`` raises on an image, is
marked ``failed: <reason>`` and the run goes on with the others.
Unreadable images go to ``raw/skipped.csv`` with the reason.
"""
import csv
import os
import sys
import traceback

from compare import rawstore
from compare.detections import image_record
from compare.errors import UserError, is_user_error
from compare.images import load_rgb


def raw_path(raw_dir, name):
    return os.path.join(raw_dir, name + '.jsonl')


def load_adapters(adapters, raw_dir, log=print):
    """Call ``load`` on each adapter; ``{name: status}``, ``'ok'`` or ``'failed: ...'``."""
    statuses = {}
    for adapter in adapters:
        statuses[adapter.name] = _load_one(adapter, raw_dir)
        log('detector {}: {}'.format(adapter.name, statuses[adapter.name]))
        if statuses[adapter.name] == 'ok':
            _log_weights(adapter.info(), log)
    return statuses


def _log_weights(info, log):
    """Say which weights each detector uses; RANDOM weights loudly."""
    choice = (info.get('info') or {}).get('weights_choice', '')
    log('  weights: {}{}'.format(info.get('weights'), ' ({})'.format(choice) if choice else ''))
    if info.get('random_weights'):
        log('  WARNING: {} runs with RANDOM weights: its detections mean nothing for '
            'accuracy (agreement and speed only)'.format(info.get('name')))


def _load_one(adapter, raw_dir):
    try:
        adapter.load()
        return 'ok'
    except Exception as exc:  # one detector failing must not stop the others
        return 'failed: {}'.format(_describe(exc, adapter.name, raw_dir))


def _describe(exc, name, raw_dir):
    """One line for meta.json; for non-user errors (bugs, library failures)
    the full traceback goes to raw/<name>.error.txt."""
    if is_user_error(exc):
        return ' '.join(str(exc).split())
    os.makedirs(raw_dir, exist_ok=True)
    path = os.path.join(raw_dir, name + '.error.txt')
    with open(path, 'w') as f:
        f.write(traceback.format_exc())
    return '{}: {} (traceback in {})'.format(type(exc).__name__, ' '.join(str(exc).split()), path)


def prepare_outputs(raw_dir, names, force):
    """``{name: set of images done}``; with ``force`` the raw files are removed."""
    os.makedirs(raw_dir, exist_ok=True)
    done = {}
    for name in names:
        path = raw_path(raw_dir, name)
        if force and os.path.exists(path):
            os.remove(path)
        done[name] = {record['image'] for record in rawstore.read_records(path)}
    return done


def run_images(adapters, images_dir, images, raw_dir, statuses, force=False, progress=True):
    """Run the loaded adapters (status ``'ok'``) over ``images``.

    Args:
        images: relative posix paths under ``images_dir``.
        statuses: ``{name: status}``, updated when a detector fails midway.

    Returns:
        ``{'new': {name: records written}, 'done': {name: total}, 'unreadable':
        [(image, reason)]}``. KeyboardInterrupt propagates after the files
        are closed.
    """
    active = [a for a in adapters if statuses[a.name] == 'ok']
    done = prepare_outputs(raw_dir, [a.name for a in adapters], force)
    writers = {a.name: rawstore.RecordWriter(raw_path(raw_dir, a.name)) for a in active}
    new, unreadable = {a.name: 0 for a in active}, []
    todo = [image for image in images if any(image not in done[a.name] for a in active)]
    bar = _progress(len(images), len(images) - len(todo), progress)
    try:
        for image in todo:
            _one_image(image, images_dir, active, done, writers, new, unreadable, statuses,
                       raw_dir)
            bar.update(1)
    finally:
        bar.close()
        for writer in writers.values():
            writer.close()
    return {'new': new, 'done': {name: len(images_done) for name, images_done in done.items()},
            'unreadable': unreadable}


def _one_image(image, images_dir, active, done, writers, new, unreadable, statuses, raw_dir):
    try:
        rgb = load_rgb(os.path.join(images_dir, image))
    except UserError as exc:
        unreadable.append((image, str(exc)))
        return
    for adapter in [a for a in active if statuses[a.name] == 'ok' and image not in done[a.name]]:
        try:
            prediction = adapter.predict([rgb])
        except Exception as exc:
            statuses[adapter.name] = 'failed: on {}: {}'.format(
                image, _describe(exc, adapter.name, raw_dir))
            continue
        writers[adapter.name].write(image_record(
            image, rgb.shape[0], rgb.shape[1], prediction.detections[0], prediction.times))
        done[adapter.name].add(image)
        new[adapter.name] += 1


def _progress(total, initial, enabled):
    from tqdm import tqdm
    return tqdm(total=total, initial=initial, unit='image', disable=not enabled,
                desc='detecting', file=sys.stderr)


def write_skipped(path, skipped):
    """``raw/skipped.csv`` (image, reason), sorted by image."""
    with open(path, 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow(['image', 'reason'])
        for image, reason in sorted(skipped):
            writer.writerow([image, reason])
