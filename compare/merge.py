"""``python -m compare.merge RUN [--shards DIR ...]``: the merge command of
:mod:`compare.shards.merge` under its short module path."""
import sys

if __name__ == '__main__':
    from provenance.console import quiet_third_party
    quiet_third_party()  # scoring imports ChainerCV
    from compare.shards.merge import main
    sys.exit(main())
