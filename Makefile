# kamconf: `make run` to start the stack, `make test` to test it (README.md).
PY := .venv/bin/python
MAKEFLAGS += --no-print-directory

.PHONY: setup run up down status test lint unit token admin bench monitor compose-up compose-down test-compose

setup:
	@bash stack/setup.sh

run: setup
	@$(PY) -m stack run

up: setup
	@$(PY) -m stack up

down:
	@if [ -x $(PY) ]; then $(PY) -m stack down; else echo "kamconf: not running"; fi

status:
	@$(PY) -m stack status

# Prometheus (Debian's) on loopback, scraping the running stack with prometheus/rules; Ctrl-C stops it.
monitor: setup
	@$(PY) -m prometheus.monitor

token: setup
	@$(PY) -m web.token

# The first admin (asks for a name and password; KAMCONF_ADMIN_PASSWORD for scripts).
admin: setup
	@$(PY) -m web.admin

lint: setup
	@$(PY) -m ruff check .
	@$(PY) -m mypy

unit: setup
	@$(PY) -m pytest -q tests/unit

test: setup lint
	@$(PY) -m pytest -q tests --ignore=tests/compose  # make test-compose: images take minutes to build

bench: setup
	@$(PY) -m bench.join_latency
	@$(PY) -m bench.bridge_capacity
	@$(PY) -m bench.scheduled_ring
	@$(PY) -m bench.webhook_delivery

# docker-compose.yml: one component per container on this host's network (README "docker compose and
# several hosts"). Builds the debootstrap base (once) and the image; returns once every service is healthy.
COMPOSE := docker-compose -p kamconf

compose-up:
	@bash docker/up.sh

# Stops and removes the containers; the data volumes stay (docker volume rm kamconf_var kamconf_pgdata).
compose-down:
	@$(COMPOSE) down --remove-orphans

# Brings the compose stack up, runs the three-tone check against it, brings it down (slow: not in `make test`).
test-compose: setup
	@$(PY) -m pytest -q tests/compose --basetemp=/tmp/pytest-compose-make
