"""The project's Python files, for the tests that read the sources."""
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def python_files(*places):
    """Paths relative to the repository root of the ``.py`` files under
    ``places`` (folders walked in sorted order, without hidden and
    ``__pycache__`` folders, or single files), in that order."""
    for place in places:
        top = os.path.join(ROOT, place)
        if os.path.isfile(top):
            yield place
            continue
        for root, dirs, files in os.walk(top):
            dirs[:] = sorted(d for d in dirs if not d.startswith(('.', '__')))
            for name in sorted(files):
                if name.endswith('.py'):
                    yield os.path.relpath(os.path.join(root, name), ROOT)
