"""An email's HTML made safe to show inside our pages: basic formatting and links kept, anything
that runs, loads or submits removed (nh3, the Ammonia sanitiser). Inbound mail is sanitised once,
when it is recorded, and pages may run ``for_display`` again on what they show. Why these rules:
docs/design/email.md, "Showing an email's HTML".
"""

from __future__ import annotations

import nh3

# What a customer's mail may keep: text structure, emphasis, lists, quotes, tables, links.
TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "caption",
    "center",
    "code",
    "dd",
    "del",
    "div",
    "dl",
    "dt",
    "em",
    "font",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "ins",
    "li",
    "ol",
    "p",
    "pre",
    "q",
    "s",
    "small",
    "span",
    "strike",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "u",
    "ul",
}
# Removed with everything inside them: their content is code, styling or a form, never the message.
# (nh3 drops every tag not in TAGS but keeps its text; these must not leave their text behind.)
DROPPED_WITH_CONTENT = {"script", "style", "template", "noscript", "title", "head", "form", "select", "textarea"}
ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "td": {"colspan", "rowspan", "align"},
    "th": {"colspan", "rowspan", "align", "scope"},
    "ol": {"start"},
}
# No javascript:, data: or cid: links: only places a person can open.
URL_SCHEMES = {"http", "https", "mailto", "tel"}
# A customer's links open outside our origin, tell it nothing (no Referer, no window.opener), and
# carry none of our reputation.
LINK_REL = "noopener noreferrer nofollow"


def sanitise(html: str) -> str:
    """The HTML with only TAGS/ATTRIBUTES left, links limited to URL_SCHEMES with LINK_REL, and no
    images at all: remote images are trackers (and the CSP refuses them), inline ones are listed
    as attachments."""
    return nh3.clean(
        html,
        tags=TAGS,
        clean_content_tags=DROPPED_WITH_CONTENT,
        attributes=ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel=LINK_REL,
        strip_comments=True,
    )


def for_display(html: str | None) -> str:
    """What a page puts in the DOM unescaped (``|safe``) for an email's stored HTML: sanitised
    again, so a rule tightened later applies to mail recorded before it."""
    return sanitise(html or "")
