"""Command line: ``sting-outcomes validate | build | summary``.

Exit codes: 0 clean, 1 data problems (listed, never a traceback), 2 usage errors.
Heavy modules are imported inside the commands, so an up-to-date ``build`` stays fast.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .data.problems import DataValidationError
from .paths import CACHE_DIR, NOTEBOOKS_DIR, REPORTS_DIR, display_path


def _data_dir(text: str) -> Path:
    path = Path(text)
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} is not a directory")
    return path


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sting-outcomes", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    validate = sub.add_parser("validate", help="check the data against the contract")
    validate.add_argument(
        "--data", type=_data_dir, default=None, metavar="DIR", help="data directory (default: the project's data/)"
    )
    validate.set_defaults(func=cmd_validate)
    build = sub.add_parser("build", help="validate the data, run the notebooks and render reports/")
    build.add_argument("--data", type=_data_dir, default=None, metavar="DIR", help="data directory")
    build.add_argument("--out", type=Path, default=REPORTS_DIR, metavar="DIR", help="output folder (default: reports/)")
    build.add_argument("--workers", type=int, default=None, metavar="N", help="notebooks run at once (default: cores)")
    build.add_argument("--notebooks", type=_data_dir, default=NOTEBOOKS_DIR, metavar="DIR", help="notebooks folder")
    build.add_argument(
        "--cache", type=Path, default=CACHE_DIR, metavar="DIR", help="cache folder (default: .cache/build)"
    )
    build.set_defaults(func=cmd_build)
    summary = sub.add_parser("summary", help="print the dataset's coverage")
    summary.add_argument("--data", type=_data_dir, default=None, metavar="DIR", help="data directory")
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
    from .site.build import BuildError, build

    try:
        build(args.out, data_dir=args.data, notebooks_dir=args.notebooks, cache_dir=args.cache, workers=args.workers)
    except DataValidationError as exc:
        print(exc, file=sys.stderr)
        return 1
    except BuildError as exc:
        print(f"build failed, {display_path(args.out)}/ left as it was: {exc}", file=sys.stderr)
        return 1
    return 0


def cmd_summary(args: argparse.Namespace) -> int:
    from .analysis.coverage import coverage, format_coverage

    ds = _load(args.data)
    if ds is None:
        return 1
    print(format_coverage(ds, coverage(ds)))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
