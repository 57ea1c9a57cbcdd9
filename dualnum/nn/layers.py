"""Layers with PyTorch's names, argument conventions (NCHW images, OIHW kernels) and
default initialisations.

Every ``forward`` uses NumPy calls and dualnum functions only, so it runs unchanged on
plain arrays and on Duals (batched or not), for inputs and parameters alike.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from ..fgrad.perturb import layer_output, local_head, pre_activation_read
from ..ops.network import (avg_pool2d, conv2d, conv2d_relu, gelu, linear, max_pool2d, relu,
                          sigmoid)
from . import init
from ._random import default_generator, resolve_rng
from .module import Module

__all__ = ["Linear", "Conv2d", "MaxPool2d", "AvgPool2d", "Flatten", "ReLU", "Tanh",
           "Sigmoid", "GELU", "Dropout", "LocalHead"]


def _positive_int(value, what):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{what} must be a positive integer, got {value!r}")
    return int(value)


def _pair(value, what, minimum=1):
    """An int or a pair of ints as a pair, each at least ``minimum``."""
    pair = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(pair) != 2 or any(isinstance(v, bool) or not isinstance(v, numbers.Integral)
                             or v < minimum for v in pair):
        raise ValueError(f"{what} must be an int >= {minimum} or a pair of them, got "
                         f"{value!r}")
    return tuple(int(v) for v in pair)


def _as_pair(v):
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


def _float_dtype(dtype):
    dt = np.dtype(dtype)
    if dt.kind != "f" or dt.itemsize < 4:
        raise TypeError(f"parameter dtype must be float32 or float64, got {dt}")
    return dt


def _reset_uniform_fan_in(weight, bias, rng):
    """PyTorch's default for Linear and Conv: kaiming_uniform(a=sqrt(5)) weights, which is
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and biases from the same interval."""
    init.kaiming_uniform_(weight, a=math.sqrt(5), rng=rng)
    if bias is not None:
        fan_in, _ = init.calculate_fan_in_and_fan_out(weight)
        bound = 1 / math.sqrt(fan_in)
        init.uniform_(bias, -bound, bound, rng=rng)


class Linear(Module):
    """``y = x @ weight.T + bias`` over the last axis of ``x``.

    ``weight`` has shape ``(out_features, in_features)``; it and ``bias`` start from
    ``U(-1/sqrt(in_features), 1/sqrt(in_features))``, PyTorch's default. ``rng`` is a
    ``numpy.random.Generator``, an int seed, or ``None`` for the default generator
    (:func:`dualnum.nn.manual_seed`).

    >>> import numpy as np, dualnum as dn
    >>> layer = dn.nn.Linear(4, 3, rng=np.random.default_rng(0))
    >>> layer.weight.shape, layer.bias.dtype
    ((3, 4), dtype('float32'))
    >>> layer(np.ones((2, 4), np.float32)).shape
    (2, 3)
    """

    def __init__(self, in_features, out_features, bias=True, *, rng=None, dtype=np.float32):
        super().__init__()
        self.in_features = _positive_int(in_features, "in_features")
        self.out_features = _positive_int(out_features, "out_features")
        dtype = _float_dtype(dtype)
        self.register_parameter("weight", np.empty((self.out_features, self.in_features), dtype))
        self.register_parameter("bias", np.empty(self.out_features, dtype) if bias else None)
        self.reset_parameters(rng)

    def reset_parameters(self, rng=None):
        """Draw fresh values in place with PyTorch's default initialisation.

        >>> import numpy as np, dualnum as dn
        >>> a, b = dn.nn.Linear(3, 2, rng=0), dn.nn.Linear(3, 2, rng=1)
        >>> b.reset_parameters(rng=0)
        >>> bool((a.weight == b.weight).all())
        True
        """
        _reset_uniform_fan_in(self.weight, self.bias, resolve_rng(rng))

    #: How a weight gradient follows from the output's (activity perturbation).
    local_product = "linear"

    def forward(self, x):
        return layer_output(self, x, linear(x, self.weight, self.bias))

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Conv2d(Module):
    """2-D convolution (cross-correlation, as in PyTorch) of NCHW images with an OIHW
    kernel, by :func:`dualnum.conv2d`.

    ``weight`` has shape ``(out_channels, in_channels, kH, kW)``; it and ``bias`` start
    from ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))`` with ``fan_in = in_channels * kH * kW``,
    PyTorch's default. ``kernel_size``, ``stride`` and ``padding`` are ints or pairs.

    >>> import numpy as np, dualnum as dn
    >>> conv = dn.nn.Conv2d(3, 8, kernel_size=3, padding=1, rng=0)
    >>> conv.weight.shape
    (8, 3, 3, 3)
    >>> conv(np.zeros((2, 3, 5, 5), np.float32)).shape
    (2, 8, 5, 5)
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 bias=True, *, rng=None, dtype=np.float32):
        super().__init__()
        self.in_channels = _positive_int(in_channels, "in_channels")
        self.out_channels = _positive_int(out_channels, "out_channels")
        self.kernel_size = _pair(kernel_size, "kernel_size")
        self.stride = _pair(stride, "stride")
        self.padding = _pair(padding, "padding", minimum=0)
        dtype = _float_dtype(dtype)
        shape = (self.out_channels, self.in_channels) + self.kernel_size
        self.register_parameter("weight", np.empty(shape, dtype))
        self.register_parameter("bias", np.empty(self.out_channels, dtype) if bias else None)
        self.reset_parameters(rng)

    def reset_parameters(self, rng=None):
        """Draw fresh values with PyTorch's default initialisation."""
        _reset_uniform_fan_in(self.weight, self.bias, resolve_rng(rng))

    local_product = "conv2d"

    def forward(self, x):
        y = conv2d(x, self.weight, self.bias, stride=self.stride, padding=self.padding)
        return layer_output(self, x, y)

    def _fuse(self, following):
        # A plain ReLU after a plain Conv2d, and a plain MaxPool2d (stride = kernel size)
        # after that: one op (dn.conv2d_relu), which writes the activation, or its pooled
        # form, directly; subclasses that change a forward keep the modules apart.
        if not following or type(following[0]) is not ReLU \
                or type(self).forward is not Conv2d.forward:
            return None
        pool = following[1] if len(following) > 1 else None
        if type(pool) is MaxPool2d and _as_pair(pool.kernel_size) == _as_pair(pool.stride):
            mods = following[:2]
            return (lambda x: self._forward_fused(x, mods, pool.kernel_size)), 2
        return (lambda x: self._forward_fused(x, following[:1], None)), 1

    def _forward_fused(self, x, following, pool):
        if pre_activation_read():  # activity perturbation perturbs z itself
            x = self.forward(x)
            for m in following:
                x = m(x)
            return x
        y = conv2d_relu(x, self.weight, self.bias, stride=self.stride, padding=self.padding,
                        pool=pool)
        # the layer's parameters are still reported (the estimate's leaves), with the
        # activation standing in for z, which nothing reads in this evaluation
        return layer_output(self, x, y)

    def extra_repr(self):
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0, 0):
            s += f", padding={self.padding}"
        if self.bias is None:
            s += ", bias=False"
        return s


class MaxPool2d(Module):
    """Max pooling over NCHW images (:func:`dualnum.max_pool2d`); ``stride`` defaults to
    ``kernel_size``.

    >>> import numpy as np, dualnum as dn
    >>> dn.nn.MaxPool2d(2)(np.arange(16.0).reshape(1, 1, 4, 4))
    array([[[[ 5.,  7.],
             [13., 15.]]]])
    """

    def __init__(self, kernel_size, stride=None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride

    def forward(self, x):
        return max_pool2d(x, self.kernel_size, self.stride)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}"


class AvgPool2d(Module):
    """Average pooling over NCHW images (:func:`dualnum.avg_pool2d`); ``stride`` defaults
    to ``kernel_size``.

    >>> import numpy as np, dualnum as dn
    >>> dn.nn.AvgPool2d(2)(np.arange(16.0).reshape(1, 1, 4, 4))
    array([[[[ 2.5,  4.5],
             [10.5, 12.5]]]])
    """

    def __init__(self, kernel_size, stride=None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride

    def forward(self, x):
        return avg_pool2d(x, self.kernel_size, self.stride)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}"


class Flatten(Module):
    """Flatten axes ``start_dim`` to ``end_dim`` (inclusive) into one.

    >>> import numpy as np, dualnum as dn
    >>> dn.nn.Flatten()(np.zeros((2, 3, 4, 5))).shape
    (2, 60)
    """

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, x):
        shape = np.shape(x)
        start = self.start_dim + len(shape) if self.start_dim < 0 else self.start_dim
        end = self.end_dim + len(shape) if self.end_dim < 0 else self.end_dim
        if not 0 <= start <= end < len(shape):
            raise ValueError(f"Flatten(start_dim={self.start_dim}, end_dim={self.end_dim}) "
                             f"does not fit an input of shape {shape}")
        return np.reshape(x, shape[:start] + (-1,) + shape[end + 1:])

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class ReLU(Module):
    """``max(x, 0)`` elementwise (:func:`dualnum.relu`).

    >>> import numpy as np, dualnum as dn
    >>> dn.nn.ReLU()(np.array([-1.0, 2.0]))
    array([0., 2.])
    """

    def forward(self, x):
        return relu(x)


class Tanh(Module):
    """``tanh(x)`` elementwise.

    >>> import numpy as np, dualnum as dn
    >>> dn.nn.Tanh()(np.array([0.0]))
    array([0.])
    """

    def forward(self, x):
        return np.tanh(x)


class Sigmoid(Module):
    """``1 / (1 + exp(-x))`` elementwise (:func:`dualnum.sigmoid`).

    >>> import numpy as np, dualnum as dn
    >>> dn.nn.Sigmoid()(np.array([0.0]))
    array([0.5])
    """

    def forward(self, x):
        return sigmoid(x)


class GELU(Module):
    """Gaussian error linear unit, ``x * Phi(x)`` elementwise (:func:`dualnum.gelu`).

    >>> import numpy as np, dualnum as dn
    >>> dn.nn.GELU()(np.array([0.0, 1.0]))
    array([0.        , 0.84134475])
    """

    def forward(self, x):
        return gelu(x)


class Dropout(Module):
    """Inverted dropout: in training mode, zero each element with probability ``p`` and
    scale the rest by ``1 / (1 - p)``; the identity in evaluation mode.

    Masks come only from ``self.rng``, a ``numpy.random.Generator`` held by the module:
    the one passed as ``rng``, a new one seeded with an int ``rng``, or (``rng=None``) one
    seeded from the default generator. Each call draws a new mask; one mask serves the
    primal and every tangent of a Dual input, so jvps through dropout are exact for that
    mask.

    >>> import numpy as np, dualnum as dn
    >>> drop = dn.nn.Dropout(0.5, rng=0)
    >>> drop(np.ones(6))
    array([2., 0., 0., 0., 2., 2.])
    >>> drop.eval()(np.ones(3))
    array([1., 1., 1.])
    """

    def __init__(self, p=0.5, *, rng=None):
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0 <= p <= 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p!r}")
        self.p = float(p)
        if rng is None:
            rng = np.random.default_rng(default_generator().integers(2 ** 63))
        self.rng = resolve_rng(rng)

    def forward(self, x):
        if not self.training or self.p == 0:
            return x
        shape = np.shape(x)
        dtype = np.result_type(x)
        if dtype.kind != "f":
            dtype = np.dtype(np.float64)
        if self.p == 1:
            return x * np.zeros(shape, dtype)
        keep = self.rng.random(shape) >= self.p
        return x * (keep.astype(dtype) / dtype.type(1 - self.p))

    def extra_repr(self):
        return f"p={self.p}"


class LocalHead(Module):
    """A local loss (Ren, Kornblith, Liao, Hinton, ICLR 2023): the layers between the
    previous ``LocalHead`` (or the input) and this one form a block that forward-gradient
    training with local losses trains by ``head``'s loss alone, and no gradient crosses
    into earlier blocks. Layers after the last head are trained by the model's own loss.

    In the main path a LocalHead is the identity: ``head`` only runs while a forward
    gradient with local losses is estimated (``dn.forward_gradient(...,
    local_loss=...)``, ``dn.fgrad.Estimator(local_losses=True)``), where it records the
    head's loss for its block and passes the input on without that estimate's tangent.
    ``head`` maps the block's output to what the loss takes, e.g. class scores; its
    parameters are the model's, trained with its block.

    ``pool=k`` feeds the head ``flatten(avg_pool2d(x, k))`` instead of ``x`` (images
    (B, C, H, W)): the loss then depends on the block's output only through that small
    linear map, and activity perturbation estimates the block's last convolution window
    by window, exactly with K = C·(its pooling window) directions (see
    :mod:`dualnum.fgrad.perturb`).

    >>> import numpy as np, dualnum as dn
    >>> net = dn.nn.Sequential(
    ...     dn.nn.Linear(4, 16, rng=0), dn.nn.ReLU(),
    ...     dn.nn.LocalHead(dn.nn.Linear(16, 3, rng=1)),   # the first block's classifier
    ...     dn.nn.Linear(16, 3, rng=2))
    >>> net(np.ones((2, 4), np.float32)).shape     # the head does not run here
    (2, 3)
    >>> [name for name, _ in net.named_parameters()]
    ['0.weight', '0.bias', '2.head.weight', '2.head.bias', '3.weight', '3.bias']
    """

    def __init__(self, head, pool=None):
        super().__init__()
        if not isinstance(head, Module):
            raise TypeError(f"LocalHead needs a Module as its head, got {type(head).__name__}")
        self.head = head
        self.pool = None if pool is None else _positive_int(pool, "pool")

    def head_input(self, x):
        """What the head reads from the block's output ``x``."""
        if self.pool is None:
            return x
        if np.ndim(x) != 4:
            raise ValueError(f"LocalHead(pool={self.pool}) pools images (B, C, H, W); the "
                             f"block's output has shape {np.shape(x)}")
        y = avg_pool2d(x, self.pool)
        return np.reshape(y, (np.shape(y)[0], -1))

    def forward(self, x):
        return local_head(self, x)

    def extra_repr(self):
        return "" if self.pool is None else f"pool={self.pool}"
