"""The dashboard's languages: Flask-Babel, the locale each request is drawn in, and its catalogues.

The locale of a request is the user's own choice (``users.locale``), else the best match in the browser's
``Accept-Language``, else the site default (the ``locale`` site setting). The catalogues live in
``monitor/translations`` (see :mod:`monitor.locales`; the reports use them too). ``make i18n`` re-extracts
the strings.

Strings drawn by JavaScript are listed in :data:`JS_MESSAGES`; each page gets them, translated, in a JSON
data block (``#i18n-data``) that ``common.js`` reads: one catalogue for the server and the browser.
"""

from __future__ import annotations

from typing import Any

from babel import Locale
from flask import Blueprint, Flask, Response, abort, flash, g, redirect, request, url_for
from flask_babel import Babel, get_locale, gettext, refresh

from dashboard.db import write_db
from monitor.locales import DEFAULT_LOCALE, LOCALE_TAGS, LOCALES, compile_catalogues, match_locale
from monitor.store.schema import User


def N_(message: str) -> str:  # noqa: N802 (the conventional name of a gettext marker)
    """Mark ``message`` for extraction without translating it here."""
    return message


def select_locale() -> str:
    """The user's setting, then ``Accept-Language``, then the site default."""
    user = g.get("user")
    own = getattr(user, "locale", None)
    if own in LOCALES:
        return own
    asked = match_locale(lang for lang, _q in request.accept_languages) if request else None
    return asked or site_default_locale()


def site_default_locale() -> str:
    """The ``locale`` site setting (``en`` when the database cannot be read)."""
    if "site_locale" not in g:
        from sqlalchemy.exc import SQLAlchemyError

        from dashboard.db import get_db
        from monitor.store.site_settings import get_setting

        try:
            g.site_locale = get_setting(get_db(), "locale") or DEFAULT_LOCALE
        except SQLAlchemyError:
            g.site_locale = DEFAULT_LOCALE
    return g.site_locale


def select_timezone() -> str:
    """The school's zone: Flask-Babel's date formats read times in it."""
    from dashboard.access import school_zone

    return str(school_zone())


def current_locale() -> str:
    """``en`` or ``zh_Hans_CN`` for this request."""
    loc = get_locale()
    return str(loc) if loc is not None and str(loc) in LOCALES else DEFAULT_LOCALE


def js_catalogue() -> dict[str, str]:
    """The JavaScript strings in this request's locale, keyed by their English text; empty in English (the
    scripts' own words are the English), so an English page carries no words it does not show."""
    from dashboard.js_messages import JS_MESSAGES as messages

    if current_locale() == DEFAULT_LOCALE:
        return {}
    return {m: gettext(m) for m in messages}


def inject() -> dict[str, Any]:
    loc = current_locale()
    return {
        "html_lang": LOCALE_TAGS[loc],
        "locale": loc,
        "locale_names": {k: Locale.parse(k).get_display_name(k) for k in LOCALES},
        "js_catalogue": js_catalogue(),
    }


def init_app(app: Flask) -> None:
    directory = compile_catalogues()
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LOCALE)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(directory)
    Babel(app, locale_selector=select_locale, timezone_selector=select_timezone)
    app.context_processor(inject)
    app.after_request(say_the_language)
    app.register_blueprint(bp)


def say_the_language(response: Response) -> Response:
    """``Content-Language`` of the answer, and ``Vary: Accept-Language`` so that no cache hands a Chinese
    page to an English browser."""
    response.vary.add("Accept-Language")
    if request.endpoint != "static":
        response.headers.setdefault("Content-Language", LOCALE_TAGS[current_locale()])
    return response


bp = Blueprint("i18n", __name__)


@bp.post("/language")
def set_language() -> Any:
    """The user's own language: one of LOCALES, or empty to follow the browser and the site default."""
    choice = request.form.get("locale", "").strip()
    if choice and choice not in LOCALES:
        abort(400, description=gettext("choose a language: %(names)s", names=", ".join(LOCALES)))
    with write_db() as db:
        user = db.get(User, g.user.id)
        user.locale = choice or None
    g.user.locale = choice or None
    refresh()
    flash(gettext("Language saved."), "info")
    target = request.form.get("next", "")
    return redirect(
        target if target.startswith("/") and not target.startswith("//") else url_for("pages.index")
    )
