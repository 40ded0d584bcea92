"""``python -m replicate.train`` (also the ``ssd-train`` script): see
:mod:`replicate.train.cli`."""
import sys


def main(argv=None):
    """The command, after quieting third-party console noise (before anything
    imports ChainerCV or TensorFlow); returns the exit status."""
    from provenance.console import quiet_third_party
    quiet_third_party()
    from replicate.train.cli import main as command
    return command(argv)


if __name__ == '__main__':
    sys.exit(main())
