"""The explorer page of a molecule model in headless Chromium: decoded SMILES under RDKit
drawings for the sliders, samples and a typed string (skipped like tests/serve/test_page.py
without Playwright and Chromium, or here without RDKit)."""

from __future__ import annotations

import pytest

from latentkit.serve import create_app
from latentkit.serve.server import BackgroundServer
from tests.serve.test_page import CHROMIUM_ARGS, chromium_path
from tests.viz.test_sequence_report import MOLECULES, trained


@pytest.fixture(scope="module")
def page():
    pytest.importorskip("rdkit")
    executable = chromium_path()
    from playwright.sync_api import sync_playwright

    model, data = trained(MOLECULES, "smiles")
    with BackgroundServer(create_app(model, data, max_points=4)) as server, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(server.url)
        page.wait_for_selector("body[data-ready=true]", timeout=20_000)
        page.errors = errors
        yield page
        browser.close()


def test_sliders_show_the_decoded_molecule(page):
    page.wait_for_selector("#slider-img-text:not([hidden])", timeout=10_000)
    assert page.inner_text("#slider-img-text").strip()
    assert page.is_hidden("#upload-card") and page.is_visible("#string-card")
    assert page.errors == []


def test_samples_are_drawn_with_their_strings(page):
    page.fill("#seed", "0")
    page.click("#sample-btn")
    page.wait_for_function("document.querySelectorAll('#samples figure').length === 8")
    captions = page.locator("#samples figcaption").all_inner_texts()
    assert len(captions) == 8 and all(text.strip() for text in captions)
    drawn = page.locator("#samples img").count()  # valid molecules only
    assert (
        drawn
        == sum(1 for t in captions if t.strip() != "(empty)")
        - page.locator("#samples figcaption[title]").count()
    )


def test_a_typed_string_is_encoded_and_reconstructed(page):
    page.fill("#string", "CCN(CC)CC")
    page.click("#string-btn")
    page.wait_for_selector("#string-recon-text:not([hidden])", timeout=10_000)
    assert page.inner_text("#string-input-text") == "CCN(CC)CC"
    assert page.inner_text("#string-recon-text").startswith("CCN(CC)CC")
    assert page.get_attribute("#string-recon", "src").startswith("data:image/png")
    page.fill("#string", "CCS")  # S is no token of this model
    page.click("#string-btn")
    page.wait_for_function("document.getElementById('status').textContent.includes('S')")
    assert "unknown token 'S'" in page.inner_text("#status")
    assert page.errors == []
