"""Every example runs (with --quick, as CI runs it), and every code block in the docs is
a doctest, so the suite runs it and checks its output."""
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Files starting with "_" are modules the examples share, not examples.
EXAMPLES = sorted(p for p in (ROOT / "examples").glob("*.py") if not p.name.startswith("_"))
DOCS = [ROOT / "README.md"] + sorted((ROOT / "docs").glob("*.md"))


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_example_runs_quick(script, tmp_path):
    out = subprocess.run([sys.executable, str(script), "--quick"], capture_output=True,
                         text=True, timeout=300, cwd=tmp_path)
    assert out.returncode == 0, f"{script.name} failed:\n{out.stdout}\n{out.stderr}"
    assert out.stdout.strip(), f"{script.name} printed nothing"


def test_the_teaching_examples_exist():
    names = {p.name for p in EXAMPLES}
    assert {"scalar_derivative.py", "traced_network.py", "jacobian_columns.py",
            "finite_differences.py", "forward_gradient_variance.py"} <= names


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_python_block_is_a_doctest(doc):
    """A ```python block without >>> prompts would never run; a doctest that ends at
    the closing fence would compare the fence as expected output."""
    blocks = re.findall(r"```python\n(.*?)```", doc.read_text(), flags=re.S)
    for block in blocks:
        assert block.lstrip().startswith(">>>"), f"{doc.name}: a python block is not a " \
                                                 f"doctest:\n{block[:200]}"
        assert block.endswith("\n\n"), f"{doc.name}: end the doctest with a blank line " \
                                       f"before the fence:\n{block[-200:]}"


def test_the_tutorial_is_collected_and_linked():
    cfg = (ROOT / "setup.cfg").read_text()
    assert "--doctest-glob=*.md" in cfg  # so `pytest ... docs` runs docs/*.md
    readme = (ROOT / "README.md").read_text()
    top = readme.split("## Two commands")[0]
    assert "docs/forward-mode.md" in top, "the README must point newcomers to the tutorial"
    tutorial = (ROOT / "docs" / "forward-mode.md").read_text()
    assert tutorial.count("```python") >= 10
    for topic in ("ε² = 0", "dn.trace", "Jacobian", "batched", "reverse mode",
                  "unbiased", "hypothesis"):
        assert topic in tutorial, topic
