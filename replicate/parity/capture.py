"""Run one SSD model on the parity inputs and record every named output.

The record of one model, in execution order:

1. ``input``, every layer of ``model(x)`` (see :mod:`replicate.parity.tracing`),
   ``mb_locs`` (B, K, 4) and ``mb_confs`` (B, K, n_fg_class + 1), the root
   outputs, K = 8732 default boxes;
2. ``decode[i]/bbox|label|score``: ``model.coder.decode`` of image ``i``
   with ``nms_thresh=None`` and ``score_thresh=0``, i.e. every default box
   decoded for every foreground class, before any threshold or NMS: bbox
   float32 (n_fg_class * K, 4) as (y_min, x_min, y_max, x_max) in the 300x300
   input frame, label int32, score float32 (softmax);
3. ``predict/input``, ``predict/multibox[0]`` (mb_locs), ``predict/multibox[1]``
   (mb_confs) of the
   ``predict`` call on the raw images (so ``predict``'s own resizing and mean
   subtraction are checked) and ``predict[i]/bbox|label|score``, the final
   detections in each raw image's frame.
"""
import collections

import chainer
import numpy as np

from replicate.parity.tracing import to_host, trace_call

ROOT = 'ssd'
#: The root outputs get the names SSD gives them.
ROOT_OUTPUTS = {ROOT + '[0]': 'mb_locs', ROOT + '[1]': 'mb_confs'}
#: What is kept of the ``predict`` call's trace (besides the detections):
#: the head's outputs, because ChainerCV's ``predict`` calls ``self.forward``
#: and so never passes through the root link's hook.
PREDICT_KEPT = ('input', 'multibox[0]', 'multibox[1]')


def _renamed(records):
    return collections.OrderedDict((ROOT_OUTPUTS.get(k, k), v) for k, v in records.items())


def trace_forward(model, x):
    """Records of ``model(x)`` in test mode; also returns the device arrays
    ``(mb_locs, mb_confs)`` for decoding."""
    x = model.device.send(x)
    with chainer.using_config('train', False), chainer.no_backprop_mode():
        records, (mb_locs, mb_confs) = trace_call(model, lambda: model(x), root_name=ROOT)
    return _renamed(records), (mb_locs.array, mb_confs.array)


def decoded(model, mb_locs, mb_confs):
    """``decode[i]/...`` records: all boxes of all classes before NMS."""
    records = collections.OrderedDict()
    for i, (mb_loc, mb_conf) in enumerate(zip(mb_locs, mb_confs, strict=True)):
        bbox, label, score = model.coder.decode(mb_loc, mb_conf, nms_thresh=None,
                                                score_thresh=0)
        for key, value in (('bbox', bbox), ('label', label), ('score', score)):
            records['decode[{}]/{}'.format(i, key)] = to_host(value)
    return records


def predicted(model, images, preset, resize_backend):
    """``predict/...`` and ``predict[i]/...`` records of ``model.predict``.

    Args:
        images (list of numpy.ndarray): float32 (3, H, W) RGB in [0, 255].
        preset (str): ``'visualize'`` or ``'evaluate'`` (``use_preset``).
        resize_backend (str): ``'cv2'`` or ``'PIL'``, set as
            ``chainer.config.cv_resize_backend`` for the call.
    """
    model.use_preset(preset)
    with chainer.using_config('cv_resize_backend', resize_backend):
        trace, (bboxes, labels, scores) = trace_call(
            model, lambda: model.predict([img.copy() for img in images]), root_name=ROOT)
    trace = _renamed(trace)
    records = collections.OrderedDict(
        ('predict/' + key, trace[key]) for key in PREDICT_KEPT if key in trace)
    for i, detection in enumerate(zip(bboxes, labels, scores, strict=True)):
        for key, value in zip(('bbox', 'label', 'score'), detection, strict=True):
            records['predict[{}]/{}'.format(i, key)] = np.asarray(value)
    return records


def capture(model, x, images, preset, resize_backend):
    """Every record of ``model`` on the prepared batch ``x`` (float32
    (B, 3, 300, 300)) and the raw ``images``, in execution order."""
    records, (mb_locs, mb_confs) = trace_forward(model, x)
    records.update(decoded(model, mb_locs, mb_confs))
    records.update(predicted(model, images, preset, resize_backend))
    return records
