"""``python -m replicate.parity`` (also the ``ssd-parity`` script): see
:mod:`replicate.parity.cli`."""
import sys


def main(argv=None):
    """The command, after quieting third-party console noise (before anything
    imports ChainerCV); returns the exit status."""
    from provenance.console import quiet_third_party
    quiet_third_party()
    from replicate.parity.cli import main as command
    return command(argv)


if __name__ == '__main__':
    sys.exit(main())
