#!/bin/sh
# The container's entry point: one image, three processes (docs/deployment.md).
#
#   web              gunicorn serving Django (static files through whitenoise) on $PORT
#   worker           Celery worker on the work queues ($WORKER_QUEUES), $WORKER_CONCURRENCY processes
#                    (or threads, with WORKER_POOL=threads: the outbound-queue service)
#   beat             Celery beat (run exactly one per environment)
#   manage <args>    python manage.py <args>, e.g. `manage migrate --noinput`, `manage bootstrap_aws`
#
# Settings are read and validated before the process starts, so a missing or malformed variable
# stops the container with one line naming it and exit status 2 (see wecare/env.py).
set -eu

check_settings() {
    python -c 'import importlib, os
from wecare.env import run_or_exit
run_or_exit(lambda: importlib.import_module(os.environ.get("DJANGO_SETTINGS_MODULE", "wecare.settings")))'
}

command="${1:-web}"
if [ "$#" -gt 0 ]; then shift; fi

case "$command" in
    web)
        check_settings
        # WEB_CONCURRENCY sets the number of gunicorn workers; GUNICORN_CMD_ARGS adds any other flag.
        exec gunicorn wecare.wsgi:application \
            --bind "0.0.0.0:${PORT:-8000}" \
            --workers "${WEB_CONCURRENCY:-2}" \
            --worker-tmp-dir /dev/shm \
            "$@"
        ;;
    worker)
        # A bulk chunk runs its own pool of threads, and its bound on what a killed worker leaves
        # unknown counts one chunk per process: bulk-queue belongs to a prefork worker.
        case "${WORKER_POOL:-prefork}:${WORKER_QUEUES:-default,inbound-queue,outbound-queue,bulk-queue,ai-queue}" in
            threads:*bulk-queue*)
                echo "WORKER_POOL=threads is for outbound-queue: run bulk-queue in a prefork worker (WORKER_QUEUES without bulk-queue)" >&2
                exit 2
                ;;
        esac
        check_settings
        exec celery -A wecare worker \
            -Q "${WORKER_QUEUES:-default,inbound-queue,outbound-queue,bulk-queue,ai-queue}" \
            --pool "${WORKER_POOL:-prefork}" \
            --concurrency "${WORKER_CONCURRENCY:-2}" \
            --loglevel "${LOG_LEVEL:-INFO}" \
            "$@"
        ;;
    beat)
        check_settings
        # The schedule file is scratch state: /tmp is writable by the non-root user.
        exec celery -A wecare beat \
            --schedule /tmp/celerybeat-schedule \
            --loglevel "${LOG_LEVEL:-INFO}" \
            "$@"
        ;;
    manage)
        exec python manage.py "$@"
        ;;
    *)
        echo "usage: entrypoint.sh web | worker | beat | manage <args>  (got: $command)" >&2
        exit 64
        ;;
esac
