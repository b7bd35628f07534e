#!/usr/bin/env bash
# The main job on the embedded default: the API on http://127.0.0.1:${CRM_PORT:-8000} (SQLite under
# ./crm-data, sandbox ERP, SMS to the log and ./crm-data/sms.jsonl). Loads demo data into an empty store first.
set -euo pipefail
source "$(dirname "$0")/venv.sh" serve
crm demo seed --if-empty
exec crm serve --host "${CRM_HOST:-127.0.0.1}" --port "${CRM_PORT:-8000}" --workers "${CRM_WORKERS:-2}"
