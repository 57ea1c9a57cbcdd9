"""dualnum.checkpoint: every member is checked (name, size, .npy header) before any
array is read, so hostile files are refused with bounded memory and one-line messages."""
from __future__ import annotations

import io
import math
import os
import zipfile

import numpy as np
import pytest

import dualnum as dn
from dualnum import checkpoint
from dualnum.checkpoint import CheckpointError

from _bombs import checkpoint_with_member, npy_header, peak_rss


def _good(path, **kw):
    model = dn.nn.Linear(3, 2, rng=0)
    opt = dn.optim.SGD(dict(model.named_parameters()), lr=0.1, momentum=0.9)
    opt.step({"weight": np.ones((2, 3), np.float32), "bias": np.ones(2, np.float32)})
    checkpoint.save(path, model=model, optimizer=opt, rng=np.random.default_rng(0), step=4,
                    config={"lr": 0.1}, **kw)
    return model


def _rewrite(path, change):
    """Rewrite the archive with ``change({name: bytes})`` applied to its members."""
    with zipfile.ZipFile(path) as z:
        members = {i.filename: z.read(i) for i in z.infolist()}
    members = change(members)
    with zipfile.ZipFile(path, "w") as z:
        for name, blob in members.items():
            z.writestr(name, blob)


def _npy(value):
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.asarray(value), allow_pickle=True)
    return buf.getvalue()


def test_round_trip_with_meta_and_member_shapes(tmp_path):
    path = tmp_path / "c.npz"
    model = _good(path, meta={"test_split": "held-out"})
    ck = checkpoint.load(path, expect={k: p.shape for k, p in model.named_parameters()})
    assert ck.meta == {"test_split": "held-out"} and ck.step == 4
    assert ck.members["param.weight"] == ((2, 3), np.dtype("float32"))
    info = checkpoint.peek(path)
    assert info.params == {} and info.config == {"lr": 0.1} and info.step == 4
    assert info.members == ck.members


def test_a_3_gb_member_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "bomb.npz"
    checkpoint_with_member(path, "param.0.weight", (800_000_000,))  # 3.2 GB of float32
    assert path.stat().st_size < 8 << 20
    peak, result = peak_rss(f"""
        from dualnum import checkpoint
        out = []
        for kw in ({{}}, {{"expect": {{"0.weight": (10, 64)}}, "max_bytes": float("inf")}}):
            try:
                checkpoint.load({str(path)!r}, **kw)
            except checkpoint.CheckpointError as e:
                out.append(str(e))
        out.append(checkpoint.peek({str(path)!r}).members["param.0.weight"][0])
        result = out
    """)
    assert "more than 1,024.0 MiB of arrays" in result[0] and "3,051.8 MiB" in result[0]
    assert "max_bytes=" in result[0]
    assert "is from another model: parameter 0.weight has shape (800000000,)" in result[1]
    assert result[2] == [800_000_000]
    assert peak < 400 << 20, f"peak RSS {peak / 2**20:.0f} MiB"


def test_a_lying_npy_header_is_corrupt(tmp_path):
    path = tmp_path / "c.npz"
    _good(path)

    def lie(members):
        body = members["param.weight.npy"]
        members["param.weight.npy"] = npy_header((10**6, 3)) + body[128:]
        return members

    _rewrite(path, lie)
    with pytest.raises(CheckpointError, match=r"member 'param.weight.npy' declares shape "
                                              r"\(1000000, 3\)"):
        checkpoint.load(path)


@pytest.mark.parametrize("name, value, match", [
    ("param.obj", np.array([{}], dtype=object), "dtype object; a dualnum checkpoint holds "
                                                "plain numbers and strings only"),
    ("param.bad", np.zeros(3, np.int64), "parameter bad has dtype int64"),
    ("optim.momentum_buffer.weight", np.zeros((7, 7), np.float32),
     "optimizer state momentum_buffer.weight has shape (7, 7), which no parameter has"),
    ("config", np.array("x" * (2 << 20)), "entry 'config' is not a string of at most"),
    ("step", np.array("seven"), "entry 'step' is not a number"),
])
def test_bad_members(tmp_path, name, value, match):
    path = tmp_path / "c.npz"
    _good(path)

    def add(members):
        members[f"{name}.npy"] = _npy(value)
        return members

    _rewrite(path, add)
    with pytest.raises(CheckpointError, match=match.replace("(", r"\(").replace(")", r"\)")) \
            as info:
        checkpoint.load(path)
    assert "allow_pickle" not in str(info.value)


def test_unexpected_members_and_random_bytes(tmp_path):
    path = tmp_path / "c.npz"
    _good(path)
    _rewrite(path, lambda m: {**m, "../../etc/passwd": b"x"})
    with pytest.raises(CheckpointError, match="unexpected member '../../etc/passwd'"):
        checkpoint.load(path)
    for blob in (os.urandom(5000), b"", b"PK\x03\x04" + os.urandom(100)):
        path.write_bytes(blob)
        with pytest.raises(CheckpointError, match="not a readable checkpoint") as info:
            checkpoint.load(path)
        assert "allow_pickle" not in str(info.value) and "\n" not in str(info.value)
    with pytest.raises(CheckpointError, match="is a directory"):
        checkpoint.load(tmp_path)


@pytest.mark.parametrize("config, match", [
    ("null", "its config is a JSON null, not an object"),
    ("[1, 2]", "its config is a JSON list, not an object"),
    ("{not json", "its config is not valid JSON"),
])
def test_crafted_configs(tmp_path, config, match):
    path = tmp_path / "c.npz"
    _good(path)
    _rewrite(path, lambda m: {**m, "config.npy": _npy(np.array(config))})
    with pytest.raises(CheckpointError, match=match):
        checkpoint.peek(path)


def test_truncated_member_data(tmp_path):
    path = tmp_path / "c.npz"
    model = dn.nn.Linear(300, 200, rng=0)
    checkpoint.save(path, model=model, step=1)
    blob = path.read_bytes()
    with zipfile.ZipFile(path) as z:
        info = z.getinfo("param.weight.npy")
    # Damage the middle of the weight's data, leaving the directory intact.
    start = info.header_offset + 30 + len(info.filename) + len(info.extra) + 500
    path.write_bytes(blob[:start] + bytes(1000) + blob[start + 1000:])
    with pytest.raises(CheckpointError, match="corrupt or truncated"):
        checkpoint.load(path)
    assert math.isfinite(checkpoint.peek(path).step)

