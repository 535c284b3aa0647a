"""The two images' Dockerfiles, built as far as a machine without Docker can: every COPY
and `uv sync` of the build replayed into a scratch folder from the workspace's lock file,
then the environment each image ships checked for what it must and must not hold."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from dockerfile_parse import DockerfileParser

WORKSPACE = Path(__file__).resolve().parents[3]
# What .dockerignore keeps out of the build context.
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", ".venv*")


@dataclass
class Replay:
    """The build stage of a Dockerfile, replayed with absolute paths under `root`."""

    root: Path
    env: dict[str, str] = field(default_factory=dict)
    workdir: Path | None = None

    def inside(self, path: str) -> Path:
        return self.root / path.lstrip("/")

    def run(self, dockerfile: Path) -> None:
        stages = 0
        for instruction in DockerfileParser(str(dockerfile)).structure:
            kind, value = instruction["instruction"], instruction["value"]
            if kind == "FROM":
                stages += 1
                if stages > 1:  # the runtime stage only copies the built environment
                    return
            elif kind == "ENV":
                for pair in shlex.split(value):
                    name, _, setting = pair.partition("=")
                    self.env[name] = setting
            elif kind == "WORKDIR":
                self.workdir = self.inside(value)
                self.workdir.mkdir(parents=True, exist_ok=True)
            elif kind == "COPY" and not value.startswith("--from="):
                self._copy(*shlex.split(value))
            elif kind == "RUN":
                self._run(value)

    def _copy(self, *paths: str) -> None:
        assert self.workdir is not None, "COPY before WORKDIR"
        *sources, target = paths
        for source in sources:
            origin = WORKSPACE / source
            destination = self.workdir / target
            if origin.is_dir():
                shutil.copytree(origin, destination, ignore=IGNORED, dirs_exist_ok=True)
            else:
                destination.mkdir(parents=True, exist_ok=True)
                shutil.copy2(origin, destination / origin.name)

    def _run(self, command: str) -> None:
        arguments = shlex.split(command)
        assert arguments[0] == "uv", f"only uv commands are replayed, not {command!r}"
        env = {**os.environ, **self.env}
        env["UV_PROJECT_ENVIRONMENT"] = str(self.inside(self.env["UV_PROJECT_ENVIRONMENT"]))
        env.pop("VIRTUAL_ENV", None)
        uv = shutil.which("uv")
        assert uv, "uv is not on PATH (scripts/bootstrap installs it)"
        result = subprocess.run(
            [uv, *arguments[1:]], cwd=self.workdir, env=env, capture_output=True, text=True
        )
        assert result.returncode == 0, f"{command} failed:\n{result.stderr}"

    def environment(self) -> Path:
        return self.inside(self.env["UV_PROJECT_ENVIRONMENT"])


def python_in(
    environment: Path, code: str, cwd: Path, **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(environment / "bin" / "python"), "-c", code],
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
    )


def has_module(environment: Path, name: str, cwd: Path) -> bool:
    code = f"import importlib.util, sys; sys.exit(importlib.util.find_spec({name!r}) is None)"
    return python_in(environment, code, cwd).returncode == 0


def test_the_ledger_image_holds_the_ledger_without_its_sources_and_no_prefect(
    tmp_path: Path,
) -> None:
    replay = Replay(tmp_path / "image")
    replay.run(WORKSPACE / "docker" / "ledger.Dockerfile")
    environment = replay.environment()
    # The runtime stage copies the environment only: without the sources it must work.
    assert replay.workdir is not None
    shutil.rmtree(replay.workdir)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    migrated = subprocess.run(
        [str(environment / "bin" / "ledger"), "migrate"],
        cwd=elsewhere,
        env={
            **os.environ,
            "LEDGER_DATABASE_URL": f"sqlite:///{elsewhere / 'ledger.sqlite3'}",
            "LEDGER_ADMIN_TOKEN": "image-check-admin-token-0123456789abcdef",
        },
        capture_output=True,
        text=True,
    )
    assert migrated.returncode == 0, migrated.stderr
    assert (elsewhere / "ledger.sqlite3").stat().st_size > 0
    assert has_module(environment, "api.main", elsewhere)
    assert has_module(environment, "contract", elsewhere)
    # The store-ID page's templates and stylesheet are installed with the package.
    templates = python_in(
        environment,
        "from api.store_id_links import pages\n"
        "for name in pages.environment.list_templates(): pages.environment.get_template(name)\n"
        "print(sorted(pages.environment.list_templates()))",
        elsewhere,
    )
    assert templates.returncode == 0, templates.stderr
    assert "store_ids_form.html.j2" in templates.stdout
    for absent in ("prefect", "flows", "harness", "pytest"):
        assert not has_module(environment, absent, elsewhere), f"{absent} is in the ledger image"
    version = python_in(environment, "import fastapi; print(fastapi.__version__)", elsewhere)
    assert tuple(int(part) for part in version.stdout.split(".")[:2]) >= (0, 122)


def test_the_worker_image_holds_the_flows_and_prefect_but_not_the_ledger(tmp_path: Path) -> None:
    replay = Replay(tmp_path / "image")
    replay.run(WORKSPACE / "docker" / "worker.Dockerfile")
    environment = replay.environment()
    app = replay.workdir
    assert app is not None
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    # prefect.yaml's entrypoints resolve from /app, where the worker starts.
    loaded = python_in(
        environment,
        "from prefect.flows import load_flow_from_entrypoint as load;"
        "print(load('flows/onboarding.py:polaris_onboarding', use_placeholder_flow=False).name)",
        app,
    )
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == "polaris-onboarding"
    helped = subprocess.run(
        [str(environment / "bin" / "onboarding"), "--help"],
        cwd=elsewhere,
        capture_output=True,
        text=True,
    )
    assert helped.returncode == 0, helped.stderr
    assert has_module(environment, "contract", elsewhere)
    for absent in ("api", "argon2", "harness", "pytest"):
        assert not has_module(environment, absent, elsewhere), f"{absent} is in the worker image"
