"""Every rule in the table is tested here because it is in the table.

For each rule, hypothesis draws valid calls from the rule's own domain (shapes,
broadcasting, 0-d, axes) and runs the checks of :mod:`dualnum.testing.rules` on every
example: finite differences, linearity, batched == looped, symbolic zeros, dispatch ==
table, float32, and second order (the tangent rule on Duals, and nested jvps).
"""
import pytest
from hypothesis import assume, given, settings, strategies as st

import dualnum as dn
from dualnum.testing import check_call, check_second_order
from dualnum.testing.strategies import rule_calls

# Queries carry no tangent; "inplace" rules only refuse Duals (tests/test_shape_order.py).
RULES = [r for r in dn.rules_table() if r.kind not in ("query", "inplace")]
# Second-order checks cost more per example; a quarter of the profile's examples.
settings_nested = settings(max_examples=max(settings.default.max_examples // 4, 10))


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.name)
@given(data=st.data())
def test_rule(rule, data):
    call = data.draw(rule_calls(rule), label="call")
    assume(call.slots(rule))  # reject this example only; a rule that never draws one fails
    check_call(rule, call, data.draw(st.integers(0, 2**32 - 1), label="seed"))


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.name)
@given(data=st.data())
@settings_nested
def test_rule_second_order(rule, data):
    """Every tangent rule evaluates on Duals, and second derivatives (the tangent rule
    differentiated, and a jvp nested in a jvp) agree with finite differences."""
    call = data.draw(rule_calls(rule), label="call")
    assume(call.slots(rule))
    check_second_order(rule, call, data.draw(st.integers(0, 2**32 - 1), label="seed"))
