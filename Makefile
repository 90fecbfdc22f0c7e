# Enforcement Evidence Kit — set-up, run and test.
#   make run [ARGS=--demo]   create .venv, install, start the desktop application
#   make test                create .venv, install, run the whole test suite offscreen
# Both install the Debian packages Qt needs when they are missing.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
ARGS   ?=
PYTEST_ARGS ?=

# Shared libraries PySide6's Qt loads (offscreen, xcb and printing) and Python's venv module.
DEBS := libegl1 libgl1 libopengl0 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libfreetype6 \
        libglib2.0-0 libdbus-1-3 libx11-xcb1 libxcb1 libxcb-cursor0 libxcb-icccm4 libxcb-image0 \
        libxcb-keysyms1 libxcb-randr0 libxcb-render0 libxcb-render-util0 libxcb-shape0 libxcb-shm0 \
        libxcb-sync1 libxcb-xfixes0 libxcb-xinerama0 libxcb-xkb1 libcups2 python3-venv poppler-utils
# The launcher's smoke tests start the application on a virtual X display and look at it as
# another X client would (without them the tests fall back to offscreen); qpdf checks the PDFs' structure;
# chromium: the command centre's pages are tested in a real browser (Playwright drives Debian's).
TEST_DEBS := xvfb xdotool qpdf chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

LOCALE_DIR := resources/locale
PO  := $(wildcard $(LOCALE_DIR)/*/LC_MESSAGES/kit_app.po)
MO  := $(PO:.po=.mo)

# The installable bundle: PyInstaller's one-folder build (kit-app.spec) and the Windows setup (installer.nsi).
BUNDLE_DEBS := nsis
DIST := dist

.PHONY: run test system-deps install mo i18n-extract lint bench clean bundle bundle-check

run: DEPS = $(DEBS)
run: system-deps $(STAMP) mo
	$(BIN)/kit-app $(ARGS)

test: DEPS = $(DEBS) $(TEST_DEBS)
test: system-deps $(STAMP) mo
	$(BIN)/lint-imports
	$(BIN)/ruff check .
	$(BIN)/mypy
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest $(PYTEST_ARGS)

system-deps:
	@if command -v dpkg-query >/dev/null 2>&1; then \
	  missing=""; \
	  for p in $(or $(DEPS),$(DEBS)); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	  done; \
	  if [ -n "$$missing" ]; then \
	    echo "Installing Debian packages:$$missing"; \
	    $(SUDO) apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	  fi; \
	else echo "Not a Debian system: install Qt's runtime libraries with your package manager."; fi

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[test]"
	touch $(STAMP)

mo: $(STAMP) $(MO)

%.mo: %.po
	$(BIN)/pybabel compile -D kit_app -i $< -o $@

# Re-extract translatable strings and merge them into the catalogues (then translate zh_CN).
i18n-extract: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k N_ -k ngettext:1,2 --no-location --sort-output --no-wrap \
	    --project "Enforcement Evidence Kit" -o $(LOCALE_DIR)/kit_app.pot kit_app ui devices forms reports central
	$(BIN)/pybabel update -D kit_app -i $(LOCALE_DIR)/kit_app.pot -d $(LOCALE_DIR) --no-fuzzy-matching --no-wrap

lint: $(STAMP)
	$(BIN)/lint-imports
	$(BIN)/ruff check .
	$(BIN)/mypy

# One folder with the application and everything it reads (Linux here; the same command on Windows
# gives the folder installer.nsi packs).
bundle: $(STAMP) mo
	$(BIN)/python -m pip install -q "pyinstaller>=6.10"
	$(BIN)/pyinstaller --noconfirm --clean --log-level WARN --distpath $(DIST) --workpath build/pyinstaller kit-app.spec

# What CI proves on every change: the bundle passes its own self-test, and the setup script compiles
# against the bundle's file list (uncompressed: the script, not the archive, is what is checked).
bundle-check: DEPS = $(DEBS) $(BUNDLE_DEBS)
bundle-check: system-deps bundle
	QT_QPA_PLATFORM=offscreen HOME=$$(mktemp -d) $(DIST)/kit-app/kit-app --self-test
	QT_QPA_PLATFORM=offscreen HOME=$$(mktemp -d) $(DIST)/kit-app/kit-app-cli --version
	makensis -V2 -DFAST -DBUNDLE=$(DIST)/kit-app -DOUTFILE=$(CURDIR)/$(DIST)/EnforcementEvidenceKit-setup.exe installer.nsi

bench: $(STAMP) mo
	QT_QPA_PLATFORM=offscreen $(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache $(MO)
