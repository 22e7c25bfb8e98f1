# registryd: `make run` starts the daemon, `make test` runs the whole suite. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PROTO := protos/agentregistry/v1/registry.proto

.DEFAULT_GOAL := help
.PHONY: help run run-cluster test fuzz proto lint fmt bench bench-full clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

HTTP_LISTEN ?= 127.0.0.1:8080
run: $(STAMP) ## start the daemon in the foreground on 127.0.0.1:50051, the web console on HTTP_LISTEN
	@echo "registryd console: http://$(HTTP_LISTEN)/"
	$(VENV)/bin/registryd --http-listen $(HTTP_LISTEN)

run-cluster: $(STAMP) ## a local etcd and three replicas (cluster mode) on 127.0.0.1:50051-50053; Ctrl-C stops all
	$(PY) -m scripts.run_cluster

test: $(STAMP) ## run the whole test suite
	$(PY) -m pytest

FUZZ_EXAMPLES ?= 10000
fuzz: $(STAMP) ## fuzz a live daemon with FUZZ_EXAMPLES random and malformed requests (default 10000)
	REGISTRYD_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PY) -m pytest tests/security/test_fuzz.py -s --timeout 1800 --hypothesis-show-statistics

proto: $(STAMP) ## regenerate sdk/agentregistry/v1 from protos/ (and the benchmark's no-op server stubs)
	$(PY) -m grpc_tools.protoc -Iprotos --python_out=sdk --pyi_out=sdk --grpc_python_out=sdk $(PROTO)
	$(PY) -m grpc_tools.protoc -I. --python_out=. --grpc_python_out=. bench/noop/echo.proto

BENCH_STAMP := $(VENV)/.bench-stamp
$(BENCH_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e '.[dev,bench]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP) ## quick benchmarks (< 3 min): ratios against a no-op gRPC server -> bench/results/
	$(PY) -m bench

bench-full: $(BENCH_STAMP) ## every benchmark at full size, with the 10-minute soak (about 20 min)
	$(PY) -m bench --full

lint: $(STAMP) ## ruff lint and format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

fmt: $(STAMP) ## ruff fix and format
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean: ## remove the virtualenv and caches
	rm -rf $(VENV) .pytest_cache registryd-data
