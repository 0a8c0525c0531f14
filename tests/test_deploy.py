"""deploy/: the compose file, its env file and the Dockerfile agree with the code they deploy.

Docker is not run here (nor in CI): these checks read the files and ask the real CLI and the real
Settings whether what the files say would be accepted.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import yaml
from packaging.requirements import Requirement
from pydantic import ValidationError

from qa.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
QA = str(ROOT / ".venv" / "bin" / "qa")
REPLICAS = ("wenyuan-1", "wenyuan-2")
WENYUAN_SERVICES = ("indexer", *REPLICAS)
VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def dotenv() -> dict[str, str]:
    values = {}
    for line in (DEPLOY / ".env.example").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's ${NAME}, ${NAME:-default} and ${NAME:?error}; a required empty value gets a stand-in."""

    def one(match: re.Match[str]) -> str:
        name, op, arg = match.group(1), match.group(2), match.group(3) or ""
        value = env.get(name, "")
        if value:
            return value
        if op and op.endswith("-"):
            return arg
        if op and op.endswith("?"):
            return f"stand-in-{name.lower()}"
        return ""

    return VARIABLE.sub(one, text)


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: str(v) for k, v in env.items()}


def qa_commands(command: Any) -> list[list[str]]:
    """Every `qa ...` invocation in a command (exec form, or a shell string joined by ; && ||)."""
    words = command if isinstance(command, list) else shlex.split(command)
    if words[:2] in (["sh", "-c"], ["/bin/sh", "-c"]):
        words = shlex.split(words[2])
    found, current = [], None
    for word in words:
        if word in (";", "&&", "||"):
            current = None
        elif word == "qa" and current is None:
            current = []
            found.append(current)
        elif current is not None:
            current.append(word)
    return found


def option(args: list[str], name: str) -> str | None:
    for i, word in enumerate(args):
        if word == name and i + 1 < len(args):
            return args[i + 1]
        if word.startswith(name + "="):
            return word.split("=", 1)[1]
    return None


def store_of(service: dict[str, Any]) -> tuple[str | None, str | None]:
    """The store and Milvus URI a service's `qa` command uses: its flags, else its environment."""
    (args,) = qa_commands(service["command"])
    env = environment(service)
    return (
        option(args, "--store") or env.get("WENYUAN_STORE"),
        option(args, "--milvus-uri") or env.get("WENYUAN_MILVUS_URI"),
    )


def dockerfile_lines() -> list[str]:
    """Instructions with their continuation lines joined."""
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def test_milvus_is_the_published_v25_standalone(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert re.fullmatch(r"milvusdb/milvus:v2\.5\.\d+", services["standalone"]["image"])
    assert services["standalone"]["command"] == ["milvus", "run", "standalone"]
    assert services["etcd"]["image"].startswith("quay.io/coreos/etcd:")
    assert services["minio"]["image"].startswith("minio/minio:")
    env = environment(services["standalone"])
    assert env["ETCD_ENDPOINTS"] == "etcd:2379" and env["MINIO_ADDRESS"] == "minio:9000"
    for name in ("etcd", "minio", "standalone"):
        assert services[name]["healthcheck"]["test"], name
        assert services[name]["volumes"], name
    assert set(services["standalone"]["depends_on"]) == {"etcd", "minio"}


def test_indexer_runs_once_milvus_is_healthy_and_replicas_after_it(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["indexer"]["depends_on"]["standalone"]["condition"] == "service_healthy"
    (index_args,) = qa_commands(services["indexer"]["command"])
    assert index_args[0] == "index"
    ports = set()
    for name in REPLICAS:
        replica = services[name]
        assert replica["depends_on"]["indexer"]["condition"] == "service_completed_successfully"
        (args,) = qa_commands(replica["command"])
        assert args[0] == "serve" and option(args, "--host") == "0.0.0.0", name
        (published,) = replica["ports"]
        host_port, container_port = published.rsplit(":", 2)[-2:]
        assert container_port == (option(args, "--port") or "8000"), name
        ports.add(host_port)
        assert "/api/health" in " ".join(replica["healthcheck"]["test"]), name
    assert len(ports) == len(REPLICAS), "each replica needs its own host port"


def test_every_wenyuan_service_shares_one_milvus_collection_and_token(compose: dict[str, Any]) -> None:
    services = compose["services"]
    seen = set()
    for name in WENYUAN_SERVICES:
        service = services[name]
        store, uri = store_of(service)
        assert store == "milvus", name
        parsed = urlparse(uri or "")
        assert parsed.scheme == "http" and parsed.hostname in services and parsed.port == 19530, (name, uri)
        env = environment(service)
        seen.add((uri, env.get("WENYUAN_MILVUS_COLLECTION"), env.get("WENYUAN_MILVUS_TOKEN")))
    assert len(seen) == 1, seen
    tokens = {environment(services[name]).get("WENYUAN_API_TOKEN") for name in REPLICAS}
    assert len(tokens) == 1 and None not in tokens and "${WENYUAN_API_TOKEN" in tokens.pop()


def test_writers_share_the_corpus_folder_and_the_index_lock(compose: dict[str, Any]) -> None:
    """Uploads write into the folder the indexer indexed and lock <index-dir>/.lock: both must be one shared volume."""
    services = compose["services"]
    (index_args,) = qa_commands(services["indexer"]["command"])
    corpus = Path(index_args[1])
    mounts = set()
    for name in WENYUAN_SERVICES:
        (volume,) = services[name]["volumes"]
        source, target = volume.split(":")[:2]
        assert source in compose["volumes"], f"{name} must mount a named volume, not a folder of its own"
        mounts.add((source, target))
        index_dir = Path(environment(services[name])["WENYUAN_INDEX_DIR"])
        assert index_dir.is_relative_to(target) and corpus.is_relative_to(target), name
    assert len(mounts) == 1, mounts
    assert any(line.startswith("RUN ") and f"cp -r seeds {corpus}" in line for line in dockerfile_lines())


def test_replicas_answer_to_each_others_service_names(
    compose: dict[str, Any], dotenv: dict[str, str]
) -> None:
    for name in REPLICAS:
        value = interpolate(environment(compose["services"][name])["WENYUAN_ALLOWED_HOSTS"], dotenv)
        names = {h.strip().lower() for h in value.split(",") if h.strip()}
        assert set(REPLICAS) <= names, (name, value)


def test_every_wenyuan_variable_is_a_setting_and_valid(
    compose: dict[str, Any], dotenv: dict[str, str]
) -> None:
    prefix = Settings.model_config["env_prefix"]
    assert prefix == "WENYUAN_"
    raw = (DEPLOY / "compose.yaml").read_text(encoding="utf-8")
    used = {m.group(1) for m in VARIABLE.finditer(raw)} | set(dotenv)
    for name in WENYUAN_SERVICES:
        used |= set(environment(compose["services"][name]))
    wenyuan = {v for v in used if v.startswith(prefix)}
    assert {"WENYUAN_API_TOKEN", "WENYUAN_MILVUS_COLLECTION", "WENYUAN_INDEX_DIR"} <= wenyuan
    unknown = sorted(v for v in wenyuan if v[len(prefix) :].lower() not in Settings.model_fields)
    assert not unknown, f"not settings of qa/settings.py: {unknown}"
    for name in WENYUAN_SERVICES:
        values = {k: interpolate(v, dotenv) for k, v in environment(compose["services"][name]).items()}
        fields = {k[len(prefix) :].lower(): v for k, v in values.items() if k.startswith(prefix)}
        try:
            Settings(**fields)
        except ValidationError as exc:
            pytest.fail(f"{name}: {exc}")


def test_every_qa_command_and_flag_is_accepted_by_the_cli(compose: dict[str, Any]) -> None:
    commands = [
        args for name in WENYUAN_SERVICES for args in qa_commands(compose["services"][name]["command"])
    ]
    cmd_line = next(line for line in dockerfile_lines() if line.startswith("CMD "))
    commands += qa_commands(json.loads(cmd_line[len("CMD ") :]))
    assert {args[0] for args in commands} == {"index", "serve"}
    helps: dict[str, str] = {}
    for args in commands:
        sub = args[0]
        if sub not in helps:
            done = subprocess.run([QA, sub, "--help"], capture_output=True, text=True, timeout=120)
            assert done.returncode == 0, done.stderr
            helps[sub] = done.stdout
        for word in args[1:]:
            if word.startswith("--"):
                assert re.search(rf"(?<![\w-]){re.escape(word.split('=')[0])}(?![\w-])", helps[sub]), (
                    sub,
                    word,
                )


def test_dockerfile_installs_like_setup_sh() -> None:
    setup = (ROOT / "scripts" / "setup.sh").read_text(encoding="utf-8")
    (torch_pin,) = set(re.findall(r"torch==([\w.]+)", setup))
    setup_extras = set(re.search(r'-e "\.\[([\w,]+)\]"', setup).group(1).split(","))
    lines = dockerfile_lines()
    torch_at = next(i for i, line in enumerate(lines) if line.startswith("RUN ") and "torch==" in line)
    assert re.search(r"torch==([\w.]+)", lines[torch_at]).group(1) == torch_pin
    package_at, extras = next(
        (i, set(m.group(1).split(",")))
        for i, line in enumerate(lines)
        if line.startswith("RUN ") and (m := re.search(r'pip install (?:-e )?"\.\[([\w,]+)\]"', line))
    )
    assert torch_at < package_at, "torch must be installed (pinned) before the package"
    assert "milvus" in extras and extras <= setup_extras and "test" not in extras
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    (torch_req,) = [
        Requirement(r) for r in re.findall(r'"(torch[^"]*)"', pyproject) if Requirement(r).name == "torch"
    ]
    assert torch_req.specifier.contains(torch_pin)
    user = [line.split()[1] for line in lines if line.startswith("USER ")]
    cmd_at = next(i for i, line in enumerate(lines) if line.startswith("CMD "))
    assert user and user[-1] not in ("root", "0") and lines.index(f"USER {user[-1]}") < cmd_at


def test_dockerfile_copies_what_exists_and_is_not_ignored() -> None:
    ignored = {
        line.strip().rstrip("/")
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    copies = [line.split()[1:] for line in dockerfile_lines() if line.startswith("COPY ")]
    sources = [word for words in copies if not words[0].startswith("--from=") for word in words[:-1]]
    assert {"seeds/", "web/", "qa/", "embeddings/", "pyproject.toml"} <= set(sources)
    # pdf.js comes from a build stage running the same script as setup.sh, not from a developer's vendor/ folder.
    assert ["--from=pdfjs", "/src/vendor/pdfjs-dist", "vendor/pdfjs-dist"] in copies and "vendor" in ignored
    assert "RUN bash scripts/fetch_pdfjs.sh" in dockerfile_lines() and "bash scripts/fetch_pdfjs.sh" in (
        ROOT / "scripts" / "setup.sh"
    ).read_text(encoding="utf-8")
    for source in sources:
        assert (ROOT / source).exists(), source
        assert source.rstrip("/") not in ignored, source
    assert {".venv", "test-output", ".wenyuan"} <= ignored


def test_the_embedding_server_is_optional_and_where_the_wenyuan_services_look(
    compose: dict[str, Any], dotenv: dict[str, str]
) -> None:
    """Off unless its profile is asked for; when on, the default URL and model name are the service's own."""
    service = compose["services"]["embeddings"]
    assert service["profiles"] == ["embedding-server"]
    assert re.fullmatch(r"ghcr\.io/huggingface/text-embeddings-inference:[\w.-]+", service["image"])
    args = service["command"]
    for name in WENYUAN_SERVICES:
        env = {k: interpolate(v, dotenv) for k, v in environment(compose["services"][name]).items()}
        url = urlparse(env["WENYUAN_EMBED_URL"])
        assert url.hostname == "embeddings" and (url.port or 80) == int(option(args, "--port") or 80)
        assert url.path == "/v1"
        assert interpolate(option(args, "--model-id") or "", dotenv) == env["WENYUAN_EMBED_MODEL"]
        assert env["WENYUAN_EMBEDDER"] == "local"  # the bundled model unless deploy/.env says openai
    for source in (s.split(":")[0] for s in service.get("volumes", [])):
        assert source in compose["volumes"], "the downloaded weights live in a named volume"
