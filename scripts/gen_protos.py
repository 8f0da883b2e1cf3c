"""Regenerate from protos/ (`make protos`): the Python stubs, Envoy's descriptor set, and from the routes' http rules
and (cigar.rest.v1.route) options both the OpenAPI document and rest_compat.lua's route table.

With --check, generate into a temporary directory and exit 1 if the committed files differ.
"""

from __future__ import annotations

import argparse
import filecmp
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import grpc_tools
from google.protobuf import descriptor_pb2
from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
PROTO_ROOT = ROOT / "protos"
VENDOR_ROOT = ROOT / "third_party" / "googleapis"
PY_OUT = ROOT / "protos" / "python"
PY_PACKAGE = "cigar"
DESCRIPTOR = ROOT / "gateway" / "generated" / "api_descriptor.binpb"
OPENAPI = ROOT / "gateway" / "generated" / "openapi.json"
REST_ROUTES = ROOT / "gateway" / "generated" / "rest_routes.lua"
BUF = Path(sys.executable).parent / "buf"
# mypy-protobuf's plugin (pinned in the dev extra): .pyi for the *_pb2_grpc modules, typed for both grpc and
# grpc.aio (a stub built on a grpc.aio channel is typed as its async variant; servicers may be async).
MYPY_GRPC = Path(sys.executable).parent / "protoc-gen-mypy_grpc"


def proto_files() -> list[str]:
    return sorted(str(p.relative_to(PROTO_ROOT)) for p in (PROTO_ROOT / PY_PACKAGE).rglob("*.proto"))


def generate_python(out: Path) -> None:
    """protoc with the python, pyi, grpc and mypy_grpc plugins; only our own packages (googleapis ships its own)."""
    well_known = Path(grpc_tools.__file__).parent / "_proto"
    args = [
        "protoc",
        f"-I{PROTO_ROOT}",
        f"-I{VENDOR_ROOT}",
        f"-I{well_known}",
        f"--python_out={out}",
        f"--pyi_out={out}",
        f"--grpc_python_out={out}",
        f"--plugin=protoc-gen-mypy_grpc={MYPY_GRPC}",
        f"--mypy_grpc_out=quiet:{out}",
        *proto_files(),
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")
    for stub in (out / PY_PACKAGE).rglob("*_pb2.pyi"):
        # protoc's pyi generator annotates a file-level extension's number `_ClassVar[int]` at module level,
        # which type checkers refuse (protocolbuffers/protobuf#13700, open): rest_pb2's ROUTE_FIELD_NUMBER.
        text = stub.read_text()
        fixed = re.sub(r"^(\w+_FIELD_NUMBER): _ClassVar\[int\]$", r"\1: int", text, flags=re.MULTILINE)
        if fixed != text:
            stub.write_text(fixed)
    for package_dir in [out / PY_PACKAGE, *(p for p in (out / PY_PACKAGE).rglob("*") if p.is_dir())]:
        (package_dir / "__init__.py").touch()
    (out / PY_PACKAGE / "py.typed").touch()


def build_descriptor(out_file: Path) -> None:
    """The descriptor set Envoy's transcoder loads: our services, their imports and google.rpc."""
    out_file.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([str(BUF), "build", "--exclude-source-info", "-o", str(out_file)], cwd=ROOT, check=True)


def build_rest(openapi_file: Path, routes_file: Path) -> None:
    """The OpenAPI document and rest_compat.lua's route table, from one descriptor set that keeps the comments
    (they become descriptions)."""
    sys.path.insert(0, str(ROOT))
    from scripts.openapi_gen import Generator
    from scripts.rest_routes import lua_source

    with tempfile.TemporaryDirectory() as tmp:
        image = Path(tmp) / "with_source_info.binpb"
        subprocess.run([str(BUF), "build", "-o", str(image)], cwd=ROOT, check=True)
        fds = descriptor_pb2.FileDescriptorSet.FromString(image.read_bytes())
    document = Generator(fds).document()
    openapi_file.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    routes_file.write_text(lua_source(fds))


def generated_files(py_root: Path) -> set[Path]:
    return {
        p.relative_to(py_root)
        for p in (py_root / PY_PACKAGE).rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }


def check() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        generate_python(tmp_path)
        build_descriptor(tmp_path / "api_descriptor.binpb")
        build_rest(tmp_path / "openapi.json", tmp_path / "rest_routes.lua")
        stale = []
        want, have = generated_files(tmp_path), generated_files(PY_OUT)
        stale += [f"missing: {p}" for p in sorted(want - have)]
        stale += [f"extra: {p}" for p in sorted(have - want)]
        stale += [
            f"differs: {p}" for p in sorted(want & have) if not filecmp.cmp(tmp_path / p, PY_OUT / p, shallow=False)
        ]
        if not DESCRIPTOR.exists() or not filecmp.cmp(tmp_path / "api_descriptor.binpb", DESCRIPTOR, shallow=False):
            stale.append(f"differs: {DESCRIPTOR.relative_to(ROOT)}")
        for name, committed in (("openapi.json", OPENAPI), ("rest_routes.lua", REST_ROUTES)):
            if not committed.exists() or not filecmp.cmp(tmp_path / name, committed, shallow=False):
                stale.append(f"differs: {committed.relative_to(ROOT)}")
    for line in stale:
        print(line)
    if stale:
        print("generated code is stale: run `make protos`")
    return 1 if stale else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if the committed output is stale")
    if parser.parse_args().check:
        return check()
    shutil.rmtree(PY_OUT / PY_PACKAGE, ignore_errors=True)
    generate_python(PY_OUT)
    build_descriptor(DESCRIPTOR)
    build_rest(OPENAPI, REST_ROUTES)
    count = len(generated_files(PY_OUT))
    outputs = ", ".join(str(p.relative_to(ROOT)) for p in (PY_OUT, DESCRIPTOR, OPENAPI, REST_ROUTES))
    print(f"generated {count} stub files; wrote {outputs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
