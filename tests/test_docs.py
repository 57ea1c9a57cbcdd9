"""Docs that are generated from the code must match it."""
import subprocess
import sys
from pathlib import Path

from dualnum import _coverage

ROOT = Path(__file__).resolve().parent.parent


def test_readme_coverage_table_is_fresh():
    text = _coverage.README.read_text()
    assert _coverage.updated(text) == text, \
        "README.md's op coverage table is stale: run python -m dualnum._coverage"


def test_readme_opens_with_the_two_commands():
    text = (ROOT / "README.md").read_text()
    blocks = [b.split("```", 1)[0].strip() for b in text.split("```sh\n")[1:3]]
    assert blocks[0] == "pip install . && dualnum train"
    ci = (ROOT / ".ci" / "run").read_text()
    first, second = ci.find("\n" + blocks[0] + "\n"), ci.find("\n" + blocks[1] + "\n")
    assert first != -1 and second != -1, ".ci/run must run the README's two commands exactly"
    assert first < second, ".ci/run must run the README's two commands in order"


def test_quickstart_example_runs():
    out = subprocess.run([sys.executable, str(ROOT / "examples" / "quickstart.py"), "--quick"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "agrees with finite differences" in out.stdout


def test_atomic_write_keeps_permissions_and_leaves_no_temp_files(tmp_path):
    import os

    from dualnum._files import atomic_write

    p = tmp_path / "f.txt"
    p.write_text("old")
    os.chmod(p, 0o640)
    atomic_write(p, lambda f: f.write("new"), mode="w")
    assert p.read_text() == "new" and (os.stat(p).st_mode & 0o777) == 0o640

    def fail(f):
        f.write("half")
        raise RuntimeError("interrupted")

    try:
        atomic_write(p, fail, mode="w")
    except RuntimeError:
        pass
    assert p.read_text() == "new" and sorted(os.listdir(tmp_path)) == ["f.txt"]
