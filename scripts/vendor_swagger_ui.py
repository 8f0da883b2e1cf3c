"""Refresh gateway/swagger-ui from the installed swagger-ui-py package (`make vendor-swagger-ui`).

The gateway serves /docs itself with no CDN (the machine running it may be offline), so the few Swagger UI
files it needs live in the repository, next to the Envoy config that serves them.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import swagger_ui

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "gateway" / "swagger-ui"
FILES = ["swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png", "LICENSE"]


def main() -> None:
    source = Path(swagger_ui.__file__).parent / "static"
    TARGET.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        shutil.copy2(source / name, TARGET / name)
        print(f"vendored gateway/swagger-ui/{name}")


if __name__ == "__main__":
    main()
