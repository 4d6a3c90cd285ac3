# Two commands from a fresh clone: `make up` (local stack) and `make test` (whole suite).
# Each installs what it needs first (scripts/install-tools.sh: cached per user, seconds when warm).
SHELL := /bin/bash
.DEFAULT_GOAL := help
# .tools/bin first: the Node.js runtime install-tools.sh provides (the image's version), the Temporal
# CLI and the test server; npm and npx run on that node.
export PATH := $(CURDIR)/.tools/bin:$(PATH)

.PHONY: help tools up test test-fast typecheck lint jest kit record-histories release-histories build bench clean

help:
	@echo "make up     - run the local stack (Temporal + Web UI, AWS emulator, worker, router, demo); Ctrl-C stops it"
	@echo "make test   - install tools, typecheck, lint, run the whole test suite"
	@echo "make test-fast - the unit and workflow tiers only (no AWS emulator, no stack): a quick check while you work"
	@echo "make build  - compile TypeScript to dist/"
	@echo "make kit    - regenerate the EventBridge rules of deploy/aws/*.yaml from the event kinds in router/events/"
	@echo "make bench  - run every benchmark under bench/ (BENCH=<name> for one); figures in artifacts/bench/"

tools:
	@./scripts/install-tools.sh

# FLEETOPS_STACK_PROMETHEUS=1 adds a Prometheus scraping the worker and router (Debian's package).
up: tools
	@if [ "$${FLEETOPS_STACK_PROMETHEUS:-}" = 1 ]; then ./scripts/install-tools.sh prometheus; fi
	@npx --no-install tsx stack/up.ts

typecheck: tools
	@npx --no-install tsc -p tsconfig.json --noEmit

# Type-aware ESLint (eslint.config.mjs): promises nobody awaits or that are passed where a plain
# callback is expected. About 20 s on an idle 2-core machine (25 s of CPU, one TypeScript program).
# No --cache: a fresh clone has none, and a file's verdict can change with another file's types.
lint: tools
	@npx --no-install eslint --max-warnings 0 .

jest: tools
	@npx --no-install jest $(JEST_ARGS)

# The generated parts of the AWS kit's templates (between the "generated from router/events" marker
# comments): one EventBridge rule per event kind and the queue policies' lists of those rules.
# test/stack/kit-rules.test.ts fails when the committed templates differ from what this writes.
kit: tools
	@npx --no-install tsx scripts/generate-kit-rules.ts

# Everything CI runs. The typecheck and the lint each build one TypeScript program on one core, so
# they run side by side, and either failing stops the run. The last step fails if any server the
# suite started is still running, or if the run (tool install included) changed the git tree: the
# tree's state is taken before anything runs.
# The suite also needs Debian's chromium for the Web UI browser test (test/ui/), and its prometheus
# (promtool for the alert rules' tests, a Prometheus the end-to-end stack is scraped by: test/dashboards/).
# The IAM proof (scripts/iam/check-aws-calls.ts) reads the product's AWS calls the simulators logged
# in this run's directory (FLEETOPS_AWS_CALL_LOG_DIR, simulator/iam/call-log.ts).
# With JEST_ARGS (part of the suite) it skips its unused-statement check: the rest may use them.
test:
	@start=$$(date +%s); export FLEETOPS_TEST_RUN_ID=$$start-$$$$; \
	export FLEETOPS_TREE_BEFORE=$$(mktemp); ./scripts/tree-state.sh >"$$FLEETOPS_TREE_BEFORE"; \
	export FLEETOPS_AWS_CALL_LOG_DIR=$$(mktemp -d -t fleetops-aws-calls-$$FLEETOPS_TEST_RUN_ID.XXXX); \
	./scripts/install-tools.sh nodejs node temporal test-server moto chromium prometheus && \
	{ npx --no-install tsc -p tsconfig.json --noEmit & tsc=$$!; npx --no-install eslint --max-warnings 0 .; lint=$$?; wait $$tsc && [ $$lint = 0 ]; } && \
	npx --no-install jest --ci $(JEST_ARGS) && \
	JEST_ARGS="$(JEST_ARGS)" npx --no-install tsx scripts/iam/check-aws-calls.ts "$$FLEETOPS_AWS_CALL_LOG_DIR"; rc=$$?; \
	./scripts/check-no-leftovers.sh || rc=1; \
	rm -rf "$$FLEETOPS_TREE_BEFORE" "$$FLEETOPS_AWS_CALL_LOG_DIR"; \
	echo "make test: $$(( $$(date +%s) - start )) s, exit $$rc"; exit $$rc

# The unit and workflow tiers (test/harness/tiers.js; docs/contributing.md, "Tests"): pure functions,
# state classes and workflows against Temporal with AWS faked. No emulator, no stack.
test-fast:
	@./scripts/install-tools.sh nodejs node temporal test-server && \
	npx --no-install jest --ci --selectProjects unit workflow $(JEST_ARGS)

# Re-record the committed workflow histories (test/histories) after an intended workflow change.
# The workflow tests of every registered workflow (contracts/registry.ts) rewrite test/histories/<workflow>/.
record-histories: tools
	@dirs="$$(npx --no-install tsx scripts/workflow-test-dirs.ts)" && test -n "$$dirs" && FLEETOPS_RECORD_HISTORIES=1 npx --no-install jest --ci $$dirs

# Freeze this release's histories and workflow bundle (test/histories/released/$(VERSION)); see docs/upgrades.md.
release-histories: tools
	@npx --no-install tsx scripts/release-histories.ts $(VERSION)

# Every bench under bench/ with its defaults, one after the other (docs/benchmarks.md); BENCH=<name> runs one.
bench: tools
	@for b in $(if $(BENCH),bench/$(BENCH).ts,bench/*.ts); do echo "== $$b"; npx --no-install tsx $$b || exit 1; done

build: tools
	@npx --no-install tsc -p tsconfig.build.json

clean:
	rm -rf dist .run artifacts
