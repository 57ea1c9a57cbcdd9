"""Typed errors. Each message names the shapes, dtypes or paths involved."""


class ShapeError(ValueError):
    """Shapes that do not fit: a tangent that differs from its primal, operands that do
    not broadcast."""


class DTypeError(TypeError):
    """A dtype that cannot carry a derivative (object, complex, string, ...)."""


class BatchMismatchError(ValueError):
    """Batched tangents of different K, or batched mixed with unbatched tangents."""


class TreeMismatchError(ValueError):
    """Primals and tangents whose pytree structures differ."""


class DomainError(ValueError):
    """An input outside the domain on which a rule is differentiable."""


class ConversionError(TypeError):
    """A Dual turned into a plain number or array (``float(d)``, ``np.asarray(d)``,
    ``out[i] = d``, ``math.exp(d)``), which would drop its tangent without a word."""
