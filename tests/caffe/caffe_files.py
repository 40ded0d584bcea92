"""Caffe files written by the tests: a ``.caffemodel`` writer from the
protobuf wire format (independent of the reader under test), and a generator
of small weiliu89-style SSD prototxts with seeded weights.

Field numbers are Caffe's (``caffe.proto``): NetParameter.layer = 100,
.layers = 2 (V1); LayerParameter name 1, type 2, bottom 3, top 4, blobs 7;
V1LayerParameter bottom 2, top 3, name 4, type 5, blobs 6; BlobProto num 1,
channels 2, height 3, width 4, data 5, shape 7 (BlobShape.dim = 1),
double_data 8.
"""
import struct
import zlib

import numpy as np


def varint(value):
    """Unsigned varint; a negative value as its 64-bit two's complement."""
    if value < 0:
        value += 1 << 64
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def tag(number, wire):
    return varint(number << 3 | wire)


def length_field(number, payload):
    return tag(number, 2) + varint(len(payload)) + payload


def varint_field(number, value):
    return tag(number, 0) + varint(value)


def string_field(number, text):
    return length_field(number, text.encode('utf-8'))


def blob(array, legacy=False, packed=True, double=False):
    """A BlobProto of ``array``: shape as BlobShape (or legacy num..width,
    padded to 4-D), values packed or one field per value, float or double."""
    array = np.asarray(array)
    out = b''
    if legacy:
        dims = (1,) * (4 - array.ndim) + array.shape
        for number, dim in zip((1, 2, 3, 4), dims, strict=True):
            out += varint_field(number, dim)
    else:
        out += length_field(7, length_field(1, b''.join(varint(d) for d in array.shape))
                            if array.ndim else b'')
    values = array.astype('<f8' if double else '<f4').ravel()
    number = 8 if double else 5
    if packed:
        out += length_field(number, values.tobytes())
    else:
        wire = 1 if double else 5
        out += b''.join(tag(number, wire) + v.tobytes() for v in values)
    return out


def layer(name, type_, blobs=(), bottoms=(), tops=(), **blob_options):
    """A LayerParameter message (bytes)."""
    out = string_field(1, name) + string_field(2, type_)
    out += b''.join(string_field(3, b) for b in bottoms) + b''.join(string_field(4, t)
                                                                    for t in tops)
    return out + b''.join(length_field(7, blob(a, **blob_options)) for a in blobs)


def v1_layer(name, type_code, blobs=(), **blob_options):
    """A V1LayerParameter message (bytes); ``type_code`` is the V1 enum number."""
    out = string_field(4, name) + varint_field(5, type_code)
    return out + b''.join(length_field(6, blob(a, **blob_options)) for a in blobs)


def caffemodel_bytes(layers, v1=False):
    """A NetParameter holding ``layers`` (LayerParameter / V1 messages as bytes)."""
    number = 2 if v1 else 100
    return string_field(1, 'test') + b''.join(length_field(number, m) for m in layers)


def write_caffemodel(path, entries, **blob_options):
    """``entries``: (name, type, [arrays]) -> a .caffemodel file at ``path``."""
    with open(path, 'wb') as f:
        f.write(caffemodel_bytes([layer(n, t, b, **blob_options) for n, t, b in entries]))
    return path


def float_bytes(value):
    return struct.pack('<f', value)


class NetWriter:
    """Writes a prototxt layer by layer and seeded blobs for its layers.

    Attributes:
        entries: (name, type, [arrays]) for :func:`write_caffemodel`.
        channels: blob name -> channels.
    """

    def __init__(self, name, height, width, seed=0):
        self.lines = ['name: "{}"'.format(name), 'input: "data"',
                      'input_shape {{ dim: 1 dim: 3 dim: {} dim: {} }}'.format(height, width)]
        self.entries, self.channels, self.seed = [], {'data': 3}, seed

    def rng(self, name):
        return np.random.RandomState((zlib.crc32(name.encode()) + self.seed) % 2 ** 32)

    def add(self, name, type_, bottoms, tops, params=''):
        body = ' '.join(['name: "{}"'.format(name), 'type: "{}"'.format(type_)] +
                        ['bottom: "{}"'.format(b) for b in bottoms] +
                        ['top: "{}"'.format(t) for t in tops])
        self.lines.append('layer {{ {} {} }}'.format(body, params))

    def conv(self, name, bottom, out, kernel, pad=0, stride=1, dilation=1, group=1, bias=True,
             gain=1.0):
        c = self.channels[bottom]
        rng = self.rng(name)
        fan_in = c // group * kernel * kernel
        weights = [(rng.standard_normal((out, c // group, kernel, kernel)) *
                    gain * np.sqrt(2.0 / fan_in)).astype(np.float32)]
        if bias:
            weights.append(rng.uniform(-0.2, 0.2, out).astype(np.float32))
        self.entries.append((name, 'Convolution', weights))
        params = 'num_output: {} kernel_size: {} pad: {} stride: {}'.format(
            out, kernel, pad, stride)
        if dilation != 1:
            params += ' dilation: {}'.format(dilation)
        if group != 1:
            params += ' group: {}'.format(group)
        if not bias:
            params += ' bias_term: false'
        self.add(name, 'Convolution', [bottom], [name],
                 'param { lr_mult: 1 } convolution_param { %s weight_filler { type: "xavier" } }'
                 % params)
        self.channels[name] = out
        return name

    def relu(self, name, bottom):
        self.add(name, 'ReLU', [bottom], [bottom])
        return bottom

    def pool(self, name, bottom, kernel, stride, pad=0, method='MAX', global_=False):
        params = 'pool: {} '.format(method) + ('global_pooling: true' if global_ else
                                               'kernel_size: {} stride: {} pad: {}'.format(
                                                   kernel, stride, pad))
        self.add(name, 'Pooling', [bottom], [name], 'pooling_param { %s }' % params)
        self.channels[name] = self.channels[bottom]
        return name

    def batch_norm(self, name, bottom, top=None):
        c, rng = self.channels[bottom], self.rng(name)
        factor = np.float32(rng.uniform(0.5, 999.0))
        self.entries.append((name, 'BatchNorm', [
            (rng.standard_normal(c) * 0.2 * factor).astype(np.float32),
            (rng.uniform(0.5, 2.0, c) * factor).astype(np.float32),
            np.array([factor], np.float32)]))
        top = top or bottom
        self.add(name, 'BatchNorm', [bottom], [top], 'batch_norm_param { eps: 1e-5 }')
        self.channels[top] = c
        return top

    def scale(self, name, bottom, bias=True):
        c, rng = self.channels[bottom], self.rng(name)
        blobs = [rng.uniform(0.5, 1.5, c).astype(np.float32)]
        if bias:
            blobs.append(rng.uniform(-0.3, 0.3, c).astype(np.float32))
        self.entries.append((name, 'Scale', blobs))
        self.add(name, 'Scale', [bottom], [bottom],
                 'scale_param {{ bias_term: {} }}'.format('true' if bias else 'false'))
        return bottom

    def normalize(self, name, bottom, value=20.0, shared=False):
        c = self.channels[bottom]
        # shared: one value, stored as shape (1,) (OpenCV cannot read a 0-D blob)
        scale = np.full(1, value, np.float32) if shared else \
            (value * self.rng(name).uniform(0.8, 1.2, c)).astype(np.float32)
        self.entries.append((name, 'Normalize', [scale]))
        self.add(name, 'Normalize', [bottom], [name],
                 'norm_param {{ across_spatial: false channel_shared: {} scale_filler {{ type: '
                 '"constant" value: 20 }} }}'.format('true' if shared else 'false'))
        self.channels[name] = c
        return name

    def eltwise(self, name, bottoms):
        self.add(name, 'Eltwise', bottoms, [name])
        self.channels[name] = self.channels[bottoms[0]]
        return name

    def head(self, source, n_box, n_class, prior_params):
        """loc / conf convolutions, permutes, flattens and the PriorBox of one source map."""
        names = {}
        for kind, width, gain in (('loc', 4, 0.3), ('conf', n_class, 0.1)):
            conv = self.conv('{}_mbox_{}'.format(source, kind), source, n_box * width, 3, pad=1,
                             gain=gain)
            self.add(conv + '_perm', 'Permute', [conv], [conv + '_perm'],
                     'permute_param { order: 0 order: 2 order: 3 order: 1 }')
            self.add(conv + '_flat', 'Flatten', [conv + '_perm'], [conv + '_flat'],
                     'flatten_param { axis: 1 }')
            names[kind] = conv + '_flat'
        prior = '{}_mbox_priorbox'.format(source)
        self.add(prior, 'PriorBox', [source, 'data'], [prior],
                 'prior_box_param { %s }' % prior_params)
        names['prior'] = prior
        return names

    def detection_output(self, heads, n_class, params):
        for kind, top, axis in (('loc', 'mbox_loc', 1), ('conf', 'mbox_conf', 1),
                                ('prior', 'mbox_priorbox', 2)):
            self.add(top, 'Concat', [h[kind] for h in heads], [top],
                     'concat_param {{ axis: {} }}'.format(axis))
        self.add('mbox_conf_reshape', 'Reshape', ['mbox_conf'], ['mbox_conf_reshape'],
                 'reshape_param {{ shape {{ dim: 0 dim: -1 dim: {} }} }}'.format(n_class))
        self.add('mbox_conf_softmax', 'Softmax', ['mbox_conf_reshape'], ['mbox_conf_softmax'],
                 'softmax_param { axis: 2 }')
        self.add('mbox_conf_flatten', 'Flatten', ['mbox_conf_softmax'], ['mbox_conf_flatten'],
                 'flatten_param { axis: 1 }')
        self.add('detection_out', 'DetectionOutput',
                 ['mbox_loc', 'mbox_conf_flatten', 'mbox_priorbox'], ['detection_out'],
                 'include { phase: TEST } detection_output_param { num_classes: %d %s }' % (
                     n_class, params))

    def text(self):
        return '\n'.join(self.lines) + '\n'

    def write(self, directory, stem):
        """Write ``<stem>.prototxt`` and ``<stem>.caffemodel``; returns both paths."""
        prototxt = str(directory / (stem + '.prototxt'))
        with open(prototxt, 'w') as f:
            f.write(self.text())
        return prototxt, write_caffemodel(str(directory / (stem + '.caffemodel')), self.entries)


#: W. Liu's ssd_pascal.py / ssd_pascal_512.py: extra layers after fc7 as
#: (stride, pad, kernel) of each convN_2, box sizes, steps and aspect ratios.
LAYOUTS = {
    300: dict(extras=((2, 1, 3), (2, 1, 3), (1, 0, 3), (1, 0, 3)),
              sizes=(30, 60, 111, 162, 213, 264, 315), steps=(8, 16, 32, 64, 100, 300),
              ratios=((2,), (2, 3), (2, 3), (2, 3), (2,), (2,))),
    512: dict(extras=((2, 1, 3), (2, 1, 3), (2, 1, 3), (2, 1, 3), (1, 1, 4)),
              sizes=(35.84, 76.8, 153.6, 230.4, 307.2, 384.0, 460.8, 537.6),
              steps=(8, 16, 32, 64, 128, 256, 512),
              ratios=((2,), (2, 3), (2, 3), (2, 3), (2, 3), (2,), (2,))),
}


def vgg_ssd(insize=300, width=4, n_class=5, seed=0):
    """SSD300 or SSD512 with W. Liu's VGG16 layout (conv1_1 .. conv9_2 or
    conv10_2, conv4_3_norm, dilated fc6, one head per source map) and
    ``width`` channels per layer.

    Priors, heads and DetectionOutput as in ssd_pascal.py's deploy.prototxt,
    but with confidence_threshold 0.2 and keep_top_k 50 so that a random
    network gives few, well-separated detections. Map k's min_size is
    ``sizes[k]``, its max_size ``sizes[k + 1]`` (SSD512's fractional sizes,
    35.84 first, as the released deploy.prototxt has them).
    """
    layout = LAYOUTS[insize]
    net = NetWriter('VGG_tiny_SSD_{0}x{0}'.format(insize), insize, insize, seed)
    x = 'data'
    for block, convs in enumerate((2, 2, 3, 3, 3), start=1):
        for i in range(1, convs + 1):
            # pixels minus the mean are ~100: the first layer brings activations to ~1
            gain = 0.02 if x == 'data' else 1.0
            x = net.relu('relu{}_{}'.format(block, i),
                         net.conv('conv{}_{}'.format(block, i), x, width, 3, pad=1, gain=gain))
        if block == 4:
            source4 = x
        x = net.pool('pool{}'.format(block), x, 3 if block == 5 else 2, 1 if block == 5 else 2,
                     pad=1 if block == 5 else 0)
    x = net.relu('relu6', net.conv('fc6', x, width * 2, 3, pad=6, dilation=6))
    fc7 = net.relu('relu7', net.conv('fc7', x, width * 2, 1))
    sources, x = [net.normalize('conv4_3_norm', source4), fc7], fc7
    for block, (stride, pad, kernel) in enumerate(layout['extras'], start=6):
        x = net.relu('conv{}_1_relu'.format(block), net.conv('conv{}_1'.format(block), x,
                                                             width, 1))
        x = net.relu('conv{}_2_relu'.format(block), net.conv('conv{}_2'.format(block), x,
                                                             width * 2, kernel, pad=pad,
                                                             stride=stride))
        sources.append(x)
    sizes, steps, ratios = layout['sizes'], layout['steps'], layout['ratios']
    heads = []
    for k, source in enumerate(sources):
        params = 'min_size: {} max_size: {} {} flip: true clip: false variance: 0.1 ' \
                 'variance: 0.1 variance: 0.2 variance: 0.2 step: {} offset: 0.5'.format(
                     sizes[k], sizes[k + 1], ' '.join('aspect_ratio: {}'.format(r)
                                                      for r in ratios[k]), steps[k])
        heads.append(net.head(source, 2 + 2 * len(ratios[k]), n_class, params))
    net.detection_output(heads, n_class, 'share_location: true background_label_id: 0 '
                         'nms_param { nms_threshold: 0.45 top_k: 400 } code_type: CENTER_SIZE '
                         'keep_top_k: 50 confidence_threshold: 0.2')
    return net


def vgg_ssd300(width=4, n_class=5, seed=0):
    """:func:`vgg_ssd` at 300x300."""
    return vgg_ssd(300, width, n_class, seed)
