"""Layers only point down. import-linter (`lint-imports`, run by CI) checks the packages; the
two single modules at the top level, which it sees only from outside, are checked here."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# What each top-level module may import of ours: the layers below it.
ALLOWED = {
    "settings.py": {"care", "locales"},
    "bot.py": {"care", "locales", "settings", "storage", "service", "toolkit", "conversations",
               "handlers", "workers"},
}
OURS = {"bot", "settings", "care", "locales", "storage", "service", "toolkit", "conversations",
        "handlers", "workers", "sandbox", "benchmarks", "tests"}  # fmt: skip


def imported(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found & OURS


@pytest.mark.parametrize("module", sorted(ALLOWED))
def test_top_level_modules_import_only_layers_below(module: str) -> None:
    assert imported(ROOT / module) <= ALLOWED[module]
