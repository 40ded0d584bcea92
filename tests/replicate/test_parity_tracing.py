"""The tracer on tiny chains: names, order, values; hooks removed after."""
import chainer
import chainer.functions as F
import chainer.links as L
import numpy as np

from replicate.parity.tracing import trace_call


class Scale(chainer.Link):
    """A leaf link whose forward uses several functions internally."""

    def __init__(self):
        super().__init__()
        with self.init_scope():
            self.s = chainer.Parameter(np.array([2.0], dtype=np.float32))

    def forward(self, x):
        return F.tanh(x) * F.broadcast_to(self.s, x.shape)


class Tiny(chainer.Chain):
    def __init__(self):
        super().__init__()
        with self.init_scope():
            self.conv = L.Convolution2D(1, 2, 3, pad=1, initialW=np.random.RandomState(0)
                                        .normal(size=(2, 1, 3, 3)).astype(np.float32))
            self.scale = Scale()
            self.fc = L.Linear(2 * 2 * 2, 3)

    def forward(self, x):
        h = F.relu(self.conv(x))
        h = F.max_pooling_2d(h, 2)
        h = self.scale(h)
        return self.fc(h), F.relu(F.relu(h))


class Outer(chainer.Chain):
    def __init__(self):
        super().__init__()
        with self.init_scope():
            self.inner = Tiny()

    def forward(self, x):
        y, z = self.inner(x)
        return F.sum(y)


def _x():
    return np.random.RandomState(1).normal(size=(2, 1, 4, 4)).astype(np.float32)


def _trace(model, x):
    with chainer.no_backprop_mode():
        return trace_call(model, lambda: model(x), root_name='tiny')


def test_names_in_call_order():
    records, _ = _trace(Tiny(), _x())
    assert list(records) == [
        'input', 'conv', 'conv>relu', 'conv>maxpoolingnd', 'scale', 'fc', 'fc>relu',
        'fc>relu#2', 'tiny[0]', 'tiny[1]']


def test_values_are_the_real_intermediates():
    model, x = Tiny(), _x()
    records, (y, z) = _trace(model, x)
    conv = F.convolution_2d(x, model.conv.W, model.conv.b, pad=1).array
    np.testing.assert_array_equal(records['input'], x)
    np.testing.assert_array_equal(records['conv'], conv)
    np.testing.assert_array_equal(records['conv>relu'], np.maximum(conv, 0))
    # (B, C, 4, 4) -> (B, C, 2, 2, 2, 2) to take 2x2 window maxima by hand
    pooled = np.maximum(conv, 0).reshape(2, 2, 2, 2, 2, 2).max(axis=(3, 5))
    np.testing.assert_array_equal(records['conv>maxpoolingnd'], pooled)
    np.testing.assert_allclose(records['scale'], 2 * np.tanh(pooled), rtol=1e-6)
    np.testing.assert_array_equal(records['tiny[0]'], y.array)
    np.testing.assert_array_equal(records['tiny[1]'], z.array)


def test_leaf_link_internals_are_not_recorded():
    records, _ = _trace(Tiny(), _x())
    assert not any(name.startswith('scale>') for name in records)
    assert not any('tanh' in name or 'mul' in name for name in records)


def test_nested_paths_and_root_name():
    records, _ = _trace(Outer(), _x())
    assert list(records)[:3] == ['input', 'inner/conv', 'inner/conv>relu']
    assert 'inner[0]' in records and 'inner[1]' in records
    assert list(records)[-2:] == ['inner>sum', 'tiny']


def test_records_are_host_copies_and_hooks_are_removed():
    model, x = Tiny(), _x()
    records, _ = _trace(model, x)
    records['input'][...] = 0
    assert np.abs(x).sum() > 0
    assert not chainer.get_function_hooks()
    assert not chainer._get_link_hooks()


def test_unknown_link_is_named_loudly():
    stranger = L.Linear(3, 1)
    model = Tiny()

    def call():
        y, _ = model(_x())
        return stranger(y)
    with chainer.no_backprop_mode():
        records, _ = trace_call(model, call)
    assert '?Linear' in records
