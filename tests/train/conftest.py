"""A tiny generated VOC dataset and a tiny model configuration shared by the
training command's tests (a run of a few iterations takes about a second)."""
import pytest

from replicate.datasets.synthetic import generate


@pytest.fixture(scope='session')
def shapes_voc(tmp_path_factory):
    """The generated shapes dataset, seed 0: 12 train and 4 val images."""
    root = str(tmp_path_factory.mktemp('shapes'))
    generate(root, seed=0, counts=[('train', 12), ('val', 4)])
    return root
