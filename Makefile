# Two entry points: `make demo` and `make test`. Both install the locked environment first.
PYTHON ?= python3
UV := $(PYTHON) -m uv
export UV_PYTHON_DOWNLOADS := never
export PYTENSOR_FLAGS ?= compiledir=$(CURDIR)/.cache/pytensor

.PHONY: demo test env
env:
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet --disable-pip-version-check "uv==0.13.9"
	@$(UV) sync --frozen --quiet

demo: env
	$(UV) run --frozen --no-sync mmmcal demo $(ARGS)

test: env
	$(UV) run --frozen --no-sync pytest $(ARGS)
