"""Copy the front-end libraries from ``node_modules`` into ``dashboard/static/vendor`` (not kept in git).

Run after ``npm ci``:  ``python -m dashboard.vendor``.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parent
VENDOR_DIR = PACKAGE_DIR / "static" / "vendor"
# node_modules path → file name under static/vendor (templates refer to these names)
FILES: dict[str, str] = {
    "socket.io-client/dist/socket.io.min.js": "socket.io.min.js",
    "chart.js/dist/chart.umd.min.js": "chart.umd.min.js",
}


class VendorError(Exception):
    pass


def copy_vendor(node_modules: Path = REPO_ROOT / "node_modules", dest: Path = VENDOR_DIR) -> list[Path]:
    """Copy each file of ``FILES``; ``VendorError`` naming what is missing and how to get it."""
    missing = [src for src in FILES if not (node_modules / src).is_file()]
    if missing:
        raise VendorError(
            f"missing in {node_modules}: {', '.join(missing)}\n"
            "install the front-end packages first: npm ci --no-audit --no-fund"
        )
    dest.mkdir(parents=True, exist_ok=True)
    out = []
    for src, name in FILES.items():
        target = dest / name
        shutil.copyfile(node_modules / src, target)
        out.append(target)
    return out


def missing_files(dest: Path = VENDOR_DIR) -> list[str]:
    return [name for name in FILES.values() if not (dest / name).is_file()]


def main() -> int:
    try:
        copied = copy_vendor()
    except VendorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for path in copied:
        print(f"copied {path.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
