"""NaN or Inf in a TF model's weights, found when the model loads.

A model whose weights hold NaN outputs NaN scores, and the OD API's NMS drops
them: zero detections, which look like a result. So the weights are checked
once at load, and such a model fails to load with one line naming it and the
first broken variables:

- a SavedModel, or the checkpoint an export's port reads: every
  floating-point variable of the checkpoint (``variables/variables.index``,
  ``checkpoint/ckpt-N.index``), read with ``tf.train.load_checkpoint``;
- a frozen graph: every floating-point ``Const`` node of the GraphDef.
"""
import os

import numpy as np

from compare.errors import UserError
from replicate.errors import one_line

#: How many broken variables the message names.
SHOWN = 5


def check_saved_model(tf, model_dir):
    """Raise UserError if a float variable of the SavedModel in ``model_dir``
    holds NaN or Inf (a SavedModel without variables passes)."""
    prefix = os.path.join(model_dir, 'variables', 'variables')
    if os.path.isfile(prefix + '.index'):
        check_checkpoint(tf, prefix, 'SavedModel ' + model_dir)


def check_checkpoint(tf, prefix, what):
    """Raise UserError naming ``what`` if a float variable of the TF
    checkpoint ``prefix`` holds NaN or Inf, or the checkpoint cannot be read."""
    try:
        reader = tf.train.load_checkpoint(prefix)
        broken = [name for name, dtype in sorted(reader.get_variable_to_dtype_map().items())
                  if dtype.is_floating and not _finite(reader.get_tensor(name))]
    except Exception as exc:  # tf.errors.DataLossError and friends: a corrupt checkpoint
        raise UserError('cannot read the variables of {}: {}: {}'.format(
            what, type(exc).__name__, one_line(exc)[:200])) from None
    _refuse(broken, what, 'variables')


def check_graph(tf, graph_def, path):
    """Raise UserError if a float ``Const`` node of ``graph_def`` holds NaN or Inf."""
    broken = []
    for node in graph_def.node:
        if node.op != 'Const' or 'value' not in node.attr:
            continue
        if tf.dtypes.as_dtype(node.attr['dtype'].type).is_floating and \
                not _finite(tf.make_ndarray(node.attr['value'].tensor)):
            broken.append(node.name)
    _refuse(broken, 'frozen graph ' + path, 'constants')


def _finite(value):
    return bool(np.isfinite(np.asarray(value, np.float64)).all())


def _refuse(broken, what, kind):
    if broken:
        raise UserError('{} has NaN or Inf in {} {}: {}{}; its weights are broken (a model '
                        'computing with them outputs no detection)'.format(
                            what, len(broken), kind, ', '.join(broken[:SHOWN]),
                            ', ...' if len(broken) > SHOWN else ''))
