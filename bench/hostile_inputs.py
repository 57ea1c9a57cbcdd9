"""Peak memory of dualnum refusing hostile files: a gzip bomb in place of an IDX file and a
checkpoint with a huge member, each a few MB on disk. Each case runs in a fresh process;
its peak is Linux's VmHWM (the process's own high-water mark).

    python bench/hostile_inputs.py [--gigabytes 3] [--compare-with DIR]

``--compare-with DIR`` also runs each case with the dualnum source tree in DIR (an older
checkout, say), at a size that machine can afford (``--old-gigabytes``, default 0.25).
"""
from __future__ import annotations

import argparse
import datetime
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from _bombs import checkpoint_with_member, gzip_bomb, peak_rss  # noqa: E402

from _common import cpu_model  # noqa: E402

_IMAGES = bytes([0, 0, 8, 3]) + (10000).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2


def cases(tmp, gigabytes):
    size = int(gigabytes * (1 << 30))
    gz = tmp / f"t10k-images-idx3-ubyte-{gigabytes}.gz"
    gzip_bomb(gz, _IMAGES, size)
    ck = tmp / f"checkpoint-{gigabytes}.npz"
    checkpoint_with_member(ck, "param.1.weight", (size // 4,),
                           config={"data": "blobs", "model": "mlp"})
    return [
        (f"IDX gzip bomb, {gigabytes} GiB inflated ({gz.stat().st_size:,} bytes on disk): "
         f"dualnum.data.read_idx", f"""
from dualnum.data import read_idx
try:
    read_idx({str(gz)!r})
except ValueError as e:
    result = type(e).__name__
"""),
        (f"checkpoint member of {gigabytes} GiB ({ck.stat().st_size:,} bytes on disk): "
         f"dualnum eval", f"""
from dualnum.cli import main
result = main(["eval", "--checkpoint", {str(ck)!r}])
"""),
        ("baseline: import dualnum.cli", "import dualnum.cli\nresult = 0"),
    ]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--gigabytes", type=float, default=3.0)
    p.add_argument("--compare-with", metavar="DIR")
    p.add_argument("--old-gigabytes", type=float, default=0.25)
    args = p.parse_args()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, cwd=HERE).stdout.strip()
    print(f"- date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC")
    print(f"- machine: {cpu_model()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}; git {commit}")
    print("\n| case | code | result | peak RSS |\n|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        runs = [("this tree", None, args.gigabytes)]
        if args.compare_with:
            runs.append((args.compare_with, args.compare_with, args.old_gigabytes))
        for label, path, gigabytes in runs:
            env = None if path is None else dict(os.environ, PYTHONPATH=path)
            for name, code in cases(tmp, gigabytes):
                peak, result = peak_rss(code, env=env, cwd=tmp)
                print(f"| {name} | {label} | {result} | {peak / 2**20:,.0f} MiB |")


if __name__ == "__main__":
    main()
