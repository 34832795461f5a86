"""``classroom-monitor train`` and ``classroom-monitor evaluate``: thin click shells over the library.

TensorFlow is imported only inside the commands, so ``classroom-monitor --help`` stays fast and the
worker never loads it.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import click


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


@click.command("train")
@click.option("--data", "data", required=True, type=click.Path(path_type=Path),
              help="FER2013 CSV (plain or .gz) or an image-folder dataset (one folder per emotion).")
@click.option("--arch", type=click.Choice(["baseline", "default"]), default="default", show_default=True)
@click.option("--epochs", type=click.IntRange(min=1), default=None,
              help="Epochs (default: 45 for default, 25 for baseline).")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Model directory to write (default: <models dir>/<data>-<arch>).")
@click.option("--ferplus", type=click.Path(path_type=Path), default=None,
              help="FER+ vote CSV aligned with --data: train on vote distributions over 8 classes.")
@click.option("--seed", type=int, default=1337, show_default=True)
@click.option("--resume", is_flag=True, help="Continue from the last checkpoint of this run.")
@click.option("--limit", type=click.IntRange(min=1), default=None,
              help="Use only the first N rows of each Usage (quick runs and tests).")
@click.option("--work-dir", type=click.Path(path_type=Path), default=None,
              help="Checkpoints and history (default: runs/<version>).")
@click.option("--int8/--no-int8", default=True, show_default=True,
              help="Also try an int8 export (kept only if within 1 point of float32).")
@click.option("--export-only", is_flag=True, help="Skip fitting; export the run's best checkpoint so far.")
@click.option("--init-from", type=click.Path(exists=True, path_type=Path), default=None,
              help="Warm start: weights from a model directory or .keras file (a new schedule cycle).")
@click.option("--lr", "peak_lr", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Peak learning rate (default: 2e-3 for default, 1e-3 for baseline).")
@click.option("--teacher", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="Distil from this model directory (e.g. an ensemble): its probabilities join the targets.")
def train(data: Path, arch: str, epochs: int | None, out: Path | None, ferplus: Path | None, seed: int,
          resume: bool, limit: int | None, work_dir: Path | None, int8: bool, export_only: bool,
          init_from: Path | None, peak_lr: float | None, teacher: Path | None) -> None:
    """Train an emotion CNN and export it as a model directory (model.tflite, metrics, card)."""
    from training.data import DatasetError
    from training.train import TrainConfig
    from training.train import train as run_training

    cfg = TrainConfig(data=data, arch=arch, epochs=epochs, out=out, ferplus=ferplus, seed=seed,
                      resume=resume, limit=limit, work_dir=work_dir, int8=int8,
                      export_only=export_only, models_root=_models_root(), init_from=init_from,
                      peak_lr=peak_lr, teacher=teacher, command=_command_line())
    _check_outputs(cfg.model_dir, cfg.run_dir)
    try:
        metrics = run_training(cfg)
    except (DatasetError, FileNotFoundError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(json.dumps({k: metrics[k] for k in ("version", "accuracy", "macro_f1", "n", "ms_per_face")}))


@click.command("evaluate")
@click.option("--model", "model_dir", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Model directory (default: the active model, else the newest in models/).")
@click.option("--data", "data", required=True, type=click.Path(path_type=Path),
              help="FER2013 CSV (plain or .gz) or an image-folder dataset.")
@click.option("--usage", type=click.Choice(["PublicTest", "PrivateTest", "Training", "all"]),
              default="PublicTest", show_default=True)
@click.option("--tta", is_flag=True, help="Average each face with its mirror image.")
@click.option("--int8", "use_int8", is_flag=True, help="Evaluate model_int8.tflite instead.")
@click.option("--json", "as_json", is_flag=True, help="Print only the JSON object.")
def evaluate(model_dir: Path | None, data: Path, usage: str, tta: bool, use_int8: bool,
             as_json: bool) -> None:
    """Evaluate an exported model under LiteRT (the worker's runtime) and print one JSON object."""
    from training.data import DatasetError, load_dataset
    from training.evaluate import evaluate_model_dir, newest_model_dir

    model_dir = model_dir or newest_model_dir(_models_root(), getattr(_settings(), "db_url", None))
    tflite_name = "model_int8.tflite" if use_int8 else "model.tflite"
    if model_dir is None or not (model_dir / tflite_name).exists():
        raise click.ClickException(f"no {tflite_name} found (looked in {model_dir or 'models/*/'})")
    try:
        dataset = load_dataset(data, progress=not as_json)
        metrics = evaluate_model_dir(model_dir, dataset, usage=usage, flip_tta=tta, tflite_name=tflite_name)
    except (DatasetError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    if not as_json:
        click.echo(f"{model_dir}: {usage} accuracy {metrics['accuracy']:.4f}, macro F1 "
                   f"{metrics['macro_f1']:.4f}, n={metrics['n']}", err=True)
    click.echo(json.dumps(metrics))


@click.command("ensemble")
@click.option("--member", "members", multiple=True, required=True,
              type=click.Path(path_type=Path, file_okay=False),
              help="A trained model directory; give two or more (e.g. the same recipe with other --seed).")
@click.option("--data", "data", required=True, type=click.Path(path_type=Path),
              help="The dataset whose PublicTest rows (or carved validation slice) evaluate the ensemble.")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Model directory to write.")
@click.option("--int8/--no-int8", default=True, show_default=True,
              help="Also try an int8 export (kept only if within 1 point of float32).")
@click.option("--tta", "flip_tta", is_flag=True,
              help="Build flip averaging into the model: members also see the mirrored face (2x compute).")
def ensemble(members: tuple[Path, ...], data: Path, out: Path, int8: bool, flip_tta: bool) -> None:
    """Average trained models into one model directory (one LiteRT call, the members' mean probabilities)."""
    from training.data import DatasetError
    from training.ensemble import EnsembleConfig, EnsembleError
    from training.ensemble import ensemble as run_ensemble

    cfg = EnsembleConfig(members=list(members), data=data, out=out, int8=int8, flip_tta=flip_tta,
                         command=_command_line())
    _check_outputs(out)
    try:
        metrics = run_ensemble(cfg)
    except (DatasetError, EnsembleError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(json.dumps({k: metrics[k] for k in ("version", "accuracy", "macro_f1", "n", "ms_per_face")}))
