"""Damaged and hostile Caffe files: every failure is a one-line CaffeError,
and nothing is allocated from a size the file merely claims."""
import random

import pytest
from caffe_files import vgg_ssd300

from replicate.caffe import caffemodel, prototxt, ssd
from replicate.caffe.errors import CaffeError

INPUT = 'input: "data" input_shape { dim: 1 dim: 3 dim: %d dim: %d }\n'


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    folder = tmp_path_factory.mktemp('hostile')
    path, weights = vgg_ssd300(width=2, n_class=3).write(folder, 'tiny')
    with open(path) as f, open(weights, 'rb') as g:
        return f.read(), g.read()


def build(text, data):
    model = ssd.CaffeSSD(prototxt.parse(text, 'fuzz.prototxt'))
    model.net.load(caffemodel.parse(data, 'fuzz.caffemodel'))
    return model


def test_mutated_prototxts_and_caffemodels_fail_in_one_line_or_load(tiny):
    text, data = tiny
    assert build(text, data).n_priors == 8732
    rng = random.Random(0)
    values = ['-1', '0', '1e30', 'nan', 'inf', '99999999', '"x"', 'FOO', 'true', '2.5']
    lines, outcomes = text.splitlines(), set()
    for _ in range(15):
        mutated = list(lines)
        i = rng.randrange(len(mutated))
        fields = mutated[i].split()
        j = rng.randrange(len(fields))
        if fields[j].endswith(':') and j + 1 < len(fields):
            fields[j + 1] = rng.choice(values)
        else:
            fields[j] = rng.choice(['{', '}', ':', '$', fields[j] * 2])
        mutated[i] = ' '.join(fields)
        blob = bytearray(data)
        for _ in range(3):
            blob[rng.randrange(len(blob))] = rng.randrange(256)
        for candidate in (('\n'.join(mutated), data), (text, bytes(blob)),
                          (text, data[:rng.randrange(len(data))])):
            try:
                build(*candidate)
                outcomes.add('loaded')
            except CaffeError as exc:
                assert '\n' not in str(exc)
                outcomes.add('refused')
    assert outcomes == {'loaded', 'refused'}


@pytest.mark.parametrize('text, match', [
    (INPUT % (100000, 100000), 'sides from 1 to 8192'),
    (INPUT % (8, 8) + 'layer { name: "c" type: "Convolution" bottom: "data" top: "c" '
     'convolution_param { num_output: 99999999 kernel_size: 3 } }', 'more than the 268435456'),
    (INPUT % (8, 8) + 'layer { name: "p" type: "PriorBox" bottom: "data" bottom: "data" '
     'top: "p" prior_box_param { min_size: nan } }', "'nan' is not a float"),
    (INPUT % (8, 8) + 'layer { name: "p" type: "PriorBox" bottom: "data" bottom: "data" '
     'top: "p" prior_box_param { min_size: 4 aspect_ratio: 0 } }', 'must be positive'),
    (INPUT % (8, 8) + 'layer { name: "p" type: "PriorBox" bottom: "data" bottom: "data" '
     'top: "p" prior_box_param { %s } }' % ' '.join(['min_size: 4'] * 300),
     'more than 256'),
])
def test_claimed_sizes_are_refused_before_allocating(text, match):
    from replicate.caffe.net import CaffeNet
    with pytest.raises(CaffeError, match=match) as info:
        CaffeNet(prototxt.parse(text, 'big.prototxt'))
    assert '\n' not in str(info.value)
