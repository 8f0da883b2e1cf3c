"""Refresh third_party/googleapis from the installed googleapis-common-protos package (`make vendor-protos`).

buf's registry is out of reach here, so the few googleapis files our protos and Envoy need are vendored.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import google.api
import google.rpc

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "third_party" / "googleapis" / "google"
FILES = {
    google.api: ["annotations.proto", "http.proto", "httpbody.proto", "field_behavior.proto"],
    google.rpc: ["status.proto", "error_details.proto", "code.proto"],
}


def main() -> None:
    for package, names in FILES.items():
        source = Path(package.__path__[0])
        target = TARGET / source.name
        target.mkdir(parents=True, exist_ok=True)
        for name in names:
            shutil.copy2(source / name, target / name)
            print(f"vendored google/{source.name}/{name}")


if __name__ == "__main__":
    main()
