"""The ``ours-odapi`` kind on a TF1 frozen graph: our Chainer port of the
graph's SSD (:class:`replicate.odapi.frozen_ssd.SlimSSDMobileNetV2`), the
network ``tf1:`` runs in TensorFlow.

The graph's SHA-256 is the detector's weights identity; the configuration
(from ``pipeline.config`` beside the graph or recovered from the graph, each
value with where it came from) is part of its settings, so a run folder
resumes only the same graph under the same settings.
"""
import numpy as np

from compare.errors import UserError
from provenance.stamp import file_sha256

#: How many non-finite parameters a message names.
SHOWN = 5


def load(path):
    """``(model, graph path, graph sha256, pipeline.config sha256 or None)``.

    Raises:
        UserError (replicate's): a graph the port cannot build or fill, in one
            line; NaN or Inf in its weights.
    """
    from replicate.odapi.frozen_ssd import SlimSSDMobileNetV2, locate
    graph, pipeline = locate(path)
    model = SlimSSDMobileNetV2.from_frozen_graph(graph)
    broken = sorted(name for name, param in model.namedparams()
                    if not np.isfinite(param.array).all())
    if broken:
        raise UserError('frozen graph {} has NaN or Inf in {} weights: {}{}; a model computing '
                        'with them outputs no detection'.format(
                            graph, len(broken), ', '.join(broken[:SHOWN]),
                            ', ...' if len(broken) > SHOWN else ''))
    return model, graph, file_sha256(graph), file_sha256(pipeline) if pipeline else None


def network(model):
    """The network in words."""
    fe, bp = model.config.feature_extractor, model.config.box_predictor
    kind = 'SSDLite-MobileNetV2' if fe.use_depthwise and bp.use_depthwise else \
        'SSD-MobileNetV2'
    return ('{} (OD API TF1 ssd_mobilenet_v2, slim; {} heads) ported to Chainer from a frozen '
            'graph'.format(kind, 'depthwise' if bp.use_depthwise else 'convolutional'))


def details(model, sha256):
    """The ``info`` entries of a frozen-graph detector (after load)."""
    return {'network': network(model), 'format': 'TF1 frozen graph (OD API export)',
            'graph_sha256': sha256,
            'configuration': {key: str(value) for key, value in model.record.items()}}
