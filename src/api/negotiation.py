"""Content negotiation (RFC 9110 §12): which media type (``Accept``) and which language
(``Accept-Language``, §12.5.4: Chinese or English) a client reads.

The registry answers in Chinese (its users are the bureau, Changsha's host units and the
public) unless the client prefers English by its q-values. A header that cannot be read, or
names neither language, gets Chinese: a refusal is never itself refused over a header.
"""

from __future__ import annotations

import re

from .problem_catalogue import Language

DEFAULT: Language = "zh"
_RANGE = re.compile(r"^\s*([A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*|\*)\s*(?:;\s*q\s*=\s*([0-9](?:\.[0-9]{0,3})?)\s*)?$")


def preferred_language(header: str | None) -> Language:
    """``zh`` or ``en`` for an ``Accept-Language`` value: the one with the higher q (first
    listed on a tie; ``*`` counts for Chinese); Chinese when neither is acceptable or the
    header is malformed."""
    if not header:
        return DEFAULT
    best: dict[Language, tuple[float, int]] = {}
    for index, item in enumerate(header[:1000].split(",")[:50]):
        if not item.strip():
            continue
        m = _RANGE.match(item)
        if m is None:
            return DEFAULT
        tag, q_text = m.group(1).lower(), m.group(2)
        q = float(q_text) if q_text is not None else 1.0
        if q > 1.0:
            return DEFAULT
        primary = tag.split("-")[0]
        language: Language | None = "zh" if primary in ("zh", "*") else "en" if primary == "en" else None
        if language is None or q <= 0:
            continue
        if language not in best or (q, -index) > (best[language][0], -best[language][1]):
            best[language] = (q, index)
    if "en" in best and ("zh" not in best or (best["en"][0], -best["en"][1]) > (best["zh"][0], -best["zh"][1])):
        return "en"
    return DEFAULT


def media_quality(accept: str, media: str) -> float:
    """The q-value ``accept`` gives ``media`` (``type/sub``): its best match, wildcards included."""
    kind = media.split("/")[0]
    best = 0.0
    for item in accept.split(","):
        name, *params = (p.strip() for p in item.split(";"))
        if name.lower() not in (media, f"{kind}/*", "*/*"):
            continue
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = max(0.0, min(1.0, float(value)))
                except ValueError:
                    q = 0.0
        best = max(best, q)
    return best


__all__ = ["preferred_language", "media_quality", "DEFAULT"]
