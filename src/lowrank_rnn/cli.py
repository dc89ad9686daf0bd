"""Command-line interface: ``lowrank-rnn <command>``.

Each command lives in ``lowrank_rnn.commands.<name>`` and registers itself on the app. A bad
argument (a :class:`ValueError` raised by the library's validation) becomes a one-line error on
stderr and exit code 2.
"""

from __future__ import annotations

import importlib
import sys

import typer

__all__ = ["app", "main"]

#: The ``lowrank-rnn`` application (a :class:`typer.Typer`); each command module registers on it.
app = typer.Typer(
    name="lowrank-rnn",
    help="Build, analyse, simulate and train low-rank RNNs; reproduce the field's results.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

def _version(value: bool) -> None:
    if value:
        from lowrank_rnn import __version__

        print(f"lowrank-rnn {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    """Build, analyse, simulate and train low-rank RNNs; reproduce the field's results."""


#: Modules of ``lowrank_rnn.commands`` that register a command each.
COMMAND_MODULES: tuple[str, ...] = (
    "reproduce", "spectrum", "sweep", "psychometric", "compare", "embed", "info", "train",
    "populations",
)

for _name in COMMAND_MODULES:
    importlib.import_module(f"lowrank_rnn.commands.{_name}").register(app)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    try:
        rv = app(args=argv, standalone_mode=False)
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        sys.exit(130)
    except ValueError as err:
        print(f"Error: {err}", file=sys.stderr)
        sys.exit(2)
    except Exception as err:
        # usage errors of click, or of the copy of click that typer may vendor: duck-typed
        if callable(getattr(err, "show", None)) and isinstance(getattr(err, "exit_code", None),
                                                               int):
            err.show()
            sys.exit(err.exit_code)
        if type(err).__name__ == "Abort":
            print("Aborted.", file=sys.stderr)
            sys.exit(130)
        raise
    sys.exit(rv if isinstance(rv, int) else 0)


if __name__ == "__main__":  # pragma: no cover
    main()
