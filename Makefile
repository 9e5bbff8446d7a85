# CareStar: `make run` sets up and starts everything; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run test bench soak setup system-deps venv migrate seed messages lint clean

run: setup
	scripts/serve.sh

test: setup
	$(PY) -m pytest

bench: setup
	$(PY) -m bench

# Two hours of `make run` under load, with a worker killed half way (SOAK_SECONDS to change).
soak: setup
	$(PY) -m bench --only soak

setup: system-deps venv messages

system-deps:
	@scripts/system-deps.sh

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements-dev.txt
	touch $@

messages: venv
	@$(PY) manage.py compilemessages --ignore=.venv -v0

lint: venv
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) "$${VAR_DIR:-var}"
