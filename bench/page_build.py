"""Server time to build one session's page: `python bench/page_build.py [--pages 8]`.

`create_app()` plus the template's Bokeh models for a document, as `panel serve` does per session: the first build
(imports, warm-up) apart, then the median of `--pages` builds split into its parts (docs/performance.md).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository's packages


def build_page() -> float:
    from bokeh.document import Document

    from dashboard.ui.factory import create_app

    start = time.perf_counter()
    doc = Document()
    create_app().server_doc(doc)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python bench/page_build.py", description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=8)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    import dashboard.ui.factory  # noqa: F401  (the imports, as a server process pays them once)

    imports = time.perf_counter() - start
    first = build_page()
    times = [build_page() for _ in range(args.pages)]
    print(f"imports {imports:.2f} s; first page {first:.2f} s (process warm-up included)")
    print(f"page build: median {1000 * statistics.median(times):.0f} ms, min {1000 * min(times):.0f} ms, "
          f"max {1000 * max(times):.0f} ms over {args.pages} pages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
