"""The documentation stays true to the code: every setting documented, every link alive."""

from __future__ import annotations

import re
from enum import Enum
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from agora.platform.settings import DEFAULT_SECRET, Settings

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DOCUMENTS = [README, *sorted((ROOT / "docs").rglob("*.md"))]
_TABLE_SETTING = re.compile(r"^\| `(AGORA_[A-Z0-9_]+)` \|", re.MULTILINE)
_TABLE_ROW = re.compile(r"^\| `(AGORA_[A-Z0-9_]+)` \| ([^|]*) \|", re.MULTILINE)
_LINK = re.compile(r"\]\(([^)\s]+)\)")


def test_readme_documents_every_setting_and_no_other() -> None:
    documented = set(_TABLE_SETTING.findall(README.read_text(encoding="utf-8")))
    actual = {f"AGORA_{name.upper()}" for name in Settings.model_fields}

    assert sorted(actual - documented) == [], "settings missing from the README table"
    assert sorted(documented - actual) == [], "README documents settings that do not exist"


def _shown(value: Any) -> str | None:
    """How the README shows a default, or None when it describes it in words."""
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if value is None or value in ([], DEFAULT_SECRET):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return str(value.value)
    return str(value)


def test_readme_shows_the_real_default_of_every_setting() -> None:
    cells = dict(_TABLE_ROW.findall(README.read_text(encoding="utf-8")))
    wrong = {}
    for name, field in Settings.model_fields.items():
        default = field.get_default(call_default_factory=True)
        shown = _shown(default)
        cell = cells.get(f"AGORA_{name.upper()}", "")
        if shown is not None and f"`{shown}`" not in cell:
            wrong[f"AGORA_{name.upper()}"] = (shown, cell)

    assert wrong == {}


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_point_to_existing_files(document: Path) -> None:
    broken = []
    for target in _LINK.findall(document.read_text(encoding="utf-8")):
        if target.startswith(("http://", "https://", "mailto:", "#")):
            continue
        path = (document.parent / target.split("#", 1)[0]).resolve()
        if not path.exists():
            broken.append(target)

    assert broken == []


def test_every_test_the_security_document_cites_exists() -> None:
    """docs/security.md maps each claim to a test: a renamed or deleted test breaks it."""
    cited = set(re.findall(r"\btest_[a-z0-9_]+", (ROOT / "docs" / "security.md").read_text()))
    defined: set[str] = set()
    for path in (ROOT / "tests").rglob("*.py"):
        defined.update(re.findall(r"def (test_[a-z0-9_]+)", path.read_text()))
        defined.add(path.stem)  # a test module may be cited by its name
    assert cited, "docs/security.md cites no test"
    assert sorted(cited - defined) == []
