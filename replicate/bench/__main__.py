"""``python -m replicate.bench``: see :mod:`replicate.bench.cli`."""
import sys

from replicate.bench.cli import main

sys.exit(main())
