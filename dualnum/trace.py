"""Watch forward mode work: :func:`trace` records the evaluation trace (the *Wengert
list*) of a function run on Duals.

Every op that runs on a Dual goes through the rule table (:mod:`dualnum.core.rules`).
A trace opens a perturbation level of its own (:mod:`dualnum.core.levels`) with a
recorder attached, and ``apply()`` reports each op at that level to it: the op, its
arguments, and the Dual it produced. Transforms called inside the traced function open
levels of their own, which report to the same recorder, so a trace of nested derivatives
shows each entry's level. The recorder names each value (inputs by the function's
parameter names, intermediate values ``v1, v2, ...``) and keeps, per op, its name, where
each argument came from, the primal, the tangent and the derivative rule as it is written
in the table. Ops outside a trace pay nothing for it.

>>> import numpy as np, dualnum as dn
>>> t = dn.trace(lambda x: np.sin(x) * x, 0.5)
>>> print(t)
trace of <lambda>(x): 1 input, 2 ops, tangent of x = 1
slot  op        inputs  primal  tangent  rule
x     input             0.5     1.
v1    sin       x       0.4794  0.8776   ∂/∂x = cos(x)
v2    multiply  v1, x   0.2397  0.9182   ∂/∂a = b; ∂/∂b = a
output: v2
>>> float(t.tangent_out)  # d/dx x sin(x) = sin(x) + x cos(x) at 0.5
0.918...

Traces nest: a ``dn.trace`` inside a traced function records its own function only, and
the enclosing trace resumes when it returns. A trace records the ops of the thread that
started it.
"""
from __future__ import annotations

import html
import inspect
import re
import threading

import numpy as np

from .core import levels as _levels
from .core.dual import Dual, as_float_array
from .core.errors import ShapeError
from .core.pytree import flatten, leaves_with_paths, unflatten
from .transforms import _check_output, _make_duals, _split

__all__ = ["trace", "Trace", "TraceEntry"]

_INPUT = "input"
_DEFAULT_BASIS_MAX = 64  # tangents=None seeds basis directions up to this many inputs
_UNTRACED = "(untraced)"


# ======================================================================= formatting
# NumPy's column padding, which a one-line cell drops
_PAD = re.compile(r"\s+(?=[,\]])|(?<=\[)\s+")


def _one_line(text):
    return _PAD.sub("", " ".join(text.split()))


def _fmt_array(a, precision=4, max_items=8):
    """One line: the values of a small array in NumPy's style, or for a large one its
    shape and its first few values."""
    if isinstance(a, Dual):  # nested duals: a tangent that is itself a Dual
        return "Dual " + _fmt_array(a.primal, precision, max_items)
    if getattr(a, "is_structured_tangent", False):
        return f"{type(a).__name__} {tuple(a.shape)}"
    a = np.asarray(a)
    opts = dict(precision=precision, separator=", ", suppress_small=True,
                max_line_width=10**9, threshold=10**9, floatmode="maxprec")
    small = a.size <= max_items
    shown = a if small else a.reshape(-1)[:3]
    if shown.dtype.kind == "f":
        shown = shown + 0.0  # -0. prints as 0.: the sign of a zero means nothing here
    text = _one_line(np.array2string(shown, **opts))
    return text if small else f"{a.shape} {text[:-1]}, …]"


def _fmt_index(index):
    parts = index if isinstance(index, tuple) else (index,)

    def one(i):
        if isinstance(i, slice):
            s = "" if i.start is None else str(i.start)
            s += ":" + ("" if i.stop is None else str(i.stop))
            if i.step is not None:
                s += ":" + str(i.step)
            return s
        if i is Ellipsis:
            return "..."
        if i is None:
            return "None"
        if isinstance(i, (np.ndarray, list)):
            return _fmt_array(np.asarray(i))
        return str(i)

    return "[" + ", ".join(one(i) for i in parts) + "]"


def _fmt_const(a):
    """A constant argument (not a Dual) as it appears in the inputs column."""
    if isinstance(a, np.ndarray):
        if a.size <= 4 and a.ndim <= 1:
            return _fmt_array(a)
        return f"const {a.shape}"
    if isinstance(a, (float, np.floating)):
        return repr(float(a))
    if isinstance(a, str):
        return repr(a)
    if isinstance(a, slice) or a is Ellipsis:
        return _fmt_index(a)
    if isinstance(a, tuple) and any(isinstance(i, (slice, type(Ellipsis))) for i in a):
        return _fmt_index(a)
    if isinstance(a, (list, tuple)) and any(isinstance(e, np.ndarray) for e in a):
        inner = ", ".join(_fmt_const(e) for e in a)
        return f"[{inner}]" if isinstance(a, list) else f"({inner})"
    r = " ".join(repr(a).split())  # one line in the table, whatever the repr
    return r if len(r) <= 24 else r[:21] + "..."


# ======================================================================= records
class TraceEntry:
    """One line of a trace: an input, or one op and the value it produced.

    Attributes: ``slot`` (its name: an input's name, or ``v1, v2, ...``), ``op`` (the
    rule's name, ``"input"`` for inputs), ``inputs`` (one string per argument: the slot
    it came from, or the constant's value), ``parents`` (the slots among them),
    ``params`` (keyword arguments), ``primal``, ``tangent`` (an ndarray; zeros when the
    tangent is a symbolic zero), ``symbolic_zero``, ``batch_size`` (K, or None),
    ``rule`` (the :class:`~dualnum.core.rules.Rule`, None for inputs) and
    ``rule_text`` (the derivative rule as written in the table) and ``level`` (the
    perturbation level it ran at: the trace's own, or that of a transform called inside
    the traced function).
    """

    __slots__ = ("slot", "op", "inputs", "parents", "params", "primal", "_tangent",
                 "batch_size", "rule", "output_index", "level")

    def __init__(self, slot, op, inputs, parents, params, primal, tangent, batch_size,
                 rule=None, output_index=None, level=None):
        self.slot = slot
        self.op = op
        self.inputs = tuple(inputs)
        self.parents = tuple(parents)
        self.params = dict(params)
        self.primal = primal
        self._tangent = tangent
        self.batch_size = batch_size
        self.rule = rule
        self.output_index = output_index  # which output of a multi-output op (split)
        self.level = level  # the perturbation level the op ran at (core.levels.Level)

    @property
    def tangent(self):
        t = self._tangent
        if t is None:
            lead = () if self.batch_size is None else (self.batch_size,)
            return np.zeros(lead + np.shape(self.primal), np.asarray(self.primal).dtype)
        if isinstance(t, np.ndarray) or isinstance(t, Dual):
            return t
        return np.asarray(t)  # a structured tangent, materialised

    @property
    def symbolic_zero(self):
        return self._tangent is None

    @property
    def rule_text(self):
        return "" if self.rule is None else self.rule.rule_text

    @property
    def shape(self):
        return np.shape(self.primal)

    @property
    def label(self):
        """The op column: the rule's name, with the output's index for ops that return
        several arrays (``split[0]``)."""
        if self.output_index is None:
            return self.op
        return f"{self.op}[{self.output_index}]"

    def to_dict(self, lists=False):
        conv = (lambda a: np.asarray(a).tolist()) if lists else (lambda a: a)
        return {
            "slot": self.slot, "op": self.label, "inputs": list(self.inputs),
            "parents": list(self.parents), "params": dict(self.params),
            "shape": self.shape, "primal": conv(self.primal),
            "tangent": None if self._tangent is None and lists else conv(self.tangent),
            "symbolic_zero": self.symbolic_zero, "batch_size": self.batch_size,
            "rule": self.rule_text,
            "level": None if self.level is None else str(self.level),
        }

    def _direction(self, k):
        if self.batch_size is None:
            t = self._tangent
        else:
            t = None if self._tangent is None else self.tangent[k]
        return TraceEntry(self.slot, self.op, self.inputs, self.parents, self.params,
                          self.primal, t, None, self.rule, self.output_index, self.level)

    def __repr__(self):
        return (f"<TraceEntry {self.slot} = {self.label}({', '.join(self.inputs)}): "
                f"primal {_fmt_array(self.primal)}, tangent "
                f"{'0 (symbolic zero)' if self.symbolic_zero else _fmt_array(self.tangent)}>")


class Trace:
    """The record :func:`trace` returns: the Wengert list of one evaluation.

    * ``print(t)`` (or ``t.table(precision=4, max_items=8)``) shows an aligned table,
      one line per input and per op; arrays with more than ``max_items`` numbers are
      shown by shape and first values. In a notebook it renders as an HTML table.
    * ``t.entries`` (also ``t[i]``, ``t["v3"]``, iteration): :class:`TraceEntry` objects;
      ``t.inputs`` and ``t.ops`` split them.
    * ``t.to_dicts(lists=False)``: one dict per entry (``lists=True`` for JSON).
    * ``t.value`` and ``t.tangent_out``: ``f``'s output and its tangent, as ``dn.jvp``
      returns them; ``t.outputs``: the slots of the output's leaves.
    * With a batch of K tangents (``t.batch_size``), ``t.direction(k)`` is the trace
      seen along direction k alone; with ``tangents="basis"`` direction k is the basis
      vector named ``t.directions[k]`` and its output tangent is column k of the
      Jacobian.
    """

    def __init__(self, entries, outputs, value, tangent_out, batch_size, name,
                 directions=None, direction_index=None):
        self.entries = list(entries)
        self.outputs = list(outputs)
        self.value = value
        self.tangent_out = tangent_out
        self.batch_size = batch_size
        self.name = name
        self.directions = directions
        self.direction_index = direction_index
        self._by_slot = {e.slot: e for e in self.entries}

    # ------------------------------------------------------------ access
    @property
    def inputs(self):
        return [e for e in self.entries if e.op == _INPUT]

    @property
    def ops(self):
        return [e for e in self.entries
                if e.op != _INPUT and not e.op.startswith("input of ")]

    def __len__(self):
        return len(self.entries)

    def __iter__(self):
        return iter(self.entries)

    def __getitem__(self, key):
        if isinstance(key, str):
            return self._by_slot[key]
        return self.entries[key]

    def to_dicts(self, lists=False):
        """One dict per entry (see :meth:`TraceEntry.to_dict`): ``slot, op, inputs,
        parents, params, shape, primal, tangent, symbolic_zero, batch_size, rule``.
        Arrays stay ndarrays unless ``lists=True``."""
        return [e.to_dict(lists) for e in self.entries]

    def direction(self, k):
        """The trace along tangent direction ``k`` alone: every batched tangent replaced
        by its row ``k``. Its output tangent is ``J v_k``; for basis tangents, column
        ``k`` of the Jacobian."""
        if self.batch_size is None:
            raise ValueError("this trace has a single tangent direction; direction(k) "
                             "needs a batch of tangents (tangents='basis' or batched ones)")
        k = int(k)
        if not -self.batch_size <= k < self.batch_size:
            raise IndexError(f"direction {k} is out of range for K={self.batch_size}")
        k %= self.batch_size
        leaves, td = flatten(self.tangent_out)
        out_t = unflatten(td, [np.asarray(x)[k] for x in leaves])
        return Trace([e._direction(k) for e in self.entries], self.outputs, self.value,
                     out_t, None, self.name, self.directions, k)

    # ------------------------------------------------------------ printing
    def _title(self):
        ni, no = len(self.inputs), len(self.ops)
        head = (f"trace of {self.name}: {ni} input{'s' * (ni != 1)}, "
                f"{no} op{'s' * (no != 1)}")
        if self.direction_index is not None:
            k = self.direction_index
            what = f", direction {k}"
            if self.directions is not None:
                what += f": tangent e_{k} (1 at {self.directions[k]}, 0 elsewhere)"
            return head + what
        if self.batch_size is not None:
            what = "\nrow k of each tangent is direction k"
            if self.directions is not None:
                what += ": the basis vector e_k, 1 at " + _list_names(self.directions)
            return head + f", K={self.batch_size} tangent directions" + what
        seeds = [e for e in self.inputs if not e.symbolic_zero]
        if len(seeds) == 1 and seeds[0].primal.size == 1 and \
                float(np.asarray(seeds[0].tangent).reshape(())) == 1.0:
            return head + f", tangent of {seeds[0].slot} = 1"
        return head

    def _level_names(self):
        """Each level's label in this trace (1 for the trace's own, 2, 3, ... for the
        transforms called inside it), or None when all entries share one level."""
        levels = sorted({e.level for e in self.entries if e.level is not None},
                        key=lambda lv: lv.order)
        if len(levels) < 2:
            return None
        return {lv: f"{i} ({lv.name})" for i, lv in enumerate(levels, 1)}

    def _rows(self, precision, max_items):
        names = self._level_names()
        rows = []
        for e in self.entries:
            ins = list(e.inputs) + [f"{k}={_fmt_const(v)}" for k, v in e.params.items()]
            if e.symbolic_zero:
                tan = "0 (symbolic)"
            else:
                tan = _fmt_array(e.tangent, precision, max_items)
            lvl = "" if names is None or e.level is None else names[e.level]
            rows.append([e.slot, lvl, e.label, ", ".join(ins), _shape_str(e.shape),
                         _fmt_array(e.primal, precision, max_items), tan, e.rule_text])
        return rows

    def _columns(self, rows):
        header = ["slot", "level", "op", "inputs", "shape", "primal", "tangent", "rule"]
        keep = [i for i in range(len(header))
                if (i != 1 or any(r[1] for r in rows))  # levels only when nested
                and (i != 4 or any(r[4] != "()" for r in rows))]  # shapes only for arrays
        return [header[i] for i in keep], [[r[i] for i in keep] for r in rows]

    def table(self, precision=4, max_items=8):
        """The trace as an aligned text table (what ``print`` shows)."""
        header, rows = self._columns(self._rows(precision, max_items))
        widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
        lines = [self._title()]
        for r in [header] + rows:
            lines.append("  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip())
        lines.append(self._outputs_line())
        return "\n".join(lines)

    def _outputs_line(self):
        if len(self.outputs) == 1:
            return f"output: {self.outputs[0]}"
        return "outputs: " + ", ".join(self.outputs)

    def __str__(self):
        return self.table()

    __repr__ = __str__

    def _repr_html_(self):
        header, rows = self._columns(self._rows(4, 8))
        esc = html.escape
        out = [f"<div><p><b>{esc(self._title())}</b></p>",
               "<table><thead><tr>" + "".join(f"<th>{esc(h)}</th>" for h in header)
               + "</tr></thead><tbody>"]
        for r in rows:
            out.append("<tr>" + "".join(f"<td><code>{esc(str(c))}</code></td>" for c in r)
                       + "</tr>")
        out.append(f"</tbody></table><p>{esc(self._outputs_line())}</p></div>")
        return "\n".join(out)


def _shape_str(shape):
    return str(tuple(shape))


def _list_names(names, n=4):
    if len(names) <= n:
        return ", ".join(names)
    return ", ".join(names[:n - 1]) + ", …, " + names[-1]


# ======================================================================= recording
class _Recorder:
    """What a trace's level reports its ops to (``Level.tracer``) while it runs."""

    def __init__(self, level):
        self.level = level
        self.entries = []
        self.slots = {}  # id(Dual) -> slot name
        self.alive = []  # every Dual seen, so no id is reused while recording
        self.thread = threading.get_ident()
        self.n = 0
        self.done = False

    def add_input(self, name, d):
        self.slots[id(d)] = name
        self.alive.append(d)
        self.entries.append(TraceEntry(name, _INPUT, (), (), {}, d.primal, d._tangent,
                                       d._k, level=d._level))

    def _new_slot(self, d):
        self.n += 1
        name = f"v{self.n}"
        self.slots[id(d)] = name
        self.alive.append(d)
        return name

    def _source(self, a, parents):
        if isinstance(a, Dual):
            name = self.slots.get(id(a))
            if name is None:
                # A Dual this trace did not produce: made inside f (dn.Dual(...), an inner
                # transform's input) or captured from outside. It gets a line of its own.
                name = self._new_slot(a)
                made = a._level.name
                op = _UNTRACED if made in ("Dual", "trace") else f"input of {made}"
                self.entries.append(TraceEntry(name, op, (), (), {}, a.primal,
                                               a._tangent, a._k, level=a._level))
            parents.append(name)
            return name
        if isinstance(a, (list, tuple)) and any(isinstance(e, Dual) for e in a):
            return "[" + ", ".join(self._source(e, parents) for e in a) + "]"
        return _fmt_const(a)

    def record(self, rule, args, kwargs, res, level):
        if self.done:
            level.tracer = None  # a Dual made during the trace, used after it
            return
        if threading.get_ident() != self.thread:
            return  # another thread's ops are not part of this trace
        parents = []
        if rule.name == "getitem" and len(args) == 2:
            inputs = [self._source(args[0], parents), _fmt_index(args[1])]
        else:
            inputs = [self._source(a, parents) for a in args]
        params = {k: v for k, v in (kwargs or {}).items()}
        many = isinstance(res, (list, tuple))
        for i, d in enumerate(res if many else [res]):
            if not isinstance(d, Dual):
                continue  # an integer piece of a multi-output op (indices, exponents)
            name = self._new_slot(d)
            self.entries.append(TraceEntry(
                name, rule.name, inputs, parents, params, d.primal, d._tangent, d._k,
                rule, i if many else None, level))


# ======================================================================= trace()
def _arg_names(f, n):
    try:
        params = list(inspect.signature(f).parameters.values())
    except (TypeError, ValueError):
        params = []
    names = []
    for p in params:
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            names.append(p.name)
        elif p.kind == p.VAR_POSITIONAL:
            break
    if len(names) >= n:
        return names[:n]
    return ["x"] if n == 1 else [f"x{i}" for i in range(n)]


def _fn_name(f, names):
    name = getattr(f, "__name__", None) or type(f).__name__
    return f"{name}({', '.join(names)})"


def _leaf_names(primals, names):
    out = []
    for p, nm in zip(primals, names):
        out.extend(nm + path for path, _ in leaves_with_paths(p))
    return out


def _element_names(name, shape):
    if shape == ():
        return [name]
    return [f"{name}[{', '.join(map(str, idx))}]" for idx in np.ndindex(*shape)]


def _basis(primals, names):
    """One basis tangent per element of the inputs, batched: K = number of elements."""
    leaves, td = flatten(tuple(primals))
    arrays = [as_float_array(x, "trace primal") for x in leaves]
    n = sum(a.size for a in arrays)
    if n == 0:
        raise ShapeError("tangents='basis' needs inputs with at least one element")
    ts, start = [], 0
    for a in arrays:
        t = np.zeros((n, a.size), a.dtype)
        t[np.arange(start, start + a.size), np.arange(a.size)] = 1
        ts.append(t.reshape((n,) + a.shape))
        start += a.size
    labels = [e for nm, a in zip(_leaf_names(primals, names), arrays)
              for e in _element_names(nm, a.shape)]
    return unflatten(td, ts), labels


def _ones(primals):
    leaves, td = flatten(tuple(primals))
    return unflatten(td, [np.ones(np.shape(x)) for x in leaves])


def _is_batched(primals, tangents):
    pl = dict(leaves_with_paths(tuple(primals)))
    for path, t in leaves_with_paths(tuple(tangents)):
        p = pl.get(path)
        if p is not None and np.ndim(t) == np.ndim(p) + 1 and \
                np.shape(t)[1:] == np.shape(p):
            return True
    return False


def trace(f, *primals, tangents=None, batched=None, names=None):
    """Run ``f(*primals)`` on Duals and record its evaluation trace (Wengert list).

    ``tangents`` seeds the inputs' tangents:

    * ``None`` (default): a tangent of 1 when the inputs hold a single number (the
      trace then shows ``f'(x)``), and ``"basis"`` when they hold up to 64 (more is an
      error: pass the directions you mean);
    * ``"basis"``: K = n basis tangents, one per input element, in one batched pass, so
      ``t.tangent_out`` holds the Jacobian's columns and ``t.direction(k)`` shows how
      column k arises;
    * a tuple with one tangent per primal, as in ``dn.jvp`` (a single primal may be given
      its tangent directly). Entries may be pytrees like their primals, and ``None`` is a
      symbolic zero. A tangent of shape ``(K,) + primal.shape`` is a batch of K
      directions (``batched=`` forces the choice).

    Input slots are named after ``f``'s parameters (``names=`` overrides them), pytree
    leaves by their path (``params['w']``); intermediate values are ``v1, v2, ...``.
    Returns a :class:`Trace`. Tracing changes no result, and costs nothing when no trace
    is being recorded.

    >>> import numpy as np, dualnum as dn
    >>> t = dn.trace(lambda x: np.sum(x * x), np.array([1.0, 2.0]))
    >>> print(t)
    trace of <lambda>(x): 1 input, 2 ops, K=2 tangent directions
    row k of each tangent is direction k: the basis vector e_k, 1 at x[0], x[1]
    slot  op        inputs  shape  primal    tangent               rule
    x     input             (2,)   [1., 2.]  [[1., 0.], [0., 1.]]
    v1    multiply  x, x    (2,)   [1., 4.]  [[2., 0.], [0., 4.]]  ∂/∂a = b; ∂/∂b = a
    v2    sum       v1      ()     5.        [2., 4.]              ẏ = sum(ẋ)
    output: v2
    >>> t.tangent_out  # the gradient: one entry per basis direction
    array([2., 4.])
    >>> print(t.direction(1))
    trace of <lambda>(x): 1 input, 2 ops, direction 1: tangent e_1 (1 at x[1], 0 elsewhere)
    slot  op        inputs  shape  primal    tangent   rule
    x     input             (2,)   [1., 2.]  [0., 1.]
    v1    multiply  x, x    (2,)   [1., 4.]  [0., 4.]  ∂/∂a = b; ∂/∂b = a
    v2    sum       v1      ()     5.        4.        ẏ = sum(ẋ)
    output: v2
    """
    if not callable(f):
        raise TypeError(f"trace(f, *primals): f must be callable, got {type(f).__name__}")
    if not primals:
        raise TypeError("trace(f, *primals) needs at least one primal to run f on")
    if names is None:
        names = _arg_names(f, len(primals))
    else:
        names = [str(n) for n in names]
        if len(names) != len(primals):
            raise ValueError(f"names has {len(names)} entries for {len(primals)} primals")

    directions = None
    if isinstance(tangents, str):
        if tangents != "basis":
            raise ValueError(f"tangents={tangents!r}: use None, 'basis' or arrays")
        tangents, directions = _basis(primals, names)
        batched = True
    elif tangents is None:
        n = sum(np.size(x) for x in flatten(tuple(primals))[0])
        if n == 1:
            tangents = _ones(primals)
            batched = False
        elif n <= _DEFAULT_BASIS_MAX:
            tangents, directions = _basis(primals, names)
            batched = True
        else:
            raise ValueError(
                f"the inputs have {n} elements, so tangents=None would push {n} basis "
                f"directions (the whole Jacobian) through f; pass tangents= (one "
                f"direction per input, as in dn.jvp) or tangents='basis' to mean it")
    else:
        if len(primals) == 1 and not (isinstance(tangents, tuple) and len(tangents) == 1):
            tangents = (tangents,)
        if not isinstance(tangents, (tuple, list)) or len(tangents) != len(primals):
            raise TypeError(
                f"tangents must be a tuple with one entry per primal ({len(primals)}), "
                f"as in dn.jvp, or 'basis'")
        tangents = tuple(tangents)
        if batched is None:
            batched = _is_batched(primals, tangents)
    lvl, token = _levels.open_level("trace")
    rec = _Recorder(lvl)
    lvl.tracer = rec
    try:
        args, k = _make_duals(tuple(primals), tangents, bool(batched), lvl)
        for (path, d), nm in zip(leaves_with_paths(args), _leaf_names(primals, names)):
            rec.add_input(nm, d)
        out = f(*args)
        _check_output(out, "trace")
        # The output's leaves: slots of Duals, constants for anything else.
        leaves, td = flatten(out)
        outs, vals, tans = [], [], []
        for (path, leaf) in leaves_with_paths(out):
            if isinstance(leaf, Dual):
                slot = rec.slots.get(id(leaf))
                if slot is None:
                    slot = rec._source(leaf, [])
                outs.append(slot)
            else:
                outs.append(f"{_fmt_const(leaf)} (a constant)")
            v, t = _split(leaf, lvl, k, path, "trace")
            vals.append(v)
            tans.append(t)
    finally:
        rec.done = True
        lvl.tracer = None
        _levels.close_level(lvl, token)
    return Trace(rec.entries, outs, unflatten(td, vals), unflatten(td, tans), k,
                 _fn_name(f, names), directions)
