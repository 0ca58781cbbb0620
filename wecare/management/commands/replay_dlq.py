import sys

from django.core.management.base import BaseCommand, CommandError

from wecare import audit, dlq
from wecare.queues import DEAD_LETTER_QUEUES


class Command(BaseCommand):
    help = (
        "Replay messages from a dead-letter queue through the same task code. Success removes a "
        f"message; failure returns it with retryCount+1; beyond {dlq.MAX_REPLAYS} replays it is refused. "
        "Exits 1 when anything failed again or was refused."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--queue", default="inbound-dlq", help=f"one of {', '.join(DEAD_LETTER_QUEUES)} (default inbound-dlq)"
        )
        parser.add_argument(
            "--max", type=int, default=100, dest="max_messages", help="at most this many messages (1-1000, default 100)"
        )

    def handle(self, *args, queue: str, max_messages: int, **options):
        if not 1 <= max_messages <= 1000:
            raise CommandError(f"--max must be between 1 and 1000 (got {max_messages})")
        try:
            report = dlq.replay(queue, max_messages=max_messages)
        except dlq.UnknownQueue as exc:
            raise CommandError(str(exc)) from exc
        audit.record(
            None,
            "dlq.replay",
            "dlq",
            queue,
            via="manage.py replay_dlq",
            replayed=report.replayed,
            failed=report.failed,
            refused=len(report.refused),
            duplicates=report.duplicates,
        )
        self.stdout.write(report.summary())
        if report.failed or report.refused or report.unreadable:
            sys.exit(1)
