# Thin wrapper: ./kampus is the entry point (it needs only sh and python3, no make).
.PHONY: run test setup lint ci bench
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
bench:  # issue 13's benchmarks, ~8 minutes; needs DATABASE_URL (PostgreSQL) and Mosquitto installed
	.venv/bin/python bench/run_all.py $(BENCH_ARGS)
