import sys

from replicate.train.cli import main

sys.exit(main())
