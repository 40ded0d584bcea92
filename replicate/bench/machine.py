"""What else was running, and with how many threads: the facts that make two
timings comparable or not. A benchmark records them at its start and end."""
import os

from replicate.errors import one_line

#: Environment variables that set thread counts of the numeric libraries.
THREAD_VARIABLES = ('OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS',
                    'NUMEXPR_NUM_THREADS')


def load_average():
    """The 1, 5 and 15 minute load averages as a string, e.g. ``0.52 0.61 0.70``
    (``unavailable`` where the OS has none)."""
    try:
        return ' '.join('{:.2f}'.format(v) for v in os.getloadavg())
    except OSError:
        return 'unavailable'


def usable_cores():
    """Cores this process may run on (its affinity mask), else ``os.cpu_count()``."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count()


def blas_threads():
    """``{'threads.<api>.<library>': '<n> threads (<library> <version>)'}`` from threadpoolctl
    when installed, else one ``threads.blas`` entry saying it is unknown
    (then only the environment variables tell the thread counts)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return {'threads.blas': 'unknown (threadpoolctl not installed)'}
    info = {}
    for pool in threadpool_info():
        # keyed by library file: a process may load several (numpy's OpenBLAS
        # and an older one bundled with another package, say)
        key = 'threads.{}.{}'.format(pool.get('user_api'),
                                     os.path.basename(pool.get('filepath', '?')))
        info[key] = '{} threads ({} {})'.format(
            pool.get('num_threads'), pool.get('internal_api'), pool.get('version'))
    return info


def machine_state(prefix):
    """Flat ``{str: str}`` snapshot: load average, cores, memory available,
    thread settings; keys start with ``prefix`` (e.g. ``start.``) where they
    can change during a run."""
    state = {prefix + 'load_average_1_5_15': load_average()}
    state['cores_usable'] = str(usable_cores())
    state['cores_logical'] = str(os.cpu_count())
    state.update({'env.' + name: os.environ.get(name, 'unset') for name in THREAD_VARIABLES})
    state.update(blas_threads())
    try:
        with open('/proc/meminfo') as f:
            fields = dict(line.split(':', 1) for line in f)
        state[prefix + 'memory_available'] = one_line(fields['MemAvailable'])
        state['memory_total'] = one_line(fields['MemTotal'])
    except (OSError, KeyError, ValueError):
        pass
    return state
