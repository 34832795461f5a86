"""``classroom-monitor label``: a school labels head postures on its own camera's frames.

Three steps, none interactive:

1. ``label extract --source CLIP --out DIR`` runs the detector on some frames and writes ``DIR/labels.json``
   (the format of ``shared/datasets/labels/classroom_posture.json``: one id per person, kept across frames
   by box overlap, posture ``unsure`` to fill in) and ``DIR/postures.csv`` (one row per head to fill in).
   No image is written unless ``--write-crops`` asks for head crops (enlarged, for judging by eye); they
   show real people, and the command says so.
2. Fill in the ``posture`` column of ``postures.csv`` (up, down, away or unsure), e.g. in a spreadsheet.
3. ``label import DIR/postures.csv`` writes those postures into ``DIR/labels.json``; then
   ``classroom-monitor train-posture --labels DIR/labels.json --out models/posture-school`` fits and scores a
   model on them (held out by person).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import click
import cv2
import numpy as np

from monitor.posture_labels import LABEL_VALUES, LabelsError, iou, load_labels

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")
CROP_SCALE = 4  # crops are enlarged this much for judging by eye


@click.group()
def label() -> None:
    """Label head postures (up, down, away, unsure) on a school's own camera frames."""


def _frames(source: Path, every: int, limit: int) -> list[tuple[int | None, np.ndarray]]:
    """(frame index or None for a still, image) of the frames to label."""
    if source.suffix.lower() in IMAGE_SUFFIXES:
        image = cv2.imread(str(source), cv2.IMREAD_COLOR)
        if image is None:
            raise click.ClickException(f"cannot read image {source}")
        return [(None, image)]
    cap = cv2.VideoCapture(str(source))
    if not cap.isOpened():
        raise click.ClickException(f"cannot open video {source} (give a video file or a .png/.jpg image)")
    out: list[tuple[int | None, np.ndarray]] = []
    index = 0
    try:
        while len(out) < limit:
            ok, frame = cap.read()
            if not ok:
                break
            if index % every == 0:
                out.append((index, frame))
            index += 1
    finally:
        cap.release()
    if not out:
        raise click.ClickException(f"no frame could be read from {source}")
    return out


def _crop(image: np.ndarray, box: np.ndarray) -> np.ndarray:
    """The head with hair and shoulders (box grown 1.5x each side), enlarged ``CROP_SCALE`` times."""
    x, y, w, h = (float(v) for v in box)
    x0, y0 = max(int(x - w), 0), max(int(y - h), 0)
    x1, y1 = min(int(x + 2 * w), image.shape[1]), min(int(y + 2 * h), image.shape[0])
    patch = image[y0:y1, x0:x1]
    return cv2.resize(patch, None, fx=CROP_SCALE, fy=CROP_SCALE, interpolation=cv2.INTER_CUBIC)


@label.command()
@click.option("--source", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--every", default=30, show_default=True, type=click.IntRange(1), help="Label every Nth frame.")
@click.option("--frames", "limit", default=6, show_default=True, type=click.IntRange(1, 500), help="Frames.")
@click.option(
    "--write-crops", is_flag=True, help="Also write each head as an enlarged crop (real people) to DIR/crops."
)
@click.option("--force", is_flag=True, help="Replace an existing labels.json in DIR.")
def extract(source: Path, out_dir: Path, every: int, limit: int, write_crops: bool, force: bool) -> None:
    """Detect heads on some frames of SOURCE; write DIR/labels.json and DIR/postures.csv to fill in."""
    from monitor.detect import DetectorError, make_detector

    labels_path = out_dir / "labels.json"
    if labels_path.exists() and not force:
        raise click.ClickException(f"{labels_path} exists (labels may be in it); pass --force to replace it")
    try:
        detector = make_detector()
    except DetectorError as exc:
        raise click.ClickException(str(exc)) from exc
    frames = _frames(source, every, limit)
    out_dir.mkdir(parents=True, exist_ok=True)
    items, rows, crops = [], [], 0
    previous: list[tuple[str, np.ndarray]] = []
    next_id = 1
    for index, image in frames:
        det = detector.detect(image)
        ids: list[str] = []
        taken: set[int] = set()
        for box in det.boxes:
            overlap = [(iou(box, b)[0, 0], k) for k, (_, b) in enumerate(previous) if k not in taken]
            best = max(overlap, default=(0.0, -1))
            if best[0] >= 0.3:  # the same seat as on the last labelled frame: the same person
                taken.add(best[1])
                ids.append(previous[best[1]][0])
            else:
                ids.append(f"P{next_id:02d}")
                next_id += 1
        previous = list(zip(ids, det.boxes, strict=True))
        people = []
        for pid, box, score in zip(ids, det.boxes, det.scores, strict=True):
            box_px = [int(round(float(v))) for v in box]
            people.append(
                {
                    "id": pid,
                    "box": box_px,
                    "posture": "unsure",
                    "face_visible": True,
                    "detector_found": True,
                    "teacher": False,
                    "note": f"detector score {float(score):.2f}",
                }
            )
            crop_name = ""
            if write_crops:
                crop_name = f"crops/{'still' if index is None else f'f{index:06d}'}_{pid}.png"
                (out_dir / "crops").mkdir(exist_ok=True)
                cv2.imwrite(str(out_dir / crop_name), _crop(image, box))
                crops += 1
            rows.append(
                {"frame": "" if index is None else index, "id": pid, "posture": "", "crop": crop_name}
            )
        items.append(
            {
                "file": str(source.resolve()),
                "frame": index,
                "width": int(image.shape[1]),
                "height": int(image.shape[0]),
                "people": people,
            }
        )
    data = {
        "version": 1,
        "labelled_by": "classroom-monitor label extract (postures to fill in)",
        "posture_values": list(LABEL_VALUES),
        "box_format": "[x, y, w, h] in original pixels",
        "items": items,
    }
    labels_path.write_text(json.dumps(data, indent=1) + "\n")
    with (out_dir / "postures.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, ["frame", "id", "posture", "crop"])
        writer.writeheader()
        writer.writerows(rows)
    click.echo(
        f"{len(rows)} heads on {len(items)} frames: wrote {labels_path} and {out_dir / 'postures.csv'}"
    )
    if write_crops:
        click.echo(
            f"wrote {crops} head crops to {out_dir / 'crops'} because --write-crops asked for it; they show "
            "real people, so delete them once the postures are filled in"
        )
    else:
        click.echo("no image was written (pass --write-crops to get a crop of each head to judge by eye)")
    click.echo(
        f"next: fill in the posture column ({', '.join(LABEL_VALUES)}), then: "
        f"classroom-monitor label import {out_dir / 'postures.csv'}"
    )


@label.command("import")
@click.argument("csv_path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--labels",
    "labels_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="labels.json to update (default: the one beside the CSV).",
)
def import_(csv_path: Path, labels_path: Path | None) -> None:
    """Write the postures filled in CSV_PATH into labels.json."""
    labels_path = labels_path or csv_path.with_name("labels.json")
    try:
        load_labels(labels_path)  # one clear message for a missing or malformed file
        data = json.loads(labels_path.read_text())
    except LabelsError as exc:
        raise click.ClickException(str(exc)) from exc
    people = {
        ("" if item.get("frame") is None else str(item["frame"]), p["id"]): p
        for item in data["items"]
        for p in item["people"]
    }
    counts = dict.fromkeys(LABEL_VALUES, 0)
    with csv_path.open(newline="") as fh:
        for line, row in enumerate(csv.DictReader(fh), start=2):
            value = (row.get("posture") or "").strip().lower()
            if not value:
                continue
            if value not in LABEL_VALUES:
                raise click.ClickException(
                    f"{csv_path} line {line}: posture {value!r}; use one of {', '.join(LABEL_VALUES)}"
                )
            key = ((row.get("frame") or "").strip(), (row.get("id") or "").strip())
            if key not in people:
                raise click.ClickException(f"{csv_path} line {line}: no head {key[1]} on frame {key[0]!r}")
            people[key]["posture"] = value
            counts[value] += 1
    labels_path.write_text(json.dumps(data, indent=1) + "\n")
    filled = ", ".join(f"{v} {n}" for v, n in counts.items())
    click.echo(f"wrote {sum(counts.values())} postures into {labels_path} ({filled})")
    click.echo(
        f"train and score (held out by person): classroom-monitor train-posture --labels {labels_path}"
    )
