#!/usr/bin/env bash
# Kampus end-to-end tests: a real headless Chromium (Debian's) driven by Playwright, with axe-core checks.
#
# The browser tests also run inside .ci/run's test pass (which installs Chromium); this script runs
# them on their own and prints the axe summary: `bash .ci/e2e.sh`
# (as root when Chromium still has to be installed). Extra arguments go to pytest.
#
# 1. installs what is missing: Debian's chromium and fonts-dejavu-core (apt), the playwright package (pip);
#    `playwright install` cannot download browsers here, so the tests launch $KAMPUS_CHROMIUM
# 2. runs `pytest -m browser tests/e2e` on the database of DATABASE_URL (the embedded SQLite if unset)
# 3. leaves screenshots and test-artifacts/axe-results.jsonl (one line per page: violations by impact)
set -euo pipefail

cd "$(dirname "$0")/.."
export CI="${CI:-true}"
PY=.venv/bin/python
[ -x "$PY" ] || PY=$(command -v python3)

missing=()
if [ -z "${KAMPUS_CHROMIUM:-}" ] && ! command -v chromium >/dev/null 2>&1; then
    missing+=(chromium)
fi
# Text in screenshots, and axe's colour-contrast checks, need a real font.
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing+=(fonts-dejavu-core)
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "e2e: missing ${missing[*]}; run as root, or: sudo apt-get install -y ${missing[*]}" >&2
        exit 1
    fi
    echo "e2e: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1; then
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
fi

if ! "$PY" -c 'import playwright.sync_api' 2>/dev/null; then
    echo "e2e: installing the playwright package (pip)"
    "$PY" -m pip install --disable-pip-version-check -q 'playwright>=1.45'
fi

export KAMPUS_CHROMIUM="${KAMPUS_CHROMIUM:-$(command -v chromium)}"
export DJANGO_ALLOW_ASYNC_UNSAFE=true
echo "e2e: $("$KAMPUS_CHROMIUM" --version 2>/dev/null | head -n 1), playwright $("$PY" -c 'from importlib.metadata import version; print(version("playwright"))')"

status=0
"$PY" -m pytest -m browser tests/e2e -q -p no:cacheprovider "$@" || status=$?
if [ -f test-artifacts/axe-results.jsonl ]; then
    "$PY" - <<'PY'
import json
from collections import Counter

lines = [json.loads(line) for line in open("test-artifacts/axe-results.jsonl", encoding="utf-8")]
totals = Counter()
for line in lines:
    totals.update(line["violations"])
summary = ", ".join(f"{impact} {count}" for impact, count in sorted(totals.items())) or "none"
print(f"e2e: axe-core checked {len(lines)} pages; violations by impact: {summary}")
print("e2e: details in test-artifacts/axe-results.jsonl, screenshots in test-artifacts/screenshots/")
PY
fi
exit "$status"
