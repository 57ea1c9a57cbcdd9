"""Generate the fused elementwise kernels from the rule table.

    python tools/generate_kernels.py          # rewrite dualnum/kernels/_elementwise.py
    python tools/generate_kernels.py --check  # exit 1 if the file is stale

The kernels are generated into a real source file, not built from closures at run time,
because numba can only cache (``cache=True``) functions whose source lives in a file.
Each rule's partial-derivative strings are copied into a loop body, so the rule is still
declared once: in ``dualnum/ops/elementwise.py``.

A rule gets a kernel when its partial derivatives are arithmetic (numba compiles them to
vector instructions). Transcendental partials such as ``cos(x)`` would be evaluated by
scalar libm calls, 10-50x slower than NumPy's SIMD loops, so those rules stay on the NumPy
path. When the primal itself is arithmetic (``PRIMAL_IN_KERNEL``) the value is computed in
the same pass; otherwise NumPy computes the value and the kernel fuses the whole tangent
(all partials, products and the sum) into one pass.

A rule may also give its value as a scalar expression, ``kernel_primal="erf(x)"``, for
functions NumPy has no SIMD loop for (erf, erfc, gelu: dualnum's own erf is a numba
function, :mod:`dualnum.kernels.special`). Such a kernel already makes scalar calls, so
its partials may call ``exp``, ``erf`` and ``erfc`` too. Rules that need an optional
package (``requires=``) get no kernel, so this file is the same with or without it.
"""
from __future__ import annotations

import ast
import itertools
import sys
from pathlib import Path

import numpy as np

TARGET = Path(__file__).resolve().parent.parent / "dualnum" / "kernels" / "_elementwise.py"

#: ufuncs whose value numba computes as fast as NumPy (arithmetic, one instruction).
PRIMAL_IN_KERNEL = {"add", "subtract", "multiply", "divide", "negative", "square",
                    "absolute", "fabs", "maximum", "minimum", "sqrt", "reciprocal"}
#: Calls a partial may make and still be fused, with their numba spelling.
_CALLS = {"sign": "np.sign", "isnan": "np.isnan", "abs": "abs", "sqrt": "np.sqrt"}
#: Scalar calls allowed where the value is computed in the kernel by kernel_primal.
_SCALAR_CALLS = {"exp": "np.exp", "erf": "erf_k", "erfc": "erfc_k"}
_CONSTS = {"ln2": repr(float(np.log(2.0))), "ln10": repr(float(np.log(10.0))),
           "pi": repr(float(np.pi))}


class _Unfusable(Exception):
    pass


class _Rewrite(ast.NodeTransformer):
    def __init__(self, names, scalar_calls=False):
        self.names = set(names) | {"y"}
        self.calls = dict(_CALLS, **_SCALAR_CALLS) if scalar_calls else _CALLS

    def visit_Name(self, node):
        if node.id in self.names:
            return ast.copy_location(ast.Name(node.id + "_", ast.Load()), node)
        if node.id in _CONSTS:
            return ast.copy_location(ast.Constant(float(_CONSTS[node.id])), node)
        raise _Unfusable(node.id)

    def visit_Call(self, node):
        if not isinstance(node.func, ast.Name):
            raise _Unfusable("call")
        fname = node.func.id
        args = [self.visit(a) for a in node.args]
        if fname == "where" and len(args) == 3:
            return ast.copy_location(ast.IfExp(test=args[0], body=args[1], orelse=args[2]), node)
        if fname not in self.calls:
            raise _Unfusable(fname)
        func = ast.parse(self.calls[fname], mode="eval").body
        return ast.copy_location(ast.Call(func=func, args=args, keywords=[]), node)

    def visit_BinOp(self, node):
        if isinstance(node.op, ast.Pow):
            raise _Unfusable("**")
        return self.generic_visit(node)


def _scalar_expr(expr, names, scalar_calls=False):
    tree = ast.parse(expr, mode="eval")
    return ast.unparse(_Rewrite(names, scalar_calls).visit(tree).body)


def _constant(expr):
    try:
        return float(expr)
    except (TypeError, ValueError):
        return None


def kernel_plan(rule):
    """``(primal_in_kernel, {mask: source})`` for a rule, or None if it is not fused."""
    names = rule.argnames
    parts = rule.partials
    if rule.extra.get("requires"):
        return None
    kprimal = rule.extra.get("kernel_primal")
    try:
        scalar = [None if p is None or _constant(p) is not None
                  else _scalar_expr(p, names, bool(kprimal)) for p in parts]
        primal_src = (f"np.{rule.fn.__name__}({', '.join(n + '_' for n in names)})"
                      if kprimal is None else _scalar_expr(kprimal, names, True))
    except _Unfusable:
        return None
    diff = [i for i, p in enumerate(parts) if p is not None and _constant(p) != 0.0]
    if not diff:
        return None
    fuse_primal = rule.name in PRIMAL_IN_KERNEL or kprimal is not None
    # erf/erfc calls the value and a partial share (gelu's erfc) are computed once
    shared = []
    if kprimal is not None:
        calls = [ast.unparse(n) for n in ast.walk(ast.parse(primal_src, mode="eval"))
                 if isinstance(n, ast.Call) and ast.unparse(n.func) in ("erf_k", "erfc_k")]
        shared = [c for c in dict.fromkeys(calls) if any(c in p for p in scalar if p)]
        for j, c in enumerate(shared):
            primal_src = primal_src.replace(c, f"c{j}_")
            scalar = [p.replace(c, f"c{j}_") if p else p for p in scalar]
    if not fuse_primal and all(s is None for s in scalar):
        return None  # constant partials: NumPy's single multiply is already one pass
    uses_y = any(s is not None and "y_" in s for s in scalar)
    variants = {}
    for r in range(1, len(diff) + 1):
        for subset in itertools.combinations(diff, r):
            # Which arguments carry a tangent, as a tuple of booleans (the key) and as
            # digits in the kernel's name: clip__101 has tangents for a and a_max.
            mask = tuple(i in subset for i in range(len(names)))
            fname = f"{rule.name}__{''.join('1' if m else '0' for m in mask)}"
            targs = [f"t_{names[i]}" for i in subset]
            params = ", ".join(list(names) + targs + ["y", "ty"])
            # Operands arrive with any number of dimensions (flattened inside the kernel,
            # which is free) so the Python side makes no reshape calls.
            lines = [f"@kernel", f"def {fname}({params.replace('y, ty', 'y_nd, ty_nd')}):"]
            for v in list(names) + targs:
                lines.append(f"    {v} = flat({v})")
            # Outputs are fresh C arrays, reshaped directly: a view made through the
            # overloaded flat() is not written back by numba's parallel (parfor) lowering.
            lines += ["    y = y_nd.reshape(-1)", "    ty = ty_nd.reshape(-1)",
                      "    for i in prange(ty.size):"]
            for n in names:
                lines.append(f"        {n}_ = ld({n}, i)")
            if fuse_primal:
                for j, call in enumerate(shared):
                    lines.append(f"        c{j}_ = {call}")
                lines.append(f"        y_ = {primal_src}")
                lines.append("        y[i] = y_")
            elif uses_y:
                lines.append("        y_ = y[i]")
            terms = []
            for i in subset:
                c = _constant(parts[i])
                t = f"ld(t_{names[i]}, i)"
                if c == 1.0:
                    terms.append(t)
                elif c == -1.0:
                    terms.append(f"-{t}")
                elif c is not None:
                    terms.append(f"{c!r} * {t}")
                else:
                    terms.append(f"({scalar[i]}) * {t}")
            lines.append(f"        ty[i] = {' + '.join(terms)}")
            variants[mask] = "\n".join(lines)
    return fuse_primal, variants


def render():
    import dualnum  # noqa: F401  (registers the rules)
    from dualnum.core.rules import table

    out = ['"""Fused elementwise kernels, generated from the rule table by',
           "``python tools/generate_kernels.py``. Do not edit: edit the rule in",
           "dualnum/ops/ and regenerate (a test fails while this file is stale).",
           '"""', "# fmt: off", "import numpy as np", "from numba import prange", "",
           "from dualnum._jit import kernel", "from dualnum.kernels._support import flat, ld",
           "from dualnum.kernels.special import erf_k, erfc_k  # noqa: F401", "",
           "PLANS = {}", ""]
    for rule in table():
        # Rules users register (dn.defjvp, in doctests too) are not part of the package.
        if rule.kind != "elementwise" or rule.extra.get("user"):
            continue
        plan = kernel_plan(rule)
        if plan is None:
            continue
        fuse_primal, variants = plan
        for mask, src in variants.items():
            out.append("")
            out.append(src)
            out.append("")
        masks = ", ".join(f"{m!r}: {rule.name}__{''.join('1' if b else '0' for b in m)}"
                          for m in variants)
        out.append(f"PLANS[{rule.name!r}] = ({fuse_primal}, {{{masks}}})")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def main(argv=None):
    from dualnum._files import write_generated

    argv = sys.argv[1:] if argv is None else argv
    return write_generated(TARGET, render(), check="--check" in argv,
                           command="python tools/generate_kernels.py")


if __name__ == "__main__":
    sys.exit(main())
