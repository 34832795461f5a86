"""``python -m training train|evaluate``: the same commands without the classroom-monitor front door."""

import click

from training.commands import evaluate, train


@click.group()
def main() -> None:
    """Train and evaluate the emotion CNN."""


main.add_command(train)
main.add_command(evaluate)

if __name__ == "__main__":
    main()
