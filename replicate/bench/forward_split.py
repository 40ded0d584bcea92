"""Where the time of our Chainer forward goes, by batch size: the
convolutions' im2row copies (:func:`replicate.ssd.channels_last.im2row`,
``im2col_single``), the rest of the convolutions (the matrix multiply and
the bias, with the two layout copies around them: the input to
channels-last, the weights to a matrix), and everything else (ReLU,
pooling, the L2 normalisation, the heads' reshapes). It answers "why does
a batch cost more per image?" with a measurement: each part per image at
each batch size.

The parts are timed by wrapping those functions for the duration of the
measurement (:func:`timed_parts`, for the whole process: not while another
thread runs a forward); the forward computes exactly what it computes
without them. Medians over ``repeats`` calls after one untimed call.
"""
import collections
import contextlib
import time

import numpy as np

from replicate.ssd import channels_last

COLUMNS = ('batch_size', 'part', 'median_per_image_s', 'share_of_forward')
PARTS = ('im2row copies', 'convolution: matrix multiply and bias', 'rest of the network')


@contextlib.contextmanager
def timed_parts(totals):
    """Within it, seconds spent in the im2row copies and in the whole CPU
    convolution are added to ``totals['im2row']`` and ``totals['convolution']``."""
    saved = channels_last.im2row, channels_last.im2col_single
    core = channels_last.Convolution2DFunction._forward_cpu_core

    def timing(name, function):
        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                totals[name] += time.perf_counter() - start
        return timed
    channels_last.im2row = timing('im2row', saved[0])
    channels_last.im2col_single = timing('im2row', saved[1])
    channels_last.Convolution2DFunction._forward_cpu_core = timing('convolution', core)
    try:
        yield totals
    finally:
        channels_last.im2row, channels_last.im2col_single = saved
        channels_last.Convolution2DFunction._forward_cpu_core = core


def run(pipeline, images, batch_sizes, repeats=5):
    """Rows with :data:`COLUMNS` for ``pipeline`` (ours in Chainer), by
    batch size, then part (:data:`PARTS`)."""
    rows = []
    for batch_size in batch_sizes:
        x = pipeline.prepare([images[i % len(images)] for i in range(batch_size)])[0]
        pipeline.forward(x)
        samples = []
        for _ in range(repeats):
            totals = collections.Counter()
            with timed_parts(totals):
                start = time.perf_counter()
                pipeline.forward(x)
                wall = time.perf_counter() - start
            samples.append((totals['im2row'], totals['convolution'] - totals['im2row'],
                            wall - totals['convolution'], wall))
        *parts, forward = np.median(np.array(samples), axis=0) / batch_size
        for part, seconds in zip(PARTS, parts, strict=True):
            rows.append({'batch_size': batch_size, 'part': part,
                         'median_per_image_s': float(seconds),
                         'share_of_forward': float(seconds / forward)})
    return rows
