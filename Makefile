# Design Mindset Detector: `make run` to try it, `make test` for the whole suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app lti_tool
# `make run TOOL_PORT=5100 PLATFORM_PORT=5101` when 5000 or 5001 is taken.
TOOL_PORT ?= 5000
PLATFORM_PORT ?= 5001
# The LMS the development platform plays at start: moodle or canvas (its console switches).
PROFILE ?= moodle
# The development platform's SMTP sink: the tool's e-mails land on its Mail page.
MAIL_PORT ?= 1025
TOOL_URL := http://127.0.0.1:$(TOOL_PORT)
PLATFORM_URL := http://localhost:$(PLATFORM_PORT)
DEVPLATFORM := $(PY) -m lti_tool.devplatform
# Where the development platform keeps its key and store.
DEVPLATFORM_DATA ?= instance/devplatform

.PHONY: run test lint bench install config clean-dev messages mutation

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[test]'
	touch $@

# The Polish catalog's .mo is not committed: compiled here, and at start-up when missing.
install: $(VENV)/.installed
	@deploy/system-packages
	$(VENV)/bin/pybabel -q compile -d lti_tool/translations

# After changing user-facing text: collect the strings, merge them into each language's .po.
messages: install
	$(VENV)/bin/pybabel -q extract -F babel.cfg -k _l --project="Design Mindset Detector" \
		--version=0.1.0 -o lti_tool/translations/messages.pot .
	$(VENV)/bin/pybabel -q update -i lti_tool/translations/messages.pot -d lti_tool/translations --no-fuzzy-matching --ignore-obsolete

instance/config.toml: | $(VENV)/.installed
	$(PY) -m lti_tool.config init --tool-url $(TOOL_URL)

config: instance/config.toml

# Serve the tool on 127.0.0.1:$(TOOL_PORT) and the development platform on
# localhost:$(PLATFORM_PORT) (with an SMTP sink on 127.0.0.1:$(MAIL_PORT)): two different sites, so the tool runs in a cross-site iframe as
# in a real LMS. The tool's URL comes from the ports (LTI_TOOL_TOOL_URL overrides the one
# instance/config.toml was written with), and both of the platform's profiles are registered.
run: export LTI_TOOL_TOOL_URL = $(TOOL_URL)
run: export LTI_TOOL_DEV_PLATFORM_URL = $(PLATFORM_URL)
run: export LTI_TOOL_MAIL_HOST = 127.0.0.1
run: export LTI_TOOL_MAIL_PORT = $(MAIL_PORT)
run: export LTI_TOOL_MAIL_SECURITY = none
run: export LTI_TOOL_MAIL_FROM = Design Mindset Detector <dmd@localhost>
run: install config
	$(FLASK) db upgrade
	$(FLASK) keys generate --if-missing
	$(FLASK) platforms add --if-missing --name "Development platform" $$($(DEVPLATFORM) registration --issuer $(PLATFORM_URL) --format args)
	$(FLASK) platforms add --if-missing --name "Development platform (Canvas)" $$($(DEVPLATFORM) registration --profile canvas --issuer $(PLATFORM_URL) --format args)
	@echo
	@echo "  Open $(PLATFORM_URL)/ and launch as a learner or as the instructor."
	@echo "  The worker sends scores to the platform's gradebook and e-mails to its Mail page,"
	@echo "  $(PLATFORM_URL)/mail (Ctrl-C stops all three)."
	@echo
	@trap 'kill 0' INT TERM EXIT; \
	$(DEVPLATFORM) --host localhost --port $(PLATFORM_PORT) --profile $(PROFILE) --tool-url $(TOOL_URL) --data-dir $(DEVPLATFORM_DATA) --mail-port $(MAIL_PORT) & \
	$(FLASK) worker & \
	$(FLASK) run --host 127.0.0.1 --port $(TOOL_PORT)

# SQLite in a temporary folder; TEST_DATABASE_URL=postgresql+psycopg://.../test for PostgreSQL
# (its schema is dropped: the name must contain "test"). DATABASE_URL is never used here.
test: install
	$(PY) -m pytest -q

# Mutation testing (not in CI: slow): mutmut over each module of pyproject's
# [tool.dmd-mutation] with the tests named for it, one test process at a time, then figures.
# `make mutation MODULES=lti_tool/lti/roles.py` runs one; survivors: README, "Tests".
MUTMUT ?= mutmut==3.8.1
MODULES ?=
mutation: install
	$(VENV)/bin/pip install --quiet '$(MUTMUT)'
	$(PY) tests/mutation.py $(MODULES)

lint: install
	$(VENV)/bin/ruff check .

# `make bench DB=postgres` runs on PostgreSQL + Redis; BENCH_ARGS="--runs 5" and the like.
BENCH_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1/dmd_bench
BENCH_REDIS_URL ?= redis://127.0.0.1:6379/0
bench: install
	cd bench && $(if $(filter postgres,$(DB)),DATABASE_URL=$(BENCH_DATABASE_URL) REDIS_URL=$(BENCH_REDIS_URL)) ../$(PY) all.py $(BENCH_ARGS)

clean-dev:
	rm -rf instance/dmd.sqlite3 instance/devplatform
