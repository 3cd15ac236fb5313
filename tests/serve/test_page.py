"""End to end: the explorer page in headless Chromium (Playwright) against a live server.

Needs the ``playwright`` package and a Chromium binary (Debian's ``/usr/bin/chromium``;
Playwright's own browser downloads are not used). When either is missing the test is skipped,
except in CI (``CI=true``), where it fails.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from PIL import Image

from tests.serve.conftest import MAP_METHOD, in_ci, png_bytes

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        path, reason = None, "the playwright package is not installed (pip install playwright)"
    else:
        reason = "no chromium binary found (apt-get install chromium)"
    if path is None:
        if in_ci():
            pytest.fail(reason)
        pytest.skip(reason)
    return path


@pytest.fixture(scope="module")
def page(server):
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(server.url)
        page.wait_for_selector("body[data-ready=true]", timeout=20_000)
        page.errors = errors
        yield page
        browser.close()


def wait_for_new_src(page, selector: str, before: str | None) -> str:
    page.wait_for_function(
        "([sel, before]) => { const img = document.querySelector(sel);"
        " return img && img.src.startsWith('data:image/png') && img.src !== before; }",
        arg=[selector, before],
        timeout=10_000,
    )
    return page.get_attribute(selector, "src")


def test_page_loads_with_sliders_and_map(page):
    assert page.locator("#sliders input[type=range]").count() == 3
    assert MAP_METHOD in page.inner_text("#projection")
    assert page.locator("#legend span").count() == 10
    assert page.errors == []


def test_slider_changes_the_decoded_image(page):
    before = wait_for_new_src(page, "#slider-img", None)
    page.focus("#slider-0")
    page.keyboard.press("End")  # move the first slider to its maximum
    after = wait_for_new_src(page, "#slider-img", before)
    assert after != before
    assert float(page.inner_text("#slider-value-0")) > 0


def test_map_clicks_decode_and_interpolate(page):
    assert page.is_hidden("#map-img")
    page.click("#map", position={"x": 200, "y": 200})
    first = wait_for_new_src(page, "#map-img", None)
    assert page.is_visible("#map-img")
    page.click("#map", position={"x": 60, "y": 330})
    wait_for_new_src(page, "#map-img", first)
    page.wait_for_function("document.querySelectorAll('#strip img').length === 8")


def test_sample_button(page):
    page.click("#sample-btn")
    page.wait_for_function("document.querySelectorAll('#samples img').length === 8")
    assert "seed" in page.inner_text("#sample-note")


def test_upload_shows_reconstruction_and_code(page, tmp_path):
    image = tmp_path / "digit.png"
    image.write_bytes(png_bytes(size=(32, 32), color=30))
    page.set_input_files("#upload", str(image))
    wait_for_new_src(page, "#recon", None)
    page.wait_for_selector("#code:not([hidden])")
    assert page.inner_text("#code").startswith("code = [")
    assert page.inner_text("#status") == ""


def test_attribute_slider_edits_the_slider_code(page):
    assert page.locator("#attribute option").count() == 10  # one per digit class
    page.wait_for_function("document.querySelectorAll('#attribute-strip img').length === 5")
    before = page.get_attribute("#attribute-img", "src")
    page.focus("#strength")
    page.keyboard.press("End")  # strength +3
    after = wait_for_new_src(page, "#attribute-img", before)
    assert after != before and page.inner_text("#strength-value") == "+3.0"
    slider = page.inner_text("#slider-value-0")
    page.click("#attribute-apply")  # the edited code becomes the slider code
    page.wait_for_function(
        "(v) => document.getElementById('slider-value-0').textContent !== v", arg=slider
    )
    assert page.inner_text("#status") == ""


def test_screenshot_is_not_blank(page, tmp_path):
    path = tmp_path / "explorer.png"
    page.screenshot(path=str(path), full_page=True)
    shot = Image.open(path)
    assert shot.format == "PNG" and shot.width >= 1000
    pixels = np.asarray(shot.convert("L"), dtype=np.float64)
    assert pixels.std() > 10  # not one flat colour
    assert page.errors == []
