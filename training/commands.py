"""``classroom-monitor train`` and ``classroom-monitor evaluate``: thin click shells over the library.

TensorFlow is imported only inside the commands, so ``classroom-monitor --help`` stays fast and the
worker never loads it.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import click

from training.recipes import ARCHS, RECIPES


def _settings() -> object | None:
    """The classroom-monitor settings when run through its front door (None under ``python -m training``)."""
    ctx = click.get_current_context(silent=True)
    return ctx.find_root().obj if ctx is not None else None


def _command_line() -> str:
    """The invoked ``classroom-monitor train ...`` with its explicit flags (recorded in metrics.json)."""
    ctx = click.get_current_context()
    parts = ["classroom-monitor", ctx.info_name or "train"]
    for param in ctx.command.params:
        value = ctx.params.get(param.name)
        source = ctx.get_parameter_source(param.name)
        if source is not click.core.ParameterSource.COMMANDLINE or not isinstance(param, click.Option):
            continue
        if param.is_flag:
            flag = param.opts[0] if value else (param.secondary_opts or param.opts)[0]
            parts.append(flag)
        elif param.multiple:
            for item in value:
                parts += [param.opts[0], str(item)]
        else:
            parts += [param.opts[0], str(value)]
    return shlex.join(parts)


def _models_root() -> Path:
    """``models_dir`` from the settings, else ./models."""
    return Path(getattr(_settings(), "models_dir", None) or "models")


SUMMARY_KEYS = (
    "version",
    "accuracy",
    "macro_f1",
    "n",
    "ms_per_face",
    "best_epoch",
    "checkpoint",
    "publish_with",
)
"""What train and ensemble print as their last line (one JSON object), of the keys their metrics have."""


def _echo_summary(metrics: dict) -> None:
    click.echo(json.dumps({k: metrics[k] for k in SUMMARY_KEYS if k in metrics}))


def _check_outputs(*dirs: Path) -> None:
    """Refuse folders whose files would replace the database, the models folder itself or the model that
    workers use now (``monitor.safe_paths``); a new version folder under models/ is fine."""
    from types import SimpleNamespace

    from monitor.safe_paths import UnsafePathError, check_output_dir, models_in_use

    where = SimpleNamespace(db_url=getattr(_settings(), "db_url", None), models_dir=_models_root())
    in_use = models_in_use(where)
    for d in dirs:
        try:
            check_output_dir(d, settings=where, protected_dirs=in_use, what="model")
        except UnsafePathError as exc:
            raise click.ClickException(str(exc)) from None


def int8_options(command):
    """``--int8/--no-int8`` and ``--int8-max-drop``, shared by ``train`` and ``ensemble``."""
    command = click.option(
        "--int8-max-drop",
        type=click.FloatRange(0, 1),
        default=0.01,
        show_default=True,
        help="Keep the int8 file only if its validation accuracy is at most this far below float32's "
        "(1: whatever it scores; on a small validation set one face moves accuracy by more than 0.01).",
    )(command)
    return click.option(
        "--int8/--no-int8",
        default=True,
        show_default=True,
        help="Also try an int8 export (kept only if within --int8-max-drop of float32).",
    )(command)


@click.command("train")
@click.option(
    "--data",
    "data",
    required=True,
    type=click.Path(path_type=Path),
    help="FER2013 CSV (plain or .gz) or an image-folder dataset (one folder per emotion).",
)
@click.option(
    "--recipe",
    "recipe_name",
    type=click.Choice(list(RECIPES)),
    default=None,
    help="Named recipe (training/recipes.py; default: the --arch's own, else 'default').",
)
@click.option(
    "--arch",
    type=click.Choice(list(ARCHS)),
    default=None,
    help="Network, overriding the recipe's ('baseline' alone selects the baseline recipe).",
)
@click.option(
    "--epochs",
    type=click.IntRange(min=1),
    default=None,
    help="Epochs (default: the recipe's, e.g. 45 for default, 90 for strong).",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="Model directory to write (default: <models dir>/<data>-<recipe>).",
)
@click.option(
    "--ferplus",
    type=click.Path(path_type=Path),
    default=None,
    help="FER+ vote CSV aligned with --data: mixed into the 7-class targets by recipes with a "
    "FER+ weight (strong), else vote distributions over 8 classes are the targets.",
)
@click.option("--seed", type=int, default=1337, show_default=True)
@click.option(
    "--resume/--restart",
    default=None,
    help="Rerunning continues a run of the same recipe and seed by default; --resume also keeps "
    "a different saved seed, --restart deletes the run and starts over.",
)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=None,
    help="Use only the first N rows of each Usage (quick runs and tests).",
)
@click.option(
    "--work-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Checkpoints and history (default: runs/<version>).",
)
@int8_options
@click.option("--export-only", is_flag=True, help="Skip fitting; export the run's best checkpoint so far.")
@click.option(
    "--fit-only",
    is_flag=True,
    help="Fit and keep the checkpoints in --work-dir, without exporting (for a GPU machine running Keras "
    "on JAX or PyTorch, which has no TensorFlow); publish them later with --export-only.",
)
@click.option(
    "--init-from",
    type=click.Path(exists=True, path_type=Path),
    default=None,
    help="Warm start: weights from a model directory or .keras file (a new schedule cycle).",
)
@click.option(
    "--lr",
    "peak_lr",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Peak learning rate (default: the recipe's, e.g. 2e-3 for default).",
)
@click.option(
    "--teacher",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Distil from this model directory (e.g. an ensemble): its probabilities join the targets.",
)
def train(
    data: Path,
    recipe_name: str | None,
    arch: str | None,
    epochs: int | None,
    out: Path | None,
    ferplus: Path | None,
    seed: int,
    resume: bool | None,
    limit: int | None,
    work_dir: Path | None,
    int8: bool,
    int8_max_drop: float,
    export_only: bool,
    fit_only: bool,
    init_from: Path | None,
    peak_lr: float | None,
    teacher: Path | None,
) -> None:
    """Train an emotion CNN and export it as a model directory (model.tflite, metrics, card)."""
    if fit_only and export_only:
        raise click.UsageError("--fit-only and --export-only exclude each other: fit first, export after")
    from training.data import DatasetError
    from training.train import TrainConfig
    from training.train import train as run_training

    cfg = TrainConfig(
        data=data,
        recipe_name=recipe_name,
        arch=arch,
        epochs=epochs,
        out=out,
        ferplus=ferplus,
        seed=seed,
        resume=resume,
        limit=limit,
        work_dir=work_dir,
        int8=int8,
        int8_max_drop=int8_max_drop,
        export_only=export_only,
        fit_only=fit_only,
        models_root=_models_root(),
        init_from=init_from,
        peak_lr=peak_lr,
        teacher=teacher,
        command=_command_line(),
    )
    _check_outputs(cfg.model_dir, cfg.run_dir)
    try:
        metrics = run_training(cfg)
    except (DatasetError, FileNotFoundError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    _echo_summary(metrics)


@click.command("evaluate")
@click.option(
    "--model",
    "model_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Model directory (default: the active model, else the newest in models/).",
)
@click.option(
    "--data",
    "data",
    required=True,
    type=click.Path(path_type=Path),
    help="FER2013 CSV (plain or .gz) or an image-folder dataset.",
)
@click.option(
    "--usage",
    type=click.Choice(["PublicTest", "PrivateTest", "Training", "all"]),
    default=None,
    help="Rows to score (default: PublicTest of a CSV, every image of a folder).",
)
@click.option(
    "--precision",
    type=click.Choice(["auto", "float32", "int8"]),
    default=None,
    help="Which file to score (default: the settings' model_precision, as the worker does).",
)
@click.option("--int8", "use_int8", is_flag=True, help="Same as --precision int8.")
@click.option("--uncalibrated", is_flag=True, help="Ignore calibration.json: the file's raw probabilities.")
@click.option("--tta", is_flag=True, help="Average each face with its mirror image.")
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=None,
    help="Score only the first N rows of each Usage (quick checks).",
)
@click.option("--json", "as_json", is_flag=True, help="Print only the JSON object.")
def evaluate(
    model_dir: Path | None,
    data: Path,
    usage: str | None,
    precision: str | None,
    use_int8: bool,
    uncalibrated: bool,
    tta: bool,
    limit: int | None,
    as_json: bool,
) -> None:
    """Evaluate a model the way the worker runs it (same file, same calibration) and print one JSON object:
    accuracy, macro F1, ECE, ms per face."""
    from monitor.classify import ModelError, model_file
    from training.data import DatasetError, load_dataset
    from training.evaluate import evaluate_model_dir, newest_model_dir

    if use_int8 and precision not in (None, "int8"):
        raise click.ClickException(f"--int8 contradicts --precision {precision}")
    precision = "int8" if use_int8 else precision or getattr(_settings(), "model_precision", None) or "auto"
    model_dir = model_dir or newest_model_dir(_models_root(), getattr(_settings(), "db_url", None))
    if model_dir is None:
        raise click.ClickException("no model found (looked in models/*/); pass --model DIR")
    path = model_file(model_dir, precision)
    if not path.is_file():
        raise click.ClickException(f"no {path.name} in {model_dir} (precision {precision})")
    try:
        dataset = load_dataset(data, progress=not as_json).head(limit)
        if dataset.dropped_line():
            click.echo(dataset.dropped_line(), err=True)
        metrics = evaluate_model_dir(
            model_dir,
            dataset,
            usage=usage,
            flip_tta=tta,
            precision=precision,
            calibrated=not uncalibrated,
            timing=True,
        )
    except (DatasetError, ModelError, ValueError, FileNotFoundError) as exc:
        raise click.ClickException(str(exc)) from None
    t = metrics["temperature"]
    click.echo(
        f"scored {metrics['model_file']} ({metrics['precision']}"
        f"{f', temperature {t:.3f}' if t else ', no temperature'}) on {metrics['usage']} of {data}",
        err=True,
    )
    if not as_json:
        click.echo(
            f"accuracy {metrics['accuracy']:.4f}, macro F1 {metrics['macro_f1']:.4f}, "
            f"ECE {metrics['ece']:.4f}, {metrics['ms_per_face']:.3f} ms/face, n={metrics['n']}",
            err=True,
        )
    click.echo(json.dumps(metrics))


@click.command("ensemble")
@click.option(
    "--member",
    "members",
    multiple=True,
    required=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="A trained model directory; give two or more (e.g. the same recipe with other --seed).",
)
@click.option(
    "--data",
    "data",
    required=True,
    type=click.Path(path_type=Path),
    help="The dataset whose PublicTest rows (or carved validation slice) evaluate the ensemble.",
)
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Model directory to write.")
@int8_options
@click.option(
    "--tta",
    "flip_tta",
    is_flag=True,
    help="Build flip averaging into the model: members also see the mirrored face (2x compute).",
)
def ensemble(
    members: tuple[Path, ...], data: Path, out: Path, int8: bool, int8_max_drop: float, flip_tta: bool
) -> None:
    """Average trained models into one model directory (one LiteRT call, the members' mean probabilities)."""
    from training.data import DatasetError
    from training.ensemble import EnsembleConfig, EnsembleError
    from training.ensemble import ensemble as run_ensemble

    cfg = EnsembleConfig(
        members=list(members),
        data=data,
        out=out,
        int8=int8,
        int8_max_drop=int8_max_drop,
        flip_tta=flip_tta,
        command=_command_line(),
    )
    _check_outputs(out)
    try:
        metrics = run_ensemble(cfg)
    except (DatasetError, EnsembleError) as exc:
        raise click.ClickException(str(exc)) from None
    _echo_summary(metrics)


@click.command("calibrate-model")
@click.option(
    "--model",
    "model_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Model directory (default: the active model, else the newest in models/).",
)
@click.option(
    "--data",
    "data",
    required=True,
    type=click.Path(path_type=Path),
    help="FER2013 CSV (plain or .gz) whose held-out rows fit the temperature.",
)
@click.option(
    "--usage",
    type=click.Choice(["PublicTest", "PrivateTest", "all"]),
    default="PublicTest",
    show_default=True,
    help="Rows to fit on (never Training: the model has seen them).",
)
@click.option(
    "--fold-into-graph",
    "fold",
    is_flag=True,
    help="Also re-export model.tflite from model.keras with T inside the graph.",
)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=None,
    help="Fit on only the first N rows of each Usage (quick checks and tests).",
)
def calibrate_model(model_dir: Path | None, data: Path, usage: str, fold: bool, limit: int | None) -> None:
    """Fit temperature scaling for a model directory: writes calibration.json (applied by the worker),
    reliability.png, ECE before/after into metrics.json and the model card."""
    from training.calibration import calibrate_model_dir
    from training.data import DatasetError, load_dataset
    from training.evaluate import newest_model_dir

    model_dir = model_dir or newest_model_dir(_models_root(), getattr(_settings(), "db_url", None))
    if model_dir is None or not model_dir.is_dir():
        raise click.ClickException(f"no model directory {model_dir or '(none found in models/)'}")
    try:
        dataset = load_dataset(data).head(limit)
        record = calibrate_model_dir(model_dir, dataset, usage=usage, command=_command_line(), fold=fold)
    except (DatasetError, ValueError, FileNotFoundError) as exc:
        raise click.ClickException(str(exc)) from None
    for name, f in record["files"].items():
        click.echo(
            f"{model_dir / name}: T={f['temperature']:.3f}, ECE {f['ece_before']:.4f} -> "
            f"{f['ece_after']:.4f}, NLL {f['nll_before']:.4f} -> {f['nll_after']:.4f}",
            err=True,
        )
    click.echo(json.dumps(record))


@click.command("explain")
@click.option(
    "--model",
    "model_dir",
    required=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="Model directory with the float model.keras (e.g. models/fer2013-default-v1).",
)
@click.option(
    "--data",
    "data",
    required=True,
    type=click.Path(path_type=Path),
    help="A dataset (FER2013 CSV or image-folder dataset); never camera images.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    required=True,
    help="Folder for gradcam_grid.png (the model directory itself adds it to the model card).",
)
@click.option(
    "--per-class", type=click.IntRange(1, 20), default=6, show_default=True, help="Faces per class."
)
@click.option(
    "--usage",
    type=click.Choice(["PublicTest", "PrivateTest", "Training", "all"]),
    default=None,
    help="Rows to sample from (default: PublicTest of a CSV, every image of a folder).",
)
@click.option("--seed", type=int, default=0, show_default=True)
def explain(model_dir: Path, data: Path, out: Path, per_class: int, usage: str | None, seed: int) -> None:
    """Grad-CAM overlays for a sample of dataset faces per class: one grid PNG, rows = true class."""
    from monitor.safe_paths import UnsafePathError, check_output_dir
    from training.data import DatasetError, load_dataset
    from training.evaluate import default_usage
    from training.explain import GRID_FILE, MEAN_OF, MEANS_FILE, explain_dataset, plot_class_means, plot_grid

    keras_file = model_dir / "model.keras"
    if not keras_file.is_file():
        raise click.ClickException(
            f"{model_dir} has no model.keras (only LiteRT files, which carry no "
            "gradients); Grad-CAM needs the float Keras model, e.g. "
            "models/fer2013-default-v1"
        )
    settings = _settings()
    try:
        target = check_output_dir(out, db_url=getattr(settings, "db_url", None), what="explanations")
        dataset = load_dataset(data, progress=False)
    except UnsafePathError as exc:
        raise click.ClickException(str(exc)) from None
    except DatasetError as exc:
        raise click.ClickException(
            f"{exc} (explain runs on dataset faces only, never camera images)"
        ) from None
    import keras

    usage = usage or default_usage(dataset)
    try:
        model, rows = keras.models.load_model(keras_file), dataset.split(usage)
        ex = explain_dataset(model, rows, per_class, seed=seed)
        pooled = explain_dataset(model, rows, MEAN_OF, seed=seed)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    title = f"{model_dir.name}: Grad-CAM on {usage} faces; rows: true class, titles: prediction"
    grid = plot_grid(ex, target / GRID_FILE, title=title)
    means_title = f"{model_dir.name}: mean Grad-CAM per class ({usage})"
    means = plot_class_means(pooled, target / MEANS_FILE, title=means_title)
    click.echo(f"wrote {grid} ({len(ex.faces)} faces, layer {ex.layer}) and {means}", err=True)
    metrics_file = model_dir / "metrics.json"
    if target == model_dir.resolve() and metrics_file.is_file():
        from training.card import write_model_card

        metrics = json.loads(metrics_file.read_text())
        metrics["explanations"] = {
            "grid": GRID_FILE,
            "means": MEANS_FILE,
            "mean_of": MEAN_OF,
            "layer": ex.layer,
            "per_class": per_class,
            "usage": usage,
            "data": str(data),
            "seed": seed,
            "command": _command_line(),
        }
        metrics_file.write_text(json.dumps(metrics, indent=2) + "\n")
        write_model_card(model_dir, metrics)
        click.echo(f"added the grid to {model_dir / 'MODEL_CARD.md'}", err=True)
