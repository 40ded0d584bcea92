"""``python -m replicate.odapi.parity``: see :mod:`replicate.odapi.parity.cli`."""
import sys

from provenance.console import quiet_third_party

quiet_third_party()
from replicate.odapi.parity.cli import main  # noqa: E402  (after quieting)

sys.exit(main())
