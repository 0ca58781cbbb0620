from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from localaws import snapshot


class Command(BaseCommand):
    help = "Save or load the local stack's DynamoDB items and S3 objects (moto keeps nothing across restarts)."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["save", "load"])
        parser.add_argument("path", type=Path)

    def handle(self, *args, action: str, path: Path, **options):
        if not settings.AWS_ENDPOINT_URL:
            raise CommandError("dev_snapshot works only against the local emulator (AWS_ENDPOINT_URL is empty)")
        counts = snapshot.save(path) if action == "save" else snapshot.load(path)
        total = sum(counts.values())
        done = "saved" if action == "save" else "loaded"  # "loadd" read oddly at every start
        self.stdout.write(
            f"{done} {total} records ({', '.join(f'{k}: {v}' for k, v in counts.items() if v) or 'none'}) "
            f"{'to' if action == 'save' else 'from'} {path}"
        )
