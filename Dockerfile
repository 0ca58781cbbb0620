# syntax=docker/dockerfile:1
# One image for every process: `web` (gunicorn), `worker` and `beat` (Celery), `manage <args>`.
# See scripts/entrypoint.sh and docs/deployment.md.
#
#   docker build -t wecare-digital .
#   docker run --env-file .env -p 8000:8000 wecare-digital web

# The browser libraries (Chart.js for the dashboard) as package-lock.json pins them. Only their
# built files reach the image; node and npm stay in this stage.
FROM node:20-slim AS static-libs
WORKDIR /build
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=wecare.settings \
    PORT=8000

WORKDIR /app

# The app runs as this unprivileged user; the code and static files stay owned by root, read-only to it.
RUN groupadd --system --gid 10001 wecare \
    && useradd --system --uid 10001 --gid wecare --create-home --home-dir /home/wecare --shell /usr/sbin/nologin wecare

# Runtime dependencies only (requirements-dev.txt is for the local stack and the tests). Every
# dependency, including pycurl for Celery's SQS transport and psycopg, installs from a wheel.
COPY requirements.txt ./
RUN pip install -r requirements.txt

# .dockerignore leaves out the local AWS stand-ins (localaws/), the tests, bench/ and docs/; the
# build fails if the local AWS package got in anyway.
COPY . .
COPY --from=static-libs /build/node_modules/chart.js/dist node_modules/chart.js/dist
RUN test ! -e localaws || { echo "localaws/ is development-only and must not be in the image" >&2; exit 1; }

# Static files are collected into the image and served by whitenoise (hashed, compressed names).
# The production-shaped values below exist only for this RUN: none of them is in the image's
# environment, so the running container must be given its own DJANGO_SECRET_KEY and the rest.
# Nothing connects to a database or to AWS here.
RUN DJANGO_SECRET_KEY="build-only-collectstatic-key-never-used-at-runtime-0123456789" \
    ENVIRONMENT=production \
    ALLOWED_HOSTS=build.invalid \
    DATABASE_URL=postgres://build:build@build.invalid/build \
    PASSWORD_LOGIN_ENABLED=true \
    python manage.py collectstatic --noinput -v 0 \
    && chmod 0755 scripts/entrypoint.sh

USER wecare:wecare
EXPOSE 8000

ENTRYPOINT ["/app/scripts/entrypoint.sh"]
CMD ["web"]
