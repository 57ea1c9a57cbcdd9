"""dn.trace: the evaluation trace of a function run on Duals.

Every rule in the table is traced (one drawn call per rule, through NumPy's dispatch,
with one tangent and with a batch of tangents): tracing must not change any result, the
op must appear in the trace with its rule text, and every recorded primal and tangent
must be the one of the Dual the op returned.
"""
import importlib
import threading

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st

import dualnum as dn
from dualnum.core import dual as D, levels, rules as R
from dualnum.core.pytree import flatten
from dualnum.testing.strategies import rule_calls

trace_module = importlib.import_module("dualnum.trace")  # dn.trace is the function

# Queries carry no tangent; "inplace" rules only refuse Duals (tests/test_shape_order.py).
RULES = [r for r in dn.rules_table() if r.kind not in ("query", "inplace")]
one_example = settings(max_examples=2, deadline=None,
                       suppress_health_check=list(HealthCheck))


def _leaves(tree):
    return [np.asarray(x) for x in flatten(tree)[0]]


@pytest.fixture
def spy(monkeypatch):
    """Every (rule, result) the recorder is handed, to compare with the trace."""
    seen = []
    record = trace_module._Recorder.record

    def spying(self, rule, args, kwargs, res, level):
        seen.append((rule, res))
        return record(self, rule, args, kwargs, res, level)

    monkeypatch.setattr(trace_module._Recorder, "record", spying)
    return seen


def _check_trace(rule, f, xs, ts, batched, seen):
    want_y, want_t = dn.jvp(f, xs, ts, batched=batched)
    seen.clear()
    tr = dn.trace(f, *xs, tangents=ts, batched=batched)
    assert levels.current() is None

    # Tracing changes no result (it only takes the NumPy path instead of fused kernels).
    for a, b in zip(_leaves(tr.value), _leaves(want_y)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    for a, b in zip(_leaves(tr.tangent_out), _leaves(want_t)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)

    # The op is in the trace, with its rule as written in the table.
    mine = [e for e in tr.ops if e.op == rule.name]
    assert mine, f"{rule.name} not in the trace: {[e.op for e in tr.ops]}"
    assert all(e.rule is rule and e.rule_text == rule.rule_text for e in mine)

    # Every recorded op holds exactly the primal and tangent of the Dual it returned.
    ops = [e for e in tr.ops if e.op != "(untraced)"]
    results = [d for _, res in seen
               for d in (res if isinstance(res, (list, tuple)) else [res])
               if isinstance(d, dn.Dual)]
    assert len(ops) == len(results)
    for e, d in zip(ops, results):
        assert e.primal is d.primal
        np.testing.assert_array_equal(e.tangent, d.tangent)
        assert e.symbolic_zero == d.is_symbolic_zero
        assert e.batch_size == d.batch_size
        assert set(e.parents) <= {x.slot for x in tr.entries}

    # The printed table, the HTML and the dicts all have one line per entry.
    text = tr.table()
    title = 2 if tr.batch_size else 1
    assert rule.name in text and len(text.splitlines()) == len(tr) + title + 2
    assert tr._repr_html_().count("<tr>") == len(tr) + 1
    dicts = tr.to_dicts()
    assert [d["slot"] for d in dicts] == [e.slot for e in tr.entries]
    return tr


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.name)
@one_example
@given(data=st.data())
def test_trace_every_rule(rule, data, spy):
    call = data.draw(rule_calls(rule), label="call")
    slots = call.slots(rule)
    assume(slots)
    xs = call.inputs(slots)
    f = call.function(rule.fn, slots)
    rng = np.random.default_rng(0)

    ts = tuple(rng.standard_normal(x.shape) for x in xs)
    tr = _check_trace(rule, f, xs, ts, False, spy)
    assert tr.batch_size is None

    tb = tuple(rng.standard_normal((2,) + x.shape) for x in xs)
    tr = _check_trace(rule, f, xs, tb, True, spy)
    assert tr.batch_size == 2
    for kk in range(2):
        single = tr.direction(kk)
        _, want = dn.jvp(f, xs, tuple(t[kk] for t in tb))
        for a, b in zip(_leaves(single.tangent_out), _leaves(want)):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_every_rule_is_covered():
    # The parametrisation above is derived from the table, so nothing can be missed.
    names = {r.name for r in RULES}
    assert len(names) == len(RULES) and "tanh" in names and "conv2d" in names


# ---------------------------------------------------------------- the table
def test_scalar_trace_prints_an_aligned_table():
    t = dn.trace(lambda x, y: x * y + np.sin(x), 0.5, 2.0, tangents=(1.0, 0.0))
    text = str(t)
    lines = text.splitlines()
    assert lines[0] == "trace of <lambda>(x, y): 2 inputs, 3 ops"
    assert lines[1].split() == ["slot", "op", "inputs", "primal", "tangent", "rule"]
    assert lines[-1] == "output: v3"
    # columns are aligned: every field of the header starts where the rows' fields do
    col = lines[1].index("primal")
    assert all(line[col - 2: col] == "  " for line in lines[2:-1])
    assert [e.slot for e in t] == ["x", "y", "v1", "v2", "v3"]
    assert [e.op for e in t.ops] == ["multiply", "sin", "add"]
    assert t["v1"].parents == ("x", "y") and t["v3"].parents == ("v1", "v2")
    assert t["v2"].rule_text == "∂/∂x = cos(x)"
    assert float(t.tangent_out) == pytest.approx(2.0 + np.cos(0.5))
    assert repr(t) == text


def test_constants_and_kwargs_are_shown_as_constants():
    t = dn.trace(lambda x: np.sum(x * 3.0, axis=0), np.ones((2, 3)),
                 tangents=np.ones((2, 3)))
    mul, s = t.ops
    assert mul.inputs == ("x", "3.0") and mul.parents == ("x",)
    assert s.inputs == ("v1",) and s.params == {"axis": 0}
    assert "v1, axis=0" in str(t)


def test_large_arrays_are_summarised():
    x = np.arange(100.0)
    t = dn.trace(lambda v: v * 2, x, tangents=np.ones(100))
    text = t.table()
    assert "(100,) [0., 1., 2., …]" in text
    assert "(100,) [0., 2., 4., …]" in text
    assert len(max(text.splitlines(), key=len)) < 120
    full = t.table(max_items=1000)
    assert "99." in full


def test_to_dicts_exports_every_field():
    t = dn.trace(lambda x: np.tanh(x) ** 2, np.array([0.1, 0.2]), tangents=np.ones(2))
    d = t.to_dicts()
    assert [r["op"] for r in d] == ["input", "tanh", "power"]
    assert set(d[1]) == {"slot", "op", "inputs", "parents", "params", "shape", "primal",
                         "tangent", "symbolic_zero", "batch_size", "rule", "level"}
    assert d[1]["rule"] == "∂/∂x = 1 - y * y"
    np.testing.assert_allclose(d[1]["tangent"], 1 - np.tanh([0.1, 0.2]) ** 2)
    import json

    json.dumps(t.to_dicts(lists=True))  # JSON-ready


def test_html_escapes_and_has_a_table():
    t = dn.trace(lambda x: x * 2, np.ones(2), tangents=np.ones(2))
    h = t._repr_html_()
    assert h.startswith("<div>") and "<table>" in h and "&lt;lambda&gt;" in h


def test_symbolic_zero_tangents_are_marked():
    t = dn.trace(lambda a, b: a * b, np.ones(2), np.ones(2), tangents=(None, np.ones(2)))
    assert t["a"].symbolic_zero and not t["b"].symbolic_zero
    assert "0 (symbolic)" in str(t)
    np.testing.assert_array_equal(t["a"].tangent, np.zeros(2))


def test_pytree_inputs_are_named_by_path_and_outputs_listed():
    def f(p):
        return {"y": p["w"] * p["b"], "z": p["w"]}

    t = dn.trace(f, {"w": np.ones(2), "b": 3.0}, tangents={"w": np.ones(2), "b": None})
    assert [e.slot for e in t.inputs] == ["p['w']", "p['b']"]
    assert t.outputs == ["v1", "p['w']"]
    assert str(t).splitlines()[-1] == "outputs: v1, p['w']"
    np.testing.assert_array_equal(t.tangent_out["y"], [3.0, 3.0])


def test_multi_output_ops_get_one_slot_per_output():
    t = dn.trace(lambda x: np.split(x, 2)[1] * 2, np.arange(4.0), tangents=np.ones(4))
    assert [e.label for e in t.ops] == ["split[0]", "split[1]", "multiply"]
    assert t.ops[2].parents == ("v2",)


def test_getitem_shows_the_index():
    t = dn.trace(lambda x: x[1:, 0], np.ones((3, 3)), tangents=np.ones((3, 3)))
    assert t.ops[0].inputs == ("x", "[1:, 0]")


def test_untraced_duals_get_a_line():
    outside = dn.Dual(np.array(2.0), np.array(1.0))
    t = dn.trace(lambda x: x * outside, 3.0)
    assert [e.op for e in t.ops] == ["(untraced)", "multiply"]
    assert t.ops[1].parents == ("x", "v1")


# ---------------------------------------------------------------- batches and Jacobians
def test_basis_tangents_give_the_jacobian_columns():
    def f(x):
        return np.stack([x[0] * x[1], np.sin(x[2]), x[0] + x[2]])

    x = np.array([1.0, 2.0, 0.5])
    t = dn.trace(f, x, tangents="basis")
    assert t.batch_size == 3 and t.directions == ["x[0]", "x[1]", "x[2]"]
    jac = dn.jacfwd(f)(x)
    np.testing.assert_allclose(t.tangent_out.T, jac)
    for k in range(3):
        col = t.direction(k)
        assert col.batch_size is None
        np.testing.assert_allclose(col.tangent_out, jac[:, k])
        np.testing.assert_array_equal(col["x"].tangent, np.eye(3)[k])
        assert f"tangent e_{k} (1 at x[{k}], 0 elsewhere)" in str(col).splitlines()[0]
    with pytest.raises(IndexError):
        t.direction(3)
    with pytest.raises(ValueError, match="single tangent direction"):
        t.direction(0).direction(0)


def test_default_tangents():
    t = dn.trace(np.exp, 0.0)  # one number: the derivative
    assert t.batch_size is None and float(t.tangent_out) == 1.0
    assert str(t).splitlines()[0].endswith("tangent of x = 1")
    t = dn.trace(lambda a, b: a * b, 2.0, np.array([1.0, 3.0]))  # more: basis directions
    assert t.batch_size == 3 and t.directions == ["a", "b[0]", "b[1]"]
    np.testing.assert_array_equal(t.tangent_out, [[1, 3], [2, 0], [0, 2]])


def test_default_tangents_refuse_a_huge_basis():
    with pytest.raises(ValueError, match="100 elements"):
        dn.trace(np.sum, np.ones(100))
    assert dn.trace(np.sum, np.ones(100), tangents="basis").batch_size == 100


def test_batched_tangents_are_detected_or_forced():
    x = np.array([1.0, 2.0])
    t = dn.trace(lambda v: v ** 2, x, tangents=np.ones((4, 2)))
    assert t.batch_size == 4 and t.ops[0].tangent.shape == (4, 2)
    t = dn.trace(lambda v: v ** 2, x, tangents=(np.ones((4, 2)),), batched=True)
    assert t.batch_size == 4
    with pytest.raises(dn.ShapeError):
        dn.trace(lambda v: v ** 2, x, tangents=np.ones((4, 2)), batched=False)


def test_bad_arguments_say_what_is_wrong():
    with pytest.raises(TypeError, match="at least one primal"):
        dn.trace(np.sin)
    with pytest.raises(TypeError, match="one entry per primal"):
        dn.trace(lambda a, b: a * b, 1.0, 2.0, tangents=(1.0,))
    with pytest.raises(ValueError, match="basis"):
        dn.trace(np.sin, 1.0, tangents="columns")


# ---------------------------------------------------------------- the hook
def test_hook_is_off_outside_traces():
    assert levels.current() is None
    dn.trace(np.sin, 1.0)
    assert levels.current() is None


def test_hook_is_restored_after_an_exception():
    def boom(x):
        y = np.sin(x)
        assert levels.current().tracer is not None
        raise RuntimeError("inside f")

    with pytest.raises(RuntimeError, match="inside f"):
        dn.trace(boom, 1.0)
    assert levels.current() is None


def test_traces_nest():
    inner = []

    def f(x):
        y = np.sin(x)
        outer_rec = levels.current().tracer
        inner.append(dn.trace(lambda z: z * z + 1.0, 3.0))  # a trace of its own
        assert levels.current().tracer is outer_rec  # the enclosing trace resumes
        return y * 2

    t = dn.trace(f, 0.5)
    assert levels.current() is None
    assert [e.op for e in t.ops] == ["sin", "multiply"]
    assert [e.op for e in inner[0].ops] == ["multiply", "add"]
    assert float(inner[0].tangent_out) == 6.0


def test_other_threads_are_not_recorded():
    started, release = threading.Event(), threading.Event()

    def other():
        started.set()
        release.wait(5)
        np.cos(dn.Dual(1.0, 1.0))

    th = threading.Thread(target=other)
    th.start()
    started.wait(5)

    def f(x):
        release.set()
        th.join(5)
        return np.sin(x)

    t = dn.trace(f, 1.0)
    assert [e.op for e in t.ops] == ["sin"]


def test_tracing_off_takes_the_fast_paths(monkeypatch):
    """Zero cost when off, checked by structure rather than timing: without a trace,
    operators and ufuncs go straight to the elementwise fast path and never enter the
    general apply (which is where ops are reported to a trace); with one, every op does."""
    calls = []
    general = D._apply_general

    def counting(rule, args, kwargs):
        calls.append(rule.name)
        return general(rule, args, kwargs)

    monkeypatch.setattr(D, "_apply_general", counting)
    x = dn.Dual(np.ones(3), np.ones(3))
    f = lambda v: np.sin(v) * v + 1.0  # noqa: E731
    f(x)
    assert calls == [] and levels.current() is None
    t = dn.trace(f, np.ones(3), tangents=np.ones(3))
    assert calls == ["sin", "multiply", "add"] == [e.op for e in t.ops]
    assert levels.current() is None


def test_repr_of_dual():
    assert repr(dn.Dual(3.0, 1.0)) == "Dual(3., tangent=1.)"
    assert repr(dn.Dual(np.ones(2))) == "Dual([1., 1.], tangent=0 (symbolic zero))"
    b = repr(dn.Dual(np.zeros(2), np.eye(2), batched=True))
    assert b.splitlines()[-1] == "     batched: K=2 tangents, one per row)"
    assert "batch of K=4" in repr(dn.Dual._new(np.ones(2), None, 4, levels.Level("test")))
