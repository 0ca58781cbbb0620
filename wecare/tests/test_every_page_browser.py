"""Every page of the app in a real browser at 1280 px and 320 px: none may scroll sideways, none
reports a Content-Security-Policy violation, and the main pages have no accessibility violation
axe-core rates serious or critical.

The pages come from the URL resolver, so a new page is swept without anyone adding it here; a
page that needs an id gets one from data this test writes (a contact with a long email, a
conversation on each channel with 30+ messages, a bulk job, an import, a dead letter and an audit
entry with long values). Only the URLs in SKIP are left out, each with its reason. Screenshots of
every page at both widths go to test-artifacts/pages/ (docs/development.md, "Every page in a browser").
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.contrib.auth.models import Group
from django.urls import URLPattern, URLResolver, get_resolver
from ulid import ULID

from ai.leads import actions as lead_actions
from ai.personas import actions as persona_actions
from bulk import actions as bulk_actions
from bulk.audience import AudienceSpec
from contacts import actions, imports, queries, unsubscribe
from messaging import conversation_index, threads
from messaging.channels import Channel, allowed_senders
from messaging.inbound.process import process_inbound_event
from messaging.inbox import canned
from messaging.inbox import queries as inbox_queries
from messaging.outbound import template_catalog
from messaging.tests import inbox_data, thread_data
from messaging.tests.inbound_samples import inbound
from messaging.whatsapp_table import WaConversation
from wecare import audit, dlq
from wecare.models import DLQMessage
from wecare.tests import csp_watch

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts" / "pages"
WIDTHS = (1280, 320)
SHOT_HEIGHT = 3000

# URLs that are not pages a person opens, by URL name (or route, for the unnamed ones).
SKIP = {
    "healthz": "plain-text health check for the load balancer",
    "logout": "POST only",
    "sns_webhook": "POST only (the SNS webhook)",
    "contacts:export": "a CSV download",
    "contacts:consent_export": "a CSV download",
    "contacts:delete": "POST only",
    "contacts:restore": "POST only",
    "messaging:templates_sync": "POST only",
    "messaging:history": "htmx fragment of contacts:detail",
    "messaging:compose": "htmx fragment of contacts:detail",
    "bulk:control": "POST only",
    "bulk:report": "a CSV download",
    "inbox:conversations": "htmx fragment of inbox:list",
    "inbox:latest": "htmx fragment of inbox:conversation",
    "inbox:older": "htmx fragment of inbox:conversation",
    "inbox:read": "POST only",
    "inbox:archive": "POST only",
    "inbox:reply": "POST only",
    "inbox:consent": "POST only",
    "dm/whatsapp/": "a redirect into the one inbox (inbox:list)",
    "dm/whatsapp/<str:rest>/": "a redirect into the one inbox (inbox:conversation)",
    "dm/sms/": "a redirect into the one inbox (inbox:list)",
    "dm/sms/<str:rest>/": "a redirect into the one inbox (inbox:conversation)",
    "dm/email/": "a redirect into the one inbox (inbox:list)",
    "dm/email/<str:rest>/": "a redirect into the one inbox (inbox:conversation)",
    "inbox_work:live": "htmx fragment of inbox:conversation",
    "inbox_work:assign": "POST only",
    "inbox_work:status": "POST only",
    "inbox_work:undo": "POST only",
    "inbox_work:labels": "POST only",
    "inbox_work:presence": "POST only",
    "inbox_work:notes": "POST only",
    "contacts:import_rejected": "a CSV download",
    "messaging:compose_check": "htmx fragment of contacts:detail",
    "messaging:compose_consent": "POST only",
    "bulk:funnel": "htmx fragment of bulk:detail",
    "canned_admin:delete": "POST only",
    "ai:persona-choose": "POST only",
    "ai:persona-archive": "POST only",
    "ai:lead-save": "POST only",
    "ai:lead-note": "POST only",
    "ai:lead-proposal": "POST only",
    "ai:lead-panel": "htmx fragment of inbox:conversation",
    "admin:login": "redirects to the app's own login page (login)",
    "admin:logout": "POST only",
    "admin:autocomplete": "JSON for the Django admin's selects",
    "admin:jsi18n": "JavaScript for the Django admin",
    "admin:view_on_site": "a redirect to the object's own page",
    "admin/auth/group/<path:object_id>/": "a redirect to the change page",
    "admin/auth/user/<path:object_id>/": "a redirect to the change page",
    "admin/(?P<url>.*)$": "the Django admin's catch-all (404 for anything unknown)",
    "oidc_authentication_callback": "redirects to or from Cognito (no page of ours)",
    "oidc_authentication_init": "redirects to or from Cognito (no page of ours)",
    "oidc_logout": "POST only",
    "ai:automation": "POST only",
    "ai:suggestion": "htmx fragment of inbox:conversation (its composer panel)",
    "ai:suggestion_send": "POST only",
    "ai:suggestion_discard": "POST only",
    "ai:suggestion_rate": "POST only",
    "alerts:acknowledge": "POST only",
    "ai:suggestion_use": "POST only",
}
SKIP_PREFIXES = {"api/": "the JSON API and its docs (Swagger UI, loaded from a CDN)"}

# Opened without a login (each context starts signed out); the rest as an admin, who sees every page.
PUBLIC = {"login", "unsubscribe"}
# Pages that answer with a redirect by design.
REDIRECTS = {"home"}
# The main pages, also checked with axe-core (at 1280 px: what axe checks does not depend on width).
AXE_PAGES = {
    "login",
    "inbox:list",
    "inbox:conversation",
    "inbox_work:search",
    "contacts:list",
    "contacts:detail",
    "contacts:create",
    "contacts:import",
    "messaging:templates",
    "messaging:usage",
    "alerts:list",
    "bulk:list",
    "bulk:new",
    "bulk:new_message",
    "bulk:new_preview",
    "bulk:detail",
    "ai:personas",
    "ai:persona-edit",
    "ai:leads",
    "dynamo_admin:audit",
    "dynamo_admin:config",
    "dynamo_admin:dlq",
    "whatsapp_admin:autoreply",
    "consent_admin:keywords",
    "business_numbers:list",
    "canned_admin:index",
    "ai:home",
}
SERIOUS = {"serious", "critical"}

LONG_WORD = "INV2026000042PUNEWAREHOUSEMARCHDELIVERYREFERENCEWITHOUTANYSPACESATALL"
LONG_TEXT = f"Hello, the delivery note for the March order is attached. Reference {LONG_WORD}. " * 3


@dataclass
class Route:
    name: str  # "namespace:name", or the route itself when the pattern has no name
    route: str
    defaults: dict[str, Any]
    callback: Callable[..., Any]

    @property
    def key(self) -> str:
        # One screenshot name per page (pages that share a URL name differ by their defaults).
        return "-".join([self.name.replace(":", "-"), *map(str, self.defaults.values())])


def routes() -> list[Route]:
    found: list[Route] = []

    def walk(patterns, prefix: str, namespaces: list[str]) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + str(p.pattern), [*namespaces, *([p.namespace] if p.namespace else [])])
            elif isinstance(p, URLPattern):
                route = prefix + str(p.pattern)
                name = ":".join([*namespaces, p.name]) if p.name else route
                found.append(Route(name, route, dict(p.default_args), p.callback))

    walk(get_resolver().url_patterns, "", [])
    return found


def skipped(route: Route) -> str | None:
    prefix = next((reason for prefix, reason in SKIP_PREFIXES.items() if route.route.startswith(prefix)), None)
    return SKIP.get(route.name) or prefix


@dataclass
class Seeded:
    """Ids of the data this test wrote, by the URL parameter that takes them."""

    values: dict[str, str] = field(default_factory=dict)
    object_ids: dict[type, str] = field(default_factory=dict)
    # The one inbox draws each channel's conversation differently: it is opened on each.
    inbox_keys: dict[str, str] = field(default_factory=dict)

    def value(self, param: str, route: Route) -> str:
        if param == "object_id":  # a Django admin page: the object of its model
            return self.object_ids[route.callback.model_admin.model]  # type: ignore[attr-defined]
        if param not in self.values:
            pytest.fail(f"{route.route}: no sample for <{param}>; seed one in this test")
        return self.values[param]


def variants(route: Route, seeded: Seeded) -> list[tuple[str, Seeded]]:
    """(screenshot name, data) for each version of the page to open: the inbox's conversation page
    once per channel, every other page once."""
    if route.name != "inbox:conversation":
        return [(route.key, seeded)]
    return [
        (f"{route.key}-{channel}", Seeded({**seeded.values, "key": key}, seeded.object_ids))
        for channel, key in seeded.inbox_keys.items()
    ]


def concrete(route: Route, seeded: Seeded) -> str:
    # A regex group of the Django admin's (app_label) takes its only alternative.
    path = re.sub(r"\(\?P<\w+>([^)|]*)[^)]*\)", lambda m: m.group(1), route.route)
    # Ids such as "sms#+14155550123" are quoted as reverse() quotes them ("#" would end the path).
    path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: quote(seeded.value(m.group(1), route), safe=""), path)
    return "/" + path.replace("^", "").replace("$", "")


# --- the data the pages show --------------------------------------------------------------------


def seed(admin_user, new_phone, django_settings) -> Seeded:
    tag = str(ULID()).lower()
    contact = actions.create_contact(
        {
            "name": "Sweep Subramanian Venkataraghavan Lakshminarayanan",
            "phone": new_phone(),
            "email": f"a.really.long.address.for.checking.that.every.page.wraps.it.{tag}@example.com",
            "optInWhatsApp": True,
            "optInSms": True,
            "optInEmail": True,
        },
        user=admin_user,
        source="test",
    )
    assert contact.phone and contact.email

    # WhatsApp: the first message through the inbound task (as the webhook hands it over), then 31 more.
    body, _ = inbound("inbound_text", phone=contact.phone)
    process_inbound_event.apply(kwargs={"message": body, "sns_message_id": f"sns-{ULID()}"}, throw=True)
    number = settings.WHATSAPP_PHONE_NUMBER_IDS[0]
    conversation = WaConversation.get(WaConversation.key(inbox_queries.suffix(number), contact.phone))
    for n in range(30):
        inbox_data.message(
            conversation,
            direction="OUTBOUND" if n % 2 else "INBOUND",
            text=f"{n}: {LONG_TEXT}",
            minutes_ago=60 - n,
        )
    inbox_data.inbound(conversation, f"30: {LONG_TEXT}")  # the newest: the list's preview, clamped to two lines

    # SMS and email conversations of 31 messages each.
    django_settings.SMS_NUMBERS = [new_phone()]
    address = f"customer-support-and-orders-{tag}@wecare.digital"
    email_thread = threads.new_email_thread_id()
    for n in range(31):
        sms = thread_data.sms(django_settings.SMS_NUMBERS[0], contact, f"{n}: {LONG_TEXT}")
        thread_data.email(
            address, contact, f"{n}: {LONG_TEXT}", subject=f"Re: Fwd: {LONG_TEXT}"[:200], thread_id=email_thread
        )

    template_catalog.sync_templates()  # the fake's approved templates, for the Templates page and the wizard

    # A finished bulk job (Celery runs eagerly here), an import, an audit entry and a dead letter with long values.
    job = bulk_actions.start_job(
        AudienceSpec(contact_ids=[contact.contactId]), {"text": LONG_TEXT}, channel="sms", sender=None, user=admin_user
    )
    csv = f"name,phone,email\nImported {tag},{new_phone()},{tag}.{LONG_WORD.lower()}@example.com\n,,not-an-email\n"
    contact_import = imports.start_import(csv.encode(), user=admin_user)
    greeting = f"Hello {{{{contact.first_name}}}}, {LONG_TEXT}"
    reply = canned.save(f"sweep{tag[-6:]}", greeting, user=admin_user, creating=True)
    audit.record(admin_user, "sweep.long_value", "contact", contact.contactId, note=LONG_WORD * 4)
    # A persona and a lead with long values (the lead page of the contact, the Leads list of "new").
    persona = persona_actions.create(
        {"name": f"Sweep {LONG_WORD}", "systemPrompt": LONG_TEXT, "responseGuidelines": [LONG_WORD]}, user=admin_user
    )
    lead_actions.save(
        contact.contactId, {"status": "new", "campaign": LONG_WORD}, expected_version=0, user=admin_user, note=LONG_TEXT
    )

    return Seeded(
        values={
            "contact_id": contact.contactId,
            "conversation": inbox_queries.slug(conversation.pk),
            "job_id": job.jobId,
            "import_id": contact_import.importId,
            "phone_number_id": number,
            "channel": "whatsapp",
            "token": unsubscribe.token(contact.contactId, "email"),
            "id": str(admin_user.pk),
            "sender": number,
            "shortcut": reply.shortcut,
            "persona_id": persona.personaId,
        },
        inbox_keys={
            "whatsapp": conversation_index.key_for_whatsapp(conversation.pk),
            "sms": conversation_index.key_for_thread(sms.threadId or ""),
            "email": conversation_index.key_for_thread(email_thread),
        },
        object_ids={type(admin_user): str(admin_user.pk), Group: str(Group.objects.get(name="Admin").pk)},
    )


def dead_letter() -> DLQMessage:
    parked = dlq.Parked(
        task="messaging.inbound.process.process_inbound_event",
        kwargs={"message": "{}"},
        dlq_message_id=str(ULID()),
        error=f"ValueError: {LONG_WORD * 6}",
    )
    # The record only: no SQS message, so no replay in another test of this process picks it up.
    item = DLQMessage(
        dlqMessageId=parked.dlq_message_id,
        originalMessageId=parked.original_id,
        queueName="inbound-dlq",
        retryCount=0,
        payload=parked.body(),
        expiresAt=dlq.RETENTION,
    )
    item.save()
    return item


def sign_in(page, server: str, user) -> dict[str, str]:
    """Through the password form, as a person does; the session cookie it gave the browser."""
    page.goto(f"{server}/accounts/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill("pw-" + user.username)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    cookie = next(c for c in page.context.cookies() if c["name"] == settings.SESSION_COOKIE_NAME)
    return {"name": cookie["name"], "value": cookie["value"]}


def fill_the_bulk_wizard(client, seeded: Seeded) -> None:
    """Steps 1 and 2 through the same session the browser uses, so the preview step has a wizard to show."""
    contact = queries.get_contact(seeded.values["contact_id"])
    step1 = client.post("/bulk/new/", {"kind": "filter", "search": contact.name, "opted_in": "on"})
    assert step1.status_code == 302, step1.content.decode()[:2000]
    message = {"channel": "email", "sender": allowed_senders(Channel.EMAIL)[0], "kind": "text"}
    step2 = client.post(
        "/bulk/new/message/", {**message, "text": LONG_TEXT, "subject": LONG_TEXT[:90], "action": "next"}
    )
    assert step2.status_code == 302, step2.content.decode()[:2000]


# --- what the browser measures ------------------------------------------------------------------

# What sticks out past the window's right edge, for the failure message: the outermost elements
# (their parent fits), and absolutely positioned ones, which a scrolling box does not hold in.
OVERFLOWING = """() => {
  const width = window.innerWidth;
  const describe = (el) => {
    const r = el.getBoundingClientRect();
    const name = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
      (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
    return `${name} (right edge ${Math.round(r.right)} px): ${(el.textContent || '').trim().slice(0, 60)}`;
  };
  const past = Array.from(document.body.querySelectorAll('*')).filter((el) => {
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.right > width + 1;
  });
  // Text overflows its element's box without widening it: look at the words themselves too.
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const range = document.createRange();
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    range.selectNodeContents(node);
    const r = range.getBoundingClientRect();
    if (r.width > 0 && r.right > width + 1 && !past.includes(node.parentElement)) past.push(node.parentElement);
  }
  // Inside a box that scrolls on its own only what is absolutely positioned escapes it.
  const held = (el) => {
    if (['absolute', 'fixed'].includes(getComputedStyle(el).position)) return false;
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      if (getComputedStyle(a).overflowX !== 'visible') return true;
    }
    return false;
  };
  const loose = past.filter((el) => !held(el));
  // The outermost: those whose parent fits.
  const outermost = loose.filter((el) => !loose.includes(el.parentElement));
  return (outermost.length ? outermost : past).slice(0, 5).map(describe);
}"""

# On a phone a stacked table.responsive hides its header row: each cell must still say its column.
UNLABELLED = """() => Array.from(document.querySelectorAll('table.responsive tbody td'))
  .filter((td) => td.colSpan === 1 && td.offsetParent !== null && !td.dataset.label && !td.querySelector('.sr-label'))
  .map((td) => td.textContent.trim().slice(0, 40))"""

# Fields inside their label: a radio or checkbox keeps its own size beside its words (a full-width
# radio sat ~120 px from them); on our pages (app.css) a textarea takes the label's width
# like an input (it was ~190 px beside its label). The Django admin lays its labels out its own way.
MISPLACED_FIELDS = """() => {
  const width = (el) => el.getBoundingClientRect().width;
  const ours = (f) => f.closest('.layout > main');  // base.html's main, not the Django admin's
  const narrow = (f) => f.tagName === 'TEXTAREA' && ours(f) && width(f) < 0.9 * width(f.closest('label'));
  return Array.from(document.querySelectorAll('label input, label textarea'))
    .filter((f) => f.offsetParent !== null)
    .filter((f) => (['radio', 'checkbox'].includes(f.type) ? width(f) > 40 : narrow(f)))
    .map((f) => `${f.tagName.toLowerCase()}[name=${f.name}] ${Math.round(width(f))} px wide`);
}"""

IDLE = "() => !document.querySelector('.htmx-request')"


def visit(page, url: str) -> int:
    response = page.goto(url)
    page.wait_for_function(IDLE)  # a part loaded by htmx on load is part of the page
    return response.status if response else 0


def check(page, server: str, path: str, route: Route) -> list[str]:
    """Open the page and say what is wrong with it at the page's width."""
    status = visit(page, server + path)
    wrong = []
    if status != 200:
        wrong.append(f"HTTP {status}")
    elif route.name not in REDIRECTS and page.url != server + path:
        wrong.append(f"redirected to {page.url}")
    width, scroll = page.evaluate("[window.innerWidth, document.documentElement.scrollWidth]")
    if scroll > width:
        wrong.append(f"{scroll} px wide; sticking out: {page.evaluate(OVERFLOWING)}")
    if misplaced := page.evaluate(MISPLACED_FIELDS):
        wrong.append(f"fields out of place in their label: {misplaced[:5]}")
    if width < 700 and (unlabelled := page.evaluate(UNLABELLED)):
        wrong.append(f"table cells without their column's name: {unlabelled[:5]}")
    return wrong


def shot(page, path: Path, width: int) -> None:
    """The page from its top, at most SHOT_HEIGHT px of it: encoding a 30-message thread's whole
    length took a second or more a page, and what widens a page shows at its top as well."""
    height = min(page.evaluate("document.documentElement.scrollHeight"), SHOT_HEIGHT)
    page.screenshot(path=str(path), full_page=True, clip={"x": 0, "y": 0, "width": width, "height": height})


def axe_findings(axe: Axe, page) -> list[str]:
    results = axe.run(page)
    return [
        f"{v['impact']} {v['id']}: {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in SERIOUS
    ]


def write_findings(width: int, findings: list[str]) -> None:
    """This width's findings in their own file, then findings.txt rebuilt from every width's: the
    widths are two tests, which pytest-xdist may run at once in two processes. Each part says when
    it was written, so a part left from an earlier run (one width run alone) shows as such."""
    written = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    (ARTIFACTS / f"findings-{width}.txt").write_text(
        f"# at {width} px, written {written}\n" + "".join(f"{line}\n" for line in findings)
    )
    parts = [ARTIFACTS / f"findings-{w}.txt" for w in WIDTHS]
    combined = "".join(part.read_text() for part in parts if part.exists())
    partial = ARTIFACTS / f"findings.txt.{width}.tmp"
    partial.write_text(combined)
    partial.replace(ARTIFACTS / "findings.txt")  # atomic: a reader never sees half of it


# One test per width, so a parallel run spreads them over two processes; each writes the same data
# (its own copy) and signs in through the password form.
@pytest.mark.parametrize("width", WIDTHS)
def test_every_page_fits_at_1280_and_320_px_and_the_main_pages_pass_axe(
    width, chromium, live_server, client, admin_user, new_phone, settings, fake_aws
):
    seeded = seed(admin_user, new_phone, settings)
    letter = dead_letter()

    pages = [r for r in routes() if not skipped(r)]
    stale = set(SKIP) - {r.name for r in routes()} - {r.route for r in routes()}
    assert not stale, f"SKIP names URLs that no longer exist: {stale}"
    ordered = sorted(pages, key=lambda r: r.name not in PUBLIC)  # the public pages first, before the login

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    axe = Axe()
    wrong: list[str] = []
    inaccessible: list[str] = []
    checked: set[str] = set()
    try:
        context = chromium.new_context(viewport={"width": width, "height": 800})
        page = context.new_page()
        page.set_default_timeout(15000)
        violations = csp_watch.watch(page)
        signed_in = False
        for route in ordered:
            if route.name not in PUBLIC and not signed_in:
                session = sign_in(page, live_server.url, admin_user)  # through the password form
                client.cookies[session["name"]] = session["value"]
                fill_the_bulk_wizard(client, seeded)
                signed_in = True
            for name, data in variants(route, seeded):
                path = concrete(route, data)
                wrong += [f"{path} at {width} px: {what}" for what in check(page, live_server.url, path, route)]
                wrong += [f"{path} at {width} px: {v}" for v in violations]
                violations.clear()
                shot(page, ARTIFACTS / f"{name}-{width}.png", width)
                if width == WIDTHS[0] and name not in checked and route.name in AXE_PAGES:
                    inaccessible += [f"{path}: {finding}" for finding in axe_findings(axe, page)]
                    checked.add(name)
        context.close()
    finally:
        letter.delete()
    write_findings(width, wrong + inaccessible)
    assert not wrong, "\n".join(wrong)
    assert not inaccessible, "\n".join(inaccessible)
