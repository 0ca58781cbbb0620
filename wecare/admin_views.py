"""Admin views over DynamoDB: the audit trail, system configuration, the contacts table
(deleted ones included) and the dead-letter queues with replay. Admin role only (the access
middleware guards /admin/)."""

from __future__ import annotations

import json
from datetime import date

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from pynamodb.exceptions import ScanError

from contacts.models import Contact
from wecare import audit, dlq, jsonlimits
from wecare.dynamo import Cursor, InvalidCursor, not_expired, now
from wecare.models import AuditLog, SystemConfig
from wecare.queues import DEAD_LETTER_QUEUES
from wecare.roles import Role, require_role

PAGE = 50
CONTACTS_TABLE = "contacts-table"  # the cursor scope of the scan below


def _context(request: HttpRequest, title: str, **extra) -> dict:
    return {**admin.site.each_context(request), "title": title, **extra}


@require_role(Role.ADMIN)
def audit_log(request: HttpRequest) -> HttpResponse:
    day = request.GET.get("day") or now().strftime("%Y-%m-%d")
    try:
        date.fromisoformat(day)
        start = Cursor.decode(request.GET.get("cursor"), scope=f"audit:{day}")
    except (ValueError, InvalidCursor):
        return redirect("dynamo_admin:audit")
    results = AuditLog.by_day.query(
        day,
        filter_condition=not_expired(AuditLog.expiresAt),
        scan_index_forward=False,
        limit=PAGE,
        last_evaluated_key=start,
    )
    entries = list(results)
    cursor = Cursor.encode(results.last_evaluated_key, scope=f"audit:{day}") if len(entries) == PAGE else None
    return render(
        request, "admin/dynamo/audit.html", _context(request, "Audit log", entries=entries, day=day, cursor=cursor)
    )


@require_role(Role.ADMIN)
def system_config(request: HttpRequest) -> HttpResponse:
    error = None
    if request.method == "POST":
        key = request.POST.get("configKey", "").strip()
        raw = request.POST.get("configValue", "")
        try:
            value = jsonlimits.loads(raw)
        except jsonlimits.TooDeep as exc:
            error = f"{key or 'value'}: {exc}"
        except json.JSONDecodeError as exc:
            error = f"{key or 'value'}: not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        except ValueError as exc:  # e.g. an integer longer than Python converts
            error = f"{key or 'value'}: not valid JSON ({exc})"
        else:
            if not key:
                error = "configKey: give a key"
            elif value is None:
                error = f"{key}: null is not a value (give true, false, a number, a string, a list or an object)"
            else:
                SystemConfig(
                    configKey=key, configValue=value, updatedBy=audit.actor_id(request.user), updatedAt=now()
                ).save()
                audit.record(request.user, "config.set", "system_config", key, value=value)
                messages.success(request, f"Saved {key}.")
                return redirect("dynamo_admin:config")
    items = sorted(SystemConfig.scan(), key=lambda item: item.configKey)
    return render(
        request,
        "admin/dynamo/config.html",
        _context(request, "System configuration", items=items, error=error, posted=request.POST),
        status=422 if error else 200,
    )


@require_role(Role.ADMIN)
def contacts_table(request: HttpRequest) -> HttpResponse:
    try:
        start = Cursor.decode(request.GET.get("cursor"), scope=CONTACTS_TABLE)
    except InvalidCursor:
        return redirect("dynamo_admin:contacts")
    results = Contact.scan(limit=PAGE, last_evaluated_key=start)
    try:
        rows = list(results)
    except ScanError:
        # A hand-edited cursor DynamoDB refuses: start again from the first page.
        return redirect("dynamo_admin:contacts")
    cursor = Cursor.encode(results.last_evaluated_key, scope=CONTACTS_TABLE) if len(rows) == PAGE else None
    return render(
        request,
        "admin/dynamo/contacts.html",
        _context(request, "Contacts table (DynamoDB, read-only)", rows=rows, cursor=cursor),
    )


@require_role(Role.ADMIN)
def dead_letters(request: HttpRequest) -> HttpResponse:
    """Depth of every DLQ, the failures recorded in DLQMessages, and a replay button per queue."""
    if request.method == "POST":
        queue = request.POST.get("queue", "")
        try:
            max_messages = int(request.POST.get("max", "100"))
        except ValueError:
            max_messages = 0
        if queue not in DEAD_LETTER_QUEUES or not 1 <= max_messages <= 1000:
            messages.error(request, f"Choose one of {', '.join(DEAD_LETTER_QUEUES)} and a maximum between 1 and 1000.")
            return redirect("dynamo_admin:dlq")
        report = dlq.replay(queue, max_messages=max_messages)
        audit.record(
            request.user,
            "dlq.replay",
            "dlq",
            queue,
            replayed=report.replayed,
            failed=report.failed,
            refused=len(report.refused),
            duplicates=report.duplicates,
        )
        (messages.warning if report.failed or report.refused or report.unreadable else messages.success)(
            request, report.summary()
        )
        return redirect("dynamo_admin:dlq")
    paged = request.GET.get("queue", "")
    try:
        before = Cursor.decode(request.GET.get("cursor"), scope=f"dlq:{paged}") if paged in DEAD_LETTER_QUEUES else None
    except InvalidCursor:
        return redirect("dynamo_admin:dlq")
    queues = []
    for name in DEAD_LETTER_QUEUES:
        page = dlq.records_page(name, (before or {}).get("before") if name == paged else None)
        queues.append(
            {
                "name": name,
                "depth": dlq.depth(name),
                "page": page,
                "rows": [(item, dlq.failure(item)) for item in page.items],
                "paged": name == paged and before is not None,
                "cursor": Cursor.encode({"before": page.next_before}, scope=f"dlq:{name}")
                if page.next_before
                else None,
            }
        )
    return render(
        request,
        "admin/dynamo/dlq.html",
        _context(request, "Dead-letter queues", queues=queues, max_replays=dlq.MAX_REPLAYS),
    )
