"""What counts as a number in a JSON file a user gives (annotations, results,
run-folder records): a JSON int or float, finite as a float."""
import math


def is_finite_number(value):
    """Whether ``value`` (as ``json.load`` returns it) is a finite number: not a
    bool (``true`` is an ``int`` to Python), not a string, not NaN or
    infinity, not an integer beyond float range."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False
