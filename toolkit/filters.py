"""What a filtered list shows, said in its header (`/children`, `/overdue`): the line naming
its active filters and the button that clears them. A filter never hides: whatever narrows a
list is named over it, so a village chosen before a colour is still seen after it."""

from __future__ import annotations

from care.children import Category, Colour
from locales import Translator, labels


def describe(
    t: Translator,
    *,
    village: str | None = None,
    category: Category | None = None,
    colour: Colour | None = None,
) -> str | None:
    """The line "🔎 Filtered: 🏘 东村 · 🟡 yellow (medium risk)", or None when nothing is
    filtered. `village` is the village's path (its last part is shown)."""
    parts = []
    if village is not None:
        parts.append(f"🏘 {village.rsplit('/', 1)[-1]}")
    if category is not None:
        parts.append(f"📋 {t(labels.CATEGORY[category])}")
    if colour is not None:
        parts.append(f"{labels.COLOUR_DOT[colour]} {t(labels.COLOUR[colour])}")
    return t("filters.active", filters=" · ".join(parts)) if parts else None


def clear_button(t: Translator, data: str) -> tuple[str, str]:
    """The "✖ Clear filters" button, to `data`: the list's first page, nothing filtered."""
    return t("filters.clear"), data


def village_path(t: Translator, village_id: int, villages: dict[int, str]) -> str | None:
    """The path of a filter's village among the viewer's; a village outside them (a stale or
    forged button: the list shows nothing of it) is named as unknown."""
    if not village_id:
        return None
    return villages.get(village_id) or t("filters.unknown_village")
