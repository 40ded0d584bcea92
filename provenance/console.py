"""Quiet third-party console noise in the command entry points.

Run from an activated environment outside tox, TensorFlow prints INFO lines
from C++ on import and ChainerCV's sources raise ``SyntaxWarning: "is" with a
literal`` when Python compiles them. Neither concerns the user. Each command's
entry point calls :func:`quiet_third_party` before it imports either.
"""
import os
import warnings

#: ``SyntaxWarning``s are filtered by the compiled file's path (the module
#: name Python gives a warning raised while compiling), so ours still show.
THIRD_PARTY = r'.*[\\/](site|dist)-packages[\\/]'


def quiet_third_party():
    """Default ``TF_CPP_MIN_LOG_LEVEL`` to ``'2'`` (errors only; a value the
    user set is kept) and ignore ``SyntaxWarning`` from installed packages."""
    os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
    warnings.filterwarnings('ignore', category=SyntaxWarning, module=THIRD_PARTY)
