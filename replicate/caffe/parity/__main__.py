"""``python -m replicate.caffe.parity``: see :mod:`replicate.caffe.parity.cli`."""
import sys

from provenance.console import quiet_third_party

quiet_third_party()
from replicate.caffe.parity.cli import main  # noqa: E402  (after quieting)

sys.exit(main())
