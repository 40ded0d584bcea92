"""``meta.json``: what produced the run (the package docstring)."""
import dataclasses
import os
import typing

from compare.detections import DetectorInfo
from compare.errors import UserError
from compare.rundir.files import load_json, write_json
from compare.rundir.layout import META, STATES
from replicate.errors import one_line


@dataclasses.dataclass(frozen=True)
class DetectorEntry(DetectorInfo):
    """One detector in meta.json: what it says about itself
    (:class:`compare.detections.DetectorInfo`), then what the run saw."""
    status: str = 'ok'
    images_done: typing.Optional[int] = None
    images_new: typing.Optional[int] = None
    loaded: bool = True

    @classmethod
    def of(cls, info, status, done=None, new=None, loaded=True):
        """The entry of a detector's :class:`compare.detections.DetectorInfo`."""
        return cls(status=status, images_done=done, images_new=new, loaded=loaded,
                   **dataclasses.asdict(info))


@dataclasses.dataclass(frozen=True)
class ImagesInfo:
    """meta.json's ``images`` block."""
    folder: str
    folder_from_run: str
    listed: int
    not_images: int


@dataclasses.dataclass(frozen=True)
class RunMeta:
    """meta.json."""
    provenance: dict
    args: dict
    images: ImagesInfo
    state: str
    detectors: tuple

    def entry(self, name):
        """The :class:`DetectorEntry` called ``name``, or None."""
        return next((d for d in self.detectors if d.name == name), None)

    def images_dir(self, run_dir):
        """The images folder as a path usable from the current cwd: the one
        recorded relative to the run folder if it exists, else the one
        recorded relative to the cwd of the run (returned even if missing, so
        messages can name it)."""
        from_run = os.path.normpath(os.path.join(run_dir, self.images.folder_from_run))
        return from_run if os.path.isdir(from_run) else self.images.folder


def write_meta(run_dir, meta):
    """Write ``meta.json`` atomically; returns its path."""
    path = os.path.join(run_dir, META)
    write_json(path, dataclasses.asdict(meta))
    return path


#: How to recover from a meta.json that cannot be read.
META_FIX = ('rerun compare/run.py with --force to redo this folder\'s detectors and rewrite it, '
            'or pass another --out')


def read_meta(run_dir):
    """``meta.json`` of ``run_dir`` as a :class:`RunMeta`, or None if absent.

    Raises:
        UserError: the file is not a meta.json of this harness (the message
            says how to recover: :data:`META_FIX`).
    """
    path = os.path.join(run_dir, META)
    if not os.path.lexists(path):
        return None
    data = load_json(path, META_FIX)
    try:
        detectors = tuple(DetectorEntry(**dict(entry, label_names=tuple(entry['label_names'])))
                          for entry in data.pop('detectors'))
        meta = RunMeta(images=ImagesInfo(**data.pop('images')), detectors=detectors, **data)
        if not all(isinstance(d.name, str) and isinstance(d.status, str) and
                   isinstance(d.info, dict) for d in detectors):
            raise TypeError('a detector entry with a name, status or info of the wrong type')
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise UserError('{} is not a meta.json of this harness ({}: {}); {}'.format(
            path, type(exc).__name__, one_line(exc)[:200], META_FIX)) from None
    if meta.state not in STATES:
        raise UserError('{}: state {!r} is not one of {}; {}'.format(
            path, meta.state, ', '.join(STATES), META_FIX))
    return meta
