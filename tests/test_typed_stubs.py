"""The generated package types its gRPC callers: mypy --strict accepts tests/typed/grpc_callers.py (grpc.aio and
plain stubs, async servicers, grpc_status) and reports exactly the misuses marked in tests/typed/grpc_misuse.py."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TYPED = ROOT / "tests" / "typed"
# protos/python on mypy's path: mypy cannot follow the editable install `make install` makes (setuptools'
# import-hook finder). The generated code is held to --strict too, less two flags its generators do not
# follow: protoc's .pyi write a bare Mapping, and mypy-protobuf's ignore a type-arg error that only strict
# reports (unused otherwise). googleapis-common-protos (google.api, google.rpc) ships no types.
CONFIG = f"""
[mypy]
strict = True
mypy_path = {ROOT / "protos" / "python"}

[mypy-cigar.*]
disallow_any_generics = False
warn_unused_ignores = False

[mypy-google.api.*,google.rpc.*]
ignore_missing_imports = True
"""


def mypy(tmp_path: Path, file: Path) -> tuple[int, str]:
    config = tmp_path / "mypy.ini"
    config.write_text(CONFIG)
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(config), "--cache-dir", str(tmp_path / "cache"),
         "--no-error-summary", "--hide-error-context", str(file.relative_to(ROOT))],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    return result.returncode, result.stdout + result.stderr


def test_mypy_strict_accepts_typed_callers_of_both_services(tmp_path: Path) -> None:
    code, output = mypy(tmp_path, TYPED / "grpc_callers.py")
    assert (code, output) == (0, ""), output


def test_mypy_reports_each_misuse_of_the_stubs(tmp_path: Path) -> None:
    file = TYPED / "grpc_misuse.py"
    expected = {
        (number, code)
        for number, line in enumerate(file.read_text().splitlines(), 1)
        if (m := re.search(r"# mypy: ([\w-]+)$", line))
        for code in [m[1]]
    }
    code, output = mypy(tmp_path, file)
    reported = {
        (int(m[1]), m[2])
        for m in re.finditer(r"^tests/typed/grpc_misuse\.py:(\d+): error: .*\[([\w-]+)\]$", output, re.M)
    }
    assert code == 1
    assert reported == expected, output
    assert all(line.startswith("tests/typed/grpc_misuse.py:") for line in output.splitlines()), output
