"""Record every layer's output of any Chainer link, in call order, by name.

The model is not modified and not re-implemented: two Chainer hooks watch a
normal call of the model and copy each output to host memory.

* a :class:`chainer.LinkHook` sees every link call; the output is recorded
  under the link's path in the model (``extractor/conv1_1``); a link that
  returns a list or tuple gives one entry per element (``extractor[0]``, ...);
* a :class:`chainer.FunctionHook` sees every function (``F.relu``,
  ``F.max_pooling_2d``, ``F.reshape``, ...) applied *between* links; it is
  named after the link that finished last plus the function's label in lower
  case (``extractor/conv1_1>relu``, ``extractor/conv1_2>maxpooling2d``).
  Functions running inside a leaf link (the convolution inside
  ``L.Convolution2D``, the ``normalize``/``mul`` inside ``Normalize``) are
  not recorded separately: the link's own output stands for them.
* the root call's array inputs are recorded as ``input`` (``input[i]`` when
  there are several).

A name that repeats gets ``#2``, ``#3``, ... A link that is not part of the
traced model (created on the fly) is named ``?<ClassName>`` so that it shows
up as a divergence instead of disappearing.
"""
import collections

import chainer
import numpy as np


def to_host(value):
    """A fresh numpy copy of a ``Variable``/numpy/cupy array."""
    if isinstance(value, chainer.Variable):
        value = value.array
    return np.array(chainer.backend.CpuDevice().send(value), copy=True)


def _is_array(value):
    return isinstance(value, (chainer.Variable,) + chainer.get_array_types())


def flatten_outputs(name, value):
    """``[(name, array), ...]`` for an array or a (nested) tuple/list of them.

    Raises:
        TypeError: for an output that is neither (nothing is skipped silently).
    """
    if _is_array(value):
        return [(name, value)]
    if isinstance(value, (tuple, list)):
        items = []
        for i, item in enumerate(value):
            items += flatten_outputs('{}[{}]'.format(name, i), item)
        return items
    raise TypeError('cannot trace output {!r} of type {}'.format(name, type(value).__name__))


def link_paths(model):
    """``{id(link): path}`` for ``model`` and every link below it; the root's
    path is ``''`` and a child's is e.g. ``extractor/conv1_1``."""
    return {id(link): path.strip('/') for path, link in model.namedlinks()}


class Trace(object):
    """The recording: an ordered ``{name: numpy array}`` plus the bookkeeping
    used to name function outputs (the stack of active links, the link that
    finished last, function nesting depth)."""

    def __init__(self, model, root_name):
        self.paths = link_paths(model)
        self.root_name = root_name
        self.records = collections.OrderedDict()
        self.active = []  # links being called, outermost first
        self.last_finished = None  # path of the link that returned last
        self.function_depth = 0

    def path_of(self, link):
        path = self.paths.get(id(link))
        if path is None:
            return '?' + type(link).__name__
        return path or self.root_name

    def add(self, name, value):
        """Record ``value`` under ``name`` (made unique with ``#k``)."""
        unique, k = name, 1
        while unique in self.records:
            k += 1
            unique = '{}#{}'.format(name, k)
        self.records[unique] = to_host(value)

    def inside_leaf_link(self):
        return bool(self.active) and not any(True for _ in self.active[-1].children())

    def function_anchor(self):
        """The name a function output hangs from: the link that finished last
        inside the innermost active link, else that active link itself."""
        if self.last_finished is not None:
            return self.last_finished
        return self.path_of(self.active[-1]) if self.active else self.root_name


class _LinkRecorder(chainer.LinkHook):
    name = 'parity_link_recorder'

    def __init__(self, trace):
        self.trace = trace

    def forward_preprocess(self, args):
        trace = self.trace
        if not trace.active:
            arrays = [a for a in args.args if _is_array(a)]
            for i, value in enumerate(arrays):
                trace.add('input' if len(arrays) == 1 else 'input[{}]'.format(i), value)
        trace.active.append(args.link)
        trace.last_finished = None

    def forward_postprocess(self, args):
        trace = self.trace
        trace.active.pop()
        path = trace.path_of(args.link)
        for name, value in flatten_outputs(path, args.out):
            trace.add(name, value)
        trace.last_finished = path


class _FunctionRecorder(chainer.FunctionHook):
    """Wraps the function's own ``forward`` for one call to see its outputs
    (``FunctionNode.output_data`` holds only outputs retained for backward)."""
    name = 'parity_function_recorder'

    def __init__(self, trace):
        self.trace = trace
        self.outputs = {}

    def forward_preprocess(self, function, in_data):
        trace = self.trace
        trace.function_depth += 1
        if trace.function_depth > 1 or trace.inside_leaf_link():
            return
        original = function.forward

        def forward(inputs):
            outputs = original(inputs)
            self.outputs[id(function)] = outputs
            return outputs
        function.forward = forward  # instance attribute, removed after the call

    def forward_postprocess(self, function, in_data):
        trace = self.trace
        trace.function_depth -= 1
        outputs = self.outputs.pop(id(function), None)
        if outputs is None:
            return
        del function.forward
        name = '{}>{}'.format(trace.function_anchor(), function.label.lower())
        items = flatten_outputs(name, list(outputs)) if len(outputs) > 1 else [(name, outputs[0])]
        for out_name, value in items:
            trace.add(out_name, value)


def trace_call(model, call, root_name='model'):
    """Run ``call()`` (which calls ``model``) with both hooks active.

    Args:
        model (chainer.Link): names links by their path in this model.
        call: a function of no arguments; its return value is passed back.
        root_name (str): the name of ``model``'s own output.

    Returns:
        tuple: ``(records, result)``: ``records`` is an ``OrderedDict`` from
        name to a host numpy array in call order; ``result`` is ``call()``.
    """
    trace = Trace(model, root_name)
    with _LinkRecorder(trace), _FunctionRecorder(trace):
        result = call()
    return trace.records, result
