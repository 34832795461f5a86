"""A school under one ``serve``: 8 looped real-time cameras, injected crashes, memory; or failover times.

Default mode: 8 cameras from the shared clips (``--clip``; looped, ``realtime``) under one ``classroom-monitor
serve`` for ``--seconds``; every 30 s one worker is SIGKILLed (round robin) unless ``--no-faults``. Prints
one JSON object: per camera the heartbeat fps, capture-to-store latency p50/p95 and frames dropped
(``worker_status``), restarts, rows stored; the resident memory of the whole process tree (serve, workers,
no dashboard) from /proc, and the cores it used after the warm-up (from /proc, so with ``--no-faults``); the
warm-up lasts until every camera has stored frames for 10 s (``all_running_after_s``), 30 s at least and
half the run at most.

``--failover N``: N times, two ``serve`` hosts on one database with the same camera; the serving host's
process group is SIGKILLed and the time until the other stores that camera's rows again is measured.

``--substream FPS``: every camera gets a copy of its clip re-encoded at FPS frames per second (H.264, a
keyframe every 2 s; ``benchmarks/substream.py``, made in a temporary folder), what a camera's 5-15 fps
substream delivers (``deploy/school.toml``).

    .venv/bin/python benchmarks/serve.py [--seconds 150] [--cameras 8] [--sample-fps N] [--mode M]
        [--clip mix|classroom|group|talking|PATH] [--substream FPS] [--stall-after-s S] [--no-faults]
    .venv/bin/python benchmarks/serve.py --failover 5 [--cold] [--postgres]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, text

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from monitor.store.migrate import upgrade  # noqa: E402

VIDEOS = REPO.parent / "shared" / "datasets" / "videos"
CLIPS = [VIDEOS / "group_3people.mp4", VIDEOS / "talking_head_phone.mp4", VIDEOS / "classroom_front_720p.mp4"]
CLIP_NAMES = {"classroom": CLIPS[2], "group": CLIPS[0], "talking": CLIPS[1]}
KILL_EVERY_S = 30.0
WARMUP_S = 30.0
SETTLE_S = 10.0


def tree_pids(root: int) -> list[int]:
    """``root`` and all its descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo += children.get(pid, [])
    return out


def rss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def cpu_s(pids: list[int]) -> float:
    """CPU seconds (user + system, with waited-for children) the processes have used so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(value) for value in fields[11:15])  # utime stime cutime cstime
    return total / ticks


def school(
    tmp: Path,
    cameras: list[tuple[str, Path]],
    log_dir: Path,
    warm: bool = True,
    extra: str = "",
    serve_extra: str = "",
) -> Path:
    text_ = f'[serve]\nlog_dir = "{log_dir}"\nwarm_standby = {str(warm).lower()}\n{serve_extra}\n'
    text_ += f"[defaults]\nloop = true\nrealtime = true\nalways_on = true\n{extra}\n"
    for name, clip in cameras:
        text_ += f'[[cameras]]\nname = "{name}"\nsource = "{clip}"\n\n'
    path = tmp / f"{log_dir.name}.toml"
    path.write_text(text_)
    return path


def start_serve(url: str, config: Path, err: Path) -> subprocess.Popen:
    with open(err, "w") as f:
        return subprocess.Popen(
            [sys.executable, "-m", "monitor", "--db", url, "serve", "--config", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=f,
            cwd=REPO,
            start_new_session=True,
        )


def status(engine) -> dict[str, dict]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT c.name, w.* FROM worker_status w JOIN cameras c ON c.id = w.camera_id")
        ).mappings()
        return {r["name"]: dict(r) for r in rows}


def run_school(
    url: str,
    seconds: float,
    n_cameras: int,
    extra: str,
    clips: list[Path] = CLIPS,
    faults: bool = True,
    serve_extra: str = "",
) -> dict:
    """``clips`` are dealt round robin to the cameras; ``faults=False``: no worker is killed."""
    cameras = [(f"cam-{i + 1}", clips[i % len(clips)]) for i in range(n_cameras)]
    with tempfile.TemporaryDirectory() as tmp:
        config = school(Path(tmp), cameras, Path(tmp) / "logs", extra=extra, serve_extra=serve_extra)
        serve = start_serve(url, config, Path(tmp) / "serve.err")
        engine = create_engine(url)
        samples: dict[str, list[dict]] = {name: [] for name, _ in cameras}
        rss: list[float] = []
        kills = 0
        started = time.monotonic()
        cpu_from: tuple[float, float] | None = None  # (monotonic, CPU seconds) when warm-up ended
        cores = None
        all_running_s: float | None = None  # when every camera had beaten for the first time
        next_kill = started + KILL_EVERY_S
        try:
            while (now := time.monotonic()) - started < seconds:
                time.sleep(5)
                rows = status(engine)
                rss.append(rss_mb(tree_pids(serve.pid)))
                beating = sum(r["state"] == "running" and (r["frames"] or 0) > 0 for r in rows.values())
                if all_running_s is None and beating == n_cameras:
                    all_running_s = now - started
                # warm-up: WARMUP_S, and SETTLE_S more once every camera runs (serve staggers start-ups),
                # half the run at most (a camera that keeps restarting must not leave the run unmeasured)
                warm_up = max(WARMUP_S, min((all_running_s or seconds) + SETTLE_S, seconds / 2))
                if now - started >= warm_up:
                    used = cpu_s(tree_pids(serve.pid))
                    if cpu_from is None:
                        cpu_from = (now, used)
                    elif now > cpu_from[0]:
                        cores = round((used - cpu_from[1]) / (now - cpu_from[0]), 2)
                    for name, row in rows.items():
                        if row["state"] == "running":
                            samples[name].append(row)
                if faults and now >= next_kill:
                    victim = cameras[kills % len(cameras)][0]
                    pid = rows.get(victim, {}).get("pid")
                    if pid and rows[victim]["state"] == "running":
                        os.kill(pid, signal.SIGKILL)
                        kills += 1
                    next_kill += KILL_EVERY_S
        finally:
            stop_at = time.monotonic()
            serve.send_signal(signal.SIGTERM)
            serve.wait(timeout=120)
            stop_s = time.monotonic() - stop_at
        final = status(engine)
        with engine.connect() as conn:
            stored = dict(
                conn.execute(
                    text(
                        "SELECT c.name, count(o.id) FROM cameras c "
                        "JOIN class_sessions s ON s.camera_id = c.id "
                        "JOIN observations o ON o.session_id = s.id GROUP BY c.name"
                    )
                ).all()
            )
            open_sessions = conn.execute(
                text("SELECT count(*) FROM class_sessions WHERE ended_at IS NULL")
            ).scalar()
        engine.dispose()

    def med(rows: list[dict], key: str) -> float | None:
        values = [r.get(key) for r in rows if r.get(key) is not None]
        return round(statistics.median(values), 1) if values else None

    per_camera = {
        name: {
            "clip": clip.name,
            "fps": med(samples[name], "fps"),
            "latency_p50_ms": med(samples[name], "latency_p50_ms"),
            "latency_p95_ms": med(samples[name], "latency_p95_ms"),
            "frames_dropped_last_worker": final.get(name, {}).get("frames_dropped"),
            "restarts": final.get(name, {}).get("restarts"),
            "last_error": final.get(name, {}).get("last_error"),
            "observations": stored.get(name, 0),
        }
        for name, clip in cameras
    }
    return {
        "benchmark": "serve",
        "cameras": n_cameras,
        "camera_options": extra.strip().replace("\n", "; ") or "defaults",
        "clips": sorted({clip.name for _, clip in cameras}),
        "faults": faults,
        "cores_after_warmup": cores,
        "all_running_after_s": None if all_running_s is None else round(all_running_s, 1),
        "seconds": seconds,
        "cpus": os.cpu_count(),
        "load_avg_1m_end": round(os.getloadavg()[0], 1),
        "per_camera": per_camera,
        "crashes_injected": kills,
        "restarts_total": sum(c["restarts"] or 0 for c in per_camera.values()),
        "rss_tree_mb": {"max": round(max(rss), 1), "median": round(statistics.median(rss), 1)}
        if rss
        else None,
        "serve_exit": serve.returncode,
        "stop_seconds": round(stop_s, 1),
        "sessions_left_open": open_sessions,
    }


def failover_once(url: str, tmp: Path, i: int, warm: bool) -> float:
    cam = [("hall", CLIPS[0])]
    a = start_serve(url, school(tmp, cam, tmp / f"a{i}", warm), tmp / f"a{i}.err")
    b = None
    engine = create_engine(url)
    try:
        deadline = time.monotonic() + 180
        while not (row := status(engine).get("hall")) or row["state"] != "running" or not row["frames"]:
            if time.monotonic() > deadline:
                raise RuntimeError("host a did not start the camera")
            time.sleep(0.5)
        b = start_serve(url, school(tmp, cam, tmp / f"b{i}", warm), tmp / f"b{i}.err")
        while "standing by" not in (tmp / f"b{i}.err").read_text():
            time.sleep(0.5)
        time.sleep(5)  # host b settles (its warm standby worker loads)
        os.killpg(a.pid, signal.SIGKILL)
        a.wait()
        killed, t0 = datetime.now(UTC), time.monotonic()
        if url.startswith("sqlite"):
            killed = killed.replace(tzinfo=None)  # SQLite keeps naive UTC text
        query = text(
            "SELECT count(*) FROM observations o JOIN class_sessions s ON s.id = o.session_id "
            "JOIN cameras c ON c.id = s.camera_id WHERE c.name = 'hall' AND o.ts > :t"
        )
        while True:
            with engine.connect() as conn:
                if conn.execute(query, {"t": killed}).scalar():
                    return round(time.monotonic() - t0, 1)
            if time.monotonic() - t0 > 120:
                raise RuntimeError("host b did not take the camera over in 120 s")
            time.sleep(0.25)
    finally:
        engine.dispose()
        for proc in (a, b):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=60)


def run_failover(new_url, runs: int, warm: bool) -> dict:
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(runs):
            times.append(failover_once(new_url(), Path(tmp), i, warm))
    return {
        "benchmark": "failover",
        "warm_standby": warm,
        "runs": runs,
        "seconds": times,
        "median_s": statistics.median(times),
        "max_s": max(times),
        "load_avg_1m_end": round(os.getloadavg()[0], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=150.0)
    parser.add_argument("--cameras", type=int, default=8)
    parser.add_argument("--failover", type=int, metavar="RUNS", help="measure failover RUNS times instead")
    parser.add_argument("--cold", action="store_true", help="failover without warm standby workers")
    parser.add_argument("--sample-fps", type=float, help="frames per second each camera processes")
    parser.add_argument("--mode", choices=["emotion", "attention"], help="every camera's mode")
    parser.add_argument("--postgres", action="store_true", help="a throw-away PostgreSQL (else SQLite)")
    parser.add_argument(
        "--clip", default="mix", help="every camera's clip: classroom, group, talking, a path; mix: all three"
    )
    parser.add_argument("--no-faults", action="store_true", help="inject no crashes")
    parser.add_argument(
        "--substream", type=float, metavar="FPS", help="every clip re-encoded at FPS, as a camera's substream"
    )
    parser.add_argument("--stall-after-s", type=float, help="[serve] stall_after_s (default: serve's)")
    args = parser.parse_args()
    if args.stall_after_s is not None and args.stall_after_s < 2:
        parser.error("--stall-after-s: seconds, 2 or more")
    if args.clip == "mix":
        clips = CLIPS
    elif args.clip in CLIP_NAMES or Path(args.clip).is_file():
        clips = [CLIP_NAMES.get(args.clip) or Path(args.clip).resolve()]
    else:
        parser.error(f"--clip: no such clip {args.clip!r} (classroom, group, talking, mix or a video file)")
    if args.sample_fps is not None and args.sample_fps < 0:
        parser.error("--sample-fps must be 0 or more")
    if args.cameras < 1:
        parser.error("--cameras must be at least 1")
    if args.substream is not None and not 0 < args.substream <= 60:
        parser.error("--substream: frames per second, above 0 and at most 60")
    server = None
    tmp = tempfile.TemporaryDirectory()
    if args.substream:
        from benchmarks.substream import reencode

        clips = [reencode(clip, args.substream, Path(tmp.name)) for clip in clips]
    if args.postgres:
        from tests.support.servers import PostgresServer

        server = PostgresServer().start()
        new_url = server.migrated_database
    else:
        counter = iter(range(1_000))

        def new_url() -> str:
            url = f"sqlite:///{tmp.name}/school-{next(counter)}.db"
            upgrade(url)
            return url

    try:
        if args.failover:
            result = run_failover(new_url, args.failover, warm=not args.cold)
        else:
            extra = f"sample_fps = {args.sample_fps}\n" if args.sample_fps is not None else ""
            extra += f'mode = "{args.mode}"\n' if args.mode else ""
            serve_extra = f"stall_after_s = {args.stall_after_s}\n" if args.stall_after_s else ""
            result = run_school(
                new_url(),
                args.seconds,
                args.cameras,
                extra,
                clips=clips,
                faults=not args.no_faults,
                serve_extra=serve_extra,
            )
            result["stall_after_s"] = args.stall_after_s
        result["database"] = "postgresql" if server else "sqlite"
        result["substream_fps"] = args.substream
        print(json.dumps(result, indent=1))
    finally:
        if server is not None:
            server.stop()
        tmp.cleanup()


if __name__ == "__main__":
    main()
