"""The passages a draft drew on, as the inbox panel and the Agent page show them: title, score and
a link only when the source's address is a web address (a knowledge base's S3 location, or any
other scheme, is shown as text, never as a link the browser would follow)."""

from __future__ import annotations

from typing import Any


def shown(sources: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    rows = []
    for source in sources or []:
        if not isinstance(source, dict):
            continue
        uri = str(source.get("uri") or "")
        score = source.get("score")
        rows.append(
            {
                "title": str(source.get("title") or uri or "(untitled)"),
                "uri": uri,
                "href": uri if uri.startswith(("https://", "http://")) else "",
                "score": float(score) if isinstance(score, int | float) else None,
            }
        )
    return rows
