"""Fused elementwise kernels, generated from the rule table by
``python -m dualnum.kernels.generate``. Do not edit: edit the rule in
dualnum/ops/elementwise.py and regenerate (a test fails while this file is stale).
"""
# fmt: off
import numpy as np
from numba import prange

from dualnum._jit import kernel
from dualnum.kernels._support import flat, ld

PLANS = {}


@kernel
def add__a(a, b, t_a, y_nd, ty_nd):
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
def add__b(a, b, t_b, y_nd, ty_nd):
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
def add__ab(a, b, t_a, t_b, y_nd, ty_nd):
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

PLANS['add'] = (True, {'a': add__a, 'b': add__b, 'ab': add__ab})


@kernel
def subtract__a(a, b, t_a, y_nd, ty_nd):
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
def subtract__b(a, b, t_b, y_nd, ty_nd):
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
def subtract__ab(a, b, t_a, t_b, y_nd, ty_nd):
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

PLANS['subtract'] = (True, {'a': subtract__a, 'b': subtract__b, 'ab': subtract__ab})


@kernel
def multiply__a(a, b, t_a, y_nd, ty_nd):
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
def multiply__b(a, b, t_b, y_nd, ty_nd):
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
def multiply__ab(a, b, t_a, t_b, y_nd, ty_nd):
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

PLANS['multiply'] = (True, {'a': multiply__a, 'b': multiply__b, 'ab': multiply__ab})


@kernel
def divide__a(a, b, t_a, y_nd, ty_nd):
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
def divide__b(a, b, t_b, y_nd, ty_nd):
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
def divide__ab(a, b, t_a, t_b, y_nd, ty_nd):
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

PLANS['divide'] = (True, {'a': divide__a, 'b': divide__b, 'ab': divide__ab})


@kernel
def negative__x(x, t_x, y_nd, ty_nd):
    x = flat(x)
    t_x = flat(t_x)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        x_ = ld(x, i)
        y_ = np.negative(x_)
        y[i] = y_
        ty[i] = -ld(t_x, i)

PLANS['negative'] = (True, {'x': negative__x})


@kernel
def square__x(x, t_x, y_nd, ty_nd):
    x = flat(x)
    t_x = flat(t_x)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        x_ = ld(x, i)
        y_ = np.square(x_)
        y[i] = y_
        ty[i] = (2 * x_) * ld(t_x, i)

PLANS['square'] = (True, {'x': square__x})


@kernel
def sqrt__x(x, t_x, y_nd, ty_nd):
    x = flat(x)
    t_x = flat(t_x)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        x_ = ld(x, i)
        y_ = np.sqrt(x_)
        y[i] = y_
        ty[i] = (0.5 / y_) * ld(t_x, i)

PLANS['sqrt'] = (True, {'x': sqrt__x})


@kernel
def cbrt__x(x, t_x, y_nd, ty_nd):
    x = flat(x)
    t_x = flat(t_x)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        x_ = ld(x, i)
        y_ = y[i]
        ty[i] = (1 / (3 * y_ * y_)) * ld(t_x, i)

PLANS['cbrt'] = (False, {'x': cbrt__x})


@kernel
def reciprocal__x(x, t_x, y_nd, ty_nd):
    x = flat(x)
    t_x = flat(t_x)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        x_ = ld(x, i)
        y_ = np.reciprocal(x_)
        y[i] = y_
        ty[i] = (-y_ * y_) * ld(t_x, i)

PLANS['reciprocal'] = (True, {'x': reciprocal__x})


@kernel
def exp__x(x, t_x, y_nd, ty_nd):
    x = flat(x)
    t_x = flat(t_x)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        x_ = ld(x, i)
        y_ = y[i]
        ty[i] = (y_) * ld(t_x, i)

PLANS['exp'] = (False, {'x': exp__x})


@kernel
def exp2__x(x, t_x, y_nd, ty_nd):
    x = flat(x)
    t_x = flat(t_x)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        x_ = ld(x, i)
        y_ = y[i]
        ty[i] = (y_ * 0.6931471805599453) * ld(t_x, i)

PLANS['exp2'] = (False, {'x': exp2__x})


@kernel
def expm1__x(x, t_x, y_nd, ty_nd):
    x = flat(x)
    t_x = flat(t_x)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        x_ = ld(x, i)
        y_ = y[i]
        ty[i] = (y_ + 1) * ld(t_x, i)

PLANS['expm1'] = (False, {'x': expm1__x})


@kernel
def log__x(x, t_x, y_nd, ty_nd):
    x = flat(x)
    t_x = flat(t_x)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        x_ = ld(x, i)
        ty[i] = (1 / x_) * ld(t_x, i)

PLANS['log'] = (False, {'x': log__x})


@kernel
def log2__x(x, t_x, y_nd, ty_nd):
    x = flat(x)
    t_x = flat(t_x)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        x_ = ld(x, i)
        ty[i] = (1 / (x_ * 0.6931471805599453)) * ld(t_x, i)

PLANS['log2'] = (False, {'x': log2__x})


@kernel
def log10__x(x, t_x, y_nd, ty_nd):
    x = flat(x)
    t_x = flat(t_x)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        x_ = ld(x, i)
        ty[i] = (1 / (x_ * 2.302585092994046)) * ld(t_x, i)

PLANS['log10'] = (False, {'x': log10__x})


@kernel
def log1p__x(x, t_x, y_nd, ty_nd):
    x = flat(x)
    t_x = flat(t_x)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        x_ = ld(x, i)
        ty[i] = (1 / (1 + x_)) * ld(t_x, i)

PLANS['log1p'] = (False, {'x': log1p__x})


@kernel
def tan__x(x, t_x, y_nd, ty_nd):
    x = flat(x)
    t_x = flat(t_x)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        x_ = ld(x, i)
        y_ = y[i]
        ty[i] = (1 + y_ * y_) * ld(t_x, i)

PLANS['tan'] = (False, {'x': tan__x})


@kernel
def arcsin__x(x, t_x, y_nd, ty_nd):
    x = flat(x)
    t_x = flat(t_x)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        x_ = ld(x, i)
        ty[i] = (1 / np.sqrt(1 - x_ * x_)) * ld(t_x, i)

PLANS['arcsin'] = (False, {'x': arcsin__x})


@kernel
def arccos__x(x, t_x, y_nd, ty_nd):
    x = flat(x)
    t_x = flat(t_x)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        x_ = ld(x, i)
        ty[i] = (-1 / np.sqrt(1 - x_ * x_)) * ld(t_x, i)

PLANS['arccos'] = (False, {'x': arccos__x})


@kernel
def arctan__x(x, t_x, y_nd, ty_nd):
    x = flat(x)
    t_x = flat(t_x)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        x_ = ld(x, i)
        ty[i] = (1 / (1 + x_ * x_)) * ld(t_x, i)

PLANS['arctan'] = (False, {'x': arctan__x})


@kernel
def arctan2__a(a, b, t_a, y_nd, ty_nd):
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
def arctan2__b(a, b, t_b, y_nd, ty_nd):
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
def arctan2__ab(a, b, t_a, t_b, y_nd, ty_nd):
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

PLANS['arctan2'] = (False, {'a': arctan2__a, 'b': arctan2__b, 'ab': arctan2__ab})


@kernel
def hypot__a(a, b, t_a, y_nd, ty_nd):
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
def hypot__b(a, b, t_b, y_nd, ty_nd):
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
def hypot__ab(a, b, t_a, t_b, y_nd, ty_nd):
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

PLANS['hypot'] = (False, {'a': hypot__a, 'b': hypot__b, 'ab': hypot__ab})


@kernel
def tanh__x(x, t_x, y_nd, ty_nd):
    x = flat(x)
    t_x = flat(t_x)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        x_ = ld(x, i)
        y_ = y[i]
        ty[i] = (1 - y_ * y_) * ld(t_x, i)

PLANS['tanh'] = (False, {'x': tanh__x})


@kernel
def arcsinh__x(x, t_x, y_nd, ty_nd):
    x = flat(x)
    t_x = flat(t_x)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        x_ = ld(x, i)
        ty[i] = (1 / np.sqrt(x_ * x_ + 1)) * ld(t_x, i)

PLANS['arcsinh'] = (False, {'x': arcsinh__x})


@kernel
def arccosh__x(x, t_x, y_nd, ty_nd):
    x = flat(x)
    t_x = flat(t_x)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        x_ = ld(x, i)
        ty[i] = (1 / np.sqrt(x_ * x_ - 1)) * ld(t_x, i)

PLANS['arccosh'] = (False, {'x': arccosh__x})


@kernel
def arctanh__x(x, t_x, y_nd, ty_nd):
    x = flat(x)
    t_x = flat(t_x)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        x_ = ld(x, i)
        ty[i] = (1 / (1 - x_ * x_)) * ld(t_x, i)

PLANS['arctanh'] = (False, {'x': arctanh__x})


@kernel
def absolute__x(x, t_x, y_nd, ty_nd):
    x = flat(x)
    t_x = flat(t_x)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        x_ = ld(x, i)
        y_ = np.absolute(x_)
        y[i] = y_
        ty[i] = (np.sign(x_)) * ld(t_x, i)

PLANS['absolute'] = (True, {'x': absolute__x})


@kernel
def fabs__x(x, t_x, y_nd, ty_nd):
    x = flat(x)
    t_x = flat(t_x)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        x_ = ld(x, i)
        y_ = np.fabs(x_)
        y[i] = y_
        ty[i] = (np.sign(x_)) * ld(t_x, i)

PLANS['fabs'] = (True, {'x': fabs__x})


@kernel
def maximum__a(a, b, t_a, y_nd, ty_nd):
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
def maximum__b(a, b, t_b, y_nd, ty_nd):
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
def maximum__ab(a, b, t_a, t_b, y_nd, ty_nd):
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

PLANS['maximum'] = (True, {'a': maximum__a, 'b': maximum__b, 'ab': maximum__ab})


@kernel
def minimum__a(a, b, t_a, y_nd, ty_nd):
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
def minimum__b(a, b, t_b, y_nd, ty_nd):
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
def minimum__ab(a, b, t_a, t_b, y_nd, ty_nd):
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

PLANS['minimum'] = (True, {'a': minimum__a, 'b': minimum__b, 'ab': minimum__ab})


@kernel
def fmax__a(a, b, t_a, y_nd, ty_nd):
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
def fmax__b(a, b, t_b, y_nd, ty_nd):
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
def fmax__ab(a, b, t_a, t_b, y_nd, ty_nd):
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

PLANS['fmax'] = (False, {'a': fmax__a, 'b': fmax__b, 'ab': fmax__ab})


@kernel
def fmin__a(a, b, t_a, y_nd, ty_nd):
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
def fmin__b(a, b, t_b, y_nd, ty_nd):
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
def fmin__ab(a, b, t_a, t_b, y_nd, ty_nd):
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

PLANS['fmin'] = (False, {'a': fmin__a, 'b': fmin__b, 'ab': fmin__ab})


@kernel
def clip__a(a, a_min, a_max, t_a, y_nd, ty_nd):
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
def clip__a_min(a, a_min, a_max, t_a_min, y_nd, ty_nd):
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
def clip__a_max(a, a_min, a_max, t_a_max, y_nd, ty_nd):
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
def clip__aa_min(a, a_min, a_max, t_a, t_a_min, y_nd, ty_nd):
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
def clip__aa_max(a, a_min, a_max, t_a, t_a_max, y_nd, ty_nd):
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
def clip__a_mina_max(a, a_min, a_max, t_a_min, t_a_max, y_nd, ty_nd):
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
def clip__aa_mina_max(a, a_min, a_max, t_a, t_a_min, t_a_max, y_nd, ty_nd):
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

PLANS['clip'] = (False, {'a': clip__a, 'a_min': clip__a_min, 'a_max': clip__a_max, 'aa_min': clip__aa_min, 'aa_max': clip__aa_max, 'a_mina_max': clip__a_mina_max, 'aa_mina_max': clip__aa_mina_max})


@kernel
def where__a(c, a, b, t_a, y_nd, ty_nd):
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
def where__b(c, a, b, t_b, y_nd, ty_nd):
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
def where__ab(c, a, b, t_a, t_b, y_nd, ty_nd):
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

PLANS['where'] = (False, {'a': where__a, 'b': where__b, 'ab': where__ab})


@kernel
def relu__x(x, t_x, y_nd, ty_nd):
    x = flat(x)
    t_x = flat(t_x)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        x_ = ld(x, i)
        ty[i] = (x_ > 0) * ld(t_x, i)

PLANS['relu'] = (False, {'x': relu__x})


@kernel
def leaky_relu__x(x, negative_slope, t_x, y_nd, ty_nd):
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
def leaky_relu__negative_slope(x, negative_slope, t_negative_slope, y_nd, ty_nd):
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
def leaky_relu__xnegative_slope(x, negative_slope, t_x, t_negative_slope, y_nd, ty_nd):
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

PLANS['leaky_relu'] = (False, {'x': leaky_relu__x, 'negative_slope': leaky_relu__negative_slope, 'xnegative_slope': leaky_relu__xnegative_slope})


@kernel
def sigmoid__x(x, t_x, y_nd, ty_nd):
    x = flat(x)
    t_x = flat(t_x)
    y = y_nd.reshape(-1)
    ty = ty_nd.reshape(-1)
    for i in prange(ty.size):
        x_ = ld(x, i)
        y_ = y[i]
        ty[i] = (y_ * (1 - y_)) * ld(t_x, i)

PLANS['sigmoid'] = (False, {'x': sigmoid__x})
