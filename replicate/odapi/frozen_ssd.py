"""An OD API TF1 frozen graph (``frozen_inference_graph.pb``) as our Chainer
SSD: the slim ``ssd_mobilenet_v2`` extractor
(:mod:`replicate.odapi.slim_feature_maps`), the TF1 box predictor with
SSDLite's depthwise heads or convolutional ones
(:mod:`replicate.odapi.ssdlite_predictor`), the OD API's anchors, coder,
preprocessing and post-processing (shared with the TF2 port,
:class:`replicate.odapi.ssd.SSDMobileNetV2`).

``SlimSSDMobileNetV2.from_frozen_graph(PATH)`` takes the ``.pb`` file or the
export folder holding it:

1. the graph is read as data (:mod:`replicate.odapi.frozen_graph`: bounded,
   TensorFlow's protobuf class, nothing run);
2. the configuration is the ``pipeline.config`` beside the graph when there is
   one (checked against the graph: classes, input size, coder, NMS), else the
   graph's own (:mod:`replicate.odapi.graph_config`);
3. the anchors are checked bit for bit against the graph's own;
4. the weights fill the network strictly (:mod:`replicate.odapi.frozen_weights`).

:attr:`SlimSSDMobileNetV2.record` says where every setting came from.
"""
import os

import chainer

from replicate.odapi import anchors, frozen_weights, graph_config
from replicate.odapi.coder import BoxCoder
from replicate.odapi.config import SLIM_FEATURE_EXTRACTOR, read_pipeline
from replicate.odapi.errors import ConfigError, ExportError
from replicate.odapi.frozen_graph import FrozenGraph
from replicate.odapi.slim_feature_maps import SlimSSDMobileNetV2Extractor
from replicate.odapi.ssd import SSDMobileNetV2
from replicate.odapi.ssdlite_predictor import SlimBoxPredictor

FROZEN_NAME = 'frozen_inference_graph.pb'


def locate(path):
    """``(graph file, pipeline.config or None)`` for a ``.pb`` file or an export folder.

    Raises:
        ExportError: neither a file nor a folder holding ``frozen_inference_graph.pb``.
    """
    if os.path.isdir(path):
        graph = os.path.join(path, FROZEN_NAME)
        if not os.path.isfile(graph):
            raise ExportError('{} holds no {}: pass a TF1 OD API export folder or the graph '
                              'file'.format(path, FROZEN_NAME))
    elif os.path.isfile(path):
        graph = path
    else:
        raise ExportError('{} does not exist: pass a TF1 frozen_inference_graph.pb or the '
                          'export folder holding it'.format(path))
    pipeline = os.path.join(os.path.dirname(os.path.abspath(graph)), 'pipeline.config')
    return graph, pipeline if os.path.isfile(pipeline) else None


def is_frozen_graph(path):
    """Whether ``path`` names a TF1 frozen graph: a ``.pb`` file other than
    ``saved_model.pb``, or a folder with ``frozen_inference_graph.pb`` and no
    TF2 variables (``saved_model/variables`` or ``checkpoint/``)."""
    if os.path.isfile(path):
        return path.endswith('.pb') and os.path.basename(path) != 'saved_model.pb'
    if not os.path.isfile(os.path.join(path, FROZEN_NAME)):
        return False
    # TF2: saved_model/variables/variables.index or a checkpoint/ folder (a TF1
    # zoo folder has a file named 'checkpoint' and an empty saved_model/variables/)
    return not (os.path.isfile(os.path.join(path, 'saved_model', 'variables', 'variables.index'))
                or os.path.isdir(os.path.join(path, 'checkpoint')))


class SlimSSDMobileNetV2(SSDMobileNetV2):
    """The OD API's TF1 ``ssd_mobilenet_v2`` SSD (SSDLite when depthwise) in Chainer.

    Args:
        config (replicate.odapi.config.SSDConfig): the slim extractor's.

    Attributes:
        config, coder, extractor, multibox: as :class:`SSDMobileNetV2`.
        record (dict): {setting: where it came from}, filled by
            :meth:`from_frozen_graph`.
    """

    def __init__(self, config):
        if config.feature_extractor.type != SLIM_FEATURE_EXTRACTOR:
            raise ConfigError('{}: model.ssd.feature_extractor.type {!r}: a frozen graph is '
                              'built with {!r}'.format(config.source,
                                                       config.feature_extractor.type,
                                                       SLIM_FEATURE_EXTRACTOR))
        chainer.Chain.__init__(self)
        self.config, self.record = config, {}
        predictor = config.box_predictor
        with self.init_scope():
            self.extractor = SlimSSDMobileNetV2Extractor(config.feature_extractor,
                                                         config.image_size)
            self.multibox = SlimBoxPredictor(
                self.extractor.channels, anchors.boxes_per_location(config.anchors),
                config.num_classes + 1, predictor.kernel_size, predictor.box_code_size,
                predictor.use_depthwise, predictor.conv_hyperparams)
        self.coder = BoxCoder(
            anchors.generate(config.anchors, self.extractor.grids, config.image_size),
            config.scale_factors, config.matcher, config.image_size)

    @classmethod
    def from_frozen_graph(cls, path):
        """The model of a TF1 frozen graph (file or export folder), with its weights.

        Raises:
            ExportError, ConfigError, ExportWeightsError: one line each.
        """
        graph_path, pipeline = locate(path)
        graph = FrozenGraph(graph_path)
        graph.check_detection_export()
        if pipeline is None:
            config, seen = graph_config.recover(graph)
            record, what = seen.as_dict(), 'the configuration recovered from the graph'
        else:
            config = read_pipeline(pipeline, frozen=True)
            recovered, _ = graph_config.recover(graph)
            differences = graph_config.differences(config, recovered)
            if differences:
                raise ConfigError('{} does not describe {}: {}'.format(
                    pipeline, graph_path, '; '.join(differences)))
            record = {'configuration': 'from the pipeline.config beside the graph (agrees with '
                                       'the graph on classes, input, box coder, '
                                       'post-processing)'}
            what = pipeline
        model = cls(config)
        record['anchors'] = graph_config.check_anchors(graph, model.coder.anchors)
        frozen_weights.load(graph, model, what)
        record['weights'] = '{} constants of the graph, by name, all used'.format(
            len(frozen_weights.expected(model)))
        model.record = record
        return model
