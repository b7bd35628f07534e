#!/usr/bin/env bash
# The whole test suite: lint, format, types (strict on crm_domain), the import contract, then pytest.
set -euo pipefail
source "$(dirname "$0")/venv.sh" dev
if ! command -v promtool >/dev/null 2>&1; then  # the alert-rule tests (tests/deploy) need Prometheus' promtool
  echo "promtool is missing: installing Debian's prometheus package (apt-get) for the alert-rule tests" >&2
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus; } \
      >/dev/null 2>&1 || echo "could not install promtool: those tests fail in CI and are skipped elsewhere" >&2
  else
    echo "cannot install promtool (not root, or no apt-get): those tests fail in CI and are skipped elsewhere" >&2
  fi
fi
if [ ! -x /usr/bin/chromium ]; then  # the browser journeys of the web app (tests/web) drive Debian's chromium
  echo "chromium is missing: installing Debian's chromium package (apt-get) for the browser tests" >&2
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; } \
      >/dev/null 2>&1 || echo "could not install chromium: the browser tests (tests/web) will fail" >&2
  else
    echo "cannot install chromium (not root, or no apt-get): the browser tests (tests/web) will fail" >&2
  fi
fi
echo "== ruff"; ruff check src tests bench
echo "== ruff format"; ruff format --check --quiet src tests bench
echo "== mypy"; mypy
echo "== import-linter"; lint-imports --no-cache
echo "== pytest"; pytest -q -n "${CRM_TEST_WORKERS:-auto}" "$@"
