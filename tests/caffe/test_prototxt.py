"""The prototxt reader: inputs in each of Caffe's forms, phases, V1 layers,
typed fields, and one-line refusals naming the file and line or layer."""
import pytest

from replicate.caffe import prototxt
from replicate.caffe.errors import CaffeError

CONV = 'layer { name: "c" type: "Convolution" bottom: "data" top: "c" %s ' \
       'convolution_param { num_output: 2 kernel_size: 3 } }'


@pytest.mark.parametrize('head', [
    'input: "data" input_shape { dim: 1 dim: 3 dim: 30 dim: 20 }',
    'input: "data" input_dim: 1 input_dim: 3 input_dim: 30 input_dim: 20',
    'layer { name: "in" type: "Input" top: "data" input_param { shape { dim: 1 dim: 3 dim: 30 '
    'dim: 20 } } }',
])
def test_the_three_input_forms(head):
    spec = prototxt.parse(head + '\n' + CONV % '')
    assert (spec.input_name, spec.input_shape) == ('data', (1, 3, 30, 20))
    assert [layer.name for layer in spec.layers] == ['c']


def test_phases_leave_training_layers_out():
    text = '\n'.join(['input: "data" input_shape { dim: 1 dim: 3 dim: 8 dim: 8 }',
                      CONV % 'include { phase: TEST }',
                      CONV.replace('"c"', '"t"') % 'include { phase: TRAIN }',
                      CONV.replace('"c"', '"x"') % 'exclude { phase: TEST }',
                      CONV.replace('"c"', '"y"') % 'exclude { phase: TRAIN }'])
    spec = prototxt.parse(text)
    assert [layer.name for layer in spec.layers] == ['c', 'y'] and spec.dropped == ('t', 'x')
    with pytest.raises(CaffeError, match='field stage is not supported'):
        prototxt.parse(text.replace('phase: TEST }', 'stage: "deploy" }'))


def test_v1_layers_get_current_type_names():
    spec = prototxt.parse('input: "data" input_dim: 1 input_dim: 3 input_dim: 8 input_dim: 8\n'
                          'layers { name: "c" type: CONVOLUTION bottom: "data" top: "c" }\n'
                          'layers { name: "r" type: RELU bottom: "c" top: "c" }')
    assert [(layer.name, layer.type) for layer in spec.layers] == [('c', 'Convolution'),
                                                                    ('r', 'ReLU')]


@pytest.mark.parametrize('text, match', [
    ('input: "data"\n' + CONV % '', 'has no input_shape'),
    (CONV % '', 'no input'),
    ('input: "a" input: "b"', '2 inputs'),
    ('input: "data" input_shape { dim: 1 dim: 1 dim: 8 dim: 8 }', 'an image input'),
    ('input: "data" input_shape { dim: 1 dim: 3 dim: 8 dim: 8 }\nlayer { name: "c" $ }',
     r'user.prototxt:2: cannot read'),
    ('input: "data" input_shape { dim: 1 dim: 3 dim: 8 dim: 8 }\nlayer { name: "c"',
     r"unexpected end of file, expected '}'; pass the deploy prototxt of a Caffe net"),
    ('input: "data" input_shape { dim: 1 dim: 3 dim: 8 dim: 8 }\nlayer {} layers {}',
     'mixes layer and layers'),
    ('input: "data" input_shape { dim: 1 dim: 3 dim: 8 dim: 8 }\nsolver_mode: GPU',
     'field solver_mode is not supported'),
    ('input: "data" input_shape { dim: 1 dim: 3 dim: 8 dim: 8 }\n' + CONV % '' + CONV % '',
     'layer names given twice: c'),
    ('input: "data" input_shape { dim: 1 dim: 3 dim: 8 dim: 8 }\n' +
     CONV.replace('num_output: 2', 'num_output: "two"') % '', None),
])
def test_refusals_are_one_line_and_name_the_file(text, match):
    from replicate.caffe.net import CaffeNet
    with pytest.raises(CaffeError, match=match or 'expected an unquoted int') as info:
        CaffeNet(prototxt.parse(text, 'user.prototxt'))
    assert str(info.value).startswith('user.prototxt') and '\n' not in str(info.value)


def test_files_too_big_binary_or_not_utf8(tmp_path, monkeypatch):
    path = tmp_path / 'deploy.prototxt'
    path.write_bytes(b'\x0a\x04test\x00\x00')
    with pytest.raises(CaffeError, match='binary file'):
        prototxt.read(str(path))
    path.write_bytes(b'name: "\xff"')
    with pytest.raises(CaffeError, match='not UTF-8'):
        prototxt.read(str(path))
    monkeypatch.setattr(prototxt, 'MAX_PROTOTXT_BYTES', 4)
    with pytest.raises(CaffeError, match='more than the 4'):
        prototxt.read(str(path))
    with pytest.raises(CaffeError, match='cannot read'):
        prototxt.read(str(tmp_path / 'missing.prototxt'))
