"""The strings the dashboard's JavaScript draws, in English: the catalogue's keys for the browser.

Each page hands them, translated into the request's locale, to ``common.js`` in a JSON data block
(``#i18n-data``; the CSP forbids inline scripts, so it is data, not code); the scripts look them up with
``CM.t("…")`` and fill ``{name}`` placeholders themselves. ``make i18n`` extracts them with the other strings,
and ``tests/dashboard/test_i18n_catalogue.py`` fails when a script's ``CM.t`` string is missing here.
"""

from __future__ import annotations

from dashboard.i18n import N_

JS_MESSAGES: tuple[str, ...] = (
    N_("% of the class"),
    N_("1 lesson"),
    N_("; only the newest lessons are shown, narrow the dates to see older ones"),
    N_("; {n} without figures (no faces detected or no video stored) are left as gaps"),
    N_("Attention (facing front)"),
    N_("Attention (heads up)"),
    N_("Could not load the trend:"),
    N_("Engagement index"),
    N_("Face {id}: attention"),
    N_("Heads up"),
    N_("Marker added."),
    N_("Markers:"),
    N_("No faces tracked yet."),
    N_("No faces were detected in this lesson."),
    N_("No lessons in this range yet."),
    N_("No markers yet."),
    N_("Not saved: {why}."),
    N_("Nothing stored for this lesson yet."),
    N_("People in view"),
    N_("People in view, typical"),
    N_("Shaded: the lowest-attention period named in the summary."),
    N_("Shaded: the lowest-attention periods named in the summary."),
    N_("ended"),
    N_("error {status}"),
    N_("heads up, {of} · down {down}, away {away}"),
    N_("heads up: not measured in this lesson"),
    N_("hidden"),
    N_("in progress"),
    N_("never"),
    N_("no change"),
    N_("no figures"),
    N_("none"),
    N_("peak"),
    N_("people"),
    N_("remove"),
    N_("remove marker {text}"),
    N_("share of expressions"),
    N_("share of the class"),
    N_("{n} h ago"),
    N_("{n} lessons"),
    N_("{n} min ago"),
    N_("{n} points, one every {step}."),
    N_("{n} pts"),
    N_("{n} s ago"),
    N_("{shown} of {all} faces shown"),
    # Values the scripts (and templates) translate as they come: expressions and camera states.
    N_("angry"),
    N_("disgust"),
    N_("fear"),
    N_("happy"),
    N_("sad"),
    N_("surprise"),
    N_("neutral"),
    N_("online"),
    N_("offline"),
)
