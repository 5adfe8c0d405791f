# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
JARS := .stack/jars
SCHEMAS := .stack/schemas
MVN := mvn -q -B -f jvm/pom.xml dependency:copy-dependencies -DincludeScope=runtime

.PHONY: setup venv jars schemas demo dashboard browser test test-unit bench lint up down status clean

setup: venv jars schemas

venv: $(VENV)/.installed
$(VENV)/.installed: requirements.lock
	@echo "==> Python environment ($(VENV))"
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -r requirements.lock
	@touch $@

jars: $(JARS)/.fetched
$(JARS)/.fetched: jvm/pom.xml jvm/functions/pom.xml $(shell find jvm/functions/src -name '*.java')
	@echo "==> JVM jars from Maven Central ($(JARS)) and our Flink functions (jvm/functions)"
	rm -rf $(JARS)/flink $(JARS)/kafka $(JARS)/flink-plugins
	$(MVN) -P flink -DoutputDirectory=$(CURDIR)/$(JARS)/flink
	$(MVN) -P kafka -DoutputDirectory=$(CURDIR)/$(JARS)/kafka
	$(MVN) -P flink-s3-plugin -DoutputDirectory=$(CURDIR)/$(JARS)/flink-plugins/s3-fs-hadoop
	mvn -q -B -f jvm/functions/pom.xml package
	cp jvm/functions/target/clickstream-functions.jar $(JARS)/flink/
	@touch $@

# What tests/test_manifests.py validates the Kubernetes manifests against, from registry packages
# (nothing copied into the repository): the Flink Kubernetes Operator's CRDs in its API jar (Maven
# Central, jvm/pom.xml profile k8s-schemas) and Strimzi's CRD schemas, compiled into validators
# by an npm package (tests/k8s/package.json, run by Node.js).
schemas: $(SCHEMAS)/.fetched
$(SCHEMAS)/.fetched: jvm/pom.xml tests/k8s/package.json tests/k8s/package-lock.json
	@echo "==> Kubernetes schemas ($(SCHEMAS)): Flink operator CRDs from Maven Central, Strimzi's from npm"
	rm -rf $(SCHEMAS)
	$(MVN) -P k8s-schemas -DoutputDirectory=$(CURDIR)/$(SCHEMAS)/maven
	mkdir -p $(SCHEMAS)/npm
	cp tests/k8s/package.json tests/k8s/package-lock.json $(SCHEMAS)/npm/
	npm ci --prefix $(SCHEMAS)/npm --ignore-scripts --no-audit --no-fund --loglevel=error
	@touch $@

demo: setup
	$(PY) jobs.py demo

dashboard: setup
	$(PY) jobs.py dashboard

# The browser test drives Debian's chromium (Playwright cannot download browsers offline).
browser: /usr/bin/chromium
/usr/bin/chromium:
	@echo "==> chromium for the dashboard's browser test"
	@if [ "$$(id -u)" != 0 ]; then \
		echo "error: /usr/bin/chromium is missing; run 'sudo apt-get install -y chromium'" >&2; \
		exit 1; \
	fi
	apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium

test: setup browser
	$(PY) -m pytest

test-unit: setup
	$(PY) -m pytest -m "not integration"

# Printed figures, never asserted. Each needs the machine to itself. The pipeline figures are
# short holds; a "sustained" rate is what `make soak` holds for 30 minutes.
bench: setup
	$(PY) bench/bench_generator.py
	$(PY) bench/bench_pipeline.py
	$(PY) bench/bench_dbt.py --events 1000000 --events 10000000
	$(PY) bench/bench_lake_files.py
	$(PY) bench/bench_deploy.py
	$(PY) bench/eval_flags.py
	$(PY) bench/bench_gold_cost.py
	$(PY) bench/bench_scale.py

# Hold SOAK_RATE records/s for SOAK_MINUTES on a stack of its own (own ports, state and lake),
# with deduplication retention SOAK_RETENTION and session timeout SOAK_SESSION_TIMEOUT (minutes) so
# the state reaches its steady state within the run; prints a sample every 30 s and a verdict,
# exit 1 when it fails (bench/bench_soak.py).
SOAK_RATE ?= 10000
SOAK_MINUTES ?= 30
SOAK_RETENTION ?= 15 min
SOAK_SESSION_TIMEOUT ?= 10
.PHONY: soak
soak: setup
	$(PY) bench/bench_soak.py --rate $(SOAK_RATE) --minutes $(SOAK_MINUTES) \
		--dedup-retention "$(SOAK_RETENTION)" --session-timeout-minutes $(SOAK_SESSION_TIMEOUT)

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/sqlfluff lint flink_sql
	cd dbt_project && ../$(VENV)/bin/sqlfluff lint
	$(PY) jobs.py lint

up: setup
	$(PY) jobs.py up

down:
	$(PY) jobs.py down

status:
	$(PY) jobs.py status

# Airflow 3 on loopback: the clickstream_marts DAG (dags/) keeps the dbt marts fresh. Its API server,
# scheduler and dag processor (what `airflow standalone` runs, minus the log servers it would bind
# to every interface); state (SQLite DB, logs, generated admin password) in .stack/airflow.
# Ctrl-C stops them all.
AIRFLOW_PORT ?= 8080
AIRFLOW_STATE := $(CURDIR)/.stack/airflow
.PHONY: airflow
airflow: venv
	@mkdir -p $(AIRFLOW_STATE)
	@export PATH=$(CURDIR)/$(VENV)/bin:$$PATH AIRFLOW_HOME=$(AIRFLOW_STATE) \
		AIRFLOW__CORE__DAGS_FOLDER=$(CURDIR)/dags AIRFLOW__CORE__LOAD_EXAMPLES=False \
		AIRFLOW__API__HOST=127.0.0.1 AIRFLOW__API__PORT=$(AIRFLOW_PORT) \
		AIRFLOW__CORE__EXECUTION_API_SERVER_URL=http://127.0.0.1:$(AIRFLOW_PORT)/execution/; \
	passwords=$(AIRFLOW_STATE)/simple_auth_manager_passwords.json.generated; \
	echo "==> Airflow metadata DB ($(AIRFLOW_STATE)/airflow.db)"; \
	airflow db migrate > $(AIRFLOW_STATE)/db-migrate.log || { cat $(AIRFLOW_STATE)/db-migrate.log; exit 1; }; \
	trap 'kill $$(jobs -p) 2>/dev/null; wait' INT TERM EXIT; \
	airflow scheduler --skip-serve-logs & airflow dag-processor & airflow api-server & \
	for _ in $$(seq 90); do curl -sf -o /dev/null http://127.0.0.1:$(AIRFLOW_PORT)/api/v2/monitor/health && break; sleep 2; done; \
	echo "==> Airflow UI and REST API: http://127.0.0.1:$(AIRFLOW_PORT)  (Ctrl-C stops it)"; \
	echo "    login: admin / $$(tr -d '{}" \n' < $$passwords | cut -d: -f2)  (from $$passwords)"; \
	wait

clean: down
	rm -rf .stack lake clickstream.duckdb
