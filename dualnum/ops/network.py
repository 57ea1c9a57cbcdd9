"""Functions for neural networks: activations, softmax and friends, losses, convolution
and pooling, each declared once next to its tangent rule.

Every public function here (``dn.relu``, ``dn.conv2d``, ...) is the key of its rule in the
table. Called with plain arrays it returns plain arrays (the primal alone); called with
Duals it goes through :func:`dualnum.core.rules.apply`.

* Activations are elementwise rules (partial derivative strings, like the ufuncs in
  :mod:`.elementwise`): ``relu``, ``leaky_relu``, ``elu``, ``gelu``, ``sigmoid``,
  ``softplus``. ``gelu`` is computed with dualnum's erfc (:mod:`.special`), in its fused
  kernel too; ``sigmoid`` is also the rule of ``scipy.special.expit``.
* ``softmax``, ``log_softmax``, ``logsumexp``, ``cross_entropy`` and ``mse`` are JAX-style
  jvps. All of them subtract the maximum before exponentiating.
* ``conv2d`` is im2col (``sliding_window_view``) plus one GEMM (``tensordot``). Its
  tangent is bilinear, ``conv(ẋ, w) + conv(x, ẇ)``: K batched input tangents are folded
  into the GEMM's rows, and K weight tangents into its columns, so no rule loops over K.
  This NumPy path is the reference, and the one nested derivatives take; float arrays
  take conv2d's kernel (:mod:`dualnum.kernels.conv`: value and tangents from one
  unfolding of x, Winograd for 3×3 kernels), attached to the rule as its ``fused`` hook.
* ``conv2d_relu`` is ``relu(conv2d(...))`` (then, with ``pool``, ``max_pool2d``) as one
  rule, whose kernel applies the ReLU and the pooling where the convolution writes its
  output; ``dn.nn.Sequential`` uses it for Conv2d → ReLU (→ MaxPool2d).
* ``max_pool2d`` takes the tangent at each window's argmax; ``avg_pool2d`` is linear.

Conventions at non-differentiable points (each is also in its rule's ``note``):

* ``relu`` at 0: derivative 0 (JAX, PyTorch). ``leaky_relu`` at 0: ``negative_slope``;
  ``elu`` at 0: ``alpha`` (both: PyTorch's ``x > 0`` test).
* ``max_pool2d`` with ties inside a window: the whole derivative goes to the *first*
  maximum in row-major window order (PyTorch), not shared as ``np.max`` shares it.
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..core.dual import Dual
from ..core.errors import ShapeError
from ..core.rules import NONZERO, REAL, Interval, defjvp, lead, to_shape, trailing_axes
from ..kernels import special as _special_kernels
from .elementwise import elementwise
from .linalg import _matmul_jvp_a, _matmul_jvp_b
from .special import _run, erf, erfc  # noqa: F401  (erf, erfc: also dualnum.ops.network's)

_NET = "network"


def _float_dtype(x):
    """The floating dtype a function of ``x`` returns (float32 stays float32)."""
    return np.result_type(np.asarray(x).dtype, np.float32)


# ===================================================================== activations
def _relu_primal(x):
    return np.maximum(x, 0)


def relu(x):
    """``max(x, 0)`` elementwise. Derivative 0 at ``x == 0`` (JAX and PyTorch).

    >>> import numpy as np, dualnum as dn
    >>> dn.relu(np.array([-1.0, 0.0, 2.0]))
    array([0., 0., 2.])
    >>> dn.relu(dn.Dual(np.array([-1.0, 0.0, 2.0]), np.ones(3))).tangent
    array([0., 0., 1.])
    """
    return _run(_RELU, (x,), {})


_RELU = elementwise(relu, "x > 0", primal=_relu_primal, domain=(NONZERO,),
                    note="derivative 0 at x == 0 (JAX, PyTorch)")


def _leaky_relu_primal(x, negative_slope):
    return np.where(x > 0, x, negative_slope * x)


def leaky_relu(x, negative_slope=0.01):
    """``x`` where ``x > 0``, else ``negative_slope * x``, elementwise.

    ``negative_slope`` is differentiable too (pass a Dual to learn it, as PReLU does).
    At ``x == 0`` the derivative is ``negative_slope`` (PyTorch).

    >>> import numpy as np, dualnum as dn
    >>> dn.leaky_relu(np.array([-2.0, 3.0]), 0.1)
    array([-0.2,  3. ])
    >>> dn.leaky_relu(dn.Dual(np.array([-2.0, 3.0]), np.ones(2))).tangent
    array([0.01, 1.  ])
    """
    return _run(_LEAKY_RELU, (x, negative_slope), {})


_LEAKY_RELU = elementwise(
    leaky_relu, "where(x > 0, 1, negative_slope)", "where(x > 0, 0, x)",
    names=("x", "negative_slope"), primal=_leaky_relu_primal,
    domain=(NONZERO, Interval(0.0, 0.5)),
    note="at x == 0 the derivative in x is negative_slope and in negative_slope 0 (PyTorch)")


def _elu_primal(x, alpha):
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))


def elu(x, alpha=1.0):
    """``x`` where ``x > 0``, else ``alpha * (exp(x) - 1)``, elementwise.

    ``alpha`` is differentiable too. At ``x == 0`` the derivative is ``alpha`` (PyTorch),
    which is 1, continuous, for the default ``alpha=1``.

    >>> import numpy as np, dualnum as dn
    >>> dn.elu(np.array([-1.0, 2.0]))
    array([-0.63212056,  2.        ])
    >>> dn.elu(dn.Dual(np.array([-1.0, 2.0]), np.ones(2))).tangent  # exp(-1), 1
    array([0.36787944, 1.        ])
    """
    return _run(_ELU, (x, alpha), {})


_ELU = elementwise(
    elu, "where(x > 0, 1, y + alpha)", "where(x > 0, 0, expm1(x))", names=("x", "alpha"),
    primal=_elu_primal, domain=(NONZERO, Interval(0.1, 2.0)),
    note="at x == 0 the derivative in x is alpha, in alpha 0 (PyTorch's x > 0 test)")

_SQRT_HALF = 0.7071067811865476
_INV_SQRT_2PI = 0.3989422804014327


def _gelu_primal(x):
    xa = np.asarray(x)
    dtype = _float_dtype(xa)
    x64 = xa.astype(np.float64)
    # x * Phi(x) with Phi(x) = erfc(-x / sqrt 2) / 2: no cancellation for x << 0.
    return (0.5 * x64 * _special_kernels.erfc(-_SQRT_HALF * x64)).astype(dtype, copy=False)


def gelu(x):
    """Gaussian error linear unit ``x * Phi(x)``, with ``Phi`` the standard normal CDF,
    elementwise. This is the exact (erf) form, PyTorch's default
    (``approximate='none'``), not the tanh approximation.

    >>> import numpy as np, dualnum as dn
    >>> dn.gelu(np.array([-1.0, 0.0, 1.0]))
    array([-0.15865525,  0.        ,  0.84134475])
    >>> float(dn.gelu(dn.Dual(np.array(0.0), np.array(1.0))).tangent)  # Phi(0)
    0.5
    """
    return _run(_GELU, (x,), {})


_GELU = elementwise(
    gelu, f"0.5 * erfc(-{_SQRT_HALF!r} * x) + {_INV_SQRT_2PI!r} * x * exp(-0.5 * x * x)",
    primal=_gelu_primal, domain=(REAL,), note="smooth everywhere: Phi(x) + x phi(x)",
    kernel_primal=f"0.5 * x * erfc(-{_SQRT_HALF!r} * x)")


def _sigmoid_primal(x):
    # exp(-|x|) never overflows; the two branches are the same function.
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1, e) / (1 + e)


def sigmoid(x):
    """The logistic function ``1 / (1 + exp(-x))``, elementwise, without overflow.

    >>> import numpy as np, dualnum as dn
    >>> dn.sigmoid(np.array([-1000.0, 0.0, 1000.0]))
    array([0. , 0.5, 1. ])
    >>> float(dn.sigmoid(dn.Dual(np.array(0.0), np.array(1.0))).tangent)
    0.25
    """
    return _run(_SIGMOID, (x,), {})


_SIGMOID = elementwise(sigmoid, "y * (1 - y)", primal=_sigmoid_primal, domain=(REAL,))


def _softplus_primal(x):
    return np.logaddexp(0, x)


def softplus(x):
    """``log(1 + exp(x))``, elementwise, without overflow (no ``beta``/``threshold``:
    this is exact where PyTorch switches to ``x`` above ``threshold=20``).

    >>> import numpy as np, dualnum as dn
    >>> dn.softplus(np.array([-1000.0, 0.0, 1000.0])).tolist()
    [0.0, 0.6931471805599453, 1000.0]
    >>> float(dn.softplus(dn.Dual(np.array(0.0), np.array(1.0))).tangent)  # sigmoid(0)
    0.5
    """
    return _run(_SOFTPLUS, (x,), {})


# sigmoid(x) = exp(x - softplus(x)): the exponent is <= 0, so this never overflows.
_SOFTPLUS = elementwise(softplus, "exp(x - y)", primal=_softplus_primal, domain=(REAL,))


# ===================================================================== softmax family
def _safe_max(x, axis):
    """max over ``axis`` (kept), with infinities replaced by 0 so ``x - m`` has no
    ``inf - inf``: rows of all ``-inf`` then give ``-inf`` and ``+inf`` gives ``inf``."""
    m = np.max(x, axis=axis, keepdims=True)
    return np.where(np.isfinite(m), m, 0)


def _logsumexp_primal(x, axis=None, keepdims=False):
    x = np.asarray(x)
    m = _safe_max(x, axis)
    y = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    if not keepdims:
        y = np.squeeze(y, axis=axis)
    return y


def _logsumexp_jvp(g, y, x, axis=None, keepdims=False):
    ax = trailing_axes(axis, np.ndim(x))
    yk = y if keepdims else np.expand_dims(y, ax)
    return np.sum(np.exp(x - yk) * g, axis=ax, keepdims=keepdims)


def logsumexp(x, axis=None, keepdims=False):
    """``log(sum(exp(x), axis))``, computed stably (the maximum is subtracted first).

    ``axis`` is an int, a tuple of ints or None (all axes), as in ``np.sum``.

    >>> import numpy as np, dualnum as dn
    >>> dn.logsumexp(np.array([[1000.0, 1000.0], [0.0, -np.inf]]), axis=1)
    array([1000.69314718,    0.        ])
    >>> x = dn.Dual(np.array([0.0, 0.0]), np.array([1.0, 3.0]))
    >>> float(dn.logsumexp(x).tangent)  # softmax(x) . dx = (1 + 3) / 2
    2.0
    """
    return _run(_LOGSUMEXP, (x,), {"axis": axis, "keepdims": keepdims})


_LOGSUMEXP = defjvp(logsumexp, _logsumexp_jvp, kind=_NET, primal=_logsumexp_primal,
                    argnames=("x",), domain=lambda s: s.logsumexp_call(),
                    text="ẏ = Σ softmax(x) ẋ")


def _softmax_primal(x, axis=-1):
    x = np.asarray(x)
    e = np.exp(x - _safe_max(x, axis))
    return e / np.sum(e, axis=axis, keepdims=True)


def _softmax_jvp(g, y, x, axis=-1):
    ax = trailing_axes(axis, np.ndim(x))
    return y * (g - np.sum(y * g, axis=ax, keepdims=True))


def softmax(x, axis=-1):
    """``exp(x) / sum(exp(x), axis)``, computed stably. ``axis`` is an int, a tuple or
    None.

    >>> import numpy as np, dualnum as dn
    >>> dn.softmax(np.array([[1000.0, 1000.0, -np.inf]]))
    array([[0.5, 0.5, 0. ]])
    >>> x = dn.Dual(np.zeros(2), np.array([1.0, 0.0]))
    >>> dn.softmax(x).tangent  # y * (dx - y . dx)
    array([ 0.25, -0.25])
    """
    return _run(_SOFTMAX, (x,), {"axis": axis})


_SOFTMAX = defjvp(softmax, _softmax_jvp, kind=_NET, primal=_softmax_primal, argnames=("x",),
                  domain=lambda s: s.softmax_call(), text="ẏ = y (ẋ - Σ y ẋ)")


def _log_softmax_primal(x, axis=-1):
    x = np.asarray(x)
    shifted = x - _safe_max(x, axis)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def _log_softmax_jvp(g, y, x, axis=-1):
    ax = trailing_axes(axis, np.ndim(x))
    return g - np.sum(np.exp(y) * g, axis=ax, keepdims=True)


def log_softmax(x, axis=-1):
    """``x - logsumexp(x, axis)``, computed stably. ``axis`` is an int, a tuple or None.

    >>> import numpy as np, dualnum as dn
    >>> dn.log_softmax(np.array([1e4, 0.0]))
    array([     0., -10000.])
    >>> x = dn.Dual(np.zeros(2), np.array([1.0, 0.0]))
    >>> dn.log_softmax(x).tangent  # dx - softmax(x) . dx
    array([ 0.5, -0.5])
    """
    return _run(_LOG_SOFTMAX, (x,), {"axis": axis})


_LOG_SOFTMAX = defjvp(log_softmax, _log_softmax_jvp, kind=_NET, primal=_log_softmax_primal,
                      argnames=("x",), domain=lambda s: s.softmax_call(),
                      text="ẏ = ẋ - Σ softmax(x) ẋ")


# ===================================================================== losses
def _check_labels(logits, labels):
    z = np.asarray(logits)
    if z.ndim != 2:
        raise ValueError(f"cross_entropy: logits must be 2-D (N, C), got shape {z.shape}")
    n, c = z.shape
    lab = np.asarray(labels)
    if lab.dtype.kind not in "iu":
        raise ValueError(f"cross_entropy: labels must be integer class indices, got dtype "
                         f"{lab.dtype} (shape {lab.shape})")
    if lab.shape != (n,):
        raise ValueError(f"cross_entropy: labels shape {lab.shape} does not match logits "
                         f"shape {z.shape}: expected ({n},)")
    bad = (lab < 0) | (lab >= c)
    if np.any(bad):
        raise ValueError(f"cross_entropy: labels must be in [0, {c}) for logits shape "
                         f"{z.shape}, got {sorted(set(lab[bad].tolist()))}")
    return z, lab


def _cross_entropy_primal(logits, labels):
    z, lab = _check_labels(logits, labels)
    m = _safe_max(z, -1)
    picked = np.take_along_axis(z, lab[:, None], axis=1)
    # (m - z_label) + log Σ exp(z - m): the large terms cancel before they are added
    losses = (m - picked) + np.log(np.sum(np.exp(z - m), axis=-1, keepdims=True))
    return np.asarray(np.mean(losses))


def _cross_entropy_jvp(g, y, logits, labels):
    z = logits
    lab = np.asarray(labels)
    e = np.exp(z - _safe_max(z, -1))
    p = e / np.sum(e, axis=-1, keepdims=True)
    t = np.sum(p * g, axis=-1) - g[..., np.arange(z.shape[0]), lab]
    return np.mean(t, axis=-1)


def cross_entropy(logits, labels):
    """Softmax cross-entropy, averaged over the batch: ``mean_n(logsumexp(z_n) -
    z_n[labels_n])``, fused and stable (no overflow at logits of ±1e4).

    ``logits`` has shape (N, C); ``labels`` holds N integer class indices in
    ``[0, C)`` (not differentiated). Returns a 0-d array.

    >>> import numpy as np, dualnum as dn
    >>> z = np.array([[1e4, -1e4], [0.0, 0.0]])
    >>> dn.cross_entropy(z, np.array([0, 1]))  # (0 + log 2) / 2
    array(0.34657359)
    >>> d = dn.Dual(z, np.array([[0.0, 0.0], [1.0, 0.0]]))
    >>> float(dn.cross_entropy(d, np.array([0, 1])).tangent)  # (0 + 0.5) / 2
    0.25
    """
    return _run(_CROSS_ENTROPY, (logits, labels), {})


_CROSS_ENTROPY = defjvp(
    cross_entropy, _cross_entropy_jvp, None, kind=_NET, primal=_cross_entropy_primal,
    argnames=("logits", "labels"), domain=lambda s: s.cross_entropy_call(),
    note="labels are integer class indices and are not differentiated",
    text="ẏ = mean_n(Σ_c softmax(z)_nc ż_nc - ż_n[label_n])")


def _check_same_shape(pred, target):
    if np.shape(pred) != np.shape(target):
        # (no "broadcast" in this message: rules.apply rewrites such ValueErrors)
        raise ValueError(f"mse: pred shape {np.shape(pred)} and target shape "
                         f"{np.shape(target)} differ; mse needs equal shapes")


def _mse_primal(pred, target):
    _check_same_shape(pred, target)
    d = np.subtract(pred, target)
    return np.asarray(np.mean(d * d))


def _mse_jvp_pred(g, y, pred, target):
    d = np.subtract(pred, target)
    return 2 * np.mean(d * g, axis=trailing_axes(None, d.ndim))


def _mse_jvp_target(g, y, pred, target):
    return -_mse_jvp_pred(g, y, pred, target)


def mse(pred, target):
    """Mean squared error ``mean((pred - target) ** 2)``, a 0-d array. Both arguments
    are differentiable and must have the same shape (no broadcasting, which would
    silently turn an (N, 1) and an (N,) into N x N differences).

    >>> import numpy as np, dualnum as dn
    >>> dn.mse(np.array([1.0, 2.0]), np.array([0.0, 0.0]))
    array(2.5)
    >>> p = dn.Dual(np.array([1.0, 2.0]), np.array([1.0, 0.0]))
    >>> float(dn.mse(p, np.zeros(2)).tangent)  # 2 * mean(d * dp)
    1.0
    """
    return _run(_MSE, (pred, target), {})


_MSE = defjvp(mse, _mse_jvp_pred, _mse_jvp_target, kind=_NET, primal=_mse_primal,
              argnames=("pred", "target"), domain=lambda s: s.mse_call(),
              text="ẏ = 2 mean((p - t)(ṗ - ṫ))")


# ===================================================================== linear
def _linear_check(x, weight, bias):
    xs, ws = _shape(x), _shape(weight)
    if len(ws) != 2:
        raise ShapeError(f"linear: weight must be 2-D (out_features, in_features), got "
                         f"shape {ws}")
    if len(xs) < 1 or xs[-1] != ws[1]:
        raise ShapeError(f"linear: input shape {xs} does not end in in_features = {ws[1]} "
                         f"(weight shape {ws})")
    if bias is not None and _shape(bias) != (ws[0],):
        raise ShapeError(f"linear: bias shape {_shape(bias)} does not match weight shape "
                         f"{ws}: expected ({ws[0]},)")


def _linear_primal(x, weight, bias=None):
    _linear_check(x, weight, bias)
    y = np.matmul(x, np.swapaxes(weight, -1, -2))
    return y if bias is None else y + bias


def _linear_jvp_x(g, y, x, weight, bias=None):
    return _matmul_jvp_a(g, y, x, np.swapaxes(weight, -1, -2))


def _linear_jvp_w(g, y, x, weight, bias=None):
    # a structured tangent (a rank-one a bᵀ) stays factored through the swap and product,
    # which for a batch of rows x is NumPy's own; stacking is for arrays of directions
    gt = np.swapaxes(g, -1, -2)
    if np.ndim(x) == 2 and not isinstance(g, np.ndarray):
        return np.matmul(x, gt)
    return _matmul_jvp_b(gt, y, x, np.swapaxes(weight, -1, -2))


def _linear_jvp_b(g, y, x, weight, bias=None):
    gl = lead(g, bias)
    return to_shape(g.reshape(gl + (1,) * (np.ndim(y) - 1) + (-1,)), gl, np.shape(y))


def linear(x, weight, bias=None):
    """``x @ weight.T + bias`` (``torch.nn.functional.linear``): one op instead of a
    transpose, a product and a sum, so that a layer costs one dispatch.

    ``x`` has shape ``(..., in_features)``, ``weight`` ``(out_features, in_features)``
    and ``bias`` ``(out_features,)`` or None.

    >>> import numpy as np, dualnum as dn
    >>> w, b = np.array([[1.0, 2.0], [0.0, 1.0]]), np.array([0.5, -1.0])
    >>> dn.linear(np.array([[1.0, 1.0]]), w, b)
    array([[3.5, 0. ]])
    >>> dn.jvp(lambda w: dn.linear(np.ones(2), w, b), (w,), (np.eye(2),))[1]
    array([1., 1.])
    """
    return _run(_LINEAR, (x, weight, bias), {})


_LINEAR = defjvp(
    linear, _linear_jvp_x, _linear_jvp_w, _linear_jvp_b, kind=_NET, primal=_linear_primal,
    argnames=("x", "weight", "bias"), domain=lambda s: s.linear_call(),
    text="ẏ = ẋ Wᵀ + x Ẇᵀ + ḃ")


# ===================================================================== conv2d
def _pair(v, what, minimum):
    """An int or a pair of ints as a pair, each at least ``minimum``."""
    vals = (v, v) if isinstance(v, (int, np.integer)) else tuple(v) \
        if isinstance(v, (tuple, list)) else None
    if vals is None or len(vals) != 2 or not all(
            isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in vals):
        raise ValueError(f"{what} must be an int or a pair of ints, got {v!r}")
    if min(vals) < minimum:
        raise ValueError(f"{what} must be at least {minimum}, got {v!r}")
    return int(vals[0]), int(vals[1])


def _windows(x, kernel, stride, padding=(0, 0)):
    """im2col as a view: the (kh, kw) windows of x's last two axes, taken every
    ``stride``, shape ``x.shape[:-2] + (Ho, Wo, kh, kw)``. Zero ``padding`` is a copy.

    A Dual ``x`` (a tangent rule evaluated on Duals, for nested duals) gets the same
    windows by integer indexing, which the rule table differentiates."""
    ph, pw = padding
    if ph or pw:
        x = np.pad(x, [(0, 0)] * (np.ndim(x) - 2) + [(ph, ph), (pw, pw)])
    if isinstance(x, Dual):
        (kh, kw), (sh, sw) = kernel, stride
        ho = (x.shape[-2] - kh) // sh + 1
        wo = (x.shape[-1] - kw) // sw + 1
        rows = (np.arange(ho) * sh)[:, None, None, None] + np.arange(kh)[:, None]
        cols = (np.arange(wo) * sw)[:, None, None] + np.arange(kw)
        return x[..., rows, cols]  # rows (Ho, 1, kh, 1) and cols (Wo, 1, kw) broadcast
    v = sliding_window_view(x, kernel, axis=(-2, -1))
    return v[..., ::stride[0], ::stride[1], :, :]


def _out_size(what, shape, kernel, stride, padding=(0, 0)):
    """(Ho, Wo), or ValueError when the kernel does not fit the (padded) input."""
    h, w = shape[-2] + 2 * padding[0], shape[-1] + 2 * padding[1]
    if kernel[0] > h or kernel[1] > w:
        pad = f" (padded by {padding})" if any(padding) else ""
        raise ValueError(f"{what}: kernel size {kernel} does not fit an input of shape "
                         f"{tuple(shape)}{pad}: its spatial size is ({h}, {w})")
    return (h - kernel[0]) // stride[0] + 1, (w - kernel[1]) // stride[1] + 1


def _im2col(x, kernel, stride, padding):
    """x (B..., C, H, W) unfolded into the matrix (C*kh*kw, B*Ho*Wo), and (Ho, Wo);
    every leading axis of x goes into the columns (a copy of NumPy's window view)."""
    win = _windows(x, kernel, stride, padding)  # (B..., C, Ho, Wo, kh, kw), a view
    nb = win.ndim - 5
    cols = win.transpose([nb, nb + 3, nb + 4] + list(range(nb)) + [nb + 1, nb + 2])
    return cols.reshape(win.shape[nb] * kernel[0] * kernel[1], -1), win.shape[nb + 1:nb + 3]


def _conv(x, w, stride, padding):
    """conv of x (B..., C, H, W) with w (O, C, kh, kw), as ONE GEMM
    ``w (O, C*kh*kw) @ im2col(x) (C*kh*kw, B*Ho*Wo)``: all leading axes of x (the batch
    N and any tangent batch K) are columns of the same GEMM. Returns (B..., O, Ho, Wo)."""
    o = w.shape[0]
    if isinstance(x, Dual) or isinstance(w, Dual):
        # Nested duals: the same contraction with ops the rule table differentiates.
        win = _windows(x, w.shape[-2:], stride, padding)  # (B..., C, Ho, Wo, kh, kw)
        out = np.tensordot(win, w, axes=([-5, -2, -1], [1, 2, 3]))  # (B..., Ho, Wo, O)
        return np.moveaxis(out, -1, -3)
    cols, (ho, wo) = _im2col(x, w.shape[-2:], stride, padding)
    out = (w.reshape(o, -1) @ cols).reshape((o,) + x.shape[:-3] + (ho, wo))
    return np.moveaxis(out, 0, -3)


def _shape(a):
    return a.shape if isinstance(a, Dual) else np.shape(a)


def _conv_params(x, w, b, stride, padding, what="conv2d"):
    xs, ws = _shape(x), _shape(w)
    if len(xs) != 4:
        raise ValueError(f"{what}: input must be 4-D (N, C, H, W), got shape {xs}")
    if len(ws) != 4:
        raise ValueError(f"{what}: weight must be 4-D (O, C, kH, kW), got shape {ws}")
    if xs[1] != ws[1]:
        raise ValueError(f"{what}: input shape {xs} has {xs[1]} channels but weight shape "
                         f"{ws} expects {ws[1]}")
    if b is not None and _shape(b) != (ws[0],):
        raise ValueError(f"{what}: bias shape {_shape(b)} does not match weight shape "
                         f"{ws}: expected ({ws[0]},)")
    s = _pair(stride, f"{what}: stride", 1)
    p = _pair(padding, f"{what}: padding", 0)
    _out_size(what, xs, ws[2:], s, p)
    return s, p


def _bind(what, names, required, args, kwargs):
    """``what``'s arguments by name, from positions and keywords, with Python's own
    TypeErrors for unknown, repeated and missing ones."""
    vals = dict(zip(names, args))
    for key, value in kwargs.items():
        if key not in names:
            raise TypeError(f"{what}() got an unexpected keyword argument {key!r}")
        if key in vals:
            raise TypeError(f"{what}() got multiple values for argument {key!r}")
        vals[key] = value
    missing = [n for n in required if n not in vals]
    if missing:
        raise TypeError(f"{what}() needs {' and '.join(required)}")
    return vals


def _conv_normalize(what, pooled=False):
    """A rule's normalize: ``what``'s arguments (conv2d's, and ``pool`` when
    ``pooled``) as (x, w, b) and ``stride``/``padding`` (/``pool``) pairs, validated once
    for the kernel, the NumPy path and the tangent rules alike."""

    def normalize(args, kwargs):
        names = ("x", "w", "b", "stride", "padding") + (("pool",) if pooled else ())
        vals = _bind(what, names, ("x", "w"), args, kwargs)
        x, w, b = vals["x"], vals["w"], vals.get("b")
        s, p = _conv_params(x, w, b, vals.get("stride", 1), vals.get("padding", 0), what)
        if not pooled:
            return (x, w, b), {"stride": s, "padding": p}
        pool = vals.get("pool")
        if pool is not None:
            pool = _pair(pool, f"{what}: pool", 1)
            ho, wo = _out_size(what, _shape(x), _shape(w)[2:], s, p)
            _out_size(f"{what}'s pool", (ho, wo), pool, pool)
        return (x, w, b), {"stride": s, "padding": p, "pool": pool}

    return normalize


def _conv2d_primal(x, w, b=None, stride=1, padding=0):
    s, p = _pair(stride, "conv2d: stride", 1), _pair(padding, "conv2d: padding", 0)
    out = _conv(np.asarray(x), np.asarray(w), s, p)
    if b is not None:
        out = out + np.reshape(b, (-1, 1, 1))
    return np.ascontiguousarray(out)


def _conv2d_jvp_x(g, y, x, w, b=None, stride=1, padding=0):
    # g: (K..., N, C, H, W) -> one GEMM with K*N*Ho*Wo rows
    return _conv(g, w, _pair(stride, "stride", 1), _pair(padding, "padding", 0))


def _conv2d_jvp_w(g, y, x, w, b=None, stride=1, padding=0):
    # g: (K..., O, C, kh, kw). x is unfolded once, and the K weight tangents are the rows
    # of one GEMM: (K*O, C*kh*kw) @ (C*kh*kw, N*Ho*Wo).
    nb = g.ndim - 4
    s, p = _pair(stride, "stride", 1), _pair(padding, "padding", 0)
    if isinstance(x, Dual) or isinstance(g, Dual):  # nested duals, see _conv
        win = _windows(x, g.shape[-2:], s, p)  # (N, C, Ho, Wo, kh, kw)
        t = np.tensordot(win, g, axes=([1, 4, 5], [nb + 1, nb + 2, nb + 3]))
        return np.transpose(t, list(range(3, 3 + nb)) + [0, 3 + nb, 1, 2])
    cols, (ho, wo) = _im2col(x, g.shape[-2:], s, p)
    o = g.shape[-4]
    t = (g.reshape(-1, cols.shape[0]) @ cols).reshape(g.shape[:nb] + (o, x.shape[0], ho, wo))
    return np.swapaxes(t, -4, -3)  # (K..., N, O, Ho, Wo)


def _conv2d_jvp_b(g, y, x, w, b=None, stride=1, padding=0):
    gl = lead(g, b)
    return to_shape(g.reshape(gl + (1, -1, 1, 1)), gl, y.shape)


def conv2d(x, w, b=None, stride=1, padding=0):
    """2-D convolution (cross-correlation, as PyTorch's ``conv2d``) of NCHW images ``x``
    with OIHW weights ``w``, plus an optional bias ``b`` of shape (O,).

    ``stride`` (>= 1) and ``padding`` (zeros, >= 0) are ints or (height, width) pairs.
    Output shape: ``(N, O, (H + 2 ph - kh) // sh + 1, (W + 2 pw - kw) // sw + 1)``.
    Computed as im2col (a strided view) and one GEMM, tangents included.

    >>> import numpy as np, dualnum as dn
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> w = np.ones((1, 1, 2, 2))
    >>> dn.conv2d(x, w, np.array([0.5]), stride=2)
    array([[[[10.5, 18.5],
             [42.5, 50.5]]]])
    >>> dn.conv2d(x, w, padding=1).shape
    (1, 1, 5, 5)
    >>> y = dn.conv2d(x, dn.Dual(w, np.ones((1, 1, 2, 2))), stride=2)  # d/dw: window sums
    >>> y.tangent
    array([[[[10., 18.],
             [42., 50.]]]])
    """
    return _run(_CONV2D, (x, w, b), {"stride": stride, "padding": padding})


_CONV2D = defjvp(
    conv2d, _conv2d_jvp_x, _conv2d_jvp_w, _conv2d_jvp_b, kind=_NET, primal=_conv2d_primal,
    argnames=("x", "w", "b"), domain=lambda s: s.conv2d_call(),
    normalize=_conv_normalize("conv2d"), text="ẏ = conv(ẋ, w) + conv(x, ẇ) + ḃ")


def _conv2d_relu_primal(x, w, b=None, stride=1, padding=0, pool=None):
    y = _relu_primal(_conv2d_primal(x, w, b, stride, padding))
    return y if pool is None else _max_pool2d_primal(y, pool, pool)


def _plain(a):
    """The value of ``a`` under every level of perturbation (what masks and argmaxes are
    taken of: facts about the primal)."""
    while isinstance(a, Dual):
        a = a.primal
    return a


def _relu_pool_jvp(t, y, x, w, b, stride, padding, pool):
    """A convolution's tangent t through ReLU and, with ``pool``, max-pooling: relu's
    derivative is (z > 0) at the pre-activation z, and z > 0 exactly where relu(z) > 0
    (NaN included), so the mask reads the output; a pooled output does not show every
    position, so then the unpooled one is computed again."""
    if pool is None:
        return t * (y > 0)
    s, p = _pair(stride, "stride", 1), _pair(padding, "padding", 0)
    yf = _conv2d_relu_primal(_plain(x), _plain(w), _plain(b), s, p)
    idx = _argmax_flat(yf, pool, pool)
    t = t * (yf > 0)
    return np.take(t.reshape(lead(t, yf) + (-1,)), idx, axis=-1)


def _conv2d_relu_jvp_x(g, y, x, w, b=None, stride=1, padding=0, pool=None):
    """P((y > 0) conv(ẋ, w))"""
    t = _conv2d_jvp_x(g, y, x, w, b, stride, padding)
    return _relu_pool_jvp(t, y, x, w, b, stride, padding, pool)


def _conv2d_relu_jvp_w(g, y, x, w, b=None, stride=1, padding=0, pool=None):
    """P((y > 0) conv(x, ẇ))"""
    t = _conv2d_jvp_w(g, y, x, w, b, stride, padding)
    return _relu_pool_jvp(t, y, x, w, b, stride, padding, pool)


def _conv2d_relu_jvp_b(g, y, x, w, b=None, stride=1, padding=0, pool=None):
    """P((y > 0) ḃ)"""
    s, p = _pair(stride, "stride", 1), _pair(padding, "padding", 0)
    xs, ws = _shape(x), _shape(w)
    full = (xs[0], ws[0]) + _out_size("conv2d_relu", xs, ws[2:], s, p)  # y before pooling
    gl = lead(g, b)
    t = to_shape(g.reshape(gl + (1, -1, 1, 1)), gl, full)
    return _relu_pool_jvp(t, y, x, w, b, stride, padding, pool)


def conv2d_relu(x, w, b=None, stride=1, padding=0, pool=None):
    """``relu(conv2d(x, w, b, stride, padding))`` as one op, followed by
    ``max_pool2d(·, pool)`` (stride ``pool``) when ``pool`` (an int or a pair) is given:
    the ReLU and the pooling, of the value and of every tangent, are applied where the
    convolution writes its output, so the pre-activation never makes another pass
    through memory. Arguments and conventions as :func:`conv2d`, :func:`relu`
    (derivative 0 where the pre-activation is 0) and :func:`max_pool2d` (ties: the
    first maximum). ``dn.nn.Sequential`` calls it for a ``Conv2d`` followed by a
    ``ReLU`` (and a ``MaxPool2d`` whose stride is its kernel size).

    >>> import numpy as np, dualnum as dn
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> w = np.ones((1, 1, 2, 2))
    >>> dn.conv2d_relu(x, w, np.array([-20.5]), stride=2)
    array([[[[ 0. ,  0. ],
             [21.5, 29.5]]]])
    >>> y = dn.conv2d_relu(x, dn.Dual(w, np.ones((1, 1, 2, 2))), np.array([-20.5]), stride=2)
    >>> y.tangent
    array([[[[ 0.,  0.],
             [42., 50.]]]])
    >>> dn.conv2d_relu(x, w, np.array([-20.5]), stride=2, pool=2)
    array([[[[29.5]]]])
    """
    return _run(_CONV2D_RELU, (x, w, b), {"stride": stride, "padding": padding,
                                          "pool": pool})


_CONV2D_RELU = defjvp(
    conv2d_relu, _conv2d_relu_jvp_x, _conv2d_relu_jvp_w, _conv2d_relu_jvp_b, kind=_NET,
    primal=_conv2d_relu_primal, argnames=("x", "w", "b"),
    domain=lambda s: s.conv2d_relu_call(s), normalize=_conv_normalize("conv2d_relu", pooled=True),
    note="derivative 0 where the pre-activation is 0 (relu's convention: JAX, PyTorch); "
         "P picks each pooling window's entry at its first maximum in row-major order "
         "(PyTorch; the identity without pool)")


# ===================================================================== pooling
def _pool_params(what, x, kernel_size, stride):
    shape = _shape(x)
    if len(shape) not in (3, 4):
        raise ValueError(f"{what}: input must be 3-D (C, H, W) or 4-D (N, C, H, W), got "
                         f"shape {shape}")
    k = _pair(kernel_size, f"{what}: kernel_size", 1)
    s = k if stride is None else _pair(stride, f"{what}: stride", 1)
    _out_size(what, shape, k, s)
    return k, s


def _pool_normalize(what):
    def normalize(args, kwargs):
        vals = _bind(what, ("x", "kernel_size", "stride"), ("x", "kernel_size"), args,
                     kwargs)
        k, s = _pool_params(what, vals["x"], vals["kernel_size"], vals.get("stride"))
        return (vals["x"], k), {"stride": s}

    return normalize


def _max_pool2d_primal(x, kernel_size, stride=None):
    k = _pair(kernel_size, "kernel_size", 1)
    s = k if stride is None else _pair(stride, "stride", 1)
    return np.max(_windows(np.asarray(x), k, s), axis=(-2, -1))


def _argmax_flat(x, k, s):
    """For every window, the index into ``x.ravel()`` of its first maximum in row-major
    window order; shape ``x.shape[:-2] + (Ho, Wo)``."""
    win = _windows(x, k, s)
    ho, wo = win.shape[-4:-2]
    a = np.argmax(win.reshape(win.shape[:-2] + (k[0] * k[1],)), axis=-1)  # first max
    h, w = x.shape[-2:]
    rows = np.arange(ho)[:, None] * s[0] + a // k[1]
    cols = np.arange(wo)[None, :] * s[1] + a % k[1]
    planes = np.arange(int(np.prod(x.shape[:-2]))).reshape(x.shape[:-2] + (1, 1))
    return planes * (h * w) + rows * w + cols


def _max_pool2d_jvp(g, y, x, kernel_size, stride=None):
    k = _pair(kernel_size, "kernel_size", 1)
    s = k if stride is None else _pair(stride, "stride", 1)
    # The argmax is a fact about the primal: a Dual x (nested duals) is read as its value.
    idx = _argmax_flat(x.primal if isinstance(x, Dual) else np.asarray(x), k, s)
    gl = lead(g, x)
    return np.take(g.reshape(gl + (-1,)), idx, axis=-1)  # (K..., N, C, Ho, Wo)


def max_pool2d(x, kernel_size, stride=None):
    """Max over ``kernel_size`` windows of the last two axes of a (N, C, H, W) or
    (C, H, W) input, taken every ``stride`` (default: ``kernel_size``), no padding.
    Windows that would run past the edge are dropped (PyTorch's floor mode); a kernel
    larger than the input is a ValueError.

    The tangent is the input tangent at each window's argmax; on ties it is taken at the
    *first* maximum in row-major window order (as PyTorch does).

    >>> import numpy as np, dualnum as dn
    >>> x = np.array([[[1.0, 5.0, 2.0], [3.0, 4.0, 0.0], [7.0, 6.0, 8.0]]])
    >>> dn.max_pool2d(x, 2, stride=1)
    array([[[5., 5.],
            [7., 8.]]])
    >>> dn.max_pool2d(dn.Dual(x, x * 10), 2, stride=1).tangent
    array([[[50., 50.],
            [70., 80.]]])
    """
    return _run(_MAX_POOL2D, (x, kernel_size), {"stride": stride})


_MAX_POOL2D = defjvp(
    max_pool2d, _max_pool2d_jvp, kind=_NET, primal=_max_pool2d_primal,
    argnames=("x",), domain=lambda s: s.pool_call(distinct=True),
    normalize=_pool_normalize("max_pool2d"),
    note="ties: the derivative goes to the first maximum in row-major window order "
         "(PyTorch); tests draw tie-free inputs",
    text="ẏ = ẋ at each window's argmax")


def _avg_pool2d_primal(x, kernel_size, stride=None):
    k = _pair(kernel_size, "kernel_size", 1)
    s = k if stride is None else _pair(stride, "stride", 1)
    return np.mean(_windows(np.asarray(x), k, s), axis=(-2, -1))


def _avg_pool2d_jvp(g, y, x, kernel_size, stride=None):
    k = _pair(kernel_size, "kernel_size", 1)
    s = k if stride is None else _pair(stride, "stride", 1)
    return np.mean(_windows(g, k, s), axis=(-2, -1))


def avg_pool2d(x, kernel_size, stride=None):
    """Mean over ``kernel_size`` windows of the last two axes of a (N, C, H, W) or
    (C, H, W) input, taken every ``stride`` (default: ``kernel_size``), no padding.
    Windows that would run past the edge are dropped (PyTorch's floor mode); a kernel
    larger than the input is a ValueError. Linear, so the tangent is pooled the same way.

    >>> import numpy as np, dualnum as dn
    >>> dn.avg_pool2d(np.arange(16.0).reshape(1, 1, 4, 4), 2)
    array([[[[ 2.5,  4.5],
             [10.5, 12.5]]]])
    """
    return _run(_AVG_POOL2D, (x, kernel_size), {"stride": stride})


_AVG_POOL2D = defjvp(avg_pool2d, _avg_pool2d_jvp, kind=_NET, primal=_avg_pool2d_primal,
                     argnames=("x",), domain=lambda s: s.pool_call(),
                     normalize=_pool_normalize("avg_pool2d"),
                     text="ẏ = avg_pool(ẋ)")

__all__ = ["relu", "leaky_relu", "elu", "gelu", "sigmoid", "softplus", "logsumexp",
           "softmax", "log_softmax", "cross_entropy", "mse", "conv2d", "conv2d_relu",
           "max_pool2d",
           "avg_pool2d", "erf", "erfc"]
