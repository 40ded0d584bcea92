""":func:`check_device`: a one-line error for a ``--device @cupy:N`` this
machine cannot use, before Chainer fails on it with a traceback (every
command-line tool that takes ``--device`` calls it)."""
from replicate.errors import UserError


def check_device(device, error=UserError):
    """Raise ``error`` if ``device`` is a CuPy device that this machine
    cannot use (CuPy missing, or importable but no such CUDA device:
    ``chainer.backends.cuda.available`` only says CuPy imports).

    Args:
        device (str): a Chainer device spec, e.g. ``@numpy``, ``@cupy:0``.
        error: the :class:`UserError` class raised (e.g. a tool's own).
    """
    if 'cupy' not in device:
        return
    import chainer
    why = None
    if not chainer.backends.cuda.available:
        why = 'CuPy is not importable'
    else:
        try:
            count = chainer.backends.cuda.cupy.cuda.runtime.getDeviceCount()
        except Exception as exc:  # CUDARuntimeError: no driver, no device
            count, why = 0, 'CUDA reports {}'.format(str(exc).splitlines()[0])
        try:
            index = int(device.rsplit(':', 1)[1]) if ':' in device else 0
        except ValueError:
            raise error('--device {}: give @cupy:N, N a device number'.format(device)) from None
        if why is None and index >= count:
            why = '{} CUDA device(s) visible'.format(count)
    if why:
        raise error('--device {}: no usable CUDA GPU here ({}); run on a GPU machine '
                    'or use --device @numpy'.format(device, why))
