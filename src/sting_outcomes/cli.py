"""Command line: ``sting-outcomes validate | build | summary``.

Exit codes: 0 clean, 1 data problems or a failed notebook (listed, never a traceback),
2 usage errors (one line), 130 / 143 interrupted by Ctrl-C / SIGTERM (one line, after the
build has stopped its kernels and removed its staging folder).
Heavy modules are imported inside the commands, so an up-to-date ``build`` stays fast.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path

from .data.problems import DataValidationError
from .paths import CACHE_DIR, NOTEBOOKS_DIR, REPORTS_DIR, display_path

PROG = "sting-outcomes"


class _Parser(argparse.ArgumentParser):
    """Usage errors as one line (``sting-outcomes build: error: …``), exit 2."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _shown(path: Path) -> str:
    from .site.publish import shown_folder

    return shown_folder(path)


def _folder(text: str) -> Path:
    path = Path(text)
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} is not a directory")
    return path


def _workers(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1 or not text.strip().isascii():
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, not {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
    validate = sub.add_parser("validate", help="check the data against the contract")
    validate.add_argument(
        "--data", type=_folder, default=None, metavar="DIR", help="data directory (default: the project's data/)"
    )
    validate.set_defaults(func=cmd_validate)
    build = sub.add_parser("build", help="validate the data, run the notebooks and render reports/")
    build.add_argument("--data", type=_folder, default=None, metavar="DIR", help="data directory")
    build.add_argument(
        "--out",
        type=Path,
        default=REPORTS_DIR,
        metavar="DIR",
        help="output folder (default: reports/); only a new or empty folder, or one a build made, is replaced",
    )
    build.add_argument(
        "--workers", type=_workers, default=None, metavar="N", help="notebooks run at once (default: cores + 1)"
    )
    build.add_argument("--notebooks", type=_folder, default=NOTEBOOKS_DIR, metavar="DIR", help="notebooks folder")
    build.add_argument(
        "--cache", type=Path, default=CACHE_DIR, metavar="DIR", help="cache folder (default: .cache/build)"
    )
    build.add_argument(
        "--wait",
        type=float,
        default=None,
        metavar="SECONDS",
        help="how long to wait for another build of the same folder (default: until it ends; 0: fail at once)",
    )
    build.set_defaults(func=cmd_build)
    summary = sub.add_parser("summary", help="print the dataset's coverage")
    summary.add_argument("--data", type=_folder, default=None, metavar="DIR", help="data directory")
    summary.set_defaults(func=cmd_summary)
    return parser


def _load(data_dir: Path | None):
    """The dataset, or None after printing its problems (never a traceback)."""
    from .data.load import load

    try:
        return load(data_dir)
    except DataValidationError as exc:
        print(exc, file=sys.stderr)
        return None


def cmd_validate(args: argparse.Namespace) -> int:
    ds = _load(args.data)
    if ds is None:
        return 1
    primary = int((ds.sources["source_kind"] == "primary").sum())
    print(
        f"{display_path(ds.data_dir)}: valid: {len(ds.operations)} operations, "
        f"{len(ds.sources)} sources ({primary} primary), {len(ds.figures)} figures; version {ds.version}"
    )
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    from .site.build import build

    try:
        build(
            args.out,
            data_dir=args.data,
            notebooks_dir=args.notebooks,
            cache_dir=args.cache,
            workers=args.workers,
            lock_timeout=args.wait,
        )
    except Exception as exc:
        if _received:  # a signal arrived: whatever it broke on the way out, report the signal
            raise
        return _build_failed(args, exc)
    return 0


def _build_failed(args: argparse.Namespace, exc: Exception) -> int:
    """Print one line for a build that failed and return its exit code; re-raise the unexpected."""
    from .site.build import BuildError, LockBusy, UnsafeFolder, UsageError

    if isinstance(exc, (UnsafeFolder, UsageError)):
        print(f"{PROG} build: error: {exc}", file=sys.stderr)
        return 2
    if isinstance(exc, DataValidationError):
        print(exc, file=sys.stderr)
    elif isinstance(exc, BuildError):
        print(f"build failed, {_shown(args.out)}/ left as it was: {exc}", file=sys.stderr)
    elif isinstance(exc, LockBusy):
        print(f"{PROG} build: {exc}", file=sys.stderr)
    elif isinstance(exc, OSError):  # a folder that cannot be written, a full disk: say so in one line
        where = f" ({exc.filename})" if exc.filename else ""
        print(f"build failed, {_shown(args.out)}/ left as it was: {exc.strerror or exc}{where}", file=sys.stderr)
    else:
        raise exc
    return 1


def cmd_summary(args: argparse.Namespace) -> int:
    from .analysis.coverage import coverage, format_coverage

    ds = _load(args.data)
    if ds is None:
        return 1
    print(format_coverage(ds, coverage(ds)))
    return 0


class _Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that the same clean-up runs."""


# Signals received by this process. A KeyboardInterrupt raised inside a C extension's import
# surfaces as an ImportError ("initialization failed"); the record lets main() still report
# the interruption rather than a traceback.
_received: list[int] = []


def _on_signal(signum, _frame) -> None:
    _received.append(signum)
    raise _Terminated() if signum == getattr(signal, "SIGTERM", None) else KeyboardInterrupt()


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    previous = {}
    for signum in (signal.SIGINT, getattr(signal, "SIGTERM", None)):
        try:  # only the main thread may set handlers; elsewhere the defaults stay
            if signum is not None:
                previous[signum] = signal.signal(signum, _on_signal)
        except (ValueError, AttributeError):
            pass
    try:
        return args.func(args)
    except BaseException as exc:
        if not (_received or isinstance(exc, KeyboardInterrupt)):
            raise
        terminated = isinstance(exc, _Terminated) or getattr(signal, "SIGTERM", None) in _received
        for signum in (signal.SIGINT, getattr(signal, "SIGTERM", None)):
            if signum is not None:  # the clean-up has run; do not interrupt the message
                try:
                    signal.signal(signum, signal.SIG_IGN)
                except ValueError:
                    pass
        name = "SIGTERM" if terminated else "Ctrl-C"
        what = f"{_shown(args.out)}/ left as it was, kernels stopped" if args.command == "build" else "nothing changed"
        print(f"{PROG} {args.command}: interrupted ({name}); {what}", file=sys.stderr, flush=True)
        sys.stdout.flush()
        # The build has stopped its kernels and removed its staging folder; exit now rather
        # than let library exit handlers wait on sockets of the kernels it killed.
        os._exit(143 if terminated else 130)
    finally:
        for signum, handler in previous.items():
            try:
                signal.signal(signum, handler)
            except (ValueError, TypeError):
                pass


if __name__ == "__main__":
    sys.exit(main())
