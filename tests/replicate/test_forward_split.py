"""The forward split of replicate.bench (cpu_forward_split.*): every part
measured, the parts adding up to the forward, the wrapped functions restored
and the outputs unchanged while they are wrapped. No speed is asserted."""
import chainer
import chainer.functions as F
import numpy as np

from replicate.bench import forward_split
from replicate.ssd import channels_last


class TinyPipeline:
    """Two channels-last convolutions and a ReLU: the pipeline interface
    (``prepare``, ``forward``) of replicate.bench.pipelines."""
    name = 'ours-chainer'

    def __init__(self):
        self.conv1 = channels_last.Convolution2D(3, 8, 3, pad=1)
        self.conv2 = channels_last.Convolution2D(8, 8, 3, pad=1)

    def prepare(self, images):
        return np.stack(images).astype(np.float32), None

    def forward(self, x):
        with chainer.using_config('train', False), chainer.no_backprop_mode():
            return self.conv2(F.relu(self.conv1(x))).array


def test_parts_add_up_and_nothing_changes():
    pipeline = TinyPipeline()
    images = [np.random.RandomState(k).uniform(-1, 1, (3, 24, 24)) for k in range(3)]
    x = pipeline.prepare(images)[0]
    before = pipeline.forward(x)
    rows = forward_split.run(pipeline, images, (1, 3), repeats=3)
    assert [(r['batch_size'], r['part']) for r in rows] == [
        (b, part) for b in (1, 3) for part in forward_split.PARTS]
    for b in (1, 3):
        mine = [r for r in rows if r['batch_size'] == b]
        assert all(r['median_per_image_s'] > 0 for r in mine[:2])
        # medians of each part need not add exactly to the median forward
        assert 0.5 < sum(r['share_of_forward'] for r in mine) < 1.5
    # the wrappers are gone and the forward computes what it computed
    assert channels_last.im2row.__name__ == 'im2row'
    assert channels_last.Convolution2DFunction._forward_cpu_core.__name__ == '_forward_cpu_core'
    np.testing.assert_array_equal(pipeline.forward(x), before)


def test_outputs_unchanged_while_timed():
    pipeline = TinyPipeline()
    x = np.random.RandomState(0).uniform(-1, 1, (2, 3, 24, 24)).astype(np.float32)
    expected = pipeline.forward(x)
    totals = {'im2row': 0.0, 'convolution': 0.0}
    with forward_split.timed_parts(totals):
        got = pipeline.forward(x)
    np.testing.assert_array_equal(got, expected)
    assert 0 < totals['im2row'] < totals['convolution']
