"""An OD API export as the start of a fine-tuning: ``--finetune-from tf:EXPORT_DIR``.

The trained model is our port of the export (:class:`replicate.odapi.SSDMobileNetV2`),
built from the export's ``pipeline.config`` with two changes, and filled from
the export's variables except the class heads:

* ``num_classes`` is the new class set's, so the class heads
  (``multibox/ConvolutionalClassHead_k/ClassPredictor``) are new, freshly
  initialised (LeCun normal weights, zero bias), as in SSD's recipe;
* the score converter is ``SOFTMAX`` (``logit_scale`` 1). SSD's loss, which
  ``replicate.train`` uses for every model, is a softmax cross-entropy over
  the class slots with slot 0 the background (:func:`replicate.multibox_loss`);
  the scores the model predicts must be that softmax. The OD API's zoo
  configs train sigmoid scores with a focal loss and convert with
  ``SIGMOID``; a head trained here is not, so its config says ``SOFTMAX``
  (a converter the OD API and the port both support), and detection,
  evaluation and the comparison harness read the head as it was trained.

Everything else is the export's: MobileNetV2 base, extra layers, box heads,
anchors, box coder (scale factors), argmax matcher (training targets),
fixed-shape resizer, [-1, 1] normalisation, NMS thresholds and caps. The
base (``extractor.base``, :attr:`SSDMobileNetV2Extractor.base_links`) is what
``--freeze-base`` freezes; its batch norms always use their moving
statistics (:class:`replicate.odapi.layers.BatchNorm`), so a frozen base is
bit-unchanged by training.

Reading the export's variables needs TensorFlow's checkpoint reader (no
graph from the export runs); a model built here is saved and reloaded
without TensorFlow (the ``pipeline.config`` text travels in the file's
description: :class:`replicate.train.models.ModelSpec`).
"""
import dataclasses
import os

from chainer.serializers import DictionarySerializer, NpzDeserializer

from replicate.errors import UserError, one_line

#: The prefix of an export source in ``--finetune-from``.
PREFIX = 'tf:'
#: The converter of a model trained with SSD's softmax loss.
SCORE_CONVERTER = 'SOFTMAX'
#: Serializer keys under these are the class heads, never taken from the export.
HEADS = 'multibox/ConvolutionalClassHead_'


def is_export(source):
    """Whether a ``--finetune-from`` value names an OD API export."""
    return source is not None and source.startswith(PREFIX)


def export_dir(source):
    """``tf:EXPORT_DIR`` -> EXPORT_DIR (UserError if empty)."""
    folder = source[len(PREFIX):]
    if not folder:
        raise UserError('--finetune-from tf: needs the export folder: tf:path/to/export '
                        '(the folder holding pipeline.config and saved_model/)')
    return folder


def read_pipeline_text(folder):
    """The text of ``folder``/pipeline.config, checked to be a config the
    port builds (UserError naming the file, or the first field it refuses)."""
    from replicate.odapi.config import read_pipeline
    path = os.path.join(folder, 'pipeline.config')
    if not os.path.isfile(path):
        raise UserError('--finetune-from tf:{} has no pipeline.config: pass an OD API export '
                        'folder (pipeline.config, saved_model/)'.format(folder))
    config = read_pipeline(path)
    height, width = config.image_size
    if height != width:
        raise UserError('{}: fixed_shape_resizer {}x{}: training needs a square input (the '
                        'augmentation resizes to a square)'.format(path, height, width))
    with open(path, encoding='utf-8') as f:
        return f.read()


def fine_tuned_config(pipeline, n_fg_class, source='pipeline.config'):
    """The :class:`replicate.odapi.SSDConfig` of ``pipeline`` (text) for a
    new class set: ``n_fg_class`` classes, scores by :data:`SCORE_CONVERTER`."""
    from replicate.odapi import config, textproto
    parsed = config.from_message(textproto.parse(pipeline, source), source)
    scores = dataclasses.replace(parsed.post_processing, score_converter=SCORE_CONVERTER,
                                 logit_scale=1.0)
    return dataclasses.replace(parsed, num_classes=n_fg_class, post_processing=scores)


def build(pipeline, n_fg_class):
    """A freshly initialised :class:`replicate.odapi.SSDMobileNetV2` (see above)."""
    from replicate.odapi import SSDMobileNetV2
    return SSDMobileNetV2(fine_tuned_config(pipeline, n_fg_class))


def _arrays(model):
    serializer = DictionarySerializer()
    serializer.save(model)
    return serializer.target


def load_export(model, source):
    """Fill ``model`` (from :func:`build`) from the export of ``source``
    (``tf:EXPORT_DIR``), all but the class heads.

    The export is first loaded whole into the model its own config
    describes (strictly: every variable used, every shape checked), then
    copied array by array.

    Returns:
        (folder, loaded, kept): the export folder, the sorted serializer keys
        loaded, the sorted keys left at their initial values (the class heads).

    Raises:
        UserError: no TensorFlow, or an export the port does not read.
    """
    folder = export_dir(source)
    try:
        import tensorflow  # noqa: F401  (its checkpoint reader reads the variables)
    except Exception as error:  # ImportError, or a broken install raising anything
        raise UserError('--finetune-from {}: reading an OD API export needs TensorFlow '
                        '({}: {}; pip install tensorflow)'.format(
                            source, type(error).__name__, one_line(error))
                        ) from None
    from replicate.odapi import SSDMobileNetV2
    exported = _arrays(SSDMobileNetV2.from_export(folder))
    target = _arrays(model)
    # a None is a parameter the config leaves out (a bias, a batch-norm scale)
    loaded = sorted(key for key in target
                    if not key.startswith(HEADS) and target[key] is not None)
    if sorted(exported) != sorted(target):  # only if build() changed more than the heads
        raise UserError('--finetune-from {}: the export has {} arrays, the model {}'.format(
            source, len(exported), len(target)))
    NpzDeserializer({key: exported[key] for key in loaded}, strict=False).load(model)
    return folder, loaded, sorted(key for key in target if key.startswith(HEADS))
