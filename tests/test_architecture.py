import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_architecture_map_lists_every_module():
    text = (ROOT / "ARCHITECTURE.md").read_text()
    listed = set(re.findall(r"`(mmmcal/[\w/]+\.py)`", text)) - {"mmmcal/__init__.py"}
    actual = {
        str(p.relative_to(ROOT)) for p in (ROOT / "mmmcal").rglob("*.py") if p.name != "__init__.py"
    }
    assert listed == actual


def test_only_model_module_constructs_pymc_marketing_mmm():
    offenders = [
        p.name
        for p in (ROOT / "mmmcal").rglob("*.py")
        if p.name != "builder.py" and re.search(r"multidimensional import|\bMMM\(", p.read_text())
    ]
    assert offenders == []
