# Lighthouse — `make run` serves the site on the embedded default; `make test` runs the whole suite on real services.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := .venv
PY := $(VENV)/bin/python
MANAGE := $(PY) manage.py
APT_RUN := ffmpeg fonts-noto-cjk gettext libpango-1.0-0 libpangoft2-1.0-0
APT_TEST := postgresql redis-server chromium poppler-utils
HOST ?= 127.0.0.1
PORT ?= 8000
# make test runs OpenSearch as three nodes (one JVM) so tests/search/test_cluster.py can stop one mid-stream; every
# other test then also talks to a replicated, multi-node cluster. Measured here: same start-up time as one node
# (~8 s), ~+50 MB resident, no measurable suite slowdown; a separate cluster for that one test would cost a second
# JVM start and ~450 MB more while both run. OPENSEARCH_NODES=1 make test gives the single node back.
OPENSEARCH_NODES ?= 3
# The browser audits measure what a page sends and draws, and the player tests what hls.js fetches and plays: the
# same on either database, so they run once, on the main (PostgreSQL) run, not again in the embedded-default slice
# (the audits were about 7 of that slice's 9 minutes here; the player's network tests about 3 more).
E2E_ONCE := test_accessibility.py test_page_weight.py test_player_networks.py test_audio_tracks_player.py test_screens_tv.py test_screens_emergency_player.py
# The main run spreads the tests over pytest-xdist workers, each with its own test database, Redis databases, index
# prefix and file cache (cms/settings/test.py). --dist load hands them out in pytest-django's order, so on every
# worker the tests that flush the database come after those that roll back (--dist worksteal would not: it splits
# the list in halves and a worker that runs out takes the end of the other's half, so the second worker would run
# rolled-back tests after its flushing ones); tests marked serial run alone afterwards. The embedded-default slice
# is spread the same way: each worker has its own SQLite test database (pytest-django's _gw suffix) and file cache
# (cms/settings/test.py). TEST_WORKERS=0 runs everything in one process.
# Every test's time lands in var/log/tests-main.xml (JUnit), to see where the suite's minutes go beyond the slowest
# 25 that pytest prints.
TEST_WORKERS ?= 2

.PHONY: help run test lint format bench deps deps-test setup serve services-up services-down messages lock clean

help:
	@echo "make run    安装依赖、迁移数据库、载入演示内容，并在 http://$(HOST):$(PORT) 启动网站和任务进程"
	@echo "make test   启动 PostgreSQL、Redis、OpenSearch、S3 并运行全部测试"
	@echo "make lint   ruff 格式和代码检查"
	@echo "make bench  运行 bench/ 下的性能基准"

# --- Installation: only what is missing, so a second run is quick.
define apt_ensure
	@missing=$$(for p in $(1); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q "install ok installed" || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "==> 安装系统软件包：$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi
endef

$(VENV)/.installed: requirements.lock
	@test -x $(PY) || python3 -m venv $(VENV)
	@echo "==> 安装 Python 依赖（requirements.lock）"
	@$(PY) -m pip install -q --upgrade pip
	@$(PY) -m pip install -q -r requirements.lock
	@touch $@

node_modules/.installed: package.json package-lock.json
	@echo "==> 安装前端依赖（npm）"
	@npm ci --no-audit --no-fund --loglevel=error
	@touch $@

deps: $(VENV)/.installed node_modules/.installed
	$(call apt_ensure,$(APT_RUN))

deps-test: deps
	$(call apt_ensure,$(APT_TEST))

messages: deps
	@$(MANAGE) compilemessages -v0 --ignore=.venv --ignore=node_modules

setup: deps messages
	@mkdir -p var/media var/log
	@$(MANAGE) migrate --no-input -v0
	@$(MANAGE) collectstatic --no-input -v0
	@$(MANAGE) load_demo

run: setup
	@services/site --host $(HOST) --port $(PORT)

# --- Tests: services start once per run and always stop, pass or fail.
services-up: deps-test
	@services/up

services-down:
	@services/down

test: deps-test messages
	@services/up --opensearch-nodes $(OPENSEARCH_NODES)
	@set -a; source var/services/env; set +a; \
	status=0; bash .ci/gates || status=$$?; \
	if [ $$status = 0 ] && [ -n "$(PYTEST_ARGS)" ]; then $(PY) -m pytest $(PYTEST_ARGS) || status=$$?; fi; \
	if [ $$status = 0 ] && [ -z "$(PYTEST_ARGS)" ]; then \
	  $(PY) -m pytest -n $(TEST_WORKERS) --dist load -m "not serial" --junitxml=var/log/tests-main.xml || status=$$?; \
	  if [ $$status = 0 ]; then echo "==> tests that run alone (marked serial)"; $(PY) -m pytest -p no:cacheprovider -m serial || status=$$?; fi; \
	fi; \
	if [ $$status = 0 ] && [ -z "$(PYTEST_ARGS)" ]; then \
	  echo "==> the end-to-end slice and SQLite's query plans again on the embedded default (SQLite, database worker, local disk)"; \
	  env -u DATABASE_URL -u REDIS_URL -u S3_BUCKET -u SEARCH_URL $(PY) -m pytest -p no:cacheprovider -n $(TEST_WORKERS) --dist load tests/e2e tests/library/test_list_plans.py \
	    $(addprefix --ignore=tests/e2e/,$(E2E_ONCE)) || status=$$?; \
	fi; \
	services/down; exit $$status

lint: deps
	@$(VENV)/bin/ruff format --check .
	@$(VENV)/bin/ruff check .

format: deps
	@$(VENV)/bin/ruff format .
	@$(VENV)/bin/ruff check --fix .

# Lighthouse (bench_lighthouse.py) has its own package.json and lock in bench/lighthouse: only make bench installs it.
bench/lighthouse/node_modules/.installed: bench/lighthouse/package.json bench/lighthouse/package-lock.json
	@echo "==> 安装基准工具（Lighthouse）"
	@npm ci --prefix bench/lighthouse --no-audit --no-fund --loglevel=error
	@touch $@

bench: deps bench/lighthouse/node_modules/.installed
	$(call apt_ensure,chromium)
	@$(PY) bench/run.py

lock:
	@$(PY) -m pip install -q -r requirements.in
	@$(PY) -m pip freeze --exclude-editable > requirements.lock

clean:
	rm -rf var/static var/work
