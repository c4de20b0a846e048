"""Make the README's screenshots with Debian's chromium (tools/chromium.py): docs/app.png (the app after training on
toy_xor), docs/report.png (the top of a report) and every tab at 1366x768 and 1920x1080 (docs/<tab>-1366.png, ...).

    .venv/bin/python tools/screenshots.py               # writes all of them
    .venv/bin/python tools/screenshots.py --only tabs   # the tabs only (about 2 minutes on 2 cores)

The app is served in this process; each PNG is reduced to 256 colours to stay under 400 kB.
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PIL import Image  # noqa: E402  (pillow comes with bokeh)

from tools.chromium import CHROMIUM, CHROMIUM_ARGS, AppPage, block_outside, free_port  # noqa: E402

PRESET = dict(dataset="toy_xor", hidden="8,8", activation="tanh", lr=0.01, epochs=300)
QUERY = "?" + "&".join(f"{key}={value}" for key, value in PRESET.items())
MAX_BYTES = 400_000
SIZES = [(1366, 768), (1920, 1080)]


def save_png(png: bytes, path: Path) -> int:
    """Save a screenshot with at most 256 colours; returns its size in bytes."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    image.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(path, optimize=True)
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise SystemExit(f"{path} is {size / 1e3:.0f} kB, more than {MAX_BYTES / 1e3:.0f} kB")
    return size


def app_screenshot(browser, path: Path) -> int:
    from dashboard.ui.server import start

    port = free_port()
    server = start(port=port)
    try:
        context = browser.new_context(viewport={"width": 1400, "height": 860}, device_scale_factor=1)
        outside: list[str] = []
        block_outside(context, outside)
        app = AppPage(context.new_page(), f"http://localhost:{port}")
        for attempt in range(100):  # the server thread starts listening on its own time
            try:
                app.open(QUERY)
                break
            except Exception:
                if attempt == 99:
                    raise
                time.sleep(0.3)
        app.click("Train")
        app.wait_for_state("finished", timeout=300)
        app.page.mouse.move(1395, 855)  # away from the buttons: no tooltip in the picture
        app.page.wait_for_timeout(1500)  # the last map and curves drawn
        size = save_png(app.page.screenshot(), path)
        if outside:
            print(f"warning: the app asked for {outside}", file=sys.stderr)
        context.close()
        return size
    finally:
        server.stop()
        server.join(timeout=20)


def open_app(server_url: str, context, query: str) -> AppPage:
    app = AppPage(context.new_page(), server_url)
    for attempt in range(100):  # the server thread starts listening on its own time
        try:
            return app.open(query)
        except Exception:
            if attempt == 99:
                raise
            time.sleep(0.3)


def tab_shot(page, path: Path, width: int, height: int) -> tuple[Path, int]:
    page.mouse.move(width - 5, height - 5)  # away from the buttons: no tooltip in the picture
    page.locator(".nnp-busy").wait_for(state="hidden", timeout=120_000)  # the server has caught up
    page.wait_for_timeout(1500)  # the last maps and curves drawn
    return path, save_png(page.screenshot(), path)


def tab_screenshots(browser, out: Path, sizes=SIZES) -> list[tuple[Path, int]]:
    """Every tab after training the preset (Compare after a second run with 4 neurons, Sweep after a small sweep),
    at each window size."""
    from dashboard.ui.server import start

    port = free_port()
    server = start(port=port)
    written = []
    try:
        for width, height in sizes:
            context = browser.new_context(viewport={"width": width, "height": height}, device_scale_factor=1)
            outside: list[str] = []
            block_outside(context, outside)
            app = open_app(f"http://localhost:{port}", context, QUERY)
            page = app.page

            def shot(name: str, page=page, width=width, height=height) -> None:
                written.append(tab_shot(page, out / f"{name}-{width}.png", width, height))

            app.click("Train")
            app.wait_for_run_end(1, timeout=300)
            shot("app")
            app.tab("Evaluation")
            app.wait_for_title("^Training set: ")
            shot("evaluation")
            app.tab("Data")
            app.wait_for_title("^Drawing: ")
            shot("data")
            app.tab("Network")
            app.wait_for_title("^Layer 1, neuron 1: activation$")
            shot("network")
            app.fill("Hidden layers", "4")
            app.tab("Training")
            app.click("Train")
            app.wait_for_run_end(2, timeout=300)
            app.tab("Compare")
            app.wait_for_title("^Run 2")
            shot("compare")
            app.tab("Sweep")
            page.get_by_label("Values", exact=True).wait_for(timeout=60_000)
            app.fill("Values", "0.003 0.01 0.03")
            app.fill("and values", "4 8 8,8")
            app.fill("Seeds", 2)
            app.fill("Epochs per model", 300)
            app.click("Run sweep")
            page.get_by_text("18 of 18 models finished").wait_for(timeout=300_000)
            shot("sweep")
            if outside:
                print(f"warning: the app asked for {outside}", file=sys.stderr)
            context.close()
    finally:
        server.stop()
        server.join(timeout=20)
    return written


def report_screenshot(browser, path: Path) -> int:
    """The top of a report on the preset's network, opened from file:// with every other request blocked."""
    from dashboard.report import collect_snapshots, write_report
    from engine import Settings, Trainer

    settings = Settings(dataset="toy_xor", hidden=(8, 8), activation="tanh", lr=0.01, epochs=300)
    trainer = Trainer(settings)
    recorder = collect_snapshots(trainer)
    trainer.train(callback=recorder, every=recorder.every)
    with tempfile.TemporaryDirectory() as folder:
        report = write_report(trainer, Path(folder) / "report.html", recorder.finish())
        context = browser.new_context(viewport={"width": 1280, "height": 1000}, device_scale_factor=1)
        outside: list[str] = []
        context.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:")
                      else (outside.append(route.request.url), route.abort()))
        page = context.new_page()
        page.goto(report.as_uri())
        page.wait_for_function("() => window.Bokeh !== undefined && Bokeh.documents.length > 0 && "
                               "Bokeh.documents[0].get_model_by_name('nnp-snapshot-image') !== null", timeout=120_000)
        page.wait_for_timeout(2500)  # every plot drawn
        handle = page.locator(".noUi-handle").first  # the snapshot slider: back to a third of the training
        handle.focus()
        for _ in range(10):
            handle.press("ArrowLeft")
        page.wait_for_timeout(1000)
        # The title and summary, then the curves, the decision map and the slider through training.
        def top(name: str) -> int:
            heading = page.get_by_role("heading", name=name, exact=True)
            return round(heading.evaluate("e => e.getBoundingClientRect().top + window.scrollY"))

        image = Image.open(io.BytesIO(page.screenshot(full_page=True)))
        parts = [image.crop((0, 0, image.width, top("Settings") - 10)),
                 image.crop((0, top("Loss and accuracy") - 10, image.width, top("Evaluation") - 10))]
        stitched = Image.new("RGB", (image.width, sum(part.height for part in parts)), "white")
        stitched.paste(parts[0], (0, 0))
        stitched.paste(parts[1], (0, parts[0].height))
        buffer = io.BytesIO()
        stitched.save(buffer, format="PNG")
        size = save_png(buffer.getvalue(), path)
        context.close()
    if outside:
        raise SystemExit(f"the report asked for {outside}")
    return size


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs", help="folder for app.png and report.png")
    parser.add_argument("--only", choices=("app", "report", "tabs"), help="make these screenshots only")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for name, make in (("app", app_screenshot), ("report", report_screenshot)):
                if args.only in (None, name):
                    size = make(browser, args.out / f"{name}.png")
                    print(f"wrote {args.out / f'{name}.png'} ({size / 1e3:.0f} kB)")
            if args.only in (None, "tabs"):
                for path, size in tab_screenshots(browser, args.out):
                    print(f"wrote {path} ({size / 1e3:.0f} kB)")
        finally:
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
