# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
JARS := .stack/jars
MVN := mvn -q -B -f jvm/pom.xml dependency:copy-dependencies -DincludeScope=runtime

.PHONY: setup venv jars demo test test-unit bench lint up down status clean

setup: venv jars

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
	rm -rf $(JARS)/flink $(JARS)/kafka
	$(MVN) -P flink -DoutputDirectory=$(CURDIR)/$(JARS)/flink
	$(MVN) -P kafka -DoutputDirectory=$(CURDIR)/$(JARS)/kafka
	mvn -q -B -f jvm/functions/pom.xml package
	cp jvm/functions/target/clickstream-functions.jar $(JARS)/flink/
	@touch $@

demo: setup
	$(PY) jobs.py demo

test: setup
	$(PY) -m pytest

test-unit: setup
	$(PY) -m pytest -m "not integration"

# Printed figures, never asserted. Each needs the machine to itself.
bench: setup
	$(PY) bench/bench_generator.py
	$(PY) bench/bench_pipeline.py
	$(PY) bench/bench_dbt.py --events 1000000 --events 10000000

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

clean: down
	rm -rf .stack lake clickstream.duckdb
