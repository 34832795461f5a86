"""``python -m training train|evaluate|ensemble``: the commands without the classroom-monitor front door."""

import click

from training.commands import ensemble, evaluate, train


@click.group()
def main() -> None:
    """Train, evaluate and ensemble the emotion CNN."""


main.add_command(train)
main.add_command(evaluate)
main.add_command(ensemble)

if __name__ == "__main__":
    main()
