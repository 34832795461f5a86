"""Session reports: CSV, JSON, PDF and HTML from the store. The CLI and the dashboard both call this API.

``render`` checks its arguments before it returns, so a caller (a Flask view, a click command) can turn a
``ReportError`` into a clean message before the first byte is sent; the bytes then come from a generator
that reads the database as it goes, so the ``db`` session must stay open until it is exhausted.
Heavy libraries (matplotlib, reportlab) are imported only when a PDF or HTML report is rendered.
"""

from monitor.reports.bulk import find_sessions, write_bulk_zip
from monitor.reports.core import FORMATS, MEDIA_TYPES, ReportError, render, report_filename
from monitor.reports.files import write_report

__all__ = [
    "FORMATS",
    "MEDIA_TYPES",
    "ReportError",
    "find_sessions",
    "render",
    "report_filename",
    "write_bulk_zip",
    "write_report",
]
