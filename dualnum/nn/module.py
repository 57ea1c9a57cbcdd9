"""``Module``, ``Sequential`` and ``functional_call``.

A module holds its parameters as plain floating ndarrays, registered by name, and its
submodules; names nest with dots (``"0.weight"``), as in PyTorch. There is no autograd:
derivatives come from running the module on Duals. :func:`functional_call` runs a module
with a parameter dict supplied from outside (Duals included) without touching the
module's own arrays, which is what ``dn.jvp``, ``dn.grad`` and ``dn.forward_gradient``
need.
"""
from __future__ import annotations

import contextvars
from collections.abc import Mapping
from typing import NamedTuple

import numpy as np

from ..core.dual import Dual
from ..core.errors import ShapeError

__all__ = ["Module", "Sequential", "functional_call"]

# During functional_call: {id(module): {parameter name: value}}, read by Module.__getattr__.
# A context variable, so concurrent calls in other threads or tasks never see it.
_OVERRIDES = contextvars.ContextVar("dualnum_nn_functional_call", default=None)


class _IncompatibleKeys(NamedTuple):
    missing_keys: list
    unexpected_keys: list


def _join(prefix, name):
    return f"{prefix}.{name}" if prefix else name


def _check_name(owner, name, what):
    if not isinstance(name, str):
        raise TypeError(f"{what} name must be a str, got {type(name).__name__}")
    if name == "" or "." in name:
        raise KeyError(f"{what} name must be non-empty and contain no '.', got {name!r}")
    d = owner.__dict__
    if "_parameters" not in d:
        raise AttributeError(f"cannot assign a {what} before Module.__init__() is called")
    taken = (name in d and name not in d["_parameters"]) or (
        what == "parameter" and name in d["_modules"]) or (
        what == "module" and name in d["_parameters"])
    if taken:
        raise KeyError(f"attribute {name!r} already exists on {type(owner).__name__}")


def _check_array(name, value):
    if value is None:
        return
    if not isinstance(value, np.ndarray) or value.dtype.kind != "f":
        kind = value.dtype if isinstance(value, np.ndarray) else type(value).__name__
        raise TypeError(f"parameter {name!r} must be a floating ndarray or None, got {kind}")


class Module:
    """Base class of all layers and models (``torch.nn.Module``).

    Subclasses call ``super().__init__()``, register parameters with
    :meth:`register_parameter`, assign submodules as attributes and define ``forward``.

    >>> import numpy as np, dualnum as dn
    >>> class Affine(dn.nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.register_parameter("scale", np.ones(2))
    ...         self.inner = dn.nn.Tanh()
    ...     def forward(self, x):
    ...         return self.inner(x) * self.scale
    >>> m = Affine()
    >>> [name for name, _ in m.named_parameters()]
    ['scale']
    >>> m(np.zeros(2))
    array([0., 0.])
    """

    training: bool

    def __init__(self):
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "training", True)

    # ------------------------------------------------------------ registration
    def register_parameter(self, name, value):
        """Register ``value`` (a floating ndarray, or ``None`` for an absent parameter
        such as ``bias=False``) as the parameter ``name``.

        >>> import numpy as np, dualnum as dn
        >>> m = dn.nn.Module()
        >>> m.register_parameter("w", np.zeros(3))
        >>> m.w.shape
        (3,)
        """
        _check_name(self, name, "parameter")
        _check_array(name, value)
        self._parameters[name] = value

    def add_module(self, name, module):
        """Register ``module`` (or ``None``) as the submodule ``name``.

        >>> import dualnum as dn
        >>> m = dn.nn.Module()
        >>> m.add_module("act", dn.nn.ReLU())
        >>> m.act
        ReLU()
        """
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"submodule {name!r} must be a Module or None, got "
                            f"{type(module).__name__}")
        _check_name(self, name, "module")
        self._modules[name] = module

    def __setattr__(self, name, value):
        params = self.__dict__.get("_parameters")
        modules = self.__dict__.get("_modules")
        if isinstance(value, Module):
            if modules is None:
                raise AttributeError("cannot assign a submodule before Module.__init__() is "
                                     "called")
            self.__dict__.pop(name, None)
            params.pop(name, None)
            modules[name] = value
        elif params is not None and name in params:
            # Rebinding a parameter; note that optimizers built earlier keep the old array.
            _check_array(name, value)
            params[name] = value
        elif modules is not None and name in modules:
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__} to submodule "
                                f"{name!r} (a Module or None is expected)")
            modules[name] = None
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name):
        # Only reached when normal lookup fails: parameters and submodules live here.
        d = self.__dict__
        if "_parameters" in d:
            if name in d["_parameters"]:
                overrides = _OVERRIDES.get()
                if overrides is not None:
                    local = overrides.get(id(self))
                    if local is not None and name in local:
                        return local[name]
                return d["_parameters"][name]
            if name in d["_modules"]:
                return d["_modules"][name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __delattr__(self, name):
        if name in self._parameters:
            del self._parameters[name]
        elif name in self._modules:
            del self._modules[name]
        else:
            object.__delattr__(self, name)

    # ------------------------------------------------------------ running
    def forward(self, *args, **kwargs):
        """The computation; every subclass defines it."""
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def train(self, mode=True):
        """Set training mode (``mode=True``) or evaluation mode on this module and every
        submodule; returns ``self``. Dropout is the identity in evaluation mode.

        >>> import dualnum as dn
        >>> m = dn.nn.Sequential(dn.nn.Dropout(0.5))
        >>> m.train(False)[0].training
        False
        """
        if not isinstance(mode, bool):
            raise ValueError(f"training mode must be a bool, got {mode!r}")
        self.training = mode
        for child in self.children():
            child.train(mode)
        return self

    def eval(self):
        """Evaluation mode: ``self.train(False)``.

        >>> import dualnum as dn
        >>> dn.nn.Dropout().eval().training
        False
        """
        return self.train(False)

    def apply(self, fn):
        """Call ``fn`` on every submodule (children first) and then on ``self``, as
        ``torch.nn.Module.apply`` does; returns ``self``. Handy for custom initialisation.
        (To run a module with given parameters, use :func:`functional_call`.)

        >>> import numpy as np, dualnum as dn
        >>> def zero_bias(m):
        ...     if isinstance(m, dn.nn.Linear):
        ...         dn.nn.init.zeros_(m.bias)
        >>> net = dn.nn.Sequential(dn.nn.Linear(2, 2), dn.nn.Linear(2, 1)).apply(zero_bias)
        >>> float(np.abs(net[1].bias).sum())
        0.0
        """
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------ traversal
    def named_children(self):
        """``(name, module)`` for each direct submodule.

        >>> import dualnum as dn
        >>> [name for name, _ in dn.nn.Sequential(dn.nn.ReLU(), dn.nn.Tanh()).named_children()]
        ['0', '1']
        """
        for name, m in self._modules.items():
            if m is not None:
                yield name, m

    def children(self):
        """The direct submodules.

        >>> import dualnum as dn
        >>> list(dn.nn.Sequential(dn.nn.ReLU(), dn.nn.Sequential(dn.nn.Tanh())).children())
        [ReLU(), Sequential(
          (0): Tanh()
        )]
        """
        for _, m in self.named_children():
            yield m

    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """``(dotted name, module)`` for this module (name ``prefix``) and every submodule.

        >>> import dualnum as dn
        >>> net = dn.nn.Sequential(dn.nn.Linear(2, 2), dn.nn.ReLU())
        >>> [name for name, _ in net.named_modules()]
        ['', '0', '1']
        """
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, m in self.named_children():
            yield from m.named_modules(memo, _join(prefix, name), remove_duplicate)

    def modules(self):
        """This module and every submodule.

        >>> import dualnum as dn
        >>> [type(m).__name__ for m in dn.nn.Sequential(dn.nn.ReLU()).modules()]
        ['Sequential', 'ReLU']
        """
        for _, m in self.named_modules():
            yield m

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """``(dotted name, array)`` for every parameter; an array shared by several
        modules is listed once unless ``remove_duplicate=False``.

        ``dict(model.named_parameters())`` is the parameter pytree that
        :func:`functional_call` and the optimizers in :mod:`dualnum.optim` take; its arrays
        *are* the module's, so an optimizer updating them in place updates the model.

        >>> import dualnum as dn
        >>> net = dn.nn.Sequential(dn.nn.Linear(3, 2), dn.nn.ReLU(), dn.nn.Linear(2, 1))
        >>> [(k, v.shape) for k, v in net.named_parameters()]
        [('0.weight', (2, 3)), ('0.bias', (2,)), ('2.weight', (1, 2)), ('2.bias', (1,))]
        """
        seen = set()
        mods = (self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
                if recurse else [(prefix, self)])
        for mod_prefix, m in mods:
            for name, p in m._parameters.items():
                if p is None:
                    continue
                if remove_duplicate:
                    if id(p) in seen:
                        continue
                    seen.add(id(p))
                yield _join(mod_prefix, name), p

    def parameters(self, recurse=True):
        """The parameter arrays (see :meth:`named_parameters`).

        >>> import dualnum as dn
        >>> sum(p.size for p in dn.nn.Linear(3, 2).parameters())
        8
        """
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    # ------------------------------------------------------------ state
    def state_dict(self):
        """``{dotted name: array}`` for every parameter, as **copies**: unlike PyTorch,
        a state dict is a snapshot that later in-place optimizer steps do not change.
        Save with ``np.savez(path, **sd)``; load with ``load_state_dict(np.load(path))``.

        >>> import dualnum as dn
        >>> sorted(dn.nn.Linear(3, 2).state_dict())
        ['bias', 'weight']
        """
        copies = {}  # tied parameters share one copy
        out = {}
        for name, p in self.named_parameters(remove_duplicate=False):
            if id(p) not in copies:
                copies[id(p)] = p.copy()
            out[name] = copies[id(p)]
        return out

    def load_state_dict(self, state_dict, strict=True):
        """Copy arrays from ``state_dict`` (any mapping, e.g. an ``np.load`` result) into
        the parameters, in place, so references held elsewhere (optimizers) stay valid.

        Every problem is checked before anything is copied. A shape mismatch raises
        ``RuntimeError`` naming the parameter and both shapes; with ``strict=True`` (the
        default) so do missing and unexpected keys, all listed. Returns
        ``(missing_keys, unexpected_keys)``.

        >>> import dualnum as dn
        >>> a, b = dn.nn.Linear(3, 2, rng=0), dn.nn.Linear(3, 2, rng=1)
        >>> b.load_state_dict(a.state_dict())
        _IncompatibleKeys(missing_keys=[], unexpected_keys=[])
        >>> bool((a.weight == b.weight).all())
        True
        """
        if not isinstance(state_dict, Mapping) and not hasattr(state_dict, "keys"):
            raise TypeError(f"state_dict must be a mapping of name -> array, got "
                            f"{type(state_dict).__name__}")
        own = dict(self.named_parameters(remove_duplicate=False))
        keys = list(state_dict.keys())
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in keys if k not in own]
        errors = []
        if strict:
            if unexpected:
                errors.append("Unexpected key(s) in state_dict: "
                              + ", ".join(f'"{k}"' for k in unexpected) + ".")
            if missing:
                errors.append("Missing key(s) in state_dict: "
                              + ", ".join(f'"{k}"' for k in missing) + ".")
        values = {}
        for name, p in own.items():
            if name not in state_dict:
                continue
            v = np.asarray(state_dict[name])
            if v.dtype.kind not in "fiub":
                errors.append(f"dtype mismatch for {name}: copying a param of dtype {v.dtype} "
                              f"from checkpoint, parameters are real numbers.")
            elif v.shape != p.shape:
                errors.append(f"size mismatch for {name}: copying a param with shape {v.shape} "
                              f"from checkpoint, the shape in current model is {p.shape}.")
            else:
                values[name] = v
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                               + "\n\t".join(errors))
        for name, v in values.items():
            own[name][...] = v
        return _IncompatibleKeys(missing, unexpected)

    def _fuse(self, following):
        """``(fn, count)``: ``fn(x)`` runs this module and the first ``count`` modules
        of ``following`` (the ones after it) as one op; or None. :class:`Sequential`
        asks each module."""
        return None

    # ------------------------------------------------------------ printing
    def extra_repr(self):
        """Extra text inside this module's repr; layers override it."""
        return ""

    def __repr__(self):
        lines = self.extra_repr().split("\n") if self.extra_repr() else []
        children = [(name, m) for name, m in self._modules.items()]
        for name, m in children:
            lines.append(f"({name}): " + repr(m).replace("\n", "\n  "))
        if not children and len(lines) <= 1:
            return f"{type(self).__name__}({''.join(lines)})"
        return f"{type(self).__name__}(\n  " + "\n  ".join(lines) + "\n)"


class Sequential(Module):
    """Modules run one after another (``torch.nn.Sequential``); submodules are named
    ``"0"``, ``"1"``, ... unless given as a dict.

    A ``Conv2d`` followed by a ``ReLU`` (and a ``MaxPool2d`` whose stride is its kernel
    size) runs as one op, :func:`dualnum.conv2d_relu`, with the same results and fewer
    passes through memory; not while an activity perturbation reads the convolution's
    pre-activation.

    >>> import numpy as np, dualnum as dn
    >>> net = dn.nn.Sequential(dn.nn.Linear(4, 3, rng=0), dn.nn.Tanh(), dn.nn.Linear(3, 1, rng=1))
    >>> net(np.ones((5, 4), np.float32)).shape
    (5, 1)
    >>> net
    Sequential(
      (0): Linear(in_features=4, out_features=3, bias=True)
      (1): Tanh()
      (2): Linear(in_features=3, out_features=1, bias=True)
    )
    """

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], Mapping):
            items = modules[0].items()
        else:
            items = ((str(i), m) for i, m in enumerate(modules))
        for name, m in items:
            if not isinstance(m, Module):
                raise TypeError(f"Sequential entry {name!r} is a {type(m).__name__}, not a "
                                f"Module")
            self.add_module(name, m)

    def forward(self, x):
        mods = list(self._modules.values())
        i, n = 0, len(mods)
        while i < n:
            m = mods[i]
            # adjacent modules that fuse (a Conv2d, its ReLU, a max-pool) run as one op
            fused = m._fuse(mods[i + 1:]) if i + 1 < n and m is not None else None
            if fused is not None:
                x = fused[0](x)
                i += 1 + fused[1]
            else:
                x = m(x)
                i += 1
        return x

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return Sequential(dict(list(self._modules.items())[idx]))
        mods = list(self._modules.values())
        try:
            return mods[idx]
        except IndexError:
            raise IndexError(f"index {idx} is out of range for a Sequential of length "
                             f"{len(mods)}") from None

    def append(self, module):
        """Add ``module`` at the end; returns ``self``.

        >>> import dualnum as dn
        >>> len(dn.nn.Sequential().append(dn.nn.ReLU()))
        1
        """
        self.add_module(str(len(self)), module)
        return self


def functional_call(module, params, *args, strict=False, **kwargs):
    """Run ``module(*args, **kwargs)`` with the parameters in ``params`` in place of the
    module's own, leaving the module untouched (``torch.func.functional_call``).

    ``params`` maps dotted names to arrays or Duals, as ``dict(module.named_parameters())``
    does. Names it leaves out use the module's own arrays (as constants, under a
    transform) unless ``strict=True``; names the module does not have, and shapes that
    differ from the module's, raise. A value given for one name of a parameter shared
    between modules applies to all its names.

    This is what makes every model differentiable with dualnum's transforms:

    >>> import numpy as np, dualnum as dn
    >>> model = dn.nn.Sequential(dn.nn.Linear(3, 4, rng=0, dtype=np.float64), dn.nn.Tanh(),
    ...                          dn.nn.Linear(4, 1, rng=1, dtype=np.float64))
    >>> params = dict(model.named_parameters())
    >>> x = np.ones((2, 3))
    >>> loss = lambda p: np.sum(dn.nn.functional_call(model, p, x) ** 2)
    >>> g = dn.grad(loss)(params)
    >>> sorted(g) == sorted(params) and g["0.weight"].shape == (4, 3)
    True
    >>> value, fg = dn.forward_gradient(loss, params, rng=np.random.default_rng(0))
    >>> bool(np.isclose(value, loss(params)))
    True
    """
    if not isinstance(module, Module):
        raise TypeError(f"functional_call needs a Module, got {type(module).__name__}")
    if not isinstance(params, Mapping):
        raise TypeError(f"params must be a dict of name -> array, as from "
                        f"dict(module.named_parameters()), got {type(params).__name__}")
    owners = {}  # dotted name -> (owning module, local name, the module's array)
    for prefix, m in module.named_modules(remove_duplicate=False):
        for name, p in m._parameters.items():
            if p is not None:
                owners[_join(prefix, name)] = (m, name, p)
    unexpected = [k for k in params if k not in owners]
    if unexpected:
        raise ValueError(f"functional_call: {type(module).__name__} has no parameter(s) "
                       f"{unexpected}; its parameters are {list(owners)}")
    given = {}  # id(module's array) -> (name, value): tied names share one entry
    for name, value in params.items():
        own = owners[name][2]
        if not isinstance(value, (Dual, np.ndarray)):
            value = np.asarray(value)
        if value.shape != own.shape:
            raise ShapeError(f"functional_call: params[{name!r}] has shape {value.shape} but "
                             f"the module's parameter {name} has shape {own.shape}")
        prev = given.get(id(own))
        if prev is not None and prev[1] is not value:
            raise ValueError(f"functional_call: {prev[0]!r} and {name!r} are the same (tied) "
                             f"parameter but were given different values")
        given[id(own)] = (name, value)
    if strict:
        missing = [k for k, (_, _, p) in owners.items() if id(p) not in given]
        if missing:
            raise ValueError(f"functional_call(strict=True): params is missing {missing}")
    outer = _OVERRIDES.get() or {}
    overrides = {key: dict(local) for key, local in outer.items()}
    for m, name, p in owners.values():
        if id(p) in given:
            overrides.setdefault(id(m), {})[name] = given[id(p)][1]
    token = _OVERRIDES.set(overrides)
    try:
        return module(*args, **kwargs)
    finally:
        _OVERRIDES.reset(token)
