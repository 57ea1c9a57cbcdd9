"""The forward-gradient recipes of ``dualnum train``: the defaults per dataset and model,
what a config records, the checks that involve several settings, and that the default
MLP recipe computes the gradient itself (activity perturbation, projection onto as many
basis directions as the layers are wide)."""
from __future__ import annotations

import json

import numpy as np
import pytest

import dualnum as dn
from dualnum.run.settings import SettingError, resolve

from test_cli import FAST, assert_one_line_error, run


@pytest.mark.parametrize("given, expect", [
    ({}, dict(model="mlp", estimator="activity", directions=64, distribution="normal",
              combination="projection", local_losses=False, optimizer="adam", lr=0.001)),
    ({"data": "mnist"}, dict(estimator="activity", directions=64, combination="projection",
                             local_losses=False, optimizer="adam", lr=0.003)),
    ({"data": "mnist", "model": "cnn"},
     dict(estimator="activity", directions=64, combination="projection", local_losses=True,
          optimizer="adam", lr=0.003)),
    ({"hidden": 200}, dict(directions=64)),  # the same cost per layer at any width
    ({"data": "mnist", "estimator": "weight"},
     dict(directions=64, distribution="outer", combination="mean", local_losses=False,
          optimizer="sgd", lr=0.005)),
    ({"data": "mnist", "model": "cnn", "gradient": "exact"}, dict(local_losses=False)),
])
def test_defaults_follow_the_dataset_and_model(given, expect):
    cfg = resolve(given)
    assert {k: cfg[k] for k in expect} == expect


def test_a_checkpoint_from_before_the_estimator_settings_keeps_weight_perturbation():
    old = {"data": "mnist", "gradient": "forward", "directions": 64, "distribution": "outer",
           "optimizer": "sgd", "lr": 0.005}
    cfg = resolve({}, base=old, where="ckpt.npz")
    assert (cfg["estimator"], cfg["combination"], cfg["local_losses"]) == \
        ("weight", "mean", False)


@pytest.mark.parametrize("given, fragments", [
    ({"distribution": "outer"}, ("distribution outer", "estimator activity")),
    ({"chunk_size": 8}, ("chunk_size", "estimator activity")),
    ({"local_losses": "yes"}, ("local_losses", "true or false")),
])
def test_settings_that_do_not_combine_are_refused(given, fragments):
    with pytest.raises(SettingError) as e:
        resolve(given)
    for f in fragments:
        assert f in str(e.value)


def test_flags_take_yes_and_no(tmp_path, capsys):
    code, _, err = run(capsys, "train", *FAST, "--steps", 2, "--local-losses", "maybe",
                       "--out", tmp_path / "a")
    assert_one_line_error(code, err, "--local-losses", "'maybe' is not yes or no", status=2)
    code, _, err = run(capsys, "train", *FAST, "--steps", 2, "--local-losses", "yes",
                       "--out", tmp_path / "b")
    assert code == 0, err
    summary = json.loads((tmp_path / "b" / "summary.json").read_text())
    assert summary["config"]["local_losses"] is True
    assert any("Ren" in r for r in summary["references"])


def test_the_cnn_recipe_trains_with_local_heads_and_its_checkpoint_evaluates(tmp_path,
                                                                               capsys):
    out = tmp_path / "c"
    code, stdout, err = run(capsys, "train", "--data", "digits", "--model", "cnn",
                            "--steps", 3, "--eval-every", 0, "--out", out)
    assert code == 0, err
    assert "activity perturbation" in stdout and "local losses" in stdout
    summary = json.loads((out / "summary.json").read_text())
    cfg = summary["config"]
    assert (cfg["estimator"], cfg["combination"], cfg["local_losses"]) == \
        ("activity", "projection", True)
    names = set(np.load(out / "checkpoint.npz").files)
    assert any("head" in n for n in names), sorted(names)
    code, stdout, err = run(capsys, "eval", "--checkpoint", out, "--json")
    assert code == 0, err
    assert json.loads(stdout)["test_accuracy"] == pytest.approx(summary["test_accuracy"])


def test_the_default_mlp_recipe_is_the_exact_gradient():
    """K = 64 basis directions per layer span the hidden layer (64) and the output (10):
    the projection is then ∇L itself, not an estimate."""
    ds = dn.data.digits()
    model = dn.models.build_model("mlp", ds.input_shape, ds.n_classes, rng=0,
                                  dtype=np.float64)
    params = dict(model.named_parameters())
    x, y = ds.x_train[:32].astype(np.float64), ds.y_train[:32]
    from dualnum.run.estimators import build

    est = build(resolve({}))

    def apply(p, xb):
        return dn.nn.functional_call(model, p, xb)

    loss, g = est.estimate(apply, params, x, y, dn.cross_entropy, np.random.default_rng(0))
    exact = dn.grad(lambda p: dn.cross_entropy(apply(p, x), y))(params)
    for k in params:
        np.testing.assert_allclose(g[k], exact[k], rtol=1e-9, atol=1e-12)
    assert float(loss) == pytest.approx(float(dn.cross_entropy(apply(params, x), y)))
