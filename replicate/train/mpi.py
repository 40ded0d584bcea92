"""ChainerMN communicators, with one-line errors where MPI is missing.

ChainerMN ships inside Chainer 7 and needs mpi4py and an MPI library
(Debian/Ubuntu: ``apt-get install openmpi-bin``; then ``pip install mpi4py``,
or this project's ``mpi`` extra). Only the 'naive' communicator works without
a GPU; the others need CuPy and NCCL.
"""
from replicate.errors import UserError, one_line

COMMUNICATORS = ('naive', 'flat', 'hierarchical', 'two_dimensional', 'single_node',
                 'non_cuda_aware', 'pure_nccl')


def make_communicator(name):
    """``chainermn.create_communicator(name)`` or UserError saying what to install."""
    if name not in COMMUNICATORS:
        raise UserError('unknown --communicator {!r}; valid: {} (naive on CPUs)'.format(
            name, ', '.join(COMMUNICATORS)))
    try:
        import mpi4py.MPI  # noqa: F401
    except ImportError as error:
        raise UserError('--communicator needs mpi4py and an MPI library ({}): apt-get install '
                        'openmpi-bin, pip install mpi4py, then run under mpiexec -n N'.format(
                            error)) from None
    import chainermn
    try:
        return chainermn.create_communicator(name)
    except Exception as error:  # ChainerMN raises bare errors for missing CuPy/NCCL
        raise UserError('--communicator {} failed: {}: {} (on CPUs use naive)'.format(
            name, type(error).__name__, one_line(error))) from None
