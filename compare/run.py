"""``python compare/run.py IMAGES [options]``: see ``compare/runner/cli.py``."""
import os
import sys

if __name__ == '__main__':
    # `python compare/run.py` puts compare/ first on sys.path; import the package instead
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or '.') != here]
    sys.path.insert(0, os.path.dirname(here))
    from provenance.console import quiet_third_party
    quiet_third_party()
    from compare.runner.cli import main
    sys.exit(main())
