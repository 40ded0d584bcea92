"""``python -m compare IMAGES [options]`` (same as ``python compare/run.py``)."""
import sys

from provenance.console import quiet_third_party

quiet_third_party()
from compare.run import main  # noqa: E402  (after quieting)

sys.exit(main())
