# photostack: two commands. `make up` sets up, starts and deploys everything; `make test` passes.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PY := .venv/bin/python
export PATH := $(CURDIR)/.venv/bin:$(PATH)

.PHONY: help setup lock up dev down deploy rotate-jwt-key test test-unit lint protos openapi eval-faces eval-search fuzz chaos bench status logs

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

setup:  ## create the virtualenvs (project, LocalStack, Lambda runtime) from the lock files
	@bash infra/setup.sh

lock:  ## re-resolve the requirements .txt files into the .lock files that setup installs
	@bash infra/lock.sh

up: setup  ## start PostgreSQL, Redis, Consul, LocalStack and the sidecar, migrate, deploy; print the URLs (HOT=1: as make dev)
	@PHOTOSTACK_HOT_RELOAD=$(HOT) bash infra/up.sh

dev: setup  ## make up with hot reload: a saved file under functions/ or layers/ runs in the next invocation, no deploy
	@PHOTOSTACK_HOT_RELOAD=1 bash infra/up.sh

down:  ## stop what `make up` started (the database and its data stay)
	@bash infra/down.sh

deploy:  ## build the function and layer artifacts and create/update the stack in LocalStack (HOT=1: hot reload)
	@PHOTOSTACK_HOT_RELOAD=$(HOT) $(PY) infra/deploy.py

invoke:  ## run one function once without Docker: FN=<LogicalId> EVENT=events/<file>.json (photostack-sam local invoke)
	@$(PY) infra/sam/local_invoke.py local invoke $(if $(FN),"$(FN)") $(if $(EVENT),-e "$(EVENT)")

rotate-jwt-key:  ## new JWT signing key in the local stack's secret; old tokens verify until they expire
	@$(PY) infra/rotate_jwt_key.py

test: up  ## the whole suite against the real services and the deployed stack
	@$(PY) -m pytest tests -p no:cacheprovider

test-unit: setup  ## unit tests only (no services needed)
	@$(PY) -m pytest tests -m unit -p no:cacheprovider

lint:  ## ruff and mypy
	@bash infra/lint.sh

protos:  ## regenerate the gRPC stubs from protos/
	@$(PY) infra/protos.py

openapi:  ## regenerate docs/openapi.json from the Chalice apps' routes
	@$(PY) infra/openapi.py

eval-faces: setup  ## face search evaluation on ../shared/data/faces (rank-1, similarity gap, threshold)
	@$(PY) -m infra.eval_faces

eval-search: setup  ## bib search evaluation on generated race photos (precision, recall, smallest bib height)
	@$(PY) -m infra.eval_search

fuzz: up  ## Schemathesis against the deployed stack, longer than in `make test` (EXAMPLES per operation, default 300)
	@PHOTOSTACK_FUZZ_EXAMPLES=$${EXAMPLES:-300} $(PY) -m pytest tests/e2e/test_fuzz.py -p no:cacheprovider -s --timeout 3600

chaos: up  ## kill -9 each service in turn under load (sidecars, Redis, PostgreSQL, Consul, LocalStack); nothing acknowledged may be lost
	@PHOTOSTACK_CHAOS=full $(PY) -m pytest tests/chaos -p no:cacheprovider -s

bench: up  ## benchmarks, printed side by side with their references
	@$(PY) -m tests.bench

check-storage:  ## rebuild ready photos whose derivatives are gone from S3, fail those whose original is (DRY_RUN=1: only report)
	@$(PY) -m infra.storage_check $(if $(DRY_RUN),--dry-run)

status:  ## which services are up
	@bash infra/services.sh status

logs:  ## tail the service logs; REQUEST=<X-Request-Id> prints that request's path across functions and sidecar
	@if [ -n "$(REQUEST)" ]; then $(PY) -m infra.trace "$(REQUEST)"; else tail -n 50 .state/log/*.log; fi
