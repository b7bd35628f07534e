#!/usr/bin/env bash
# The main job on the embedded default (SQLite under ./crm-data, sandbox ERP, SMS to the log).
set -euo pipefail
source "$(dirname "$0")/venv.sh"
crm demo seed --if-empty
crm credit show D0001
