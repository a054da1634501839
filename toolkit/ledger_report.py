"""Ledger problems and import plans in the reader's language: for the chat and the CLI."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping

from care import formulas
from care.children import Category
from care.closing import ClosingReason
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
    if name == "reason" and value in set(ClosingReason):
        return t(labels.CLOSING_REASON[ClosingReason(str(value))])
    return str(value)


def describe(problem: Problem, t: Translator) -> str:
    params: Mapping[str, str] = {k: _param(k, v, t) for k, v in problem.params.items()}
    text = t(labels.PROBLEM[problem.code], **params)
    if problem.row is None:
        return text
    return t("ledger.at", row=problem.row, column=problem.column or "", problem=text)


def refusal(plan: ImportPlan, t: Translator) -> str:
    """Why a file was refused as a whole (too large, not a ledger, columns missing): one line,
    two at most (columns both missing and repeated)."""
    return "\n".join(describe(p, t) for p in plan.problems if p.row is None)


def summary(plan: ImportPlan, t: Translator, *, file_name: str, limit: int | None) -> str:
    """The dry run: counts, then the problems (rows rejected) and the warnings (cells to check,
    rows accepted), `limit` lines of them at most."""
    lines = [
        t("ledger.summary", file=file_name, create=len(plan.create), update=len(plan.update),
          unchanged=plan.unchanged, rejected=plan.rejected),
    ]  # fmt: skip
    if plan.close:  # the rows of children past the age limit whose records close
        lines += ["", t.n("ledger.closings", len(plan.close), count=len(plan.close))]
        closing = plan.close if limit is None else plan.close[:limit]
        lines += [f"• {describe(c.problem, t)}" for c in closing]
        if len(closing) < len(plan.close):
            more = len(plan.close) - len(closing)
            lines.append(t.n("ledger.more_closings", more, count=more))
    shown = plan.problems if limit is None else plan.problems[:limit]
    if shown:
        lines += ["", t("ledger.problems")] + [f"• {describe(p, t)}" for p in shown]
    room = None if limit is None else limit - len(shown)
    warned = plan.warnings if room is None else plan.warnings[:room]
    if warned:
        lines += ["", t("ledger.warnings")] + [f"• {describe(p, t)}" for p in warned]
    hidden = len(plan.problems) + len(plan.warnings) - len(shown) - len(warned)
    if hidden:
        lines.append(t.n("ledger.more_problems", hidden, count=hidden))
    return "\n".join(lines)


def problems_csv(plan: ImportPlan, t: Translator) -> bytes:
    """Every problem, then every warning, then every record to close, row by row, for a clerk
    to work through (UTF-8 with BOM for Excel; a text that Excel would run as a formula gets a
    leading apostrophe)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow([t("ledger.csv_row"), t("ledger.csv_column"), t("ledger.csv_problem")])
    for problem in [*plan.problems, *plan.warnings]:
        params = {k: _param(k, v, t) for k, v in problem.params.items()}
        text = t(labels.PROBLEM[problem.code], **params)
        writer.writerow([problem.row or "", problem.column or "", formulas.csv_text(text)])
    for closing in plan.close:
        params = {k: _param(k, v, t) for k, v in closing.problem.params.items()}
        text = t("ledger.closes", problem=t(labels.PROBLEM[closing.problem.code], **params))
        writer.writerow([closing.problem.row or "", closing.problem.column or "",
                         formulas.csv_text(text)])  # fmt: skip
    return out.getvalue().encode("utf-8-sig")
