"""Pytrees: nested tuples, lists and dicts whose leaves are arrays or scalars.

``None`` is an empty subtree (it has no leaves), as in JAX.
"""
from __future__ import annotations

import numpy as np

from .errors import TreeMismatchError

_LEAF = "*"


def flatten(tree):
    """``(leaves, treedef)``; ``unflatten(treedef, leaves)`` rebuilds the tree."""
    leaves = []
    return leaves, _flatten(tree, leaves)


def _flatten(t, leaves):
    if isinstance(t, (tuple, list)):
        return (type(t), tuple(_flatten(x, leaves) for x in t))
    if isinstance(t, dict):
        keys = tuple(t.keys())
        return (dict, keys, tuple(_flatten(t[k], leaves) for k in keys))
    if t is None:
        return (None,)
    leaves.append(t)
    return _LEAF


def unflatten(treedef, leaves):
    it = iter(leaves)
    out = _unflatten(treedef, it)
    rest = list(it)
    if rest:
        raise TreeMismatchError(f"{len(rest)} leaves left over when rebuilding a pytree")
    return out


def _unflatten(d, it):
    if d == _LEAF:
        return next(it)
    kind = d[0]
    if kind is None:
        return None
    if kind is dict:
        return {k: _unflatten(c, it) for k, c in zip(d[1], d[2])}
    vals = [_unflatten(c, it) for c in d[1]]
    if hasattr(kind, "_fields"):  # namedtuple: built from positional fields
        return kind(*vals)
    return kind(vals)


def tree_map(f, tree, *rest):
    leaves, td = flatten(tree)
    others = []
    for i, r in enumerate(rest):
        check_same_structure(tree, r, ("tree", f"tree{i + 1}"))
        others.append(flatten(r)[0])
    return unflatten(td, [f(*xs) for xs in zip(leaves, *others)])


def leaves_with_paths(tree, prefix=""):
    """``[(path, leaf)]``, paths written as Python subscripts: ``[0]['w']``."""
    out = []
    _paths(tree, prefix, out)
    return out


def _paths(t, p, out):
    if isinstance(t, (tuple, list)):
        for i, x in enumerate(t):
            _paths(x, f"{p}[{i}]", out)
    elif isinstance(t, dict):
        for k, x in t.items():
            _paths(x, f"{p}[{k!r}]", out)
    elif t is not None:
        out.append((p, t))


def check_same_structure(a, b, names=("primals", "tangents"), path="", leaf_ok=None):
    """Raise TreeMismatchError naming the first path where ``a`` and ``b`` differ.
    ``leaf_ok(a_leaf, b_leaf)`` may accept a leaf of ``b`` that is not a leaf in form
    (``None`` tangents as symbolic zeros)."""
    na, nb = names
    if isinstance(a, (tuple, list)):
        if not isinstance(b, (tuple, list)) or len(a) != len(b):
            raise TreeMismatchError(
                f"pytree structures differ at {na}{path} vs {nb}{path}: "
                f"{_describe(a)} vs {_describe(b)}"
            )
        for i, (x, y) in enumerate(zip(a, b)):
            check_same_structure(x, y, names, f"{path}[{i}]", leaf_ok)
    elif isinstance(a, dict):
        if not isinstance(b, dict) or set(a) != set(b):
            raise TreeMismatchError(
                f"pytree structures differ at {na}{path} vs {nb}{path}: "
                f"{_describe(a)} vs {_describe(b)}"
            )
        for k in a:
            check_same_structure(a[k], b[k], names, f"{path}[{k!r}]", leaf_ok)
    elif a is None:
        if b is not None:
            raise TreeMismatchError(f"{na}{path} is None but {nb}{path} is {_describe(b)}")
    else:
        if isinstance(b, (tuple, list, dict)) or (b is None and not (leaf_ok and leaf_ok(a, b))):
            raise TreeMismatchError(
                f"pytree structures differ at {na}{path} vs {nb}{path}: "
                f"{_describe(a)} vs {_describe(b)}"
            )


def _describe(x):
    if isinstance(x, dict):
        return f"dict with keys {sorted(map(str, x))}"
    if isinstance(x, (tuple, list)):
        return f"{type(x).__name__} of length {len(x)}"
    if x is None:
        return "None"
    return f"leaf of shape {np.shape(x)}"
