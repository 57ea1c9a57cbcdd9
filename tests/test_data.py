"""dualnum.data: datasets, IDX files, search order, downloads (against a local HTTP server
on 127.0.0.1), and seeded, resumable batching."""
from __future__ import annotations

import gzip
import hashlib
import http.server
import os
import socket
import threading
import warnings
from pathlib import Path

import numpy as np
import pytest

import dualnum as dn
from dualnum import data
from dualnum.data import datasets as ds_mod

SHARED_MNIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"
STEMS = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
         "t10k-labels-idx1-ubyte")


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    """No test reads or writes the real cache, $DUALNUM_DATA or the network."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.delenv(data.DATA_ENV, raising=False)
    monkeypatch.delenv(data.MIRRORS_ENV, raising=False)


def make_idx_set(directory, n_train=60, n_test=40, size=8, *, test_only=False, gz=True,
                 seed=0):
    """Small MNIST-like IDX files: images whose mean brightness encodes the label."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    parts = [("t10k", n_test)] if test_only else [("train", n_train), ("t10k", n_test)]
    for prefix, n in parts:
        labels = (np.arange(n) % 10).astype(np.uint8)
        images = rng.integers(0, 20, (n, size, size)).astype(np.uint8) + labels[:, None, None] * 20
        suffix = ".gz" if gz else ""
        data.write_idx(directory / f"{prefix}-images-idx3-ubyte{suffix}", images)
        data.write_idx(directory / f"{prefix}-labels-idx1-ubyte{suffix}", labels)
    return directory


# ===================================================================== embedded sets
def test_digits_fixed_split_float32_normalised():
    a, b = data.digits(), data.digits()
    assert a.x_train.shape == (1437, 1, 8, 8) and a.x_test.shape == (360, 1, 8, 8)
    assert a.x_train.dtype == np.float32 and a.y_train.dtype == np.int64
    assert np.array_equal(a.x_test, b.x_test) and np.array_equal(a.y_train, b.y_train)
    assert abs(float(a.x_train.mean())) < 1e-4 and abs(float(a.x_train.std()) - 1) < 1e-3
    assert set(a.y_test.tolist()) == set(range(10)) and a.test_name == "test"
    raw = data.digits(normalize="none")
    assert raw.x_train.max() == 16 and raw.mean is None
    assert data.digits(dtype=np.float64).x_train.dtype == np.float64


def test_synthetic_sets_are_seeded():
    s1, s2 = data.spirals(200, 100, seed=3), data.spirals(200, 100, seed=3)
    assert np.array_equal(s1.x_train, s2.x_train) and s1.input_shape == (2,)
    assert not np.array_equal(s1.x_train, data.spirals(200, 100, seed=4).x_train)
    b = data.blobs(300, 90, centers=4, n_features=5)
    assert b.n_classes == 4 and b.input_shape == (5,)
    assert set(b.y_train.tolist()) == {0, 1, 2, 3}
    np.testing.assert_allclose(b.x_train.mean(axis=0), 0, atol=1e-5)


def test_stats_reuse_a_normalisation():
    a = data.blobs()
    b = data.blobs(stats=(a.mean + 1, a.std))
    np.testing.assert_allclose(b.x_test, a.x_test - 1 / a.std, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("call, match", [
    (lambda: data.load("cifar"), "unknown dataset 'cifar'"),
    (lambda: data.spirals(0), "n_train must be a positive integer"),
    (lambda: data.blobs(centers=1), "centers must be at least 2"),
    (lambda: data.digits(normalize="zscore"), "unknown normalize"),
])
def test_bad_arguments_raise_data_error(call, match):
    with pytest.raises(data.DataError, match=match):
        call()


# ===================================================================== batching
def test_loader_is_seeded_covers_each_epoch_and_resumes_anywhere():
    x, y = np.arange(50.0)[:, None], np.arange(50)
    a, b = data.Loader(x, y, 8, seed=1), data.Loader(x, y, 8, seed=1)
    assert len(a) == 6  # drop_last: every batch is full
    epochs_a = [[yb.tolist() for _, yb in a] for _ in range(3)]
    epochs_b = [[yb.tolist() for _, yb in b] for _ in range(3)]
    assert epochs_a == epochs_b and epochs_a[0] != epochs_a[1]
    for ep in epochs_a:
        flat = sum(ep, [])
        assert len(flat) == 48 and len(set(flat)) == 48
    stream = [b[1].tolist() for _, b in zip(range(18), data.Loader(x, y, 8, seed=1).stream())]
    assert stream == sum(epochs_a, [])
    later = data.Loader(x, y, 8, seed=1).stream(start=7)
    assert [next(later)[1].tolist() for _ in range(11)] == stream[7:]
    assert isinstance(a, dn.train.Batches)


def test_loader_feeds_fit():
    ds = data.blobs(200, 100)
    model = dn.nn.Linear(2, 3, rng=0)
    opt = dn.optim.SGD(dict(model.named_parameters()), lr=0.1)
    rng = np.random.default_rng(0)
    res = dn.train.fit(model, dn.cross_entropy, ds.batches(32, seed=0).stream(), steps=100,
                       optimizer=opt, rng=rng, n_directions=4,
                       eval_data=(ds.x_test, ds.y_test))
    assert res.eval_accuracy > 0.9


def test_loader_bad_input():
    x, y = np.zeros((10, 2)), np.zeros(10, np.int64)
    with pytest.raises(ValueError, match="batch size 11 is larger than the 10"):
        data.Loader(x, y, 11)
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        data.Loader(x, y, 0)
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        data.Loader(x, y, 2, seed=-1)


# ===================================================================== IDX files
@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32,
                                   np.float64])
@pytest.mark.parametrize("gz", [True, False])
def test_idx_round_trip(tmp_path, dtype, gz):
    arr = (np.arange(24) - 5).reshape(2, 3, 4).astype(dtype) if dtype != np.uint8 \
        else np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    path = tmp_path / ("a.idx.gz" if gz else "a.idx")
    data.write_idx(path, arr)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == gz
    out = data.read_idx(path)
    assert out.dtype == np.dtype(dtype) and np.array_equal(out, arr)


def _labels_bytes(values):
    return bytes([0, 0, 8, 1]) + len(values).to_bytes(4, "big") + bytes(values)


def test_idx_bad_magic(tmp_path):
    p = tmp_path / "bad"
    p.write_bytes(b"\x12\x34\x56\x78" + b"\0" * 20)
    with pytest.raises(data.IDXFormatError, match="bad magic number 0x12345678"):
        data.read_idx(p)


def test_idx_truncated_raw_and_gzip(tmp_path):
    full = _labels_bytes(list(range(10)))
    p = tmp_path / "labels"
    p.write_bytes(full[:-3])
    with pytest.raises(data.IDXFormatError, match="truncated: its header promises shape"):
        data.read_idx(p)
    p.write_bytes(full[:6])
    with pytest.raises(data.IDXFormatError, match="truncated inside its header"):
        data.read_idx(p)
    g = tmp_path / "labels.gz"
    blob = gzip.compress(full)
    g.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(data.IDXFormatError, match="gzip stream ends early"):
        data.read_idx(g)
    p.write_bytes(full + b"\0\0")
    with pytest.raises(data.IDXFormatError, match="2 bytes after"):
        data.read_idx(p)


def test_idx_wrong_kind(tmp_path):
    p = tmp_path / "labels"
    p.write_bytes(_labels_bytes([1, 2]))
    with pytest.raises(data.IDXFormatError, match="a 3-D array was expected"):
        data.read_idx(p, ndim=3)
    with pytest.raises(data.DataNotFoundError):
        data.read_idx(tmp_path / "missing")


# ===================================================================== finding files
def test_mnist_from_data_dir_standard_split(tmp_path):
    d = make_idx_set(tmp_path / "m")
    ds = data.mnist(d)
    assert ds.x_train.shape == (60, 1, 8, 8) and ds.x_test.shape == (40, 1, 8, 8)
    assert ds.test_name == "test" and "standard split" in ds.split
    assert ds.x_train.dtype == np.float32
    assert abs(float(ds.x_train.mean())) < 1e-4


def test_mnist_raw_files_in_named_subdirectory(tmp_path):
    make_idx_set(tmp_path / "root" / "mnist", gz=False)
    assert data.mnist(tmp_path / "root").x_train.shape[0] == 60


def test_mnist_test_files_only_split_and_say_so(tmp_path):
    d = make_idx_set(tmp_path / "m", n_test=50, test_only=True)
    ds = data.mnist(d)
    assert (len(ds.y_train), len(ds.y_test)) == (40, 10)
    assert ds.test_name == "held-out"
    assert "only MNIST's test files" in ds.split and "not MNIST's official" in ds.split
    again = data.mnist(d)
    assert np.array_equal(again.y_test, ds.y_test)  # fixed seed
    # The held-out images are not among the training images.
    raw = data.mnist(d, normalize="none")
    train_rows = {r.tobytes() for r in raw.x_train}
    assert not any(r.tobytes() in train_rows for r in raw.x_test)


@pytest.mark.skipif(not (SHARED_MNIST / "t10k-images-idx3-ubyte.gz").exists(),
                    reason="the shared MNIST test files are not here")
def test_real_mnist_test_files_give_8000_and_2000():
    ds = data.mnist(SHARED_MNIST, download=False)
    assert ds.x_train.shape == (8000, 1, 28, 28) and ds.x_test.shape == (2000, 1, 28, 28)
    assert ds.test_name == "held-out" and "8,000" in ds.split and "2,000" in ds.split


def test_search_order_data_dir_then_env_then_cache(tmp_path, monkeypatch):
    make_idx_set(tmp_path / "explicit", n_train=30)
    make_idx_set(tmp_path / "env" / "mnist", n_train=20)
    make_idx_set(data.cache_dir() / "mnist", n_train=10)
    assert len(data.mnist(tmp_path / "explicit", download=False).y_train) == 30
    assert len(data.mnist(download=False).y_train) == 10  # the cache
    monkeypatch.setenv(data.DATA_ENV, str(tmp_path / "env"))
    assert len(data.mnist(download=False).y_train) == 20
    assert len(data.mnist(tmp_path / "explicit", download=False).y_train) == 30
    empty = tmp_path / "empty"
    empty.mkdir()
    assert len(data.mnist(empty, download=False).y_train) == 20  # falls through


def test_missing_data_dir(tmp_path):
    with pytest.raises(data.DataNotFoundError, match="data directory .*nope does not exist"):
        data.mnist(tmp_path / "nope")
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(data.DataNotFoundError, match="is not a directory"):
        data.mnist(f)


def test_count_mismatch(tmp_path):
    d = make_idx_set(tmp_path / "m")
    data.write_idx(d / "t10k-labels-idx1-ubyte.gz", np.zeros(39, np.uint8))
    with pytest.raises(data.DataError, match="has 40 images but .* has 39 labels"):
        data.mnist(d)


def test_labels_out_of_range(tmp_path):
    d = make_idx_set(tmp_path / "m")
    labels = np.zeros(60, np.uint8)
    labels[17] = 12
    data.write_idx(d / "train-labels-idx1-ubyte.gz", labels)
    with pytest.raises(data.DataError, match="label 12 at index 17: labels out of range"):
        data.mnist(d)


def test_bad_idx_file_in_data_dir(tmp_path):
    d = make_idx_set(tmp_path / "m")
    (d / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(b"\x00\x00\x99\x03rest"))
    with pytest.raises(data.IDXFormatError, match="bad magic number"):
        data.mnist(d)


def test_another_datasets_files_are_refused(tmp_path, monkeypatch):
    d = make_idx_set(tmp_path / "m")
    sha = data.sha256_of(d / "t10k-labels-idx1-ubyte.gz")
    monkeypatch.setitem(ds_mod._KNOWN, sha, ("mnist", "t10k-labels-idx1-ubyte.gz"))
    with pytest.raises(data.DataError, match="is MNIST's t10k-labels-idx1-ubyte.gz, not "
                                             "Fashion-MNIST's"):
        data.fashion_mnist(d)


def _closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_offline_error_says_where_to_put_the_files(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    mirror = f"http://127.0.0.1:{_closed_port()}/"
    with pytest.raises(data.DownloadError) as info:
        data.mnist(empty, mirrors=[mirror])
    msg = str(info.value)
    assert "\n" not in msg and "offline" in msg
    for stem in STEMS:
        assert stem in msg
    assert str(empty / "mnist") in msg and str(data.cache_dir() / "mnist") in msg
    assert not any((empty / "mnist").glob("*"))  # nothing half-written
    with pytest.raises(data.DownloadError, match="downloading is off"):
        data.mnist(empty, download=False)


# ===================================================================== downloads
class _Server:
    """http.server on 127.0.0.1 serving ``files`` {path: bytes}; ``cut`` paths send half
    their bytes under the full Content-Length and drop the connection; ``flaky`` paths do
    that only on their first request."""

    def __init__(self):
        self.files, self.cut, self.flaky, self.hits = {}, set(), set(), {}
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                path = self.path
                server.hits[path] = server.hits.get(path, 0) + 1
                body = server.files.get(path)
                if body is None:
                    self.send_error(404)
                    return
                short = path in server.cut or (path in server.flaky
                                               and server.hits[path] == 1)
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2] if short else body)
                self.close_connection = True

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = _Server()
    yield s
    s.close()


def _serve_set(server, tmp_path, prefix="/good/"):
    src = make_idx_set(tmp_path / "src", n_train=30, n_test=20)
    sums = {}
    for f in sorted(src.iterdir()):
        body = f.read_bytes()
        server.files[prefix + f.name] = body
        sums[f.name] = hashlib.sha256(body).hexdigest()
    return sums


def _leftovers(directory):
    return [p.name for p in Path(directory).glob(".*")]


def test_download_verifies_and_loads(server, tmp_path):
    sums = _serve_set(server, tmp_path)
    dest = tmp_path / "dest"
    data.download("mnist", dest, files=sums, mirrors=[server.url + "/missing/",
                                                       server.url + "/good/"], backoff=0)
    assert sorted(p.name for p in dest.iterdir()) == sorted(sums)
    assert _leftovers(dest) == []
    ds = data.mnist(dest, download=False)
    assert len(ds.y_train) == 30


def test_download_through_mirror_env_into_cache(server, tmp_path, monkeypatch):
    sums = _serve_set(server, tmp_path)
    monkeypatch.setitem(data.FILES, "mnist", sums)
    monkeypatch.setenv(data.MIRRORS_ENV, server.url + "/good/")
    logs = []
    ds = data.mnist(log=logs.append)
    assert len(ds.y_train) == 30 and any("sha256 verified" in m for m in logs)
    assert (data.cache_dir() / "mnist" / "train-images-idx3-ubyte.gz").exists()
    assert ds.source == str(data.cache_dir() / "mnist")


def test_download_checksum_mismatch_keeps_nothing(server, tmp_path):
    server.files["/bad/labels.gz"] = b"corrupt bytes"
    dest = tmp_path / "dest" / "labels.gz"
    with pytest.raises(data.ChecksumError) as info:
        data.download_file([server.url + "/bad/labels.gz"], dest, "0" * 64, retries=2,
                           backoff=0)
    assert info.value.actual == hashlib.sha256(b"corrupt bytes").hexdigest()
    assert "checksum mismatch for labels.gz" in str(info.value)
    assert not dest.exists() and _leftovers(dest.parent) == []
    assert server.hits["/bad/labels.gz"] == 1  # a wrong file is not fetched again


def test_download_cut_off_part_way_keeps_nothing(server, tmp_path):
    body = os.urandom(50_000)
    server.files["/cut/f.gz"] = body
    server.cut.add("/cut/f.gz")
    dest = tmp_path / "dest" / "f.gz"
    with pytest.raises(data.DownloadError, match="cut off: connection closed after 25000 "
                                                 "of 50000 bytes") as info:
        data.download_file(server.url + "/cut/f.gz", dest,
                           hashlib.sha256(body).hexdigest(), retries=2, backoff=0)
    assert not info.value.offline
    assert not dest.exists() and _leftovers(dest.parent) == []


def test_download_retries_after_a_cut(server, tmp_path):
    body = os.urandom(30_000)
    server.files["/flaky/f.gz"] = body
    server.flaky.add("/flaky/f.gz")
    dest = tmp_path / "dest" / "f.gz"
    data.download_file(server.url + "/flaky/f.gz", dest, hashlib.sha256(body).hexdigest(),
                       retries=3, backoff=0)
    assert dest.read_bytes() == body and server.hits["/flaky/f.gz"] == 2
    assert _leftovers(dest.parent) == []


def test_download_falls_back_to_the_next_mirror(server, tmp_path):
    body = b"x" * 1000
    server.files["/b/f"] = body
    server.files["/a/f"] = b"y" * 1000  # a corrupt first mirror
    dest = tmp_path / "f"
    data.download_file([server.url + "/a/f", server.url + "/b/f"], dest,
                       hashlib.sha256(body).hexdigest(), backoff=0)
    assert dest.read_bytes() == body


def test_published_checksums_match_the_shared_test_files():
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        path = SHARED_MNIST / name
        if not path.exists():
            pytest.skip("the shared MNIST test files are not here")
        assert data.sha256_of(path) == data.FILES["mnist"][name]


# ===================================================================== hostile files
def _idx_header(code, shape):
    return bytes([0, 0, code, len(shape)]) + b"".join(int(n).to_bytes(4, "big")
                                                      for n in shape)


def test_gzip_bomb_is_refused_with_bounded_memory(tmp_path):
    """3 GB of zeros behind a valid (10000, 28, 28) header: only the 7.8 MB it declares
    (plus a small margin) are inflated, through the library and through the CLI."""
    from _bombs import gzip_bomb, peak_rss

    d = make_idx_set(tmp_path / "m", test_only=True)
    bomb = d / "t10k-images-idx3-ubyte.gz"
    gzip_bomb(bomb, _idx_header(8, (10000, 28, 28)), 3 << 30)
    peak, result = peak_rss(f"""
        from dualnum.data import read_idx, IDXFormatError
        try:
            read_idx({str(bomb)!r})
        except IDXFormatError as e:
            result = str(e)
    """)
    assert "has at least 65,536 bytes after the 7,840,000 bytes" in result
    assert peak < 400 << 20, f"peak RSS {peak / 2**20:.0f} MiB"
    peak, result = peak_rss(f"""
        from dualnum.cli import main
        result = main(["train", "--data", "mnist", "--data-dir", {str(d)!r}, "--out",
                       {str(tmp_path / "r")!r}, "--no-download"])
    """)
    assert result == 1 and peak < 400 << 20, f"peak RSS {peak / 2**20:.0f} MiB"


@pytest.mark.parametrize("shape, declared", [
    ((2**32 - 1,) * 3, "(4294967295, 4294967295, 4294967295), "
                       "79,228,162,458,924,105,385,300,197,375 bytes"),
    ((60000, 4096, 4096), "(60000, 4096, 4096), 1,006,632,960,000 bytes"),
])
def test_idx_header_declaring_too_much_is_refused_before_reading(tmp_path, shape, declared):
    p = tmp_path / "images-idx3-ubyte"
    p.write_bytes(_idx_header(8, shape) + b"\0" * 100)
    with pytest.raises(data.IDXFormatError, match="declares shape") as info:
        data.read_idx(p)
    assert declared in str(info.value) and "max_bytes" in str(info.value)


def test_idx_truncated_reports_the_right_byte_counts(tmp_path):
    p = tmp_path / "labels"
    p.write_bytes(_idx_header(0x0C, (1000,)) + b"\0" * 10)  # int32: 4,000 bytes declared
    with pytest.raises(data.IDXFormatError, match=r"shape \(1000,\) \(4,000 bytes of data\) "
                                                  r"but only 10 bytes follow"):
        data.read_idx(p)


def test_something_else_where_a_file_should_be(tmp_path):
    d = make_idx_set(tmp_path / "m", test_only=True)
    images = d / "t10k-images-idx3-ubyte.gz"
    images.unlink()
    images.mkdir()
    with pytest.raises(data.IDXFormatError, match="t10k-images-idx3-ubyte.gz is a directory, "
                                                  "not an IDX file"):
        data.mnist(d, download=False)
    images.rmdir()
    images.symlink_to(images)
    with pytest.raises(data.IDXFormatError, match="t10k-images-idx3-ubyte.gz is a symbolic "
                                                  "link loop"):
        data.mnist(d, download=False)
    images.unlink()
    images.symlink_to(tmp_path / "gone")
    with pytest.raises(data.IDXFormatError, match="is a broken symbolic link"):
        data.mnist(d, download=False)


@pytest.mark.parametrize("shape, match", [((5, 0, 0), "images of 0×0 pixels"),
                                          ((0, 8, 8), "holds no images")])
def test_empty_images_name_the_file(tmp_path, shape, match):
    d = make_idx_set(tmp_path / "m", test_only=True)
    data.write_idx(d / "t10k-images-idx3-ubyte.gz", np.zeros(shape, np.uint8))
    data.write_idx(d / "t10k-labels-idx1-ubyte.gz", np.zeros(shape[0], np.uint8))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # and no NumPy warnings on the way
        with pytest.raises(data.DataError, match=match) as info:
            data.mnist(d, download=False)
    assert "t10k-images-idx3-ubyte.gz" in str(info.value)


def test_unpacked_copies_of_another_datasets_files_are_refused(tmp_path, monkeypatch):
    d = make_idx_set(tmp_path / "m", gz=False)
    f = d / "t10k-labels-idx1-ubyte"
    monkeypatch.setattr(ds_mod, "_RAW_SIZES", {f.stat().st_size})
    monkeypatch.setitem(ds_mod._KNOWN_RAW, data.sha256_of(f),
                        ("mnist", "t10k-labels-idx1-ubyte"))
    with pytest.raises(data.DataError, match="t10k-labels-idx1-ubyte is MNIST's "
                                             "t10k-labels-idx1-ubyte, not Fashion-MNIST's"):
        data.fashion_mnist(d, download=False)


def test_real_unpacked_mnist_is_not_fashion_mnist(tmp_path):
    if not (SHARED_MNIST / "t10k-labels-idx1-ubyte.gz").exists():
        pytest.skip("the shared MNIST test files are not here")
    d = tmp_path / "fashion"
    d.mkdir()
    for stem in STEMS[2:]:
        (d / stem).write_bytes(gzip.decompress((SHARED_MNIST / f"{stem}.gz").read_bytes()))
    with pytest.raises(data.DataError, match="is MNIST's t10k-"):
        data.fashion_mnist(d, download=False)
    assert len(data.mnist(d, download=False).y_test) == 2000


def test_an_unwritable_download_directory_says_what_to_do(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("DUALNUM_CACHE_DIR", str(blocker / "cache"))
    monkeypatch.setenv(data.MIRRORS_ENV, f"http://127.0.0.1:{_closed_port()}/")
    with pytest.raises(data.DownloadError) as info:
        data.mnist()
    msg = str(info.value)
    assert f"cannot write to {blocker / 'cache' / 'mnist'}" in msg
    assert "data_dir=DIR" in msg and "writable directory" in msg and "\n" not in msg
    with data.errors.argument_names({"data_dir=DIR": "--data-dir DIR"}):
        with pytest.raises(data.DownloadError, match="Pass --data-dir DIR"):
            data.mnist()
