# Sourced by the other scripts: makes sure .venv exists with the project installed, and with the test tools too
# in mode `dev`. Mode: the first argument, or CRM_VENV_MODE: `serve` (the project alone: what `crm serve` and
# `crm worker` need) or `dev` (the default: the project and its test tools, `.[dev]`). Re-installs only when
# pyproject.toml changed since the last install of that mode or of `dev` (which includes `serve`).
set -euo pipefail
mode="${1:-${CRM_VENV_MODE:-dev}}"
case "$mode" in
  serve) spec='.' ;;
  dev) spec='.[dev]' ;;
  *) echo "venv.sh: the mode is serve or dev, not '$mode'" >&2; return 2 2>/dev/null || exit 2 ;;
esac
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
PY="${PYTHON:-python3}"
if ! "$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
  for candidate in python3.13 python3.12 python3.11; do
    if command -v "$candidate" >/dev/null 2>&1; then PY="$candidate"; break; fi
  done
fi
"$PY" -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 or newer is needed"'
if [ ! -x .venv/bin/python ]; then
  echo "creating .venv with $("$PY" --version)" >&2
  "$PY" -m venv .venv
fi
digest="$(sha256sum pyproject.toml | cut -c1-16)"
stamp=".venv/.installed-$mode-$digest"
if [ ! -f "$stamp" ] && [ ! -f ".venv/.installed-dev-$digest" ]; then
  if [ "$mode" = dev ]; then what="the project and its test tools"; else what="the project"; fi
  echo "installing $what into .venv (once)" >&2
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip >&2
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e "$spec" >&2
  find .venv -maxdepth 1 -name '.installed-*' ! -name ".installed-*-$digest" -delete
  touch "$stamp"
fi
export PATH="$root/.venv/bin:$PATH"
