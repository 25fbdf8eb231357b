# drumgrid: `make demo` and `make test` do all set-up themselves (see README).
SHELL := /bin/bash
PYTHON_SYS ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
TORCH_VERSION ?= 2.13.0
# Debian packages the project needs: FluidSynth + soundfonts and Hydrogen drumkits for the
# rendered corpus, liblo's oscsend/oscdump as an independent OSC peer in tests, node for the
# device's JS.
DEB_PACKAGES := fluidsynth fluid-soundfont-gm avldrums.lv2-soundfont musescore-general-soundfont \
	timgm6mb-soundfont hydrogen-drumkits hydrogen-data liblo-tools nodejs
NATIVE_SOURCES := $(wildcard csrc/*.cpp csrc/*.h csrc/cuda/*.cu csrc/cuda/*.h csrc/cuda/*.cpp)
STAMP := $(VENV)/.drumgrid-installed
PYTEST_ARGS ?= -m "not slow"

.PHONY: setup demo test test-all lint typecheck format debs clean

setup: debs $(STAMP)

debs:
	@missing=""; for p in $(DEB_PACKAGES); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "drumgrid: installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "drumgrid: please install these Debian packages (as root):$$missing"; \
	    echo "  sudo apt-get install$$missing"; \
	  fi; \
	fi

$(PY):
	$(PYTHON_SYS) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

# torch first and pinned when absent (the CPU wheel here; users with GPUs install their CUDA
# torch beforehand and it is kept), then the build tools, then drumgrid itself, editable.
$(STAMP): $(PY) pyproject.toml CMakeLists.txt $(NATIVE_SOURCES)
	@$(PY) -c "import torch" 2>/dev/null || $(PIP) install -q torch==$(TORCH_VERSION)
	$(PIP) install -q "scikit-build-core>=0.10" "pybind11>=2.12" "cmake>=3.26" ninja
	$(PIP) install -q --no-build-isolation -e ".[train,test]"
	@touch $@

DEMO_MIDI := examples/rock_100_beat.mid

# Renders the example with the shipped default model; until one ships, shows its grid.
demo: setup
	@if [ -f server/engine/default_model/config.json ]; then \
	  mkdir -p renders && \
	  $(VENV)/bin/drumgrid render $(DEMO_MIDI) -o renders/rock_100_beat.wav && \
	  echo "wrote renders/rock_100_beat.wav"; \
	else \
	  $(VENV)/bin/drumgrid grid $(DEMO_MIDI) && \
	  echo "(no default model ships in this build yet: this is the grid drumgrid would render)"; \
	fi

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# mypy finds modules by folder; the links give it the installed layout (drumgrid.server is
# server/, ...) and the native module's stub. Settings: pyproject.toml [tool.mypy].
TYPECHECK_ROOT := build/typecheck/drumgrid
typecheck: setup
	@mkdir -p $(TYPECHECK_ROOT)
	@for p in server bridge training; do ln -sfn ../../../$$p $(TYPECHECK_ROOT)/$$p; done
	@ln -sfn ../../../csrc/_C.pyi $(TYPECHECK_ROOT)/_C.pyi
	$(VENV)/bin/mypy

format: setup
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# The device's node tests drive the patch against a real `drumgrid serve` (DRUMGRID_BIN).
test: setup lint typecheck
	DRUMGRID_BIN=$(abspath $(VENV))/bin/drumgrid node --test max_for_live
	$(PY) -m pytest $(PYTEST_ARGS)

test-all: PYTEST_ARGS =
test-all: test

clean:
	rm -rf build $(VENV) .pytest_cache
