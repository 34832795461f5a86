"""MODEL_CARD.md for a model directory, filled from its metrics."""

from __future__ import annotations

from pathlib import Path


def _table(metrics: dict) -> str:
    rows = ["| class | precision | recall | F1 | support |", "| --- | ---: | ---: | ---: | ---: |"]
    for name in metrics["labels"]:
        rows.append(
            f"| {name} | {metrics['per_class_precision'][name]:.3f} | "
            f"{metrics['per_class_recall'][name]:.3f} | {metrics['per_class_f1'][name]:.3f} | "
            f"{metrics['support'][name]} |"
        )
    return "\n".join(rows)


def _tta(metrics: dict) -> str:
    if "accuracy_flip_tta" not in metrics:
        return ""
    return (
        f"\n* With test-time flip averaging (`evaluate --tta`, twice the compute): accuracy "
        f"{metrics['accuracy_flip_tta']:.4f}, macro F1 {metrics['macro_f1_flip_tta']:.4f}."
    )


def _reproduce(metrics: dict) -> str:
    """The command that made the model, preceded by the runs its warm start came from."""
    runs = [*metrics.get("previous_runs", []), metrics]
    if len(runs) == 1:
        return f"* Reproduce: `{metrics['command']}`"
    steps = []
    for i, run in enumerate(runs, start=1):
        acc = run.get("accuracy")
        note = f" ({run.get('epochs')} epochs, PublicTest accuracy {acc:.4f})" if acc is not None else ""
        steps.append(f"  {i}. `{run.get('command')}`{note}")
    return (
        "* Reproduce, in order (each later run warm-starts from the one before, `--init-from`):\n"
        + "\n".join(steps)
    )


def _architecture(metrics: dict) -> str:
    """The architecture bullet: one trained model, or an ensemble of them."""
    if "members" in metrics:
        return (
            f"* Architecture: `{metrics['arch']}` ({metrics['params']:,} parameters in all), Keras 3 on "
            "TensorFlow,\n  exported to LiteRT as one float32 `model.tflite` "
            f"({metrics['tflite_bytes']:,} bytes)."
        )
    return (
        f"* Architecture: `{metrics['arch']}` ({metrics['params']:,} parameters), Keras 3 on TensorFlow, "
        f"trained for\n  {metrics['epochs']} epochs (best PublicTest epoch: "
        f"{metrics.get('best_epoch', '?')}, "
        f"precision policy\n  `{metrics.get('precision', 'float32')}`), exported to LiteRT as float32 "
        f"`model.tflite`\n  ({metrics['tflite_bytes']:,} bytes)."
    )


def _teacher(metrics: dict) -> str:
    """For a distilled model: which teacher, and how its probabilities entered the targets."""
    t = metrics.get("teacher")
    if not t:
        return ""
    acc = f", PublicTest accuracy {t['accuracy']:.4f}" if t.get("accuracy") is not None else ""
    steps = [m.get("command") for m in t.get("members") or []] + [t.get("command")]
    rebuild = "\n".join(f"  {i}. `{c}`" for i, c in enumerate(steps, start=1) if c)
    text = (
        f"\n* **Distilled** from the teacher `{t['version']}` ({t.get('arch')}{acc}): each training "
        f"target is\n  {1 - t['weight']:.0%} the FER2013 label and {t['weight']:.0%} the teacher's "
        f"probabilities at temperature {t['temperature']:g}."
    )
    return text + (f" The teacher is rebuilt with:\n{rebuild}" if rebuild else "")


def _members(metrics: dict) -> str:
    """For an ensemble: what each member is, and how to rebuild the whole."""
    rows = [
        "| member | arch | epochs (best) | seed | PublicTest accuracy | macro F1 |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    steps = []
    for m in metrics["members"]:
        acc, f1 = m.get("accuracy"), m.get("macro_f1")
        rows.append(
            f"| {m['version']} | {m.get('arch')} | {m.get('epochs')} ({m.get('best_epoch')}) | "
            f"{m.get('seed')} | {'?' if acc is None else f'{acc:.4f}'} | "
            f"{'?' if f1 is None else f'{f1:.4f}'} |"
        )
        teacher = m.get("teacher") or {}  # a distilled member needs its teacher built first
        steps += [t.get("command") for t in teacher.get("members") or []] + [teacher.get("command")]
        steps.append(m.get("command"))
    steps.append(metrics["command"])
    unique = [c for i, c in enumerate(steps) if c and c not in steps[:i]]
    steps = [f"  {i}. `{c}`" for i, c in enumerate(unique, start=1)]
    return (
        f"* An **ensemble**: the mean probabilities of {len(metrics['members'])} independently trained "
        "members, run as\n  one graph (one LiteRT call per frame).\n\n"
        + "\n".join(rows)
        + "\n\n* Reproduce, in order (members, with any distillation teacher before its student, then "
        "the ensemble):\n" + "\n".join(steps)
    )


def _calibration(metrics: dict) -> str:
    """The calibration section: temperature per file, ECE and NLL before and after, the diagram."""
    cal = metrics.get("calibration")
    if not cal:
        return ""
    fitted = cal["fitted_on"]
    rows = [
        "| file | temperature | ECE before | ECE after | NLL before | NLL after | accuracy |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, f in cal["files"].items():
        where = "in the graph" if f.get("in_graph") else "calibration.json"
        rows.append(
            f"| `{name}` ({where}) | {f['temperature']:.3f} | {f['ece_before']:.4f} | "
            f"{f['ece_after']:.4f} | {f['nll_before']:.4f} | {f['nll_after']:.4f} | "
            f"{f['accuracy']:.4f} |"
        )
    sha = f", sha256 `{fitted['sha256'][:16]}…`" if fitted.get("sha256") else ""
    cmd = f"\n* Reproduce: `{cal['command']}`" if cal.get("command") else ""
    return f"""
## Calibration
* **Temperature scaling** fitted on {fitted["usage"]} (n = {fitted["n"]}, `{fitted["data"]}`{sha})
  by minimising the negative log-likelihood: the worker reports `softmax(log(p) / T)`, which keeps every
  top class (accuracy unchanged) and makes the probabilities that the dashboard and reports average
  match how often the model is right. ECE: expected calibration error, {cal.get("ece_bins", 15)} equal-width
  bins of the top probability.
* **Where T lives**: `calibration.json` beside the model files, one temperature per file, applied by
  `monitor.classify.EmotionClassifier` (and by `classroom-monitor evaluate`); files marked "in the graph"
  have T folded into the exported graph instead. The `.tflite` files themselves are unchanged.
* T was fitted on the split that also chose the checkpoints, so "ECE after" is optimistic; on new faces
  expect it between the two columns.{cmd}

{chr(10).join(rows)}

![reliability diagram](reliability.png)
"""


def _size_curve(metrics: dict) -> str:
    """The face-size section: accuracy and macro-F1 against face side, and the readable size it gives."""
    curve = metrics.get("size_curve")
    if not curve:
        return ""
    full = max(curve, key=lambda row: row["side"])["macro_f1"] or 1.0
    rows = [
        "| face side (px) | accuracy | macro-F1 | of the 48 px macro-F1 |",
        "| ---: | ---: | ---: | ---: |",
    ]
    for row in sorted(curve, key=lambda row: row["side"]):
        share = row["macro_f1"] / full
        rows.append(f"| {row['side']} | {row['accuracy']:.3f} | {row['macro_f1']:.3f} | {share:.0%} |")
    precision = metrics.get("size_curve_precision", "the worker's")
    rule = metrics.get("min_face_rule", "macro-F1 stays near its full-size value")
    return f"""
## Face size
* A classroom camera gives faces of 8-30 px. Each PublicTest face was shrunk to the side below
  (`cv2.INTER_AREA`) and handed, that small, to the worker's own `EmotionClassifier` ({precision} file,
  calibrated), which scales it back to 48 px as it does a small detector box. 48 px is the faces' own size.
* **`min_face_px` = {metrics["min_face_px"]}**: the smallest side from which on {rule}.
  The worker stores no expression for a face whose detector box has a shorter side below it; where no
  face in view is that large, the dashboard and reports say "faces too small to read expressions".
* These are clean, tightly cropped web faces: a real camera's small face is also blurred and compressed,
  so it reads worse than the same size here. Reproduce: `python benchmarks/expression_size.py --model
  models/{metrics.get("version", "<version>")}`.

{chr(10).join(rows)}
"""


def _explanations(metrics: dict) -> str:
    """The Grad-CAM section, when ``classroom-monitor explain`` wrote its grid into the model directory."""
    ex = metrics.get("explanations")
    if not ex:
        return ""
    return f"""
## What the network looks at (Grad-CAM)
* Grad-CAM heat maps on the last convolution layer (`{ex["layer"]}`), {ex["usage"]} faces from {ex["data"]}.
  Below, per true class, the mean of {ex.get("mean_of", 150)} faces under the mean of their maps, with how
  many of them the network got right. Reproduce: `{ex["command"]}`
* The same command also writes `{ex["grid"]}`: {ex["per_class"]} single faces per class with their own maps
  and predictions. It shows dataset faces, so it stays on the engineer's machine (git-ignored), as does
  every dataset file. `explain` refuses camera images.

![Mean Grad-CAM per class]({ex.get("means", "gradcam_class_means.png")})
"""


def model_card(metrics: dict) -> str:
    """The card's Markdown text."""
    soft = metrics.get("label_source") == "ferplus"
    labels = ", ".join(metrics["labels"])
    int8_speed = f", {metrics['int8_ms_per_face']:.3f} ms per face" if "int8_ms_per_face" in metrics else ""
    int8 = (
        f"`model_int8.tflite` (int8 inside, float32 in/out; PublicTest accuracy "
        f"{metrics['int8_accuracy']:.4f}{int8_speed}) is also provided."
        if metrics.get("int8_file")
        else "No int8 variant is shipped"
        + (
            f" (it scored {metrics['int8_accuracy']:.4f}, more than "
            f"{100 * metrics.get('int8_max_drop', 0.01):g} point(s) below float32)."
            if "int8_accuracy" in metrics
            else "."
        )
    )
    return f"""# Model card: {metrics["version"]}

## Model
{_architecture(metrics)}
* Input: `(N, 48, 48, 1)` float32 grey faces in [0, 1], made by `monitor.preprocess.preprocess_faces`
  (the same function the worker uses). The batch dimension is resizable.
* Output: `(N, {len(metrics["labels"])})` probabilities in this order: {labels}.
* Speed: {metrics["ms_per_face"]:.3f} ms per face under ai_edge_litert
  ({metrics.get("litert_threads", 2)} threads, batches of {metrics.get("benchmark_batch", 16)} faces)
  on the training machine's CPU.
* {int8}{_teacher(metrics)}
{_members(metrics) if "members" in metrics else _reproduce(metrics)}

## Data
* FER2013 (Goodfellow et al., 2013; Kaggle): 48x48 grey faces scraped from web image search, labelled
  with 7 emotions. Trained on the 28,709 `Training` rows, checkpoint chosen on the 3,589 `PublicTest` rows;
  `PrivateTest` was not available, so **the numbers below are on the split that chose the checkpoint and are
  therefore slightly optimistic**.
* {
        "Labels: FER+ crowd votes (10 annotators per face) used as soft targets over 8 classes "
        "incl. contempt; faces with no emotion votes were dropped."
        if soft
        else "Labels: the original FER2013 labels, which are "
        "noisy (FER+ re-annotation agrees with them on about 63% of faces; human accuracy is about 65%)."
    }
* Source data: {metrics.get("data", "")}

## Evaluation ({metrics["usage"]}, n = {metrics["n"]}, LiteRT float32)
* Accuracy **{metrics["accuracy"]:.4f}**, macro F1 **{metrics["macro_f1"]:.4f}**.{_tta(metrics)}

{_table(metrics)}

![confusion matrix](confusion_matrix.png) ![training curves](training_curves.png)
{_calibration(metrics)}{_explanations(metrics)}{_size_curve(metrics)}
## Intended use
Aggregated, class-level signals only: the share of faces per emotion over time in a classroom session, to
help a teacher reflect on a lesson. Individual predictions are noisy (about one in three is wrong on
FER2013 itself and more on real classroom video); only averages over many faces and seconds carry meaning.

## Not for
* Grading, discipline, attendance, or any decision about an individual student or teacher.
* Inferring anyone's inner state, honesty, attention or intent: the model labels facial *expressions*,
  which people show differently and which need not match what they feel.
* Identification: the model does not and must not recognise who a person is.
* **EU AI Act, Article 5(1)(f)**: placing on the market or using AI systems to infer the emotions of a natural
  person in workplaces and education institutions is prohibited (except for medical or safety reasons) since
  2 February 2025. Deploying this model to infer students' emotions in an EU school is therefore not lawful;
  in the EU it is a research and teaching artefact. Check the law where you deploy it.

## Known weaknesses
* **Disgust and fear** are the weakest classes: disgust has only 436 training faces (1.5%), and fear is
  confused with surprise and sadness (see per-class recall above). Sad vs. neutral is also often confused.
* **Demographic limits of FER2013**: faces were found by web image search with English emotion keywords; the
  data set has no demographic annotation, over-represents adult, light-skinned faces and posed or exaggerated
  expressions, and under-represents children, older people and darker skin tones. Accuracy on students in a
  real classroom (children and teenagers, side views, low resolution, occlusion, poor light) is unknown and
  probably lower; errors may differ systematically between groups.
* Labels are noisy and some FER2013 images are duplicates with conflicting labels, or not faces at all.
* 48x48 grey input discards colour and detail; expressions are cultural and context-dependent.
"""


def write_model_card(model_dir: Path, metrics: dict) -> Path:
    """Write ``MODEL_CARD.md`` into ``model_dir``."""
    path = model_dir / "MODEL_CARD.md"
    path.write_text(model_card(metrics))
    return path
