"""The benchmark's user error: printed as one line ``error: ...``, exit code 2."""
from replicate.errors import UserError


class BenchError(UserError):
    """A bad flag, a missing file or package, no GPU: names it and the fix."""
