"""Where a build may write, and publishing a finished report in one atomic step.

**Which folders.** ``--out DIR`` is only ever replaced when the build made it: it is new,
empty, a folder holding the :data:`MARKER` file every build writes (or a report from
before the marker existed: a ``build.json`` with a build key), or the build's own symlink.
Anything else is refused with a one-line :class:`UnsafeFolder` (a usage error, exit 2),
and so are the filesystem root, the current and home folders and anything holding them,
the project root, the project's own folders (``data``, ``notebooks``, ``src``, …) and
anything inside them, and the build's inputs. The cache folder gets the same checks.

**Publishing.** A report is written into a staging folder ``.<name>-XXXXXXXX`` beside
``DIR`` and published by pointing ``DIR`` (a relative symlink) at it: a temporary
symlink is created and ``os.replace``-d over ``DIR``, one ``rename(2)``, so a reader (or a
crash) sees the old report or the new one, never neither. The previous version folder is
then removed; stale staging folders of crashed builds are removed by the next build.
The first publish over a real folder (a report from before symlinks) moves it aside
first; only then is there a moment without ``DIR``. Where symlinks cannot be made
(Windows without the privilege) the old rename-and-rename swap is used.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from pathlib import Path

from ..paths import PROJECT_ROOT, display_path

MARKER = ".sting-outcomes-report"
MARKER_TEXT = (
    "This folder was written by `sting-outcomes build`; every build replaces it whole.\nDo not keep other files here.\n"
)
CACHE_MARKER = ".sting-outcomes-cache"
#: Project folders no build may write into or replace.
PROTECTED = ("data", "notebooks", "src", "tests", "locks", "benchmarks", ".git", ".venv", ".venv-lab")
_CACHE_ENTRY = re.compile(r"^[^.][^/]*\.[0-9a-f]{20}\.(html|tmp)$")


class UnsafeFolder(ValueError):
    """A folder the build refuses to replace or write into; the message is one line."""


def _absolute(path: Path) -> Path:
    """``path`` made absolute with ``..`` folded and its parent's symlinks resolved (the
    last component is kept as given, since it may be the build's own symlink)."""
    path = Path(os.path.abspath(Path(path).expanduser()))
    if not path.name:
        return path
    return path.parent.resolve() / path.name


def shown_folder(path: Path) -> str:
    """A folder as messages show it: relative to the project root when inside it, like
    :func:`~sting_outcomes.paths.display_path`, but without following the folder's own
    symlink (a published report is a link to a version folder)."""
    path = Path(os.path.abspath(path))
    if not path.name:
        return str(path)
    parent = display_path(path.parent)
    return path.name if parent == "." else f"{parent.rstrip('/')}/{path.name}"


def _contains(outer: Path, inner: Path) -> bool:
    return outer == inner or outer in inner.parents


def _refuse_special(option: str, target: Path, inputs: dict[str, Path]) -> None:
    shown = f"refusing {option} {shown_folder(target)}"
    if not target.name or target == Path(target.anchor):
        raise UnsafeFolder(f"{shown}: it is the filesystem root")
    real = target.resolve()
    for label, folder in (("the current folder", Path.cwd()), ("your home folder", Path.home())):
        folder = folder.resolve()
        if _contains(target, folder) or _contains(real, folder):
            what = "is" if folder in (target, real) else "contains"
            raise UnsafeFolder(f"{shown}: it {what} {label}")
    root = PROJECT_ROOT.resolve()
    if _contains(target, root) or _contains(real, root):
        raise UnsafeFolder(f"{shown}: it {'is' if root in (target, real) else 'contains'} the project root")
    for name in PROTECTED:
        folder = root / name
        if _contains(folder, target) or _contains(folder, real):
            raise UnsafeFolder(f"{shown}: it is the project's {name}/ folder or inside it")
    for label, folder in inputs.items():
        folder = Path(folder).resolve()
        if _contains(folder, target) or _contains(target, folder) or _contains(real, folder):
            raise UnsafeFolder(f"{shown}: it overlaps the {label} folder {display_path(folder)}")


def _is_own_link(target: Path) -> bool:
    link = os.readlink(target)
    return "/" not in link and "\\" not in link and link.startswith(f".{target.name}-")


def _is_legacy_report(folder: Path) -> bool:
    try:
        manifest = json.loads((folder / "build.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and "build_key" in manifest and "files" in manifest


def check_out_dir(out_dir: Path, inputs: dict[str, Path]) -> Path:
    """The absolute output path, or :class:`UnsafeFolder` saying why the build may not replace it."""
    target = _absolute(out_dir)
    _refuse_special("--out", target, inputs)
    shown = f"refusing --out {shown_folder(target)}"
    if target.is_symlink():
        if not _is_own_link(target):
            raise UnsafeFolder(f"{shown}: it is a symbolic link sting-outcomes build did not make")
    elif target.is_dir():
        if not ((target / MARKER).is_file() or not any(target.iterdir()) or _is_legacy_report(target)):
            raise UnsafeFolder(
                f"{shown}: it holds files sting-outcomes build did not write (no {MARKER}); "
                "choose a new or empty folder"
            )
    elif target.exists():
        raise UnsafeFolder(f"{shown}: it is a file, not a folder")
    return target


def check_cache_dir(cache_dir: Path, inputs: dict[str, Path]) -> Path:
    """The absolute cache path, or :class:`UnsafeFolder`: the build prunes its cache, so it
    only uses a new or empty folder, one it marked, or an older cache of page entries."""
    target = _absolute(cache_dir)
    _refuse_special("--cache", target, inputs)
    if target.is_dir() and not (target / CACHE_MARKER).is_file():
        foreign = [p.name for p in target.iterdir() if not _CACHE_ENTRY.match(p.name)]
        if foreign:
            raise UnsafeFolder(
                f"refusing --cache {display_path(target)}: it holds files that are not build cache entries "
                f"({foreign[0]!r}); choose a new or empty folder"
            )
    elif target.exists() and not target.is_dir():
        raise UnsafeFolder(f"refusing --cache {display_path(target)}: it is a file, not a folder")
    return target


def claim_cache_dir(target: Path) -> None:
    """Create the (checked) cache folder and mark it as the build's own."""
    target.mkdir(parents=True, exist_ok=True)
    marker = target / CACHE_MARKER
    if not marker.is_file():
        marker.write_text("Cache of `sting-outcomes build`; safe to delete.\n", encoding="utf-8")


def lock_path(target: Path) -> Path:
    return target.with_name(f".{target.name}.lock")


def _current_version(target: Path) -> str | None:
    return os.readlink(target) if target.is_symlink() else None


def remove_stale(target: Path, keep: Path | None = None) -> list[str]:
    """Remove version and staging folders of ``target`` that nothing points at (call with
    the lock held); returns their names."""
    current = _current_version(target)
    removed = []
    prefix = f".{target.name}-"
    switch = target.with_name(f".{target.name}.switch")
    if switch.is_symlink():
        switch.unlink()
    if not target.parent.is_dir():
        return removed
    for entry in target.parent.iterdir():
        if not entry.name.startswith(prefix) or entry.name == current or (keep and entry == keep):
            continue
        if entry.is_symlink() or not entry.is_dir():
            continue
        if (entry / MARKER).is_file() or not any(entry.iterdir()):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry.name)
    return removed


def make_staging(target: Path) -> Path:
    """A new staging folder beside ``target``, marked as the build's own from the start."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; a report folder is for reading
    (staging / MARKER).write_text(MARKER_TEXT, encoding="utf-8")
    return staging


def publish(staging: Path, target: Path) -> None:
    """Make ``target`` show ``staging`` in one atomic rename; remove what it showed before."""
    previous = _current_version(target)
    switch = target.with_name(f".{target.name}.switch")
    if switch.is_symlink() or switch.exists():
        switch.unlink()
    try:
        os.symlink(staging.name, switch, target_is_directory=True)
    except (OSError, NotImplementedError):
        _swap_without_symlinks(staging, target)
        return
    if not target.is_symlink() and target.is_dir():
        # A real folder (an empty one, or a report from before symlinks): move it aside.
        aside = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
        (target / MARKER).write_text(MARKER_TEXT, encoding="utf-8")
        os.replace(target, aside)
        previous = aside.name
    os.replace(switch, target)
    if previous and previous != staging.name:
        shutil.rmtree(target.parent / previous, ignore_errors=True)


def _swap_without_symlinks(staging: Path, target: Path) -> None:  # pragma: no cover - Windows
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    old.rmdir()
    if target.is_symlink():
        target.unlink()
    elif target.exists():
        os.replace(target, old)
    os.replace(staging, target)
    shutil.rmtree(old, ignore_errors=True)
