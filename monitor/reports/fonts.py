"""Fonts for reports that carry Chinese: the PDF's and the charts'.

A PDF whose text has CJK characters (or that is written in zh_Hans_CN) is set in a TrueType CJK font found
on the machine (Debian's ``fonts-wqy-microhei``, ``fonts-arphic-uming``...; embedded, so any reader shows
it), else in reportlab's built-in CID font ``STSong-Light`` (needs no font file; readers supply the glyphs).
Other PDFs keep DejaVu Sans. Charts use a CJK font matplotlib knows of (the same, or Noto Sans CJK), else
keep their labels English: a chart never prints empty boxes.
"""

from __future__ import annotations

import contextlib
import functools
import re
from pathlib import Path

import matplotlib
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont

CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f]")
FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path.home() / ".fonts")
TRUETYPE_CJK = ("wqy-microhei.ttc", "wqy-zenhei.ttc", "uming.ttc", "ukai.ttc", "DroidSansFallbackFull.ttf")
"""CJK fonts with TrueType outlines (reportlab cannot embed the CFF outlines of Noto CJK)."""
CID_FONT = "STSong-Light"
CHART_CJK_FAMILIES = (
    "WenQuanYi Micro Hei",
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "AR PL UMing CN",
    "Droid Sans Fallback",
    "Source Han Sans SC",
    "WenQuanYi Zen Hei",
)


def has_cjk(*texts: str | None) -> bool:
    """Whether any of ``texts`` holds a Chinese (CJK) character."""
    return any(t and CJK.search(t) for t in texts)


@functools.cache
def truetype_cjk_file() -> Path | None:
    """The first TrueType CJK font file on this machine, or None."""
    for folder in FONT_DIRS:
        if not folder.is_dir():
            continue
        for name in TRUETYPE_CJK:
            found = next(iter(sorted(folder.rglob(name))), None)
            if found is not None:
                return found
    return None


@functools.cache
def _latin_fonts() -> tuple[str, str]:
    """DejaVu Sans (shipped with matplotlib), else Helvetica."""
    ttf = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    try:
        pdfmetrics.registerFont(TTFont("DejaVuSans", str(ttf / "DejaVuSans.ttf")))
        pdfmetrics.registerFont(TTFont("DejaVuSans-Bold", str(ttf / "DejaVuSans-Bold.ttf")))
    except Exception:  # noqa: BLE001 - any font problem falls back to the built-in face
        return "Helvetica", "Helvetica-Bold"
    return "DejaVuSans", "DejaVuSans-Bold"


@functools.cache
def _cjk_fonts() -> tuple[str, str]:
    path = truetype_cjk_file()
    if path is not None:
        try:
            pdfmetrics.registerFont(TTFont("CJK", str(path), subfontIndex=0))
            return "CJK", "CJK"
        except Exception:  # noqa: BLE001 - an unreadable font file: the built-in CID font still works
            pass
    pdfmetrics.registerFont(UnicodeCIDFont(CID_FONT))
    return CID_FONT, CID_FONT


def pdf_fonts(cjk: bool) -> tuple[str, str]:
    """(regular, bold) reportlab font names: a CJK font when ``cjk``, else DejaVu Sans."""
    return _cjk_fonts() if cjk else _latin_fonts()


@functools.cache
def chart_cjk_family() -> str | None:
    """A font family matplotlib can draw Chinese with, or None."""
    from matplotlib import font_manager

    path = truetype_cjk_file()
    if path is not None:
        with contextlib.suppress(OSError, RuntimeError, ValueError):
            font_manager.fontManager.addfont(str(path))
    known = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in CHART_CJK_FAMILIES if name in known), None)
