"""Command-line interface: ``lowrank-rnn <command>``.

Each command lives in ``lowrank_rnn.commands.<name>`` and registers itself on the app. A bad
argument (a :class:`ValueError` raised by the library's validation, or a usage error of the
option parser) becomes a one-line error on stderr naming the option as typed, and exit code 2.
A fault of the environment (a full disk, an unwritable file, a Dask worker killed again and
again) becomes a one-line error saying what happened and that rerunning resumes, exit code 1.
"""

from __future__ import annotations

import errno
import importlib
import re
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
    args = list(sys.argv[1:] if argv is None else argv)
    import warnings

    previous = warnings.showwarning
    warnings.showwarning = _show_warning
    try:
        rv = app(args=args, standalone_mode=False)
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        sys.exit(130)
    except ValueError as err:
        _fail(2, _option_names(args, str(err)))
    except OSError as err:
        _fail(1, _os_error_line(err))
    except Exception as err:
        # usage errors of click, or of the copy of click that typer may vendor: duck-typed
        if callable(getattr(err, "format_message", None)) and isinstance(
            getattr(err, "exit_code", None), int
        ):
            _fail(err.exit_code, err.format_message())
        if type(err).__name__ == "Abort":
            print("Aborted.", file=sys.stderr)
            sys.exit(130)
        if type(err).__name__ == "KilledWorker":
            try:
                detail = _one_line(str(err))[:200]
            except Exception:  # noqa: BLE001 - a message that cannot be formatted
                detail = "KilledWorker"
            _fail(1, f"a Dask worker died repeatedly while running a point ({detail}); every "
                     "finished point is stored: rerun the same command to resume")
        raise
    finally:
        warnings.showwarning = previous
    sys.exit(rv if isinstance(rv, int) else 0)


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:  # noqa: ANN001
    """A library warning on the command line: one line, ``Warning: ...``, on stderr."""
    print(f"Warning: {_one_line(str(message))}", file=sys.stderr if file is None else file)


def _one_line(text: str) -> str:
    return "; ".join(part.strip() for part in str(text).splitlines() if part.strip())


def _fail(code: int, message: str) -> None:
    """Print ``Error: message`` as exactly one line on stderr and exit with ``code``."""
    print(f"Error: {_one_line(message)}", file=sys.stderr)
    sys.exit(code)


def _os_error_line(err: OSError) -> str:
    where = f" ({err.filename})" if getattr(err, "filename", None) else ""
    what = err.strerror or str(err) or type(err).__name__
    if err.errno == errno.ENOSPC:
        return (f"no space left on the device{where}; nothing half-written was kept: free some "
                "space and rerun (a sweep resumes from its stored points)")
    return f"cannot write or read a file{where}: {what}; nothing half-written was kept"


_NAME_AT_START = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(?=[=:\[])")


def _option_names(args: list[str], message: str) -> str:
    """Rewrite a library message's leading parameter name into the command's option as typed.

    ``n_neurons=0: must be >= 1`` from ``lowrank-rnn spectrum --n-neurons 0`` becomes
    ``--n-neurons=0: must be >= 1``; a positional argument becomes its metavar (``CONFIG``).
    """
    try:
        import typer.main

        group = typer.main.get_command(app)
        name = next((a for a in args if not a.startswith("-")), None)
        command = group.commands.get(name) if name else None  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - the message stays as it was
        command = None
    m = _NAME_AT_START.match(message)
    if command is None or m is None:
        return message
    for param in command.params:
        if param.name != m.group(1):
            continue
        opts = [o for o in param.opts if o.startswith("-")]
        if opts:
            typed = next((o for o in opts if o in args), max(opts, key=len))
        else:
            typed = (getattr(param, "metavar", None) or param.name or "").upper()
        return typed + message[m.end():]
    return message


if __name__ == "__main__":  # pragma: no cover
    main()
