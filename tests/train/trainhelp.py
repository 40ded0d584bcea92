"""Options shared by the training command's tests (a module name of its own:
``conftest`` is ambiguous when several test folders are collected)."""

#: The smallest model: 32x32 input, base width 4 (maps 8, 4, 2, 1).
TINY = ['--model', 'small', '--insize', '32', '--width', '4']
