"""``python -m replicate.parity``: see :mod:`replicate.parity.cli`."""
import sys

from replicate.parity.cli import main

sys.exit(main())
