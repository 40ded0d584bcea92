"""Fixtures for the OD API port's tests: the real OD API export in
tests/fixtures (a tiny SSD-MobileNetV2, random weights), loaded once per
session because importing TensorFlow and reading the export takes ~20 s."""
import copy
import os

import pytest
from odapi_paths import EXPORT


@pytest.fixture(scope='session')
def export_model():
    """Our port of the fixture export with its weights (do not modify: copy)."""
    pytest.importorskip('tensorflow')
    from replicate.odapi import SSDMobileNetV2
    return SSDMobileNetV2.from_export(EXPORT)


@pytest.fixture
def model_copy(export_model):
    return copy.deepcopy(export_model)


@pytest.fixture(scope='session')
def export_graph():
    """The fixture export's frozen TF graph (the parity reference)."""
    pytest.importorskip('tensorflow')
    from replicate.odapi.parity.tf_graph import ExportGraph
    graph = ExportGraph(os.path.join(EXPORT, 'saved_model'))
    yield graph
    graph.close()


@pytest.fixture(scope='session')
def packaged_graph():
    """The packaged SSDLite person detector's frozen graph (verified path)."""
    from frozen_helpers import PACKAGED_KEY

    from replicate.packaged import packaged_path
    return packaged_path(PACKAGED_KEY)


@pytest.fixture(scope='session')
def ssdlite(packaged_graph):
    """Our port of the packaged SSDLite (do not modify)."""
    pytest.importorskip('tensorflow')
    from replicate.odapi import SlimSSDMobileNetV2
    return SlimSSDMobileNetV2.from_frozen_graph(packaged_graph)


@pytest.fixture(scope='session')
def slim_fixture():
    """Our port of the committed TF1 fixture graph (its pipeline.config beside it)."""
    pytest.importorskip('tensorflow')
    from frozen_helpers import FROZEN_GRAPH

    from replicate.odapi import SlimSSDMobileNetV2
    return SlimSSDMobileNetV2.from_frozen_graph(FROZEN_GRAPH)
