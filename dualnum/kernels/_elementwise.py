"""Fused elementwise kernels, generated from the rule table by
``python tools/generate_kernels.py``. Do not edit: edit the rule in
dualnum/ops/ and regenerate (a test fails while this file is stale).
"""
# fmt: off
import numpy as np
from numba import prange

from dualnum._jit import kernel
from dualnum.kernels._support import flat, ld
from dualnum.kernels.special import erf_k, erfc_k  # noqa: F401

PLANS = {}


@kernel
def add__10(a, b, t_a, y_nd, ty_nd):
    a = flat(a)
    b = flat(b)
    t_a = flat(t_a)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        a_ = ld(a, i)
        b_ = ld(b, i)
        y_ = np.add(a_, b_)
        y[i] = y_
        ty[i] = ld(t_a, i)


@kernel
def add__01(a, b, t_b, y_nd, ty_nd):
    a = flat(a)
    b = flat(b)
    t_b = flat(t_b)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        a_ = ld(a, i)
        b_ = ld(b, i)
        y_ = np.add(a_, b_)
        y[i] = y_
        ty[i] = ld(t_b, i)


@kernel
def add__11(a, b, t_a, t_b, y_nd, ty_nd):
    a = flat(a)
    b = flat(b)
    t_a = flat(t_a)
    t_b = flat(t_b)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        a_ = ld(a, i)
        b_ = ld(b, i)
        y_ = np.add(a_, b_)
        y[i] = y_
        ty[i] = ld(t_a, i) + ld(t_b, i)

PLANS['add'] = (True, {(True, False): add__10, (False, True): add__01, (True, True): add__11})


@kernel
def subtract__10(a, b, t_a, y_nd, ty_nd):
    a = flat(a)
    b = flat(b)
    t_a = flat(t_a)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        a_ = ld(a, i)
        b_ = ld(b, i)
        y_ = np.subtract(a_, b_)
        y[i] = y_
        ty[i] = ld(t_a, i)


@kernel
def subtract__01(a, b, t_b, y_nd, ty_nd):
    a = flat(a)
    b = flat(b)
    t_b = flat(t_b)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        a_ = ld(a, i)
        b_ = ld(b, i)
        y_ = np.subtract(a_, b_)
        y[i] = y_
        ty[i] = -ld(t_b, i)


@kernel
def subtract__11(a, b, t_a, t_b, y_nd, ty_nd):
    a = flat(a)
    b = flat(b)
    t_a = flat(t_a)
    t_b = flat(t_b)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        a_ = ld(a, i)
        b_ = ld(b, i)
        y_ = np.subtract(a_, b_)
        y[i] = y_
        ty[i] = ld(t_a, i) + -ld(t_b, i)

PLANS['subtract'] = (True, {(True, False): subtract__10, (False, True): subtract__01, (True, True): subtract__11})


@kernel
def multiply__10(a, b, t_a, y_nd, ty_nd):
    a = flat(a)
    b = flat(b)
    t_a = flat(t_a)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        a_ = ld(a, i)
        b_ = ld(b, i)
        y_ = np.multiply(a_, b_)
        y[i] = y_
        ty[i] = (b_) * ld(t_a, i)


@kernel
def multiply__01(a, b, t_b, y_nd, ty_nd):
    a = flat(a)
    b = flat(b)
    t_b = flat(t_b)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        a_ = ld(a, i)
        b_ = ld(b, i)
        y_ = np.multiply(a_, b_)
        y[i] = y_
        ty[i] = (a_) * ld(t_b, i)


@kernel
def multiply__11(a, b, t_a, t_b, y_nd, ty_nd):
    a = flat(a)
    b = flat(b)
    t_a = flat(t_a)
    t_b = flat(t_b)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        a_ = ld(a, i)
        b_ = ld(b, i)
        y_ = np.multiply(a_, b_)
        y[i] = y_
        ty[i] = (b_) * ld(t_a, i) + (a_) * ld(t_b, i)

PLANS['multiply'] = (True, {(True, False): multiply__10, (False, True): multiply__01, (True, True): multiply__11})


@kernel
def divide__10(a, b, t_a, y_nd, ty_nd):
    a = flat(a)
    b = flat(b)
    t_a = flat(t_a)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        a_ = ld(a, i)
        b_ = ld(b, i)
        y_ = np.divide(a_, b_)
        y[i] = y_
        ty[i] = (1 / b_) * ld(t_a, i)


@kernel
def divide__01(a, b, t_b, y_nd, ty_nd):
    a = flat(a)
    b = flat(b)
    t_b = flat(t_b)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        a_ = ld(a, i)
        b_ = ld(b, i)
        y_ = np.divide(a_, b_)
        y[i] = y_
        ty[i] = (-y_ / b_) * ld(t_b, i)


@kernel
def divide__11(a, b, t_a, t_b, y_nd, ty_nd):
    a = flat(a)
    b = flat(b)
    t_a = flat(t_a)
    t_b = flat(t_b)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        a_ = ld(a, i)
        b_ = ld(b, i)
        y_ = np.divide(a_, b_)
        y[i] = y_
        ty[i] = (1 / b_) * ld(t_a, i) + (-y_ / b_) * ld(t_b, i)

PLANS['divide'] = (True, {(True, False): divide__10, (False, True): divide__01, (True, True): divide__11})


@kernel
def negative__1(x, t_x, y_nd, ty_nd):
    x = flat(x)
    t_x = flat(t_x)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        x_ = ld(x, i)
        y_ = np.negative(x_)
        y[i] = y_
        ty[i] = -ld(t_x, i)

PLANS['negative'] = (True, {(True,): negative__1})


@kernel
def square__1(x, t_x, y_nd, ty_nd):
    x = flat(x)
    t_x = flat(t_x)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        x_ = ld(x, i)
        y_ = np.square(x_)
        y[i] = y_
        ty[i] = (2 * x_) * ld(t_x, i)

PLANS['square'] = (True, {(True,): square__1})


@kernel
def sqrt__1(x, t_x, y_nd, ty_nd):
    x = flat(x)
    t_x = flat(t_x)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        x_ = ld(x, i)
        y_ = np.sqrt(x_)
        y[i] = y_
        ty[i] = (0.5 / y_) * ld(t_x, i)

PLANS['sqrt'] = (True, {(True,): sqrt__1})


@kernel
def cbrt__1(x, t_x, y_nd, ty_nd):
    x = flat(x)
    t_x = flat(t_x)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        x_ = ld(x, i)
        y_ = y[i]
        ty[i] = (1 / (3 * y_ * y_)) * ld(t_x, i)

PLANS['cbrt'] = (False, {(True,): cbrt__1})


@kernel
def reciprocal__1(x, t_x, y_nd, ty_nd):
    x = flat(x)
    t_x = flat(t_x)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        x_ = ld(x, i)
        y_ = np.reciprocal(x_)
        y[i] = y_
        ty[i] = (-y_ * y_) * ld(t_x, i)

PLANS['reciprocal'] = (True, {(True,): reciprocal__1})


@kernel
def exp__1(x, t_x, y_nd, ty_nd):
    x = flat(x)
    t_x = flat(t_x)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        x_ = ld(x, i)
        y_ = y[i]
        ty[i] = (y_) * ld(t_x, i)

PLANS['exp'] = (False, {(True,): exp__1})


@kernel
def exp2__1(x, t_x, y_nd, ty_nd):
    x = flat(x)
    t_x = flat(t_x)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        x_ = ld(x, i)
        y_ = y[i]
        ty[i] = (y_ * 0.6931471805599453) * ld(t_x, i)

PLANS['exp2'] = (False, {(True,): exp2__1})


@kernel
def expm1__1(x, t_x, y_nd, ty_nd):
    x = flat(x)
    t_x = flat(t_x)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        x_ = ld(x, i)
        y_ = y[i]
        ty[i] = (y_ + 1) * ld(t_x, i)

PLANS['expm1'] = (False, {(True,): expm1__1})


@kernel
def log__1(x, t_x, y_nd, ty_nd):
    x = flat(x)
    t_x = flat(t_x)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        x_ = ld(x, i)
        ty[i] = (1 / x_) * ld(t_x, i)

PLANS['log'] = (False, {(True,): log__1})


@kernel
def log2__1(x, t_x, y_nd, ty_nd):
    x = flat(x)
    t_x = flat(t_x)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        x_ = ld(x, i)
        ty[i] = (1 / (x_ * 0.6931471805599453)) * ld(t_x, i)

PLANS['log2'] = (False, {(True,): log2__1})


@kernel
def log10__1(x, t_x, y_nd, ty_nd):
    x = flat(x)
    t_x = flat(t_x)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        x_ = ld(x, i)
        ty[i] = (1 / (x_ * 2.302585092994046)) * ld(t_x, i)

PLANS['log10'] = (False, {(True,): log10__1})


@kernel
def log1p__1(x, t_x, y_nd, ty_nd):
    x = flat(x)
    t_x = flat(t_x)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        x_ = ld(x, i)
        ty[i] = (1 / (1 + x_)) * ld(t_x, i)

PLANS['log1p'] = (False, {(True,): log1p__1})


@kernel
def tan__1(x, t_x, y_nd, ty_nd):
    x = flat(x)
    t_x = flat(t_x)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        x_ = ld(x, i)
        y_ = y[i]
        ty[i] = (1 + y_ * y_) * ld(t_x, i)

PLANS['tan'] = (False, {(True,): tan__1})


@kernel
def arcsin__1(x, t_x, y_nd, ty_nd):
    x = flat(x)
    t_x = flat(t_x)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        x_ = ld(x, i)
        ty[i] = (1 / np.sqrt(1 - x_ * x_)) * ld(t_x, i)

PLANS['arcsin'] = (False, {(True,): arcsin__1})


@kernel
def arccos__1(x, t_x, y_nd, ty_nd):
    x = flat(x)
    t_x = flat(t_x)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        x_ = ld(x, i)
        ty[i] = (-1 / np.sqrt(1 - x_ * x_)) * ld(t_x, i)

PLANS['arccos'] = (False, {(True,): arccos__1})


@kernel
def arctan__1(x, t_x, y_nd, ty_nd):
    x = flat(x)
    t_x = flat(t_x)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        x_ = ld(x, i)
        ty[i] = (1 / (1 + x_ * x_)) * ld(t_x, i)

PLANS['arctan'] = (False, {(True,): arctan__1})


@kernel
def arctan2__10(a, b, t_a, y_nd, ty_nd):
    a = flat(a)
    b = flat(b)
    t_a = flat(t_a)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        a_ = ld(a, i)
        b_ = ld(b, i)
        ty[i] = (b_ / (a_ * a_ + b_ * b_)) * ld(t_a, i)


@kernel
def arctan2__01(a, b, t_b, y_nd, ty_nd):
    a = flat(a)
    b = flat(b)
    t_b = flat(t_b)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        a_ = ld(a, i)
        b_ = ld(b, i)
        ty[i] = (-a_ / (a_ * a_ + b_ * b_)) * ld(t_b, i)


@kernel
def arctan2__11(a, b, t_a, t_b, y_nd, ty_nd):
    a = flat(a)
    b = flat(b)
    t_a = flat(t_a)
    t_b = flat(t_b)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        a_ = ld(a, i)
        b_ = ld(b, i)
        ty[i] = (b_ / (a_ * a_ + b_ * b_)) * ld(t_a, i) + (-a_ / (a_ * a_ + b_ * b_)) * ld(t_b, i)

PLANS['arctan2'] = (False, {(True, False): arctan2__10, (False, True): arctan2__01, (True, True): arctan2__11})


@kernel
def hypot__10(a, b, t_a, y_nd, ty_nd):
    a = flat(a)
    b = flat(b)
    t_a = flat(t_a)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        a_ = ld(a, i)
        b_ = ld(b, i)
        y_ = y[i]
        ty[i] = (a_ / y_) * ld(t_a, i)


@kernel
def hypot__01(a, b, t_b, y_nd, ty_nd):
    a = flat(a)
    b = flat(b)
    t_b = flat(t_b)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        a_ = ld(a, i)
        b_ = ld(b, i)
        y_ = y[i]
        ty[i] = (b_ / y_) * ld(t_b, i)


@kernel
def hypot__11(a, b, t_a, t_b, y_nd, ty_nd):
    a = flat(a)
    b = flat(b)
    t_a = flat(t_a)
    t_b = flat(t_b)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        a_ = ld(a, i)
        b_ = ld(b, i)
        y_ = y[i]
        ty[i] = (a_ / y_) * ld(t_a, i) + (b_ / y_) * ld(t_b, i)

PLANS['hypot'] = (False, {(True, False): hypot__10, (False, True): hypot__01, (True, True): hypot__11})


@kernel
def tanh__1(x, t_x, y_nd, ty_nd):
    x = flat(x)
    t_x = flat(t_x)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        x_ = ld(x, i)
        y_ = y[i]
        ty[i] = (1 - y_ * y_) * ld(t_x, i)

PLANS['tanh'] = (False, {(True,): tanh__1})


@kernel
def arcsinh__1(x, t_x, y_nd, ty_nd):
    x = flat(x)
    t_x = flat(t_x)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        x_ = ld(x, i)
        ty[i] = (1 / np.sqrt(x_ * x_ + 1)) * ld(t_x, i)

PLANS['arcsinh'] = (False, {(True,): arcsinh__1})


@kernel
def arccosh__1(x, t_x, y_nd, ty_nd):
    x = flat(x)
    t_x = flat(t_x)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        x_ = ld(x, i)
        ty[i] = (1 / np.sqrt(x_ * x_ - 1)) * ld(t_x, i)

PLANS['arccosh'] = (False, {(True,): arccosh__1})


@kernel
def arctanh__1(x, t_x, y_nd, ty_nd):
    x = flat(x)
    t_x = flat(t_x)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        x_ = ld(x, i)
        ty[i] = (1 / (1 - x_ * x_)) * ld(t_x, i)

PLANS['arctanh'] = (False, {(True,): arctanh__1})


@kernel
def absolute__1(x, t_x, y_nd, ty_nd):
    x = flat(x)
    t_x = flat(t_x)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        x_ = ld(x, i)
        y_ = np.absolute(x_)
        y[i] = y_
        ty[i] = (np.sign(x_)) * ld(t_x, i)

PLANS['absolute'] = (True, {(True,): absolute__1})


@kernel
def fabs__1(x, t_x, y_nd, ty_nd):
    x = flat(x)
    t_x = flat(t_x)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        x_ = ld(x, i)
        y_ = np.fabs(x_)
        y[i] = y_
        ty[i] = (np.sign(x_)) * ld(t_x, i)

PLANS['fabs'] = (True, {(True,): fabs__1})


@kernel
def maximum__10(a, b, t_a, y_nd, ty_nd):
    a = flat(a)
    b = flat(b)
    t_a = flat(t_a)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        a_ = ld(a, i)
        b_ = ld(b, i)
        y_ = np.maximum(a_, b_)
        y[i] = y_
        ty[i] = ((a_ > b_) + 0.5 * (a_ == b_)) * ld(t_a, i)


@kernel
def maximum__01(a, b, t_b, y_nd, ty_nd):
    a = flat(a)
    b = flat(b)
    t_b = flat(t_b)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        a_ = ld(a, i)
        b_ = ld(b, i)
        y_ = np.maximum(a_, b_)
        y[i] = y_
        ty[i] = ((b_ > a_) + 0.5 * (a_ == b_)) * ld(t_b, i)


@kernel
def maximum__11(a, b, t_a, t_b, y_nd, ty_nd):
    a = flat(a)
    b = flat(b)
    t_a = flat(t_a)
    t_b = flat(t_b)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        a_ = ld(a, i)
        b_ = ld(b, i)
        y_ = np.maximum(a_, b_)
        y[i] = y_
        ty[i] = ((a_ > b_) + 0.5 * (a_ == b_)) * ld(t_a, i) + ((b_ > a_) + 0.5 * (a_ == b_)) * ld(t_b, i)

PLANS['maximum'] = (True, {(True, False): maximum__10, (False, True): maximum__01, (True, True): maximum__11})


@kernel
def minimum__10(a, b, t_a, y_nd, ty_nd):
    a = flat(a)
    b = flat(b)
    t_a = flat(t_a)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        a_ = ld(a, i)
        b_ = ld(b, i)
        y_ = np.minimum(a_, b_)
        y[i] = y_
        ty[i] = ((a_ < b_) + 0.5 * (a_ == b_)) * ld(t_a, i)


@kernel
def minimum__01(a, b, t_b, y_nd, ty_nd):
    a = flat(a)
    b = flat(b)
    t_b = flat(t_b)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        a_ = ld(a, i)
        b_ = ld(b, i)
        y_ = np.minimum(a_, b_)
        y[i] = y_
        ty[i] = ((b_ < a_) + 0.5 * (a_ == b_)) * ld(t_b, i)


@kernel
def minimum__11(a, b, t_a, t_b, y_nd, ty_nd):
    a = flat(a)
    b = flat(b)
    t_a = flat(t_a)
    t_b = flat(t_b)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        a_ = ld(a, i)
        b_ = ld(b, i)
        y_ = np.minimum(a_, b_)
        y[i] = y_
        ty[i] = ((a_ < b_) + 0.5 * (a_ == b_)) * ld(t_a, i) + ((b_ < a_) + 0.5 * (a_ == b_)) * ld(t_b, i)

PLANS['minimum'] = (True, {(True, False): minimum__10, (False, True): minimum__01, (True, True): minimum__11})


@kernel
def fmax__10(a, b, t_a, y_nd, ty_nd):
    a = flat(a)
    b = flat(b)
    t_a = flat(t_a)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        a_ = ld(a, i)
        b_ = ld(b, i)
        ty[i] = (1 if np.isnan(b_) else (a_ > b_) + 0.5 * (a_ == b_)) * ld(t_a, i)


@kernel
def fmax__01(a, b, t_b, y_nd, ty_nd):
    a = flat(a)
    b = flat(b)
    t_b = flat(t_b)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        a_ = ld(a, i)
        b_ = ld(b, i)
        ty[i] = (1 if np.isnan(a_) else (b_ > a_) + 0.5 * (a_ == b_)) * ld(t_b, i)


@kernel
def fmax__11(a, b, t_a, t_b, y_nd, ty_nd):
    a = flat(a)
    b = flat(b)
    t_a = flat(t_a)
    t_b = flat(t_b)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        a_ = ld(a, i)
        b_ = ld(b, i)
        ty[i] = (1 if np.isnan(b_) else (a_ > b_) + 0.5 * (a_ == b_)) * ld(t_a, i) + (1 if np.isnan(a_) else (b_ > a_) + 0.5 * (a_ == b_)) * ld(t_b, i)

PLANS['fmax'] = (False, {(True, False): fmax__10, (False, True): fmax__01, (True, True): fmax__11})


@kernel
def fmin__10(a, b, t_a, y_nd, ty_nd):
    a = flat(a)
    b = flat(b)
    t_a = flat(t_a)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        a_ = ld(a, i)
        b_ = ld(b, i)
        ty[i] = (1 if np.isnan(b_) else (a_ < b_) + 0.5 * (a_ == b_)) * ld(t_a, i)


@kernel
def fmin__01(a, b, t_b, y_nd, ty_nd):
    a = flat(a)
    b = flat(b)
    t_b = flat(t_b)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        a_ = ld(a, i)
        b_ = ld(b, i)
        ty[i] = (1 if np.isnan(a_) else (b_ < a_) + 0.5 * (a_ == b_)) * ld(t_b, i)


@kernel
def fmin__11(a, b, t_a, t_b, y_nd, ty_nd):
    a = flat(a)
    b = flat(b)
    t_a = flat(t_a)
    t_b = flat(t_b)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        a_ = ld(a, i)
        b_ = ld(b, i)
        ty[i] = (1 if np.isnan(b_) else (a_ < b_) + 0.5 * (a_ == b_)) * ld(t_a, i) + (1 if np.isnan(a_) else (b_ < a_) + 0.5 * (a_ == b_)) * ld(t_b, i)

PLANS['fmin'] = (False, {(True, False): fmin__10, (False, True): fmin__01, (True, True): fmin__11})


@kernel
def clip__100(a, a_min, a_max, t_a, y_nd, ty_nd):
    a = flat(a)
    a_min = flat(a_min)
    a_max = flat(a_max)
    t_a = flat(t_a)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        a_ = ld(a, i)
        a_min_ = ld(a_min, i)
        a_max_ = ld(a_max, i)
        ty[i] = ((a_ > a_min_) & (a_ < a_max_)) * ld(t_a, i)


@kernel
def clip__010(a, a_min, a_max, t_a_min, y_nd, ty_nd):
    a = flat(a)
    a_min = flat(a_min)
    a_max = flat(a_max)
    t_a_min = flat(t_a_min)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        a_ = ld(a, i)
        a_min_ = ld(a_min, i)
        a_max_ = ld(a_max, i)
        ty[i] = (a_ < a_min_) * ld(t_a_min, i)


@kernel
def clip__001(a, a_min, a_max, t_a_max, y_nd, ty_nd):
    a = flat(a)
    a_min = flat(a_min)
    a_max = flat(a_max)
    t_a_max = flat(t_a_max)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        a_ = ld(a, i)
        a_min_ = ld(a_min, i)
        a_max_ = ld(a_max, i)
        ty[i] = (a_ > a_max_) * ld(t_a_max, i)


@kernel
def clip__110(a, a_min, a_max, t_a, t_a_min, y_nd, ty_nd):
    a = flat(a)
    a_min = flat(a_min)
    a_max = flat(a_max)
    t_a = flat(t_a)
    t_a_min = flat(t_a_min)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        a_ = ld(a, i)
        a_min_ = ld(a_min, i)
        a_max_ = ld(a_max, i)
        ty[i] = ((a_ > a_min_) & (a_ < a_max_)) * ld(t_a, i) + (a_ < a_min_) * ld(t_a_min, i)


@kernel
def clip__101(a, a_min, a_max, t_a, t_a_max, y_nd, ty_nd):
    a = flat(a)
    a_min = flat(a_min)
    a_max = flat(a_max)
    t_a = flat(t_a)
    t_a_max = flat(t_a_max)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        a_ = ld(a, i)
        a_min_ = ld(a_min, i)
        a_max_ = ld(a_max, i)
        ty[i] = ((a_ > a_min_) & (a_ < a_max_)) * ld(t_a, i) + (a_ > a_max_) * ld(t_a_max, i)


@kernel
def clip__011(a, a_min, a_max, t_a_min, t_a_max, y_nd, ty_nd):
    a = flat(a)
    a_min = flat(a_min)
    a_max = flat(a_max)
    t_a_min = flat(t_a_min)
    t_a_max = flat(t_a_max)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        a_ = ld(a, i)
        a_min_ = ld(a_min, i)
        a_max_ = ld(a_max, i)
        ty[i] = (a_ < a_min_) * ld(t_a_min, i) + (a_ > a_max_) * ld(t_a_max, i)


@kernel
def clip__111(a, a_min, a_max, t_a, t_a_min, t_a_max, y_nd, ty_nd):
    a = flat(a)
    a_min = flat(a_min)
    a_max = flat(a_max)
    t_a = flat(t_a)
    t_a_min = flat(t_a_min)
    t_a_max = flat(t_a_max)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        a_ = ld(a, i)
        a_min_ = ld(a_min, i)
        a_max_ = ld(a_max, i)
        ty[i] = ((a_ > a_min_) & (a_ < a_max_)) * ld(t_a, i) + (a_ < a_min_) * ld(t_a_min, i) + (a_ > a_max_) * ld(t_a_max, i)

PLANS['clip'] = (False, {(True, False, False): clip__100, (False, True, False): clip__010, (False, False, True): clip__001, (True, True, False): clip__110, (True, False, True): clip__101, (False, True, True): clip__011, (True, True, True): clip__111})


@kernel
def where__010(c, a, b, t_a, y_nd, ty_nd):
    c = flat(c)
    a = flat(a)
    b = flat(b)
    t_a = flat(t_a)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        c_ = ld(c, i)
        a_ = ld(a, i)
        b_ = ld(b, i)
        ty[i] = (1 if c_ else 0) * ld(t_a, i)


@kernel
def where__001(c, a, b, t_b, y_nd, ty_nd):
    c = flat(c)
    a = flat(a)
    b = flat(b)
    t_b = flat(t_b)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        c_ = ld(c, i)
        a_ = ld(a, i)
        b_ = ld(b, i)
        ty[i] = (0 if c_ else 1) * ld(t_b, i)


@kernel
def where__011(c, a, b, t_a, t_b, y_nd, ty_nd):
    c = flat(c)
    a = flat(a)
    b = flat(b)
    t_a = flat(t_a)
    t_b = flat(t_b)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        c_ = ld(c, i)
        a_ = ld(a, i)
        b_ = ld(b, i)
        ty[i] = (1 if c_ else 0) * ld(t_a, i) + (0 if c_ else 1) * ld(t_b, i)

PLANS['where'] = (False, {(False, True, False): where__010, (False, False, True): where__001, (False, True, True): where__011})


@kernel
def copysign__10(a, b, t_a, y_nd, ty_nd):
    a = flat(a)
    b = flat(b)
    t_a = flat(t_a)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        a_ = ld(a, i)
        b_ = ld(b, i)
        y_ = y[i]
        ty[i] = (np.sign(a_) * np.sign(y_)) * ld(t_a, i)

PLANS['copysign'] = (False, {(True, False): copysign__10})


@kernel
def heaviside__01(a, b, t_b, y_nd, ty_nd):
    a = flat(a)
    b = flat(b)
    t_b = flat(t_b)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        a_ = ld(a, i)
        b_ = ld(b, i)
        ty[i] = (1 if a_ == 0 else 0) * ld(t_b, i)

PLANS['heaviside'] = (False, {(False, True): heaviside__01})


@kernel
def erf__1(x, t_x, y_nd, ty_nd):
    x = flat(x)
    t_x = flat(t_x)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        x_ = ld(x, i)
        y_ = erf_k(x_)
        y[i] = y_
        ty[i] = (1.1283791670955126 * np.exp(-x_ * x_)) * ld(t_x, i)

PLANS['erf'] = (True, {(True,): erf__1})


@kernel
def erfc__1(x, t_x, y_nd, ty_nd):
    x = flat(x)
    t_x = flat(t_x)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        x_ = ld(x, i)
        y_ = erfc_k(x_)
        y[i] = y_
        ty[i] = (-1.1283791670955126 * np.exp(-x_ * x_)) * ld(t_x, i)

PLANS['erfc'] = (True, {(True,): erfc__1})


@kernel
def relu__1(x, t_x, y_nd, ty_nd):
    x = flat(x)
    t_x = flat(t_x)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        x_ = ld(x, i)
        ty[i] = (x_ > 0) * ld(t_x, i)

PLANS['relu'] = (False, {(True,): relu__1})


@kernel
def leaky_relu__10(x, negative_slope, t_x, y_nd, ty_nd):
    x = flat(x)
    negative_slope = flat(negative_slope)
    t_x = flat(t_x)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        x_ = ld(x, i)
        negative_slope_ = ld(negative_slope, i)
        ty[i] = (1 if x_ > 0 else negative_slope_) * ld(t_x, i)


@kernel
def leaky_relu__01(x, negative_slope, t_negative_slope, y_nd, ty_nd):
    x = flat(x)
    negative_slope = flat(negative_slope)
    t_negative_slope = flat(t_negative_slope)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        x_ = ld(x, i)
        negative_slope_ = ld(negative_slope, i)
        ty[i] = (0 if x_ > 0 else x_) * ld(t_negative_slope, i)


@kernel
def leaky_relu__11(x, negative_slope, t_x, t_negative_slope, y_nd, ty_nd):
    x = flat(x)
    negative_slope = flat(negative_slope)
    t_x = flat(t_x)
    t_negative_slope = flat(t_negative_slope)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        x_ = ld(x, i)
        negative_slope_ = ld(negative_slope, i)
        ty[i] = (1 if x_ > 0 else negative_slope_) * ld(t_x, i) + (0 if x_ > 0 else x_) * ld(t_negative_slope, i)

PLANS['leaky_relu'] = (False, {(True, False): leaky_relu__10, (False, True): leaky_relu__01, (True, True): leaky_relu__11})


@kernel
def gelu__1(x, t_x, y_nd, ty_nd):
    x = flat(x)
    t_x = flat(t_x)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        x_ = ld(x, i)
        c0_ = erfc_k(-0.7071067811865476 * x_)
        y_ = 0.5 * x_ * c0_
        y[i] = y_
        ty[i] = (0.5 * c0_ + 0.3989422804014327 * x_ * np.exp(-0.5 * x_ * x_)) * ld(t_x, i)

PLANS['gelu'] = (True, {(True,): gelu__1})


@kernel
def sigmoid__1(x, t_x, y_nd, ty_nd):
    x = flat(x)
    t_x = flat(t_x)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        x_ = ld(x, i)
        y_ = y[i]
        ty[i] = (y_ * (1 - y_)) * ld(t_x, i)

PLANS['sigmoid'] = (False, {(True,): sigmoid__1})
