"""The one error class of the parity tool: a user error (bad flag, missing
file, no GPU), printed by the CLI as ``error: ...`` with exit code 2."""
from replicate.errors import UserError


class ParityError(UserError):
    """A one-line message naming the file or flag at fault and the fix."""
