"""The per-image loop: every loaded detector on every image, resumable.

Images are the outer loop (each file is read and decoded once), detectors
the inner one. After each (image, detector) the record, with the image file's
sha256, is appended to ``raw/<detector>.jsonl``
(:class:`compare.rundir.RecordWriter`), so an interrupted run (Ctrl-C, a
killed process) resumes where it stopped: which saved records are trusted, and
what ``--force`` deletes, is :mod:`compare.runner.resume`.

A detector whose ``load`` fails, or whose ``predict`` raises on an image or
returns NaN or Inf or detections a record may not hold (a box outside the
image, a score outside [0, 1]:
:func:`compare.rundir.records.detections_problem`), is marked ``failed:
<reason>`` and the run goes on with the others. Unreadable images are returned with the reason (for
``raw/skipped.csv``).
"""
import os
import sys
import traceback

from compare import rundir
from compare.adapters.protocol import inputs_for
from compare.errors import UserError, is_user_error
from compare.images import read_image
from compare.rundir.records import detections_problem
from replicate.errors import one_line


def load_adapters(adapters, run_dir, log=print):
    """Call ``load`` on each adapter; ``{name: status}``, ``'ok'`` or ``'failed: ...'``."""
    statuses = {}
    for adapter in adapters:
        statuses[adapter.name] = _load_one(adapter, run_dir)
        log('detector {}: {}'.format(adapter.name, statuses[adapter.name]))
        if statuses[adapter.name] == 'ok':
            _log_weights(adapter.info(), log)
    return statuses


def _log_weights(info, log):
    """Say which weights each detector uses; RANDOM weights loudly."""
    choice = info.info.get('weights_choice', '')
    log('  weights: {}{}'.format(info.weights, ' ({})'.format(choice) if choice else ''))
    if info.random_weights:
        log('  WARNING: {} runs with RANDOM weights: its detections mean nothing for '
            'accuracy (agreement and speed only)'.format(info.name))


def _load_one(adapter, run_dir):
    try:
        adapter.load()
        return 'ok'
    except Exception as exc:  # one detector failing must not stop the others
        return 'failed: {}'.format(_describe(exc, adapter.name, run_dir))


def _describe(exc, name, run_dir):
    """One line for meta.json; for non-user errors (bugs, library failures)
    the full traceback goes to raw/<name>.error.txt."""
    if is_user_error(exc):
        return one_line(exc)
    path = rundir.write_error(run_dir, name, traceback.format_exc())
    return '{}: {} (traceback in {})'.format(type(exc).__name__, one_line(exc), path)


def run_images(adapters, images_dir, images, run_dir, statuses, done, progress=True):
    """Run the loaded adapters (status ``'ok'``) over ``images``.

    Args:
        images: relative posix paths under ``images_dir``.
        statuses: ``{name: status}``, updated when a detector fails midway.
        done: ``{name: set of images}`` whose records are trusted
            (:func:`compare.runner.resume.prepare`); updated as images are done.

    Returns:
        ``{'new': {name: records written}, 'done': {name: total}, 'unreadable':
        [(image, reason)]}``. KeyboardInterrupt propagates after the files
        are closed.
    """
    active = [a for a in adapters if statuses[a.name] == 'ok']
    writers = {a.name: rundir.RecordWriter(rundir.records_file(run_dir, a.name)) for a in active}
    new, unreadable = {a.name: 0 for a in active}, []
    todo = [image for image in images if any(image not in done[a.name] for a in active)]
    bar = _progress(len(images), len(images) - len(todo), progress)
    try:
        for image in todo:
            _one_image(image, images_dir, active, done, writers, new, unreadable, statuses,
                       run_dir)
            bar.update(1)
    finally:
        bar.close()
        for writer in writers.values():
            writer.close()
    return {'new': new, 'done': {name: len(images_done) for name, images_done in done.items()},
            'unreadable': unreadable}


def _one_image(image, images_dir, active, done, writers, new, unreadable, statuses, run_dir):
    try:
        loaded, sha256 = read_image(os.path.join(images_dir, image))
    except UserError as exc:
        unreadable.append((image, str(exc)))
        return
    for adapter in [a for a in active if statuses[a.name] == 'ok' and image not in done[a.name]]:
        try:
            prediction = adapter.predict(inputs_for(adapter, [loaded], [image]))
            found = prediction.detections[0]
            if not found.is_finite():
                raise UserError('its boxes or scores hold NaN or Inf: its weights (or the '
                                'model) are broken, so its detections cannot be trusted')
            # what the reader of the records would refuse is not written
            problem = detections_problem(found, loaded.shape[0], loaded.shape[1])
            if problem:
                raise UserError('it returned what no record may hold ({}): its output is '
                                'not detections of this image'.format(problem))
        except Exception as exc:
            statuses[adapter.name] = 'failed: on {}: {}'.format(
                image, _describe(exc, adapter.name, run_dir))
            continue
        if prediction.raw is not None:  # --keep-raw: before the record, so a record
            rundir.write_netout(run_dir, adapter.name, image, **prediction.raw[0])  # has it
        else:  # outputs kept by an earlier run are not of this record
            rundir.remove_netout(run_dir, adapter.name, [image])
        writers[adapter.name].write(rundir.ImageRecord(
            image, loaded.shape[0], loaded.shape[1], found, prediction.times, sha256))
        done[adapter.name].add(image)
        new[adapter.name] += 1


def _progress(total, initial, enabled):
    from tqdm import tqdm
    return tqdm(total=total, initial=initial, unit='image', disable=not enabled,
                desc='detecting', file=sys.stderr)
