"""AWS `pattern` constraints as Python regular expressions.

The service models carry Java regexes (AWS validates on the JVM). Most compile unchanged with
Python's `re`; the few Java-only spellings with a plain Python equivalent are translated here, and a
pattern that still does not compile is skipped (the value is then checked for type and length only)
with one logged note, so the fake never refuses a value because of our regex engine.

Patterns are applied with `fullmatch`, as Java's `Matcher.matches()` does. The models are written
for that reading: `(?!\\s)^[\\s\\S]+(?<!\\s)` (a trimmed string) and `\\+?[1-9][0-9]{1,18}` (a phone
number) only say what they mean when the whole value must match.
"""

from __future__ import annotations

import logging
import re
from functools import cache

log = logging.getLogger(__name__)

# Java spellings Python's `re` lacks but can say another way. Unicode categories (\p{L}, \P{C})
# have no short equivalent in `re`, so patterns using them are skipped rather than approximated.
JAVA_TO_PYTHON = (
    (r"\p{Alnum}", "[A-Za-z0-9]"),
    (r"\p{Alpha}", "[A-Za-z]"),
    (r"\p{Digit}", "[0-9]"),
    (r"\p{Upper}", "[A-Z]"),
    (r"\p{Lower}", "[a-z]"),
    (r"\p{Space}", r"[ \t\n\x0b\f\r]"),
    (r"\p{ASCII}", r"[\x00-\x7f]"),
    (r"\z", r"\Z"),  # Java's end of input; Python's \Z means the same
)

# pattern -> why it was skipped; read by the tests and by anyone wondering why a value passed.
SKIPPED: dict[str, str] = {}


# One of the Java escapes above, not itself escaped (preceded by an even number of backslashes).
_JAVA_ESCAPE = re.compile(r"(?<!\\)((?:\\\\)*)(" + "|".join(re.escape(java) for java, _ in JAVA_TO_PYTHON) + ")")


def translate(pattern: str) -> str:
    replacements = dict(JAVA_TO_PYTHON)
    return _JAVA_ESCAPE.sub(lambda m: m.group(1) + replacements[m.group(2)], pattern)


@cache
def compile_pattern(pattern: str) -> re.Pattern[str] | None:
    """The compiled pattern, or None when it cannot be expressed with `re` (noted once)."""
    try:
        return re.compile(pattern)
    except re.error:
        pass
    try:
        return re.compile(translate(pattern))
    except re.error as exc:
        SKIPPED[pattern] = str(exc)
        log.info("fakeaws: pattern %r is not a Python regex (%s); values are not checked against it", pattern, exc)
        return None
