"""Which processor ran a benchmark: read, never assumed.

Machines of one kind differ (one seen with AVX-512 and VNNI, one with AVX2 +
FMA only), and every speed number depends on it: the peak kernels that can
run (:mod:`replicate.bench.peak`), the kernels ONNX Runtime and OpenVINO
pick, and so every ratio. :func:`cpu_facts` goes into each report's
provenance.
"""
import platform

#: The instruction-set flags (names as Linux's /proc/cpuinfo writes them)
#: that decide the float32 and int8 kernels, in report order.
ISA_FLAGS = ('sse4_2', 'avx', 'avx2', 'fma', 'f16c', 'avx512f', 'avx512bw', 'avx512vl',
             'avx512_vnni', 'avx_vnni', 'avx512_bf16', 'amx_int8', 'amx_bf16')


def read_cpuinfo(path='/proc/cpuinfo'):
    """The first processor's fields of ``/proc/cpuinfo`` as a dict of strings
    (``{}`` where there is no such file, e.g. not Linux)."""
    try:
        with open(path) as f:
            text = f.read(1 << 20)
    except OSError:
        return {}
    fields = {}
    for line in text.split('\n\n', 1)[0].splitlines():
        key, sep, value = line.partition(':')
        if sep:
            fields[key.strip()] = value.strip()
    return fields


def cpu_flags(info=None):
    """Set of the processor's flags (empty where unknown)."""
    info = read_cpuinfo() if info is None else info
    return set(info.get('flags', '').split())


def cpu_facts(info=None):
    """Flat ``{'cpu.<key>': str}``: model name, vendor, family, model,
    stepping, and which of :data:`ISA_FLAGS` are present (``cpu.isa``, in
    that order; ``cpu.isa_absent``: the others)."""
    info = read_cpuinfo() if info is None else info
    flags = cpu_flags(info)
    facts = {'cpu.' + key.replace(' ', '_'): info.get(key, 'unknown')
             for key in ('model name', 'vendor_id', 'cpu family', 'model', 'stepping')}
    facts['cpu.machine'] = platform.machine()
    facts['cpu.isa'] = ' '.join(f for f in ISA_FLAGS if f in flags) or 'unknown'
    facts['cpu.isa_absent'] = ' '.join(f for f in ISA_FLAGS if f not in flags) or '-'
    return facts
