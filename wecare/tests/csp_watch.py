"""Content-Security-Policy violations a browser page reports, collected for a test to assert on:
the main pages' walk (test_csp_browser.py) and the every-page sweep (test_every_page_browser.py)
watch their pages with it. The policy itself: docs/security.md."""

from __future__ import annotations

# Reported through the DOM event (what the browser blocked, and which directive) and through the
# console (Chromium logs every refusal there too, including eval attempts).
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", e => {
    const report = `${e.violatedDirective} blocked ${e.blockedURI} at ${e.sourceFile}:${e.lineNumber}`;
    document.documentElement.dataset.cspViolations =
        (document.documentElement.dataset.cspViolations || "") + report + "\\n";
    console.error(`CSP violation: ${report}`);
});
"""


def watch(page) -> list[str]:
    """Every violation reported on ``page`` from now on, including after it navigates, in order."""
    violations: list[str] = []
    page.on(
        "console",
        lambda m: (
            violations.append(m.text) if "Content Security Policy" in m.text or "CSP violation" in m.text else None
        ),
    )
    page.add_init_script(REPORT_VIOLATIONS)
    return violations
