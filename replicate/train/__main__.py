import sys

from provenance.console import quiet_third_party

quiet_third_party()
from replicate.train.cli import main  # noqa: E402  (after quieting)

sys.exit(main())
