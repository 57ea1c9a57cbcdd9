"""Perturbation levels: what keeps nested derivatives apart.

Every transform call (``jvp``, ``grad``, ``hessian``, ...) and every ``Dual`` built by
hand opens a :class:`Level` of its own, and every Dual knows the level of its tangent. An
op on Duals of different levels works at the highest (innermost) one and treats Duals of
lower levels as constants, so ``dn.derivative(lambda x: x * dn.derivative(lambda y: x +
y)(0.))(1.)`` is 1, not 2: the inner derivative does not see x's perturbation as its own.
This is perturbation confusion (Siskind & Pearlmutter, 2005), which ForwardDiff.jl's tags
and JAX's trace levels prevent in the same way.

A Dual of level L holds a primal and a tangent that may themselves be Duals, always of
levels below L; that is how forward-over-forward reaches any order.

Levels are ordered by creation (a process-wide counter), so a transform called inside
another one always gets the higher level. The levels of the running transforms form a
stack kept in a context variable: each thread (and each asyncio task) sees its own, and a
transform that raises pops its level on the way out. A level whose transform has returned
is *closed*: a Dual of that level found later escaped its transform (stored in a global,
say), and using it is an error rather than a silent mix of perturbations.
"""
from __future__ import annotations

import contextvars
import itertools

__all__ = ["Level", "open_level", "close_level", "current", "stack", "LeakedDualError"]

_ORDER = itertools.count(1)
_STACK = contextvars.ContextVar("dualnum_levels", default=())


class LeakedDualError(RuntimeError):
    """A Dual of a transform that has already returned was used again."""


class Level:
    """One perturbation: its place in the order (``order``), who opened it (``name``:
    ``"jvp"``, ``"grad"``, ``"Dual"``, ...), whether its transform is still running
    (``active``) and, while ``dn.trace`` records it, the recorder (``tracer``)."""

    __slots__ = ("order", "name", "active", "tracer")

    def __init__(self, name):
        self.order = next(_ORDER)
        self.name = name
        self.active = True
        self.tracer = None

    def __repr__(self):
        state = "" if self.active else ", closed"
        return f"<level {self.order} ({self.name}{state})>"

    def __str__(self):
        return f"L{self.order} ({self.name})"


def open_level(name):
    """Start a transform's level: returns ``(level, token)``; hand both to
    :func:`close_level` in a ``finally`` block. Inside a running ``dn.trace`` the new
    level reports to the same recorder, so the trace shows nested transforms too."""
    lvl = Level(name)
    s = _STACK.get()
    if s and s[-1].tracer is not None:
        lvl.tracer = s[-1].tracer
    return lvl, _STACK.set(s + (lvl,))


def new_level(name):
    """A level that is not a transform's (a Dual built by hand): never closed; inside a
    running ``dn.trace`` it reports to its recorder."""
    lvl = Level(name)
    s = _STACK.get()
    if s and s[-1].tracer is not None:
        lvl.tracer = s[-1].tracer
    return lvl


def close_level(lvl, token):
    """End a transform's level: Duals of ``lvl`` met afterwards are leaked ones."""
    lvl.active = False
    _STACK.reset(token)


def current():
    """The innermost running transform's level, or None outside every transform."""
    s = _STACK.get()
    return s[-1] if s else None


def stack():
    """The running transforms' levels, outermost first (this thread's or task's)."""
    return _STACK.get()


def leaked(lvl):
    return LeakedDualError(
        f"a Dual of a {lvl.name} that has already returned was used ({lvl!r}): its "
        f"tangent only means something inside that {lvl.name}. Return the values you "
        "need from the function you differentiate instead of storing Duals elsewhere, "
        "or keep d.primal"
    )
