"""Command-line interface: ``lowrank-rnn <command>``.

Each command lives in ``lowrank_rnn.commands.<name>`` and registers itself on the app. A bad
argument (a :class:`ValueError` raised by the library's validation) becomes a one-line error on
stderr and exit code 2.
"""

from __future__ import annotations

import importlib
import sys

import click
import typer

__all__ = ["app", "main"]

app = typer.Typer(
    name="lowrank-rnn",
    help="Build, analyse, simulate and train low-rank RNNs; reproduce the field's results.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

#: Modules of ``lowrank_rnn.commands`` that register a command each.
COMMAND_MODULES: tuple[str, ...] = (
    "reproduce", "spectrum", "sweep", "psychometric", "compare", "embed"
)

for _name in COMMAND_MODULES:
    importlib.import_module(f"lowrank_rnn.commands.{_name}").register(app)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    try:
        rv = app(args=argv, standalone_mode=False)
    except click.exceptions.ClickException as err:
        err.show()
        sys.exit(err.exit_code)
    except click.exceptions.Abort:
        print("Aborted.", file=sys.stderr)
        sys.exit(130)
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        sys.exit(130)
    except ValueError as err:
        print(f"Error: {err}", file=sys.stderr)
        sys.exit(2)
    sys.exit(rv if isinstance(rv, int) else 0)


if __name__ == "__main__":  # pragma: no cover
    main()
