"""The wheel is self-sufficient: built from the sources, installed away from the repository,
it runs the demo and finds its validation suites as package data (issue #20).

The wheel is built with pip (build isolation, from the machine's configured indexes, as
`make install` does), installed with `pip install --no-deps --target`, and run with that
folder first on PYTHONPATH from a folder outside the repository: the project's
dependencies come from this virtual environment, Vigie's code from the wheel only.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import PINNED_NOW, ROOT, VIGIE_VARS

SHIPPED = ("pyproject.toml", "README.md", "pipelines", "expectations")


def _pip(*args: str, cwd: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "pip", *args, "--quiet", "--disable-pip-version-check"],
                          cwd=cwd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]


def _source_files() -> set[str]:
    """Every file the package reads, as the wheel must name it (pipelines/…)."""
    files = set()
    for path in (ROOT / "pipelines").rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            files.add(path.relative_to(ROOT).as_posix())
    return files


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> dict:
    """The wheel, built from a copy of the sources (the build leaves nothing in the
    repository) and installed in a folder of its own."""
    base = tmp_path_factory.mktemp("wheel")
    source = base / "source"
    source.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in SHIPPED:
        item = ROOT / name
        if item.is_dir():
            shutil.copytree(item, source / name, symlinks=True, ignore=ignore)
        else:
            shutil.copy2(item, source / name)
    _pip("wheel", "--no-deps", "--wheel-dir", str(base / "dist"), str(source), cwd=base)
    (wheel,) = (base / "dist").glob("vigie-*.whl")
    target = base / "site"
    _pip("install", "--no-deps", "--target", str(target), str(wheel), cwd=base)
    return {"wheel": wheel, "target": target, "base": base}


def _run(installed: dict, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in VIGIE_VARS and k != "PYTHONPATH"}
    env.update(PYTHONPATH=str(installed["target"]), VIGIE_NOW=PINNED_NOW, GX_ANALYTICS_ENABLED="False")
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_the_wheel_holds_every_file_of_the_package_and_the_suites(installed):
    names = set(zipfile.ZipFile(installed["wheel"]).namelist())
    missing = sorted(_source_files() - names)
    assert not missing, f"absent du wheel : {missing}"
    suites = sorted(p.name for p in (ROOT / "expectations").glob("*.json"))
    assert suites and sorted(n.rsplit("/", 1)[1] for n in names if n.startswith("pipelines/expectations/")) == suites


def test_the_installed_wheel_validates_from_outside_the_repository(installed):
    elsewhere = installed["base"] / "ailleurs"
    elsewhere.mkdir()
    where = _run(installed, "-c", "import pipelines; print(pipelines.__file__)", cwd=elsewhere)
    assert Path(where.stdout.strip()).is_relative_to(installed["target"]), where.stdout + where.stderr

    db = elsewhere / "demo.duckdb"
    demo = _run(installed, "-m", "pipelines", "demo", "--db", str(db), cwd=elsewhere)
    assert demo.returncode == 0, demo.stderr[-3000:]
    done = _run(installed, "-m", "pipelines", "validate", "--db", str(db), cwd=elsewhere)
    assert done.returncode == 0, done.stderr[-3000:]  # the demo fails non-blocking expectations only
    suites = len(list((ROOT / "expectations").glob("*.json")))
    assert f"attentes, {suites} suites)" in done.stdout, done.stdout
    assert not (elsewhere / "expectations").exists()
