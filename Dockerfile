# syntax=docker/dockerfile:1.7
# One image, every role: `docker run IMAGE web|worker|beat|flower|migrate|shell|<manage.py command>`
# (enterprise_suite/entrypoint.py). The DDEX schema comes from a named build context:
#   docker build --build-context ddex=../shared/ddex/ern43 -t enterprise-suite .
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

# --- dependencies: only the lock file, so this layer is rebuilt only when the lock changes ----
FROM ${PYTHON_IMAGE} AS deps
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
COPY requirements/base.lock /tmp/base.lock
RUN /opt/venv/bin/pip install --no-cache-dir --require-hashes --no-deps -r /tmp/base.lock

# --- build: the source and the collected static files -----------------------------------------
FROM deps AS build
WORKDIR /app
COPY . .
# `ddex` is the named build context (--build-context / compose additional_contexts), which
# hadolint cannot know about.
# hadolint ignore=DL3022
COPY --from=ddex . /app/ddex/ern43
# A throwaway key only for this command (production settings refuse a weak one); it is not
# kept in any layer's environment.
RUN APP_ENV=production \
    SECRET_KEY="$(/opt/venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(64))')" \
    STATIC_ROOT=/app/static \
    /opt/venv/bin/python manage.py collectstatic --noinput --verbosity 0 \
    && /opt/venv/bin/python -m compileall -q /app

# --- runtime: the virtualenv and the application, run as an unprivileged user -----------------
FROM ${PYTHON_IMAGE} AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DJANGO_SETTINGS_MODULE=enterprise_suite.settings \
    APP_ENV=production \
    LOG_FORMAT=json \
    PORT=8000 \
    STATIC_ROOT=/app/static \
    MEDIA_ROOT=/app/var/media \
    STORE_DROP_ROOT=/app/var/stores \
    DDEX_SCHEMA_DIR=/app/ddex/ern43
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin app
COPY --from=deps /opt/venv /opt/venv
COPY --from=build --chown=root:root /app /app
RUN install -d -o app -g app /app/var /app/var/media /app/var/stores
WORKDIR /app
USER 10001:10001
EXPOSE 8000 5555 9100
ENTRYPOINT ["python", "-m", "enterprise_suite.entrypoint"]
CMD ["web"]
