#!/usr/bin/env bash
# The whole test suite: lint, format, types (strict on crm_domain), the import contract, then pytest.
set -euo pipefail
source "$(dirname "$0")/venv.sh"
echo "== ruff"; ruff check src tests bench
echo "== ruff format"; ruff format --check --quiet src tests bench
echo "== mypy"; mypy
echo "== import-linter"; lint-imports --no-cache
echo "== pytest"; pytest -q -n "${CRM_TEST_WORKERS:-auto}" "$@"
