"""The network definition: a Caffe ``.prototxt`` (protobuf text format of a
``NetParameter``) read into :class:`NetSpec`.

The text is parsed by the project's one text-format reader,
:mod:`replicate.odapi.textproto` (schema-free: fields -> lists of values);
this module gives Caffe's fields their types and defaults, and refuses what
it does not know rather than guessing:

- the net's input: ``input`` + ``input_shape`` / ``input_dim``, or an
  ``Input`` layer (``input_param.shape``);
- layers from ``layer`` (the current format) or ``layers`` (V1, enum types
  such as ``CONVOLUTION``, mapped to the current names);
- phases: a layer with ``include { phase: TRAIN }`` or ``exclude { phase:
  TEST }`` is left out (the network is built for testing); rules on stages
  or levels are refused.

Each layer keeps its own parameter message (``convolution_param`` of a
Convolution, ...) as a :class:`~replicate.odapi.textproto.Message`;
:class:`Params` reads typed values from it and refuses unknown fields.
"""
import dataclasses
import math
import os

from replicate.caffe.errors import CaffeError
from replicate.odapi import textproto
from replicate.odapi.errors import ConfigError

#: Largest prototxt read (the VGG16 SSD512 deploy.prototxt is ~40 KB).
MAX_PROTOTXT_BYTES = 16 << 20
MAX_LAYERS = 10000
#: Largest input side (the activations of every layer follow from it).
MAX_INPUT_SIDE = 8192

#: V1 (``layers``) enum type names -> current type names, for the types built here.
V1_TYPE_NAMES = {'CONVOLUTION': 'Convolution', 'POOLING': 'Pooling', 'RELU': 'ReLU',
                 'CONCAT': 'Concat', 'ELTWISE': 'Eltwise', 'FLATTEN': 'Flatten',
                 'SOFTMAX': 'Softmax', 'SPLIT': 'Split', 'DATA': 'Data'}
#: The parameter message of each layer type (``LayerParameter`` field names).
PARAM_FIELDS = {
    'Convolution': 'convolution_param', 'BatchNorm': 'batch_norm_param',
    'Scale': 'scale_param', 'ReLU': 'relu_param', 'Pooling': 'pooling_param',
    'Eltwise': 'eltwise_param', 'Concat': 'concat_param', 'Permute': 'permute_param',
    'Flatten': 'flatten_param', 'Reshape': 'reshape_param', 'Softmax': 'softmax_param',
    'Normalize': 'norm_param', 'PriorBox': 'prior_box_param',
    'DetectionOutput': 'detection_output_param', 'Input': 'input_param'}
_NET_FIELDS = ('name', 'input', 'input_shape', 'input_dim', 'force_backward', 'state',
               'debug_info', 'layer', 'layers')
_TRUE, _FALSE = ('true', 't', 'True', '1'), ('false', 'f', 'False', '0')


class Params:
    """Typed read access to one message of a layer, with Caffe's defaults.

    Args:
        message: a :class:`~replicate.odapi.textproto.Message` (or None: empty).
        where (str): ``"<file>: layer <name> (<type>) <field>"`` for errors.
        known (iterable of str): the fields this message may hold; any
            other is refused (a field we do not read could change results).
    """

    def __init__(self, message, where, known):
        self.message = message if message is not None else textproto.Message()
        self.where = where
        unknown = sorted(set(self.message) - set(known))
        if unknown:
            raise CaffeError('{}: field {} is not supported here (known: {})'.format(
                where, ', '.join(unknown), ', '.join(sorted(known))))

    def error(self, field, problem):
        return CaffeError('{}.{}: {}'.format(self.where, field, problem))

    def has(self, field):
        return field in self.message

    def _scalar(self, field, value, kind):
        if isinstance(value, textproto.Message):
            raise self.error(field, 'expected a value, found a message')
        if kind == 'str':
            return str(value)
        if not isinstance(value, textproto.Token):
            raise self.error(field, 'expected an unquoted {}, found the string {!r}'.format(
                kind, value))
        try:
            if kind == 'int':
                return int(value, 0)
            if kind == 'float':
                number = float(value)
                if not math.isfinite(number):
                    raise ValueError(value)
                return number
        except ValueError:
            raise self.error(field, '{!r} is not a {}'.format(str(value), kind)) from None
        if kind == 'bool':
            if value in _TRUE or value in _FALSE:
                return value in _TRUE
            raise self.error(field, '{!r} is not true or false'.format(str(value)))
        return str(value)  # enum: its name

    def many(self, field, kind):
        """Every value of a repeated field, typed (``kind``: int, float, bool,
        str, enum)."""
        return [self._scalar(field, v, kind) for v in self.message.get(field, [])]

    def get(self, field, kind, default=None):
        """The one value of an optional field, or ``default``."""
        values = self.many(field, kind)
        if len(values) > 1:
            raise self.error(field, 'given {} times, once expected'.format(len(values)))
        return values[0] if values else default

    def messages(self, field):
        values = self.message.get(field, [])
        for value in values:
            if not isinstance(value, textproto.Message):
                raise self.error(field, 'expected a message {...}')
        return values

    def sub(self, field, known):
        """The optional sub-message ``field`` as :class:`Params` (empty if absent)."""
        values = self.messages(field)
        if len(values) > 1:
            raise self.error(field, 'given {} times, once expected'.format(len(values)))
        return Params(values[0] if values else None, '{}.{}'.format(self.where, field), known)


@dataclasses.dataclass(frozen=True)
class LayerSpec:
    """One layer of the prototxt (in the test phase).

    Attributes:
        index (int): position among the kept layers.
        name, type (str); bottoms, tops (tuple of str).
        message: the whole layer message (for its parameter message).
        where (str): ``"<file>: layer <name> (<type>)"``, for errors.
    """
    index: int
    name: str
    type: str
    bottoms: tuple
    tops: tuple
    message: textproto.Message
    where: str

    def params(self, known):
        """The layer's parameter message (:data:`PARAM_FIELDS`) as :class:`Params`."""
        field = PARAM_FIELDS[self.type]
        values = self.message.get(field, [])
        if len(values) > 1:
            raise CaffeError('{}: {} given {} times'.format(self.where, field, len(values)))
        return Params(values[0] if values else None, '{} {}'.format(self.where, field), known)

    def refuse(self, problem):
        return CaffeError('{}: {}'.format(self.where, problem))


@dataclasses.dataclass(frozen=True)
class NetSpec:
    """A network definition.

    Attributes:
        path (str): the prototxt.
        name (str): the net's name ('' if none).
        input_name (str): the input blob; input_shape: (N, C, H, W).
        layers (tuple of LayerSpec): test-phase layers in file order, Input
            layers excluded.
        dropped (tuple of str): names of layers left out for their phase.
    """
    path: str
    name: str
    input_name: str
    input_shape: tuple
    layers: tuple
    dropped: tuple


def _shape(message, where):
    """A ``BlobShape`` message -> tuple of int."""
    dims = Params(message, where, ('dim',)).many('dim', 'int')
    if not dims or any(d < 0 for d in dims):
        raise CaffeError('{}: shape {} is not a list of non-negative dims'.format(where, dims))
    return tuple(dims)


def _in_test_phase(layer, where):
    """Whether the layer is part of the test-phase network (NetStateRule)."""
    fields = Params(layer, where, layer.keys())
    for rule_field, keep_if_match in (('include', True), ('exclude', False)):
        rules = fields.messages(rule_field)
        if not rules:
            continue
        matches = []
        for rule in rules:
            rule = Params(rule, '{} {}'.format(where, rule_field), ('phase',))
            matches.append(rule.get('phase', 'enum') in (None, 'TEST'))
        if keep_if_match and not any(matches):
            return False
        if not keep_if_match and any(matches):
            return False
    return True


def _layer_spec(message, where_file, index, legacy):
    fields = Params(message, where_file, message.keys())
    name = fields.get('name', 'str', '')
    raw_type = fields.get('type', 'enum' if legacy else 'str', '')
    type_ = V1_TYPE_NAMES.get(raw_type, raw_type) if legacy else raw_type
    where = '{}: layer {!r} ({})'.format(where_file, name, raw_type)
    for field in ('bottom', 'top'):
        for value in message.get(field, []):
            if not isinstance(value, str) or isinstance(value, textproto.Token):
                raise CaffeError('{}: {} must be a quoted blob name'.format(where, field))
    return LayerSpec(index, name, type_, tuple(message.get('bottom', [])),
                     tuple(message.get('top', [])), message, where)


def _net_input(net, path):
    """``(name, shape)`` from the net-level ``input`` fields, or None."""
    names = net.many('input', 'str')
    if not names:
        return None
    if len(names) > 1:
        raise CaffeError('{}: {} inputs ({}); an SSD has one image input'.format(
            path, len(names), ', '.join(names)))
    shapes = net.messages('input_shape')
    dims = net.many('input_dim', 'int')
    if shapes:
        return names[0], _shape(shapes[0], path + ': input_shape')
    if len(dims) == 4:
        return names[0], tuple(dims)
    raise CaffeError('{}: input {!r} has no input_shape (or 4 input_dim values)'.format(
        path, names[0]))


def parse(text, path='<prototxt>'):
    """A :class:`NetSpec` from prototxt text.

    Raises:
        CaffeError: not protobuf text format (file and line named), an
            unknown net-level field, a missing or second input.
    """
    try:
        net_message = textproto.parse(text, path)
    except ConfigError as exc:
        message = str(exc).replace('(not an OD API pipeline)', '(not a Caffe net)')
        raise CaffeError(message + '; pass the deploy prototxt of a Caffe net (protobuf text '
                         'format, the file beside its .caffemodel)') from None
    net = Params(net_message, path, _NET_FIELDS)
    if net.has('layer') and net.has('layers'):
        raise CaffeError('{}: mixes layer and layers (V1) entries; upgrade it with Caffe\'s '
                         'upgrade_net_proto_text'.format(path))
    legacy = net.has('layers')
    messages = net.messages('layers' if legacy else 'layer')
    if len(messages) > MAX_LAYERS:
        raise CaffeError('{}: more than {} layers'.format(path, MAX_LAYERS))
    net_input = _net_input(net, path)
    layers, dropped = [], []
    for message in messages:
        spec = _layer_spec(message, path, len(layers), legacy)
        if not _in_test_phase(message, spec.where):
            dropped.append(spec.name)
            continue
        if spec.type == 'Input':
            if net_input is not None:
                raise spec.refuse('a second input; an SSD has one image input')
            if len(spec.tops) != 1:
                raise spec.refuse('an Input layer with {} tops; one expected'.format(
                    len(spec.tops)))
            shapes = spec.params(('shape',)).messages('shape')
            if len(shapes) != 1:
                raise spec.refuse('input_param needs exactly one shape')
            net_input = spec.tops[0], _shape(shapes[0], spec.where + ' input_param.shape')
            continue
        layers.append(spec)
    if net_input is None:
        raise CaffeError('{}: no input (input + input_shape, or an Input layer); a deploy '
                         'prototxt has one'.format(path))
    if len(net_input[1]) != 4 or net_input[1][1] != 3:
        raise CaffeError('{}: input {!r} has shape {}; an image input (N, 3, H, W) is '
                         'expected'.format(path, net_input[0], net_input[1]))
    if not 1 <= min(net_input[1][2:]) <= max(net_input[1][2:]) <= MAX_INPUT_SIDE:
        raise CaffeError('{}: input {!r} is {}x{}; sides from 1 to {} are built'.format(
            path, net_input[0], net_input[1][2], net_input[1][3], MAX_INPUT_SIDE))
    names = [layer.name for layer in layers]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise CaffeError('{}: layer names given twice: {}'.format(path, ', '.join(twice)))
    return NetSpec(path, net.get('name', 'str', ''), net_input[0], tuple(net_input[1]),
                   tuple(layers), tuple(dropped))


def read(path):
    """Read and parse a ``.prototxt`` file (size checked first, UTF-8)."""
    try:
        size = os.path.getsize(path)
        if size > MAX_PROTOTXT_BYTES:
            raise CaffeError('{} is {} bytes, more than the {} a prototxt may have here'.format(
                path, size, MAX_PROTOTXT_BYTES))
        with open(path, 'rb') as f:
            data = f.read(MAX_PROTOTXT_BYTES + 1)
    except OSError as exc:
        raise CaffeError('cannot read {}: {}'.format(path, exc.strerror or exc)) from None
    if b'\x00' in data[:4096]:
        raise CaffeError('{} is a binary file (a .caffemodel?): pass the text .prototxt'.format(
            path))
    try:
        text = data.decode('utf-8')
    except UnicodeDecodeError as exc:
        raise CaffeError('{} is not UTF-8 text ({}): pass the text .prototxt'.format(
            path, exc.reason)) from None
    return parse(text, path)
