"""Typed text as it is stored: characters that change how a text reads without being seen
(direction overrides that can reverse a name or a file name, zero-width spaces, byte-order
marks, soft hyphens) are removed, and text with nothing visible left is empty."""

from __future__ import annotations

# Joiners stay: emoji sequences and some scripts need them (but alone they show nothing).
_JOINERS = "\u200c\u200d"
_HIDDEN = dict.fromkeys(
    map(ord, "\u200b\u200e\u200f\u2060\u2061\u2062\u2063\u2064\ufeff\u00ad\u061c"
             "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
)  # fmt: skip


def visible(text: str) -> str:
    """`text` without hidden characters and trimmed; "" when nothing visible is left."""
    cleaned = text.translate(_HIDDEN).strip()
    seen = any(ch.isprintable() and not ch.isspace() and ch not in _JOINERS for ch in cleaned)
    return cleaned if seen else ""
