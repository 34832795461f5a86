"""``python -m training COMMAND``: train, evaluate, ensemble, calibrate-model, explain (no front door)."""

import click

from training.commands import calibrate_model, ensemble, evaluate, explain, train


@click.group()
def main() -> None:
    """Train, evaluate and ensemble the emotion CNN."""


main.add_command(train)
main.add_command(evaluate)
main.add_command(ensemble)
main.add_command(calibrate_model)
main.add_command(explain)

if __name__ == "__main__":
    main()
