"""The CPU facts and the peak microbenchmark: flags read from cpuinfo text,
kernels chosen by flags, and (where a C compiler exists) kernels that run and
report positive rates. No speed is asserted."""
import ctypes

import pytest

from replicate.bench import floor, peak
from replicate.cpuinfo import cpu_facts, cpu_flags, read_cpuinfo

CPUINFO = """processor\t: 0
vendor_id\t: AuthenticAMD
cpu family\t: 25
model\t\t: 17
model name\t: AMD EPYC
flags\t\t: fpu sse4_2 avx avx2 fma

processor\t: 1
flags\t\t: other
"""


def test_facts_from_cpuinfo(tmp_path):
    path = tmp_path / 'cpuinfo'
    path.write_text(CPUINFO)
    info = read_cpuinfo(str(path))
    facts = cpu_facts(info)
    assert facts['cpu.cpu_family'] == '25' and facts['cpu.model_name'] == 'AMD EPYC'
    assert facts['cpu.isa'] == 'sse4_2 avx avx2 fma'  # the first processor's flags
    assert 'avx512f' in facts['cpu.isa_absent'].split()
    assert read_cpuinfo(str(tmp_path / 'missing')) == {}


def test_kernels_chosen_by_flags():
    assert peak.runnable({'avx2', 'fma'}) == ['fma_avx2', 'madd_avx2']
    assert set(peak.runnable({'avx2', 'fma', 'avx512f', 'avx512bw', 'avx512_vnni'})) == {
        'fma_avx512', 'fma_avx2', 'vnni_avx512', 'madd_avx512', 'madd_avx2'}
    with pytest.raises(peak.PeakUnavailable, match='no peak kernel'):
        peak.measure(1, flags={'sse2'})


def test_amx_chosen_by_its_flags():
    assert peak.runnable({'amx_tile', 'amx_int8'}) == ['amx_int8']
    assert 'amx_int8' not in peak.runnable({'avx2', 'fma', 'amx_tile'})


@pytest.mark.skipif(peak.compiler() is None or 'amx_int8' not in peak.runnable(cpu_flags()),
                    reason='no C compiler on PATH, or no AMX tiles on this processor')
def test_amx_kernel_does_the_products_it_is_counted_for(tmp_path):
    library, _ = peak.build(str(tmp_path))
    if not hasattr(library, 'amx_int8') or library.amx_permit() != 0:
        pytest.skip('the compiler lacks the AMX target, or Linux does not let this process '
                    'use the AMX tiles')
    kernel = library.amx_int8
    kernel.restype, kernel.argtypes = ctypes.c_int, [ctypes.c_long]
    # every product is 3 x -2: the sum is -6 per MAC the table counts per round
    macs_per_round = peak.KERNELS['amx_int8'][2]
    assert kernel(10) == -6 * 10 * macs_per_round


@pytest.mark.skipif(peak.compiler() is None, reason='no C compiler on PATH')
def test_kernels_run():
    rows, compiler = peak.measure(1, seconds=0.002, trials=2)
    assert compiler and {r['kind'] for r in rows} <= {'fp32', 'int8'}
    assert rows and all(r['gmacs_best'] >= r['gmacs_median'] > 0 for r in rows)


def test_fraction_of_peak():
    # 10 GMAC in 0.5 s at a 40 GMAC/s peak: half the peak
    assert floor.fraction_of_peak(10e9, 0.5, 40.0) == pytest.approx(0.5)
    assert floor.fraction_of_peak(10e9, 0.5, '-') == '-'


def test_floor_falls_back_to_the_best_gemm(monkeypatch):
    def unavailable(*args, **kwargs):
        raise peak.PeakUnavailable('no C compiler (cc not on PATH)')
    monkeypatch.setattr(peak, 'measure', unavailable)
    monkeypatch.setattr(floor.gemm, 'measure', lambda size: [
        {'gemm': 'numpy_fp32', 'kind': 'fp32', 'size': size, 'gmacs_best': 50.0, 'note': ''},
        {'gemm': 'onnxruntime_fp32', 'kind': 'fp32', 'size': size, 'gmacs_best': 60.0,
         'note': ''},
        {'gemm': 'openvino_fp32', 'kind': 'fp32', 'size': size, 'gmacs_best': '-',
         'note': 'not installed (openvino)'},
        {'gemm': 'onnxruntime_int8', 'kind': 'int8', 'size': size, 'gmacs_best': 150.0,
         'note': ''}])
    facts, rows = floor.measure(threads=2, gemm_size=64)
    assert facts['floor.peak_fp32_gmacs'] == 60.0
    assert facts['floor.peak_fp32_from'] == 'gemm onnxruntime_fp32'
    assert facts['floor.peak_int8_gmacs'] == 150.0
    assert 'no C compiler' in facts['floor.peak_source']
    assert len(rows) == 4


def test_a_gemm_faster_than_the_loop_sets_the_peak(monkeypatch):
    # int8 without VNNI: ONNX Runtime's GEMM outruns the VPMADDUBSW loop, so
    # the loop is not the limit; float32: the loop stays the peak
    def loops(threads, **kwargs):
        return [{'kernel': 'fma_avx2', 'kind': 'fp32', 'threads': threads,
                 'gmacs_best': 50.0 * threads, 'gmacs_median': 49.0 * threads},
                {'kernel': 'madd_avx2', 'kind': 'int8', 'threads': threads,
                 'gmacs_best': 66.0 * threads, 'gmacs_median': 65.0 * threads}], 'cc'
    monkeypatch.setattr(peak, 'measure', loops)
    monkeypatch.setattr(floor.gemm, 'measure', lambda size: [
        {'gemm': 'numpy_fp32', 'kind': 'fp32', 'size': size, 'gmacs_best': 90.0, 'note': ''},
        {'gemm': 'onnxruntime_int8', 'kind': 'int8', 'size': size, 'gmacs_best': 180.0,
         'note': ''}])
    facts, rows = floor.measure(threads=2, gemm_size=64)
    assert (facts['floor.peak_fp32_gmacs'], facts['floor.peak_fp32_from']) == \
        (100.0, 'peak fma_avx2')
    assert facts['floor.peak_fp32_gmacs_per_core'] == 50.0
    assert (facts['floor.peak_int8_gmacs'], facts['floor.peak_int8_from']) == \
        (180.0, 'gemm onnxruntime_int8')
    assert facts['floor.peak_int8_gmacs_per_core'] == 90.0
    assert "libraries' GEMMs" in facts['floor.peak_source'] and len(rows) == 6
