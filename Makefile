# Thin wrapper: ./kampus is the entry point (it needs only sh and python3, no make).
.PHONY: run test setup lint ci
run:
	./kampus run
test:
	./kampus test
setup:
	./kampus setup
lint: setup
	.venv/bin/ruff format --check . && .venv/bin/ruff check .
ci:
	bash .ci/run
