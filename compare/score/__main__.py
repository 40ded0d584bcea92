"""``python -m compare.score RUN_DIR [options]``: score a run folder again.

The command scores, then writes the reports, so it lives above both
(:func:`compare.runner.scoring.main`); this file only keeps its module path.
"""
import sys

if __name__ == '__main__':
    from provenance.console import quiet_third_party
    quiet_third_party()  # before anything imports ChainerCV or TensorFlow
    from compare.runner.scoring import main
    sys.exit(main())
