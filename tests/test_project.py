"""Project hygiene: environment files agree, notebooks carry no outputs, paths are rooted."""

from __future__ import annotations

import json
import re
import tomllib

import yaml

from sting_outcomes.paths import PROJECT_ROOT

NAME = re.compile(r"^[A-Za-z0-9_.-]+")


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pyproject_names() -> set[str]:
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]
    specs = project["dependencies"] + [d for extra in project["optional-dependencies"].values() for d in extra]
    return {normalise(NAME.match(s)[0]) for s in specs}


def lock_pins(path: str) -> dict[str, str]:
    pins = {}
    for line in (PROJECT_ROOT / path).read_text().splitlines():
        m = re.match(r"^([A-Za-z0-9_.-]+)==([^ \\;]+)", line)
        if m:
            pins[normalise(m[1])] = m[2]
    return pins


def conda_pins() -> dict[str, str]:
    env = yaml.safe_load((PROJECT_ROOT / "environment.yml").read_text())
    pins = {}
    for dep in env["dependencies"]:
        if isinstance(dep, str) and dep.split("=")[0] not in ("python", "pip"):
            name, _, version = dep.partition("=")
            pins[normalise(name)] = version
    return pins


def test_environment_yml_lists_the_same_packages_as_pyproject() -> None:
    assert set(conda_pins()) == pyproject_names()


def test_environment_yml_pins_the_locked_versions() -> None:
    locked = lock_pins("locks/requirements-lab.txt")
    assert {name: locked.get(name) for name in conda_pins()} == conda_pins()


def test_the_two_locks_agree_where_they_overlap() -> None:
    main, lab = lock_pins("locks/requirements.txt"), lock_pins("locks/requirements-lab.txt")
    assert main and all(lab.get(name) == version for name, version in main.items())
    assert pyproject_names() <= set(lab)


def test_committed_notebooks_carry_no_outputs() -> None:
    for path in sorted((PROJECT_ROOT / "notebooks").glob("**/*.ipynb")):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            if cell["cell_type"] == "code":
                assert not cell.get("outputs") and cell.get("execution_count") is None, path.name


def test_ci_runs_the_readme_test_command() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text()
    assert "make test" in readme and "make report" in readme
    assert "make test" in (PROJECT_ROOT / ".ci" / "run").read_text()


def test_codebook_describes_every_column() -> None:
    package = json.loads((PROJECT_ROOT / "data" / "datapackage.json").read_text())
    codebook = (PROJECT_ROOT / "data" / "README.md").read_text()
    for resource in package["resources"]:
        for field in resource["schema"]["fields"]:
            assert f"`{field['name']}`" in codebook, f"{resource['name']}.{field['name']} missing from data/README.md"
