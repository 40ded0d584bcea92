"""Which model file a ``tf:`` / ``tf1:`` path means, for every layout the OD
API writes.

Layouts:

- TF2 export (``exporter_main_v2.py``): ``EXPORT/saved_model/saved_model.pb``
  (+ ``variables/``), ``EXPORT/checkpoint/``, ``EXPORT/pipeline.config``.
- TF1 export, as the TF1 model zoo archives hold it (``export_inference_graph.py``):
  ``EXPORT/frozen_inference_graph.pb``, ``EXPORT/saved_model/saved_model.pb``
  (weights inside, input ``inputs``), ``EXPORT/model.ckpt.*``,
  ``EXPORT/checkpoint``, ``EXPORT/pipeline.config``.
- A training folder (``model.ckpt*``/``ckpt-*`` only) is not an export.

The user may pass the export folder, its ``saved_model/`` folder, or any
file in them. :func:`locate` finds the model: a model named by the path (a
SavedModel folder, ``saved_model.pb``, a ``.pb`` GraphDef) is used; for the
rest of an export folder ``tf:`` prefers the SavedModel, ``tf1:`` the frozen
graph, and either takes the other when only that one is there. What it
cannot use gets an error naming what to pass instead.
"""
import dataclasses
import glob
import os

from compare.errors import UserError

SAVED_MODEL, FROZEN = 'saved_model', 'frozen_graph'
FROZEN_NAME = 'frozen_inference_graph.pb'
_EXPORT_FILES = ('pipeline.config', 'checkpoint', 'label_map.pbtxt')
_EXPORT_SUFFIXES = ('.pbtxt', '.config', '.index', '.meta', '.json', '.txt')


@dataclasses.dataclass(frozen=True)
class Located:
    """The model a path means.

    Attributes:
        route: :data:`SAVED_MODEL` (a folder holding saved_model.pb) or
            :data:`FROZEN` (a GraphDef file).
        model: that folder or file.
        export_dir: the export folder it belongs to (label maps are looked
            for there; the detector is named after it).
    """
    route: str
    model: str
    export_dir: str


def export_dir(path):
    """The export folder of a user's path (existing or not): a file's folder,
    and ``saved_model/`` or ``checkpoint/`` stand for their parent."""
    path = os.path.normpath(os.path.abspath(path))
    if os.path.isfile(path) or os.path.splitext(path)[1] in ('.pb',) + _EXPORT_SUFFIXES \
            or '.ckpt' in os.path.basename(path):
        path = os.path.dirname(path)
    if os.path.basename(path) in ('saved_model', 'checkpoint'):
        path = os.path.dirname(path)
    return path


def locate(path, prefer):
    """:class:`Located` for ``path`` (module doc).

    Args:
        prefer: :data:`SAVED_MODEL` (``tf:``) or :data:`FROZEN` (``tf1:``).

    Raises:
        UserError: nothing usable there; the message says what to pass.
    """
    if not os.path.exists(path):
        raise UserError('TF model path {} does not exist; pass an OD API export folder (holding '
                        'saved_model/ or {})'.format(path, FROZEN_NAME))
    if os.path.isfile(path):
        found = _from_file(path)
        if found is not None:
            return found
    folder = export_dir(path)
    if os.path.isfile(os.path.join(path, 'saved_model.pb')):  # the SavedModel itself, named
        return Located(SAVED_MODEL, os.path.abspath(path), folder)
    saved = _saved_model_in(path, folder)
    frozen = os.path.join(folder, FROZEN_NAME)
    frozen = frozen if os.path.isfile(frozen) else None
    order = [(SAVED_MODEL, saved), (FROZEN, frozen)]
    for route, model in (order if prefer == SAVED_MODEL else order[::-1]):
        if model:
            return Located(route, model, folder)
    raise UserError(_nothing_usable(path, folder))


def _from_file(path):
    """A model given as a file: a GraphDef ``.pb``, or saved_model.pb."""
    name = os.path.basename(path)
    if name == 'saved_model.pb':
        return Located(SAVED_MODEL, os.path.dirname(os.path.abspath(path)),
                       export_dir(os.path.dirname(os.path.abspath(path))))
    if name.endswith('.pb'):
        return Located(FROZEN, os.path.abspath(path), export_dir(path))
    return None  # pipeline.config, label map, checkpoint file: their folder


def _saved_model_in(path, folder):
    """The folder holding saved_model.pb: folder/saved_model or folder."""
    for candidate in (os.path.join(folder, 'saved_model'), folder):
        if os.path.isdir(candidate) and os.path.isfile(os.path.join(candidate, 'saved_model.pb')):
            return os.path.abspath(candidate)
    return None


def _nothing_usable(path, folder):
    checkpoints = sorted(glob.glob(os.path.join(folder, '*.ckpt*')) +
                         glob.glob(os.path.join(folder, 'ckpt-*')) +
                         glob.glob(os.path.join(folder, 'checkpoint', 'ckpt-*')))
    if checkpoints:
        return ('{} holds a training checkpoint ({}), not an exported model; export it with the '
                'OD API (exporter_main_v2.py --input_type image_tensor --pipeline_config_path '
                'PIPELINE --trained_checkpoint_dir {} --output_directory OUT) and pass OUT'.format(
                    path, os.path.basename(checkpoints[0]), folder))
    inside = sorted(d for d in glob.glob(os.path.join(folder, '*', 'saved_model', 'saved_model.pb'))
                    + glob.glob(os.path.join(folder, '*', FROZEN_NAME)))
    if inside:
        return 'no model directly in {}; pass the export folder inside it: {}'.format(
            path, export_dir(inside[0]))
    return ('no saved_model/saved_model.pb or {} in {}; pass an OD API export folder'.format(
        FROZEN_NAME, path))
