"""``python compare/run.py IMAGES [options]``: the comparison run (also ``python -m
compare`` and the ``ssd-compare`` script).

:func:`main` is the command: it parses the options
(:func:`compare.runner.cli.parser`) and runs them in this process
(:func:`compare.runner.cli.run_command`), or as one rank of an MPI job
(:mod:`compare.shards.mpi_launch`, which runs this rank's shard and merges).
The run never imports the launcher; this command chooses between them. It
quiets third-party console noise before anything imports ChainerCV or
TensorFlow, so its imports are inside it.
"""
import os
import sys


def main(argv=None):
    """The command; returns the exit status (:mod:`compare.errors`: 0 done, 2
    a user error, 3 incomplete, 130 interrupted by Ctrl-C or SIGTERM)."""
    from provenance.console import quiet_third_party
    quiet_third_party()
    from compare.runner.cli import parser, run_command
    from compare.shards import mpi_launch
    args = parser().parse_args(argv)
    if mpi_launch.wanted(args):
        return mpi_launch.main(args)
    return run_command(args)


if __name__ == '__main__':
    # `python compare/run.py` puts compare/ first on sys.path; import the package instead
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or '.') != here]
    sys.path.insert(0, os.path.dirname(here))
    sys.exit(main())
