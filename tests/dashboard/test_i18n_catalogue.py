"""The catalogues are complete: every string the templates, the dashboard code and the reports mark for
translation is in the zh_Hans_CN catalogue, translated, with the same placeholders."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from monitor.locales import LOCALES, TRANSLATIONS_DIR

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None, "_l": None}
PLACEHOLDER = re.compile(r"%\(\w+\)s|\{\w+\}")


def _marked() -> set[str]:
    found: set[str] = set()
    for _file, _line, message, _comments, _ctx in extract_from_dir(
        str(ROOT), method_map=_method_map(), keywords=KEYWORDS
    ):
        found.update([message] if isinstance(message, str) else message)
    return found


def _method_map() -> list[tuple[str, str]]:
    lines = (ROOT / "babel.cfg").read_text().splitlines()
    return [tuple(reversed(m.groups())) for line in lines if (m := re.match(r"\[(\w+): (.+)\]", line))]


def _catalogue(locale: str):
    with (TRANSLATIONS_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return read_po(f)


def test_every_marked_string_is_translated() -> None:
    marked = _marked()
    assert len(marked) > 150, "extraction found too little: is babel.cfg right?"
    for locale in LOCALES:
        catalogue = _catalogue(locale)
        missing = sorted(m for m in marked if catalogue.get(m) is None)
        assert not missing, f"{locale}: not in the catalogue (run make i18n): {missing[:10]}"
        empty = sorted(m.id for m in catalogue if m.id and not m.string)
        assert not empty, f"{locale}: untranslated: {empty[:10]}"
        fuzzy = sorted(m.id for m in catalogue if m.id and m.fuzzy)
        assert not fuzzy, f"{locale}: fuzzy entries: {fuzzy[:10]}"
        for m in catalogue:
            if m.id:
                assert sorted(PLACEHOLDER.findall(m.id)) == sorted(PLACEHOLDER.findall(m.string)), m.id


def test_chinese_is_chinese() -> None:
    """A zh entry that is just the English copied over counts as untranslated (units and codes aside)."""
    catalogue = _catalogue("zh_Hans_CN")
    copied = [m.id for m in catalogue if m.id and m.string == m.id and re.search(r"[a-z]{3}", m.id)]
    assert not copied, copied[:10]


def test_templates_carry_no_bare_english_text() -> None:
    """Text between tags in a template is a gettext call, a variable or punctuation, never bare words."""
    bare = re.compile(r">\s*([A-Za-z][A-Za-z ,.'’]{2,})\s*<")
    for template in sorted((ROOT / "dashboard" / "templates").glob("*.html")):
        text = re.sub(
            r"<code>.*?</code>|<script.*?</script>|\{\{.*?\}\}", "", template.read_text(), flags=re.S
        )
        hits = [h for h in bare.findall(text) if h.strip() not in {"fps"}]
        assert not hits, f"{template.name}: {hits[:5]}"


def test_every_string_the_scripts_draw_comes_from_the_catalogue() -> None:
    """Each ``CM.t("…")`` of the scripts is handed to the page (dashboard/js_messages.py), so it is in the
    catalogue; no script keeps its own dictionary."""
    from dashboard.js_messages import JS_MESSAGES

    drawn = set()
    for script in sorted((ROOT / "dashboard" / "static" / "js").glob("*.js")):
        drawn.update(re.findall(r'CM\.t\("([^"]*)"', script.read_text()))
    assert len(drawn) > 30
    assert sorted(drawn - set(JS_MESSAGES)) == []
