# Two entry points: `make demo` and `make test`. Both install the locked environment first,
# with every module's bytecode compiled: where PYTHONDONTWRITEBYTECODE is set, Python never
# writes it, and each process would compile pandas, SciPy and PyMC from source again (the
# imports of a fit: 21 s without bytecode, 7 s with it).
PYTHON ?= python3
UV := $(PYTHON) -m uv
export UV_PYTHON_DOWNLOADS := never

.PHONY: demo test env browser
env:
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet --disable-pip-version-check "uv==0.13.9"
	@$(UV) sync --frozen --quiet --compile-bytecode
	@.venv/bin/python -m compileall -q mmmcal

# Debian's Chromium, for the test that opens the HTML report in a real browser.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null 2>&1 \
	    || echo "Could not install chromium: the browser test will be skipped."; \
	  else echo "Not root: install chromium to run the browser test."; fi; }

demo: env
	$(UV) run --frozen --no-sync mmmcal demo $(ARGS)

# Type check, then the suite with branch coverage of the package (its figure printed at the end).
test: env browser
	$(UV) run --frozen --no-sync mypy
	$(UV) run --frozen --no-sync pytest --cov --cov-report=term:skip-covered $(ARGS)
