"""Fine-tuning sources for SSD300: a VGG-16 base file (ChainerCV's
'imagenet' layout) and a whole SSD300 of another class set."""
import numpy as np
import pytest

import replicate
from replicate.errors import UserError
from replicate.ssd.weights import param_keys, seeded_random_weights
from replicate.train.finetune import finetune_from
from replicate.train.recipe import BASE_LINKS


@pytest.fixture(scope='module')
def source():
    """A seeded 20-class SSD300's arrays by key."""
    model = seeded_random_weights(replicate.SSD300(n_fg_class=20), seed=4)
    return {key: param.array for key, param in param_keys(model).items()}


def save(path, arrays):
    np.savez(str(path), **arrays)
    return str(path)


def test_a_vgg_base_file(source, tmp_path):
    base = tuple('extractor/{}/'.format(name) for name in BASE_LINKS)
    path = save(tmp_path / 'vgg.npz', {k: v for k, v in source.items() if k.startswith(base)})
    model = replicate.SSD300(n_fg_class=3)
    before = {k: p.array.copy() for k, p in param_keys(model).items()}
    _, loaded, kept = finetune_from(model, path, 'ssd300')
    assert loaded == sorted(k for k in source if k.startswith(base)) and len(loaded) == 30
    after = param_keys(model)
    for key in loaded:
        np.testing.assert_array_equal(after[key].array, source[key])
    for key in kept:
        np.testing.assert_array_equal(after[key].array, before[key])
    assert 'extractor/norm4/scale' in kept and 'multibox/conf/0/W' in kept


def test_a_whole_ssd300_of_other_classes(source, tmp_path):
    path = save(tmp_path / 'ssd300.npz', source)
    model = replicate.SSD300(n_fg_class=3)
    _, loaded, kept = finetune_from(model, path, 'ssd300')
    assert kept == sorted('multibox/conf/{}/{}'.format(i, p) for i in range(6) for p in 'Wb')


def test_a_file_without_the_base(source, tmp_path):
    path = save(tmp_path / 'heads.npz', {k: v for k, v in source.items()
                                          if k.startswith('multibox/')})
    with pytest.raises(UserError, match='missing base keys'):
        finetune_from(replicate.SSD300(n_fg_class=3), path, 'ssd300')
