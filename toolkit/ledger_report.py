"""Ledger problems and import plans in the reader's language: for the chat and the CLI."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping

from care.children import Category
from care.ledger import Problem
from care.roles import Gender
from locales import Translator, labels
from storage.ledger import ImportPlan

SHOWN_PROBLEMS = 15


def _param(name: str, value: object, t: Translator) -> str:
    if isinstance(value, list | tuple):
        return "、".join(str(v) for v in value)
    if name == "expected" and value in set(Gender):
        return t(labels.GENDER[Gender(str(value))])
    if name == "category" and value in set(Category):
        return t(labels.CATEGORY[Category(str(value))])
    return str(value)


def describe(problem: Problem, t: Translator) -> str:
    params: Mapping[str, str] = {k: _param(k, v, t) for k, v in problem.params.items()}
    text = t(labels.PROBLEM[problem.code], **params)
    if problem.row is None:
        return text
    return t("ledger.at", row=problem.row, column=problem.column or "", problem=text)


def summary(plan: ImportPlan, t: Translator, *, file_name: str, limit: int | None) -> str:
    lines = [
        t("ledger.summary", file=file_name, create=len(plan.create), update=len(plan.update),
          unchanged=plan.unchanged, rejected=plan.rejected),
    ]  # fmt: skip
    shown = plan.problems if limit is None else plan.problems[:limit]
    if shown:
        lines += ["", t("ledger.problems")] + [f"• {describe(p, t)}" for p in shown]
    if len(shown) < len(plan.problems):
        lines.append(t("ledger.more_problems", count=len(plan.problems) - len(shown)))
    return "\n".join(lines)


def problems_csv(plan: ImportPlan, t: Translator) -> bytes:
    """Every problem, row by row, for a clerk to work through (UTF-8 with BOM for Excel)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow([t("ledger.csv_row"), t("ledger.csv_column"), t("ledger.csv_problem")])
    for problem in plan.problems:
        params = {k: _param(k, v, t) for k, v in problem.params.items()}
        writer.writerow(
            [problem.row or "", problem.column or "", t(labels.PROBLEM[problem.code], **params)]
        )
    return out.getvalue().encode("utf-8-sig")
