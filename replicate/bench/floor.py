"""The floor: how fast could SSD300's network run on these cores at best?

SSD300 is almost all convolution: its cost is its multiply-accumulates
(MACs), counted on the model (:func:`convolution_macs`; SSD300 with 20
classes: 31.4 G per 300x300 image). The cores' peak rates, measured in the
same run as the paths (:mod:`replicate.bench.peak`: float32 FMA and int8 dot
products, best trial on all cores), turn them into the fastest possible
forward per image, ``MACs / peak``; a path's ``fraction_of_peak`` is that
floor over its own time (1.0: the path runs at the peak rate). float32 paths
are measured against the float32 peak, int8 paths against the int8 one.

The best matrix multiply among numpy, ONNX Runtime and OpenVINO
(:mod:`replicate.bench.gemm`) is measured always, beside the loops, and the
peak of a precision is the fastest of all of them: where a GEMM outruns the
loop (int8 on AVX2 without VNNI, seen: ONNX Runtime's 183 GMAC/s against the
loop's 133), the loop is not the limit. Without a C compiler only the GEMMs
count; the facts say which measure set each peak.
"""
import chainer
import numpy as np

from replicate.bench import gemm, peak
from replicate.bench.machine import usable_cores
from replicate.ssd.channels_last import Convolution2D

#: The columns of the floor table (one row per kernel or GEMM).
COLUMNS = ('measure', 'kind', 'threads', 'gmacs_best', 'gmacs_median', 'note')


def convolution_macs(model):
    """Multiply-accumulates of one image through ``model``'s convolutions:
    for each, output elements x (input channels x kernel area), counted on a
    real forward of one zero image (SSD300 with 20 classes: 31.4 G)."""
    outputs = []

    class Hook(chainer.LinkHook):
        name = 'macs'

        def forward_postprocess(self, args):
            link = args.link
            if isinstance(link, (Convolution2D, chainer.links.Convolution2D)):
                outputs.append(args.out.size * link.W.size // link.W.shape[0])

    x = model.xp.zeros((1, 3, model.insize, model.insize), dtype=np.float32)
    with Hook(), chainer.using_config('train', False), chainer.no_backprop_mode():
        model.forward(x)
    return sum(outputs)


def _best(rows, kind, field='gmacs_best'):
    found = [r for r in rows if r['kind'] == kind and isinstance(r[field], float)]
    return max(found, key=lambda r: r[field]) if found else None


def measure(threads=None, gemm_size=2048):
    """``(facts, rows)``: the peak rates (``floor.peak_<kind>_gmacs``, per
    core ``floor.peak_<kind>_gmacs_per_core``) and where they come from
    (``floor.peak_source``), and the table rows (:data:`COLUMNS`)."""
    threads = threads or usable_cores()
    rows, facts = [], {'floor.threads': threads}
    try:
        per_core, _ = peak.measure(1)
        kernels, compiler = peak.measure(threads)
        for row in per_core + kernels:
            rows.append({'measure': 'peak ' + row['kernel'], 'kind': row['kind'],
                         'threads': row['threads'], 'gmacs_best': row['gmacs_best'],
                         'gmacs_median': row['gmacs_median'], 'note': compiler})
        source = 'microbenchmark'
    except peak.PeakUnavailable as exc:
        facts['floor.peak_unavailable'] = str(exc)
        per_core, kernels, source = [], [], 'gemm'
    for row in gemm.measure(gemm_size):
        rows.append({'measure': 'gemm ' + row['gemm'], 'kind': row['kind'], 'threads': threads,
                     'gmacs_best': row['gmacs_best'], 'gmacs_median': '-',
                     'note': row['note'] or '{0}x{0}x{0}'.format(gemm_size)})
    # The peak is the fastest rate anything reached on all cores: a library's
    # GEMM faster than the loop (int8 without VNNI, where the loop's
    # VPMADDUBSW + VPMADDWD chain is one way of several) shows the loop is not
    # the limit, and a floor a path can beat is no floor.
    pool = [r for r in rows if r['threads'] == threads]
    for kind in ('fp32', 'int8'):
        best = _best(pool, kind)
        facts['floor.peak_{}_gmacs'.format(kind)] = best['gmacs_best'] if best else '-'
        facts['floor.peak_{}_from'.format(kind)] = best['measure'] if best else 'not measured'
        core = _best([r for r in rows if r['threads'] == 1], kind)
        per_core = core['gmacs_best'] if core else '-'
        if best and best['measure'].startswith('gemm'):
            per_core = best['gmacs_best'] / threads  # no one-core GEMM is timed
        facts['floor.peak_{}_gmacs_per_core'.format(kind)] = per_core
    facts['floor.peak_source'] = {
        'microbenchmark': 'the best of peak_kernels.c (FMA / int8 dot-product loops, best '
                          "trial) and the libraries' GEMMs",
        'gemm': 'best GEMM (no microbenchmark: {})'.format(facts.get('floor.peak_unavailable'))
    }[source]
    return facts, rows


def fraction_of_peak(macs, seconds_per_image, peak_gmacs):
    """``MACs / seconds / peak``: the share of the peak rate a path reaches
    (``'-'`` where the peak is unknown)."""
    if not isinstance(peak_gmacs, float) or seconds_per_image <= 0:
        return '-'
    return macs / seconds_per_image / (peak_gmacs * 1e9)


def explanation(facts):
    """Markdown lines stating the MACs, the peaks and their source."""
    def rate(kind):
        value = facts.get('floor.peak_{}_gmacs'.format(kind))
        if not isinstance(value, float):
            return 'not measured'
        return '{:.1f} GMAC/s ({}), {:.3f} s per image at {:.2f} GMAC'.format(
            value, facts['floor.peak_{}_from'.format(kind)],
            facts['macs_per_image'] / value / 1e9, facts['macs_per_image'] / 1e9)
    return ('MACs per image, counted on the model\'s convolutions: {:,}. Peak float32: {}. '
            'Peak int8: {}. Source: {}. Rows: each kernel (`peak ...`, best and median '
            'trial, on one core and on all) and each library\'s matrix multiply (`gemm ...`); '
            'rates in GMAC/s (a float32 GFLOP/s is 2 GMAC/s).\n\n'.format(
                facts['macs_per_image'], rate('fp32'), rate('int8'), facts['floor.peak_source']))
