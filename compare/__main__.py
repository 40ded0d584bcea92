"""``python -m compare IMAGES [options]`` (same as ``python compare/run.py``)."""
import sys

from compare.cli import main

sys.exit(main())
