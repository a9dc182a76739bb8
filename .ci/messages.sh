#!/usr/bin/env bash
# Refresh the Finnish and Swedish translation catalogues (locale/{fi,sv}/LC_MESSAGES/django.po)
# from the source and compile them to the .mo files that are committed beside them.
#
#   .ci/messages.sh           extract new and changed strings into the .po files, then compile them
#   .ci/messages.sh --check   change nothing; exit 1 if the source has a string that a .po file lacks
#
# After a refresh, translate every new or fuzzy entry (`pytest tests/campus/test_i18n.py` lists
# them), remove the fuzzy flags, and run this script again to compile. Needs GNU gettext.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
PY=${PY:-$ROOT/.venv/bin/python}
LANGS=(fi sv)
LANG_ARGS=(-l fi -l sv)
# Only the project's own code and templates hold its strings.
IGNORE=(--ignore=.venv --ignore=node_modules --ignore=tests --ignore=bench --ignore=staticfiles
    --ignore=var --ignore=test-artifacts)
export DEBUG=1 DJANGO_SETTINGS_MODULE=campus.settings

for tool in xgettext msgmerge msgfmt msgcmp; do
    command -v "$tool" >/dev/null || { echo "$tool not found: apt-get install gettext" >&2; exit 2; }
done

if [ "${1:-}" = "--check" ]; then
    # Extract into a scratch copy of the tree, so that the real catalogues stay as they are.
    scratch=$(mktemp -d)
    trap 'rm -rf "$scratch"' EXIT
    tar -C "$ROOT" --exclude=./.venv --exclude=./node_modules --exclude=./.git --exclude=./var \
        --exclude=./staticfiles --exclude=./test-artifacts -cf - . | tar -C "$scratch" -xf -
    (cd "$scratch" && "$PY" manage.py makemessages "${LANG_ARGS[@]}" "${IGNORE[@]}" --keep-pot >/dev/null)
    status=0
    for lang in "${LANGS[@]}"; do
        # Every msgid of the source must have an entry (translated or not: test_i18n checks that).
        if ! msgcmp --use-untranslated --use-fuzzy "locale/$lang/LC_MESSAGES/django.po" "$scratch/locale/django.pot"; then
            status=1
        fi
    done
    if [ $status -ne 0 ]; then
        echo "The catalogues lack strings of the source: run .ci/messages.sh, translate, run it again." >&2
    fi
    exit $status
fi

"$PY" manage.py makemessages "${LANG_ARGS[@]}" "${IGNORE[@]}" --add-location=file --no-obsolete >/dev/null
"$PY" manage.py compilemessages "${LANG_ARGS[@]}" --ignore=.venv --ignore=node_modules >/dev/null
echo "Refreshed and compiled locale/{fi,sv}/LC_MESSAGES/django.po"
