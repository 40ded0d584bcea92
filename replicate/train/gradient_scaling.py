"""GradientScaling: an update-rule hook multiplying a parameter's gradient.

Same name, constructor and effect as ChainerCV's
``chainercv.links.model.ssd.GradientScaling``. SSD's Caffe solver gives biases
twice the learning rate (``lr_mult: 2``); ChainerCV's training example, and
our recipe (:mod:`replicate.train.recipe`), do that with ``GradientScaling(2)``
on every bias.
"""
import chainer


class GradientScaling:
    """Optimizer / UpdateRule hook: ``grad <- rate * grad`` in place.

    Args:
        rate (float): the factor.

    Attributes:
        rate (float): the factor.
        name (str): 'GradientScaling', the hook's name in an optimizer.
    """

    name = 'GradientScaling'
    call_for_each_param = True

    def __init__(self, rate):
        self.rate = rate

    def __call__(self, rule, param):
        grad = param.grad
        if grad is None:
            return
        # in place, on the gradient's own device (numpy or cupy)
        with chainer.using_device(chainer.backend.get_device_from_array(grad)):
            grad *= self.rate
