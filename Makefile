# anprd: set-up, tests and the demo run. Everything lives in .venv/ at the repository root.
#   make run    a lean set-up (the daemon and the LiteRT runtime), then the daemon on the
#               bundled sample video
#   make test   the whole set-up (Keras, the trainer, the tests), then lint and the tests

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP_STAMP := $(VENV)/.anprd-installed
LITE_STAMP := $(VENV)/.anprd-lite
TYPEFACE  := build/fonts/anprd-legacy.ttf

# Debian packages the project needs: fonts for the plate renderer, GStreamer's RTSP server
# and Mosquitto for the tests (the tests start them), Chromium and its driver for the live
# page's tests, Prometheus's promtool for the alert rules, wallpapers for training
# backgrounds.
APT_PACKAGES := python3-venv \
	fonts-opendin fonts-roboto-unhinted fonts-liberation fonts-urw-base35 fonts-dejavu-extra \
	python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good \
	gstreamer1.0-plugins-bad \
	mosquitto prometheus chromium chromium-driver \
	mate-backgrounds ukui-wallpapers
# What `make run` needs: the daemon reads the sample video with PyAV's own FFmpeg.
RUN_APT_PACKAGES := python3-venv

.PHONY: setup run-setup apt-deps apt-run-deps test lint run clean

setup: apt-deps $(PIP_STAMP) $(TYPEFACE)

run-setup: apt-run-deps $(LITE_STAMP)

# The legacy plates' lettering as a font, drawn from the stroke data in trainer/.
$(TYPEFACE): $(PIP_STAMP) trainer/lettering.py trainer/typeface.py
	$(BIN)/python -m trainer typeface --out $@

# Installs the missing packages with apt-get when root (or with passwordless sudo);
# otherwise says which are missing. Fast when nothing is missing.
apt-deps: PKGS = $(APT_PACKAGES)
apt-run-deps: PKGS = $(RUN_APT_PACKAGES)
apt-deps apt-run-deps:
	@command -v dpkg-query >/dev/null 2>&1 || { echo "make: not Debian; skipping system packages: $(PKGS)"; exit 0; }; \
	missing=""; \
	for p in $(PKGS); do \
		dpkg-query -W -f='$${Status}' "$$p" 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	[ -z "$$missing" ] && exit 0; \
	if [ "$$(id -u)" = 0 ]; then SUDO=""; \
	elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; \
	else echo "make: missing Debian packages:$$missing (run: sudo apt-get install$$missing)" >&2; exit 1; fi; \
	echo "make: installing Debian packages:$$missing"; \
	$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing

# Re-installs when the project's metadata changes or a package appears.
$(PIP_STAMP): pyproject.toml $(wildcard */__init__.py)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -e '.[keras,lite,train,test,jax]'
	@touch $@ $(LITE_STAMP)

# The daemon's dependencies only: no TensorFlow (the shipped LiteRT export runs).
$(LITE_STAMP): pyproject.toml $(wildcard */__init__.py)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -e '.[lite]'
	@touch $@

lint: setup
	$(BIN)/ruff check .

test: lint
	$(BIN)/pytest -q

run: run-setup
	@echo "make: the commands are in $(BIN)/ (source $(BIN)/activate puts them on the PATH)"
	$(BIN)/anprd run --config config/sample.yaml

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info build
