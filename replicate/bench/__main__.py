"""``python -m replicate.bench``: see :mod:`replicate.bench.cli`."""
import sys

from provenance.console import quiet_third_party

quiet_third_party()
from replicate.bench.cli import main  # noqa: E402  (after quieting)

sys.exit(main())
