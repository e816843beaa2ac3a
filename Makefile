# Design Mindset Detector: `make run` to try it, `make test` for the whole suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app lti_tool
TOOL_URL := http://127.0.0.1:5000
PLATFORM_URL := http://localhost:5001

.PHONY: run test lint bench install config clean-dev messages

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[test]'
	touch $@

# The Polish catalog's .mo is not committed: compiled here, and at start-up when missing.
install: $(VENV)/.installed
	$(VENV)/bin/pybabel -q compile -d lti_tool/translations

# After changing user-facing text: collect the strings, merge them into each language's .po.
messages: install
	$(VENV)/bin/pybabel -q extract -F babel.cfg -k _l --project="Design Mindset Detector" \
		--version=0.1.0 -o lti_tool/translations/messages.pot .
	$(VENV)/bin/pybabel -q update -i lti_tool/translations/messages.pot -d lti_tool/translations --no-fuzzy-matching --ignore-obsolete

instance/config.toml: | $(VENV)/.installed
	$(PY) -m lti_tool.config init --tool-url $(TOOL_URL)

config: instance/config.toml

# Serve the tool on 127.0.0.1:5000 and the development platform on localhost:5001:
# two different sites, so the tool runs in a cross-site iframe as in a real LMS.
run: install config
	$(FLASK) db upgrade
	$(FLASK) keys generate --if-missing
	$(FLASK) platforms add --if-missing --name "Development platform" $$($(PY) -m lti_tool.devplatform registration --issuer $(PLATFORM_URL) --format args)
	@echo
	@echo "  Open $(PLATFORM_URL)/ and launch as a learner or as the instructor."
	@echo "  The grades worker sends scores to the platform's gradebook (Ctrl-C stops all three)."
	@echo
	@trap 'kill 0' INT TERM EXIT; \
	$(PY) -m lti_tool.devplatform --host localhost --port 5001 --tool-url $(TOOL_URL) --data-dir instance/devplatform & \
	$(FLASK) grades worker & \
	$(FLASK) run --host 127.0.0.1 --port 5000

test: install
	$(PY) -m pytest -q

lint: install
	$(VENV)/bin/ruff check .

bench: install
	cd bench && ../$(PY) all.py

clean-dev:
	rm -rf instance/dmd.sqlite3 instance/devplatform
