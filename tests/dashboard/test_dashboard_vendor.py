"""``python -m dashboard.vendor`` copies the front-end files, or says clearly what is missing."""

from __future__ import annotations

import pytest

from dashboard.vendor import FILES, VendorError, copy_vendor


def test_copies_every_file(tmp_path):
    nm = tmp_path / "node_modules"
    for src in FILES:
        (nm / src).parent.mkdir(parents=True, exist_ok=True)
        (nm / src).write_text("// js")
    copied = copy_vendor(nm, tmp_path / "vendor")
    assert sorted(p.name for p in copied) == sorted(FILES.values())


def test_missing_node_modules_is_a_clear_error(tmp_path):
    with pytest.raises(VendorError, match="npm ci"):
        copy_vendor(tmp_path / "node_modules", tmp_path / "vendor")
