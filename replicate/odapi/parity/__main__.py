"""``python -m replicate.odapi.parity``: see :mod:`replicate.odapi.parity.cli`."""
import sys

from replicate.odapi.parity.cli import main

sys.exit(main())
