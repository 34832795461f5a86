""".ci/run waits for another apt's locks instead of failing with exit 100.

The real apt-get needs root and the network, so a stand-in on PATH plays it: it answers `update` with
apt 2.6's own lock message for as many calls as asked, and records every command line.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

CI_RUN = Path(__file__).resolve().parents[1] / ".ci" / "run"
LOCK_MESSAGE = "E: Could not get lock /var/lib/apt/lists/lock. It is held by process 4242 (apt-get)"
APT_STAND_IN = f"""#!/usr/bin/env bash
echo "$*" >> "$APT_CALLS"
calls=$(wc -l < "$APT_CALLS")
if [[ " $* " == *" update "* ]] && (( calls <= APT_LOCKED_CALLS )); then
  echo "{LOCK_MESSAGE}" >&2
  echo "E: Unable to lock directory /var/lib/apt/lists/" >&2
  exit 100
fi
if [[ -n "${{APT_FAIL:-}}" ]]; then echo "E: $APT_FAIL" >&2; exit 100; fi
"""


def run_sourced(
    tmp_path: Path, command: str, *, locked_calls: int = 0, wait_s: float = 30, fail: str = ""
) -> tuple[subprocess.CompletedProcess, list[str]]:
    """Source .ci/run (its functions only) in bash with the stand-in apt-get first on PATH."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "apt-get").write_text(APT_STAND_IN)
    (bin_dir / "apt-get").chmod(0o755)
    calls = tmp_path / "calls.txt"
    calls.write_text("")
    env = {
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "APT_CALLS": str(calls),
        "APT_LOCKED_CALLS": str(locked_calls),
        "APT_LOCK_WAIT_S": str(wait_s),
        "APT_RETRY_S": "0.2",
        "APT_FAIL": fail,
    }
    proc = subprocess.run(
        ["bash", "-c", f'source "{CI_RUN}"; {command}'],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        cwd=tmp_path,
    )
    return proc, calls.read_text().splitlines()


def test_update_waits_while_another_apt_holds_the_package_lists(tmp_path: Path) -> None:
    proc, calls = run_sourced(tmp_path, "apt_update && echo updated", locked_calls=2)
    assert proc.returncode == 0 and "updated" in proc.stdout, proc.stderr
    assert calls == ["-o DPkg::Lock::Timeout=30 update -qq"] * 3
    assert proc.stderr.count("locked by another apt; waiting") == 2


def test_install_asks_apt_to_wait_for_the_dpkg_lock(tmp_path: Path) -> None:
    proc, calls = run_sourced(tmp_path, "apt_get install -y redis-server")
    assert proc.returncode == 0, proc.stderr
    assert calls == ["-o DPkg::Lock::Timeout=30 install -y redis-server"]


def test_update_gives_up_with_apts_exit_code_once_the_wait_is_over(tmp_path: Path) -> None:
    started = time.monotonic()
    proc, calls = run_sourced(tmp_path, "apt_update || echo rc=$?", locked_calls=10_000, wait_s=1)
    assert "rc=100" in proc.stdout and LOCK_MESSAGE in proc.stderr
    assert len(calls) >= 2 and time.monotonic() - started < 20


def test_other_update_failures_are_not_retried(tmp_path: Path) -> None:
    proc, calls = run_sourced(
        tmp_path, "apt_update || echo rc=$?", fail="Failed to fetch http://deb.debian.org"
    )
    assert "rc=100" in proc.stdout and "Failed to fetch" in proc.stderr
    assert len(calls) == 1 and "waiting" not in proc.stderr
