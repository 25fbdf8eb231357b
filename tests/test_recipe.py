"""The training recipe (training/recipes/default.sh) parses, and every stage it lists has the
function that runs it (a stage listed without one fails only when someone runs it)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

RECIPE = Path(__file__).resolve().parents[1] / "training" / "recipes" / "default.sh"


def _stages(text: str, array: str) -> list[str]:
    found = re.search(rf"local {array}=\(([^)]*)\)", text)
    assert found, f"no `local {array}=(...)` in {RECIPE}"
    return found.group(1).split()


def test_every_stage_has_its_function_and_its_case():
    text = RECIPE.read_text()
    subprocess.run(["bash", "-n", str(RECIPE)], check=True)
    stages = _stages(text, "all") + _stages(text, "next")
    assert len(stages) == len(set(stages)) and "lm-kits-more" in stages
    case = re.search(r"case \$s in(.*?)\)\n", text, re.S)
    assert case
    listed = {name.strip() for name in case.group(1).replace("\\", " ").split("|")}
    for stage in stages:
        assert re.search(rf"^run_{stage.replace('-', '_')}\(\) \{{", text, re.M), stage
        assert stage in listed, f"{stage} is not in main's case"
