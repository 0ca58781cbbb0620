from pathlib import Path

from django.core.management.base import BaseCommand

from wecare.infrastructure.template import render


class Command(BaseCommand):
    help = (
        "Print the CloudFormation template (JSON) of the platform's AWS infrastructure, generated from"
        " the same tables, queues and settings bootstrap_aws uses (docs/deployment.md)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--output", "-o", help="write to this file instead of stdout")

    def handle(self, *args, output=None, **options):
        text = render()
        if output:
            Path(output).write_text(text)
            self.stderr.write(f"wrote {output}")
        else:
            self.stdout.write(text, ending="")
