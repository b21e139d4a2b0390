# Two commands for a fresh machine: `make run` (install + start the app), `make test` (install + run the tests).
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
# The offline bundle (ImageNet weights + tf_flowers photos) beside the project, if there is one.
export TLL_OFFLINE_BUNDLE ?= $(abspath $(wildcard ../shared))
export TF_CPP_MIN_LOG_LEVEL ?= 2
PORT ?= 8501
# Two test processes (pytest-xdist), a whole test file each at a time so a file's fixtures stay in one process.
# Run one after the other, the tests kept 0.9 of 2 cores busy (photo decoding, subprocesses, the browser):
# measured here, 1,115 s one by one, 737 s with two. `make test PARALLEL=` runs them one by one.
PARALLEL ?= -n 2 --dist loadfile

.PHONY: run classroom test test-fast install install-dev browser-deps lint bench clean

$(VENV)/.installed: requirements.txt
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is needed ($(PYTHON) not found)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

run: install
	$(VENV)/bin/streamlit run app.py --server.port $(PORT)

# A class on phones and laptops over the school network: HTTPS (a self-made certificate, or TLL_TLS_CERT and
# TLL_TLS_KEY), nicknames, the join address and QR code printed. Set TLL_TEACHER_CODE for the Teacher page.
classroom: install
	$(PY) -m core.classroom --port $(PORT)

# Debian's Chromium for the browser tests (no browser download: Playwright drives /usr/bin/chromium),
# and fonts so screenshots show text and emoji. apt via sudo only when not root. Without apt, the
# browser tests skip (saying which package is missing), except on CI where that is an error.
BROWSER_PACKAGES := chromium fonts-dejavu-core fonts-noto-color-emoji
browser-deps:
	@if ! dpkg -s $(BROWSER_PACKAGES) >/dev/null 2>&1 || [ ! -x /usr/bin/chromium ]; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		echo "Installing $(BROWSER_PACKAGES) with apt-get"; \
		if ! { $$SUDO apt-get update -qq && \
			$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(BROWSER_PACKAGES) >/dev/null; }; then \
			if [ -n "$${CI:-}" ]; then echo "Could not install $(BROWSER_PACKAGES)" >&2; exit 1; fi; \
			echo "WARNING: could not install $(BROWSER_PACKAGES): the browser tests will be skipped" >&2; \
		fi; \
	fi

test: install-dev browser-deps
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q $(PARALLEL) --durations=15

# The quick set while working: no real trainings (@pytest.mark.slow), no browser journeys. CI runs `make test`.
test-fast: install-dev
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q $(PARALLEL) -m "not slow and not browser"

lint: install-dev
	$(VENV)/bin/ruff check .

bench: install
	$(PY) bench/bench_cache.py

clean:
	rm -rf $(VENV) artifacts .pytest_cache
