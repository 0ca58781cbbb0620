from django.core.management.base import BaseCommand, CommandError

from wecare.bootstrap import STEPS, bootstrap


class Command(BaseCommand):
    help = (
        "Create the DynamoDB tables, SQS queues, S3 buckets, SNS topic, SES identity and SMS configuration set"
        " (with its SNS event destination) that are missing. Never deletes."
    )

    def add_arguments(self, parser):
        parser.add_argument("--only", help=f"comma-separated subset of: {', '.join(STEPS)}")

    def handle(self, *args, only=None, **options):
        kinds = [k.strip() for k in only.split(",")] if only else None
        unknown = sorted(set(kinds or []) - set(STEPS))
        if unknown:
            raise CommandError(f"--only: unknown {', '.join(unknown)}; choose from {', '.join(STEPS)}")
        steps = bootstrap(kinds)
        for step in steps:
            self.stdout.write(str(step))
        created = sum(step.outcome == "created" for step in steps)
        self.stdout.write(
            self.style.SUCCESS(f"bootstrap done: {created} created, {len(steps) - created} already there")
        )
