"""Detector adapters and the detector spec syntax of the command line.

A spec is ``KIND[:ARG][,KEY=VALUE...]``; :data:`KINDS` says, per kind, what
ARG is and which options it takes (``python compare/run.py --help`` prints the
same table). Every kind also takes ``name=NAME`` (the detector's name, which
names its raw output file) and ``random_weights=yes|no``: ``yes`` records the
detector as holding RANDOM (untrained) weights, so the report's banner names
it -- for exports that cannot know it themselves, such as an OD API model
exported before training (:mod:`compare.adapters.declared`).

Modules: :mod:`~compare.adapters.protocol` (the interface),
:mod:`~compare.adapters.chainer_ssd` and
:mod:`~compare.adapters.chainer_weights` (ours, chainercv),
:mod:`~compare.adapters.chainer_trained` (trained: a model file written by
``python -m replicate.train``, any architecture and class set),
:mod:`~compare.adapters.chainer_odapi` (ours-odapi: our Chainer port of an OD
API SSD-MobileNetV2 export, the network ``tf`` runs in TensorFlow),
:mod:`~compare.adapters.tf_odapi` (TF OD API exports, both TF generations, every
input type: it composes :mod:`~compare.adapters.tf_locate`,
:mod:`~compare.adapters.tf_saved_model`, :mod:`~compare.adapters.tf_frozen`,
:mod:`~compare.adapters.tf_inputs`, :mod:`~compare.adapters.tf_common` and
:mod:`~compare.adapters.label_map`), :mod:`~compare.adapters.tf_zoo`,
:mod:`~compare.adapters.caffe_ssd` and :mod:`~compare.adapters.caffe_opencv`
(caffe, opencv-dnn: a Caffe SSD in Chainer and in OpenCV's DNN, sharing
:mod:`~compare.adapters.caffe_spec`), :mod:`~compare.adapters.fake` (no
model), :mod:`~compare.adapters.coco_results` (file: detections from a COCO
results JSON). The Chainer adapters' modules are imported when a detector
of their kind is first built (:func:`_later`), TensorFlow, OpenCV and the
engines inside each adapter's ``load``: listing the kinds imports none of them.
"""
import dataclasses
import importlib
import os
import re
import textwrap
import typing

from compare.adapters import caffe_spec, packaged_models
from compare.adapters.coco_results import build_file
from compare.adapters.common_nms import variants
from compare.adapters.declared import DeclaredRandom, parse_flag
from compare.adapters.fake import build_fake
from compare.adapters.protocol import Detector
from compare.adapters.tf_odapi import DECODE_OPTION, LABELS_OPTION, build_tf, build_tf1
from compare.adapters.tf_zoo import build_tfzoo
from compare.errors import UserError
from compare.limits import MAX_NAME_LENGTH


@dataclasses.dataclass(frozen=True)
class Kind:
    """One detector kind of the spec syntax.

    Attributes:
        build: ``(arg, options, settings) -> adapter`` (not loaded); pops the
            options it knows from ``options``.
        arg: what ARG is.
        options: its own ``KEY=VALUE`` options, in words.
        takes_path: ARG is a file or folder, which must exist
            (:func:`check_paths`).
        uses_tf: the detector runs or reads with TensorFlow (its version then
            belongs in the run's provenance).
    """
    build: typing.Callable
    arg: str
    options: str
    takes_path: bool = False
    uses_tf: bool = False


def _later(module, function, *first):
    """``compare.adapters.<module>.<function>(*first, ...)``, imported on the
    first call: listing the kinds (``--help``, every spec check) imports no
    framework, and a run imports only the adapters it builds."""
    def build(*args):
        found = getattr(importlib.import_module('compare.adapters.' + module), function)
        return found(*first, *args)
    return build


_CHAINER_ARG = ('voc0712 | imagenet (cached, else downloaded) | PATH.npz | random[:SEED]; '
                'default voc0712 if cached, else random:0 (said loudly)')
_PRESET = ('preset=auto|visualize|evaluate (default: --preset; auto = evaluate for trained '
           'weights, visualize for random ones)')
_PACKAGED = ', '.join(sorted(packaged_models.MODELS)) + ' (label map built in)'
#: Kinds whose ARG may be a packaged model's short name.
PACKAGED_KINDS = ('tf1', 'ours-odapi')
#: kind -> :class:`Kind`; read-only.
KINDS = {
    'ours': Kind(_later('chainer_ssd', 'build', 'ours'), _CHAINER_ARG, _PRESET),
    'chainercv': Kind(_later('chainer_ssd', 'build', 'chainercv'), _CHAINER_ARG, _PRESET),
    # ours with the network run by ONNX Runtime (CPU): the fast path beside Chainer's
    'ours-onnx': Kind(_later('chainer_ssd', 'build', 'ours-onnx'), _CHAINER_ARG, _PRESET),
    # the same export run by OpenVINO (float32), and quantized to int8 at load
    'ours-openvino': Kind(_later('chainer_ssd', 'build', 'ours-openvino'), _CHAINER_ARG,
                          _PRESET),
    'ours-int8': Kind(_later('chainer_ssd', 'build', 'ours-int8'), _CHAINER_ARG,
                      _PRESET + ', engine=openvino|onnx (default openvino: NNCF + OpenVINO; '
                      "onnx: ONNX Runtime's quantization tools); calibrated at load on 16 "
                      'generated images'),
    'tf': Kind(build_tf, 'an OD API export folder (TF2, or TF1 holding saved_model/), its '
               'saved_model/ folder or a file in them; any input type', LABELS_OPTION + ', ' +
               DECODE_OPTION, takes_path=True, uses_tf=True),
    'tfzoo': Kind(build_tfzoo, 'a TF2 model zoo archive name, from --tf-zoo-dir or downloaded',
                  'labels=PATH|coco (default coco), ' + DECODE_OPTION, uses_tf=True),
    'tf1': Kind(build_tf1, 'a TF1 OD API frozen_inference_graph.pb or the export folder '
                'holding it, or a packaged model: ' + _PACKAGED, LABELS_OPTION + ', ' +
                DECODE_OPTION, takes_path=True, uses_tf=True),
    'ours-odapi': Kind(_later('chainer_odapi', 'build'),
                       'an OD API TF2 export folder (pipeline.config, saved_model/ or '
                       'checkpoint/) or a TF1 frozen_inference_graph.pb (or its '
                       'folder) run by our Chainer port of its SSD-MobileNetV2 / SSDLite, or a '
                       'packaged model: ' + _PACKAGED, 'labels=PATH|coco (default: '
                       'label_map.pbtxt in the export folder), device=@numpy|@cupy:N (default '
                       '@numpy)', takes_path=True,
                       uses_tf=True),  # it reads the export's variables / graph with TF
    'trained': Kind(_later('chainer_trained', 'build'),
                    'the model.npz (or a snapshot_iter_N.npz) written by python -m '
                    'replicate.train; architecture and class names come from it',
                    'preset=auto|visualize|evaluate (default: --preset; auto = evaluate)',
                    takes_path=True),
    # a Caffe SSD in Chainer (replicate.caffe), and the same files in OpenCV's DNN
    'caffe': Kind(_later('caffe_ssd', 'build'), caffe_spec.ARG, caffe_spec.OPTIONS),
    'opencv-dnn': Kind(_later('caffe_opencv', 'build'), caffe_spec.ARG, caffe_spec.OPTIONS),
    'fake': Kind(build_fake, 'a seed (synthetic detections, no model; default 0)',
                 'count=N (default 3), delay=SECONDS per image, fail=MESSAGE (load fails)'),
    'file': Kind(build_file, 'a COCO results JSON ([{image_id, category_id, bbox, score}]) '
                 'from any framework or python -m compare.export; not timed',
                 'images=COCO.json (required: the COCO JSON whose image and category ids it '
                 'uses), classes=NAME+NAME (its classes: default every category of '
                 'images=; default name file_<stem>)', takes_path=True),
}
#: A detector name: it names raw/<name>.jsonl and the columns of tables, so a
#: letter, digit or "_" first (a leading "." would hide the file from scoring),
#: then letters, digits, "_", "-", "." (:data:`compare.limits.MAX_NAME_LENGTH`).
_SAFE_NAME = re.compile(r'^[A-Za-z0-9_][A-Za-z0-9_.-]*$')
#: Names taken by the columns of scoring's tables (``classes``).
RESERVED_NAMES = ('annotations', 'canonical')


def kinds_help(width=79):
    """The per-kind paragraphs of ``--help``."""
    return '\n'.join(textwrap.fill('{}:ARG  ARG: {}; options: {}'.format(
        kind, entry.arg, entry.options), width, initial_indent='  ', subsequent_indent='      ',
        break_on_hyphens=False)
        for kind, entry in KINDS.items())


def parse_spec(spec):
    """``'tf:dir,labels=coco'`` -> ``('tf', 'dir', {'labels': 'coco'})``."""
    head, *pairs = spec.split(',')
    kind, _, arg = head.partition(':')
    kind = kind.strip()
    if kind not in KINDS:
        raise UserError('unknown detector kind {!r} in {!r}; valid kinds: {}'.format(
            kind, spec, ', '.join(KINDS)))
    options = {}
    for pair in pairs:
        key, sep, value = pair.partition('=')
        if not sep or not key:
            raise UserError('detector option {!r} in {!r} is not KEY=VALUE'.format(pair, spec))
        options[key.strip()] = value.strip()
    return kind, arg.strip(), options


def uses_tensorflow(spec):
    """Whether the detector of ``spec`` runs or reads with TensorFlow."""
    return KINDS[parse_spec(spec)[0]].uses_tf


def build(spec, settings=None) -> Detector:
    """An adapter (not loaded) from a spec string.

    Args:
        settings: run-wide defaults: ``{'preset': 'auto', 'tf_zoo_dir': None}``.
    """
    kind, arg, options = parse_spec(spec)
    declared_random = parse_flag(options.pop('random_weights', None), spec)
    adapter = KINDS[kind].build(arg, options, settings or {})
    if options:
        raise UserError('unknown option(s) {} for detector kind {!r} in {!r}; it takes {} '
                        '(and name=, random_weights=)'.format(
                            ', '.join(sorted(options)), kind, spec, KINDS[kind].options))
    check_name(adapter.name)
    return DeclaredRandom(adapter) if declared_random else adapter


def check_paths(spec):
    """The paths of a spec (ARG of a kind that takes one, ``labels=PATH``)
    exist, or a UserError names the missing one and what to pass. The
    command checks every spec so before any detector loads (:func:`build`
    does not: an adapter can be built, and named, for a path elsewhere)."""
    kind, arg, options = parse_spec(spec)
    if KINDS[kind].takes_path and arg and not os.path.lexists(arg) and not (
            kind in PACKAGED_KINDS and packaged_models.named(arg)):
        raise UserError('{} does not exist (detector {!r}); {}:ARG takes {}'.format(
            arg, spec, kind, KINDS[kind].arg))
    labels = options.get('labels')
    if labels and labels != 'coco' and not os.path.lexists(labels):
        raise UserError('label map {} does not exist (detector {!r}); pass an existing '
                        'label_map.pbtxt or labels=coco'.format(labels, spec))
    images = options.get('images')
    if images and not os.path.lexists(images):
        raise UserError('images file {} does not exist (detector {!r}); pass the COCO JSON '
                        'whose ids the results use'.format(images, spec))


def check_name(name):
    """Raise UserError unless ``name`` is a detector name every step keeps."""
    if not _SAFE_NAME.match(name) or len(name) > MAX_NAME_LENGTH:
        raise UserError('detector name {!r} must start with a letter, digit or "_", then use '
                        'only letters, digits, "-", "_", "." (at most {} characters); set '
                        'name=...'.format(name[:MAX_NAME_LENGTH + 10], MAX_NAME_LENGTH))
    if name.lower() in RESERVED_NAMES:
        raise UserError('detector name {!r} is taken by a column of the tables ({}); set '
                        'name=...'.format(name, ', '.join(RESERVED_NAMES)))


def build_all(specs, settings=None):
    """Adapters for all specs; duplicate names (ignoring case: they name files)
    are an error (set name=...). With ``settings['common_nms']`` (a
    :class:`compare.adapters.common_nms.NMSParams`) each adapter that offers
    candidates is followed by its ``.common_nms`` variant."""
    adapters = variants([build(spec, settings) for spec in specs],
                        (settings or {}).get('common_nms'))
    names = [adapter.name.lower() for adapter in adapters]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise UserError('two detectors named {}; add ,name=OTHER to one of them'.format(
            ', '.join(duplicates)))
    return adapters
