"""End to end in a real browser: the pipeline on the embedded broker, `customer-health dashboard`, headless
Debian chromium driven by Playwright. A customer produced to Kafka appears on the live page, then changes
segment, without the page being reloaded and with the search filter kept. Screenshots of every page go to
test-artifacts/."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from customer_health.db import endpoint_path, token_path
from ingest.broker import free_port, port_open
from tests import factories as f
from tests.conftest import REPO, Env, stop_process, wait_until

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed at /usr/bin/chromium "
                                                     "(apt-get install -y chromium; .ci/run does it)"),
]


def _now() -> datetime:
    return datetime.now(UTC)


def _produce(env: Env, events: list[tuple[str, dict]]) -> None:
    producer = env.producer()
    try:
        for event_type, event in events:
            producer.send(env.topics[event_type], key=event["customer_id"].encode(), value=f.encode(event))
        producer.flush(10)
    finally:
        producer.close(5)


def _background(n: int) -> list[tuple[str, dict]]:
    """Quiet, paying customers: the portfolio the newcomer's norms are computed against."""
    at = (_now() - timedelta(minutes=5)).isoformat()
    events: list[tuple[str, dict]] = []
    for i in range(n):
        cid = f"bg-{i}"
        events.append(("customers", f.customer(f"p-{cid}", cid, occurred_at=at, name=f"Background {i}")))
        events.append(("payments", f.payment(f"pay-{cid}", cid, occurred_at=at, amount=40.0 + i)))
        events.append(("visits", f.visit(f"v-{cid}", cid, occurred_at=at)))
        events.append(("tickets", f.ticket(f"t-{cid}", cid, occurred_at=at, handling_minutes=5.0)))
    return events


@pytest.fixture
def dashboard(env: Env) -> Iterator[tuple[str, subprocess.Popen[str], Path]]:
    """The pipeline (ingest, serving over Quack) and `customer-health dashboard` on a free port."""
    with env.config_path.open("a", encoding="utf-8") as fh:
        fh.write("[dashboard]\nrefresh_seconds = 1.0\n")
    env.create_topics()
    pipeline = env.start_pipeline()
    port = free_port()
    log_path = env.tmp / "dashboard.log"
    log = log_path.open("w")
    dash = subprocess.Popen(
        [sys.executable, "-m", "customer_health.cli", "dashboard", "--config", str(env.config_path),
         "--port", str(port)],
        stdout=log, stderr=subprocess.STDOUT, text=True, cwd=REPO,
    )
    try:
        wait_until(lambda: endpoint_path(env.db_path).exists() or pipeline.poll() is not None, 60,
                   message="the pipeline to serve")
        assert pipeline.poll() is None, env.pipeline_log()
        wait_until(lambda: port_open("127.0.0.1", port) or dash.poll() is not None, 60,
                   message="the dashboard to listen")
        assert dash.poll() is None, log_path.read_text()
        yield f"http://127.0.0.1:{port}", pipeline, log_path
    finally:
        stop_process(dash)
        stop_process(pipeline)
        log.close()


def _card(page, customer_id: str):  # noqa: ANN001, ANN202 - playwright types stay out of the signature
    from dashboard.ui import card_key

    return page.locator(f".st-key-{card_key(customer_id)}")


def _screenshot(page, name: str) -> None:  # noqa: ANN001
    """The page once its charts have drawn (the app scrolls inside a tall viewport, not the document).

    Headless chromium without a GPU now and then captures a frame before the app has painted it (an
    empty page of a few kB while the DOM is complete): read the page's text to flush the layout and try
    again until the capture holds the page.
    """
    path = ARTIFACTS / name
    for _ in range(5):
        page.wait_for_timeout(1000)
        page.locator("[data-testid='stMain']").inner_text()
        page.screenshot(path=str(path))
        if path.stat().st_size > 40_000:
            return


def _no_page_errors(page) -> None:  # noqa: ANN001
    assert page.locator("[data-testid='stException']").count() == 0
    assert page.get_by_text("This part of the page failed").count() == 0


def test_a_customer_appears_and_changes_segment_live(env: Env, dashboard) -> None:  # noqa: ANN001
    from playwright.sync_api import expect, sync_playwright

    url, pipeline, dashboard_log = dashboard
    ARTIFACTS.mkdir(exist_ok=True)
    customer_id = f"c-e2e-{uuid.uuid4().hex[:6]}"
    _produce(env, _background(8))

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 2000})
            page.goto(url, wait_until="domcontentloaded")
            expect(page.get_by_role("heading", name="Live health")).to_be_visible(timeout=60_000)
            search = page.get_by_label("Find a customer")
            search.fill(customer_id)
            search.press("Enter")
            expect(page.get_by_text(f"No customer matches “{customer_id}” yet.")).to_be_visible(timeout=30_000)
            page.evaluate("window.__not_reloaded = 'yes'")

            # 1. the customer arrives: a profile, a payment and a visit, on Kafka
            at = _now() - timedelta(seconds=2)
            _produce(env, [
                ("customers", f.customer(f"p-{customer_id}", customer_id, occurred_at=at.isoformat(),
                                         name="Erin Endtoend", kind="b2c", plan="standard")),
                ("payments", f.payment(f"pay-{customer_id}", customer_id, occurred_at=at.isoformat(), amount=50.0)),
                ("visits", f.visit(f"v-{customer_id}", customer_id, occurred_at=at.isoformat())),
            ])
            card = _card(page, customer_id)
            expect(card).to_be_visible(timeout=60_000)
            expect(card).to_contain_text("Erin Endtoend")
            first = card.inner_text()
            assert "unprofitable" not in first, first
            _screenshot(page, "dashboard-live-before.png")

            # 2. two long how-to calls cost more than the customer pays: margin < 0, unprofitable
            later = (_now() - timedelta(seconds=1)).isoformat()  # never ahead of the pipeline's clock
            _produce(env, [
                ("tickets", f.ticket(f"t-{customer_id}-{i}", customer_id, occurred_at=later, handling_minutes=120.0,
                                     category="how_to", channel="phone"))
                for i in range(2)
            ])
            expect(card).to_contain_text("unprofitable", timeout=60_000)
            assert page.evaluate("window.__not_reloaded") == "yes", "the page was reloaded"
            expect(search).to_have_value(customer_id)
            _no_page_errors(page)
            _screenshot(page, "dashboard-live-after.png")
            pages = {"live": page.content()}

            # 3. drill down from the card to the customer page
            card.get_by_role("button", name="Open").click()
            expect(page.get_by_role("heading", name=f"Erin Endtoend · {customer_id}")).to_be_visible(timeout=30_000)
            expect(page.get_by_text("Next step:", exact=False).first).to_be_visible(timeout=30_000)
            _no_page_errors(page)
            _screenshot(page, "dashboard-customer.png")
            pages["customer"] = page.content()

            for name, title, file in (("Portfolio", "Portfolio", "portfolio"),
                                      ("Data quality & pipeline", "Data quality & pipeline", "data-quality")):
                page.get_by_role("link", name=name).click()
                expect(page.get_by_role("heading", name=title)).to_be_visible(timeout=30_000)
                if file == "portfolio":
                    # The what-if panel (the unprofitable tail, Erin among them), then a filter refused.
                    expect(page.get_by_role("heading", name="What if we let them go?")).to_be_visible(timeout=30_000)
                    expect(page.get_by_text("Customers let go")).to_be_visible(timeout=30_000)
                    expect(page.get_by_text("Not ready to exit").first).to_be_visible()
                    margin = page.get_by_role("textbox", name="Margin, 90 d, below")
                    margin.fill("plenty")
                    margin.press("Enter")
                    expect(page.get_by_text("margin below 'plenty' is not a number")).to_be_visible(timeout=30_000)
                    margin.fill("")
                    margin.press("Enter")
                    expect(page.get_by_text("Customers let go")).to_be_visible(timeout=30_000)
                _no_page_errors(page)
                _screenshot(page, f"dashboard-{file}.png")
                pages[file] = page.content()
        finally:
            browser.close()

    token = token_path(env.db_path).read_text(encoding="utf-8").strip()
    assert token
    for name, html in pages.items():
        assert token not in html, f"the Quack token appears in the {name} page"
    time.sleep(0.5)
    assert token not in dashboard_log.read_text(encoding="utf-8"), "the Quack token appears in the dashboard log"
    assert pipeline.poll() is None


LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}


def test_the_dashboard_requests_nothing_beyond_this_machine(tmp_path: Path) -> None:
    """Every page, in a real browser, on a seeded file (no pipeline, no broker): every request, websocket
    included, goes to the dashboard's own loopback address; outside requests are recorded and refused."""
    from urllib.parse import urlsplit

    from playwright.sync_api import expect, sync_playwright

    from tests.integration.test_dashboard_seed import build_seeded_db

    seeded = build_seeded_db(tmp_path)
    port = free_port()
    log_path = tmp_path / "dashboard.log"
    with log_path.open("w") as log:
        dash = subprocess.Popen(
            [sys.executable, "-m", "customer_health.cli", "dashboard", "--config", str(seeded.config_path),
             "--port", str(port)], stdout=log, stderr=subprocess.STDOUT, text=True, cwd=REPO)
        try:
            wait_until(lambda: port_open("127.0.0.1", port) or dash.poll() is not None, 60,
                       message="the dashboard to listen")
            assert dash.poll() is None, log_path.read_text()
            requested: list[str] = []
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
                try:
                    context = browser.new_context(viewport={"width": 1440, "height": 2000})

                    def record(route, request) -> None:  # noqa: ANN001
                        requested.append(request.url)
                        if urlsplit(request.url).hostname in LOOPBACK_HOSTS or request.url.startswith(
                                ("data:", "blob:")):
                            route.continue_()
                        else:
                            route.abort()

                    context.route("**/*", record)
                    page = context.new_page()
                    page.on("websocket", lambda ws: requested.append(ws.url))
                    page.goto(f"http://127.0.0.1:{port}/", wait_until="domcontentloaded")
                    expect(page.get_by_role("heading", name="Live health")).to_be_visible(timeout=60_000)
                    page.wait_for_timeout(3000)
                    for name in ("Portfolio", "Customer", "Data quality & pipeline"):
                        page.get_by_role("link", name=name).click()
                        expect(page.get_by_role("heading", name=name).first).to_be_visible(timeout=30_000)
                        page.wait_for_timeout(3000)
                    page.goto(f"http://127.0.0.1:{port}/customer?customer=c-angry", wait_until="domcontentloaded")
                    expect(page.get_by_text("Andy Angry").first).to_be_visible(timeout=30_000)
                    page.wait_for_timeout(3000)
                    _no_page_errors(page)
                finally:
                    browser.close()
        finally:
            stop_process(dash)
    assert len(requested) > 20 and any(u.startswith("ws://127.0.0.1") for u in requested), requested
    outside = sorted({u for u in requested if urlsplit(u).hostname not in LOOPBACK_HOSTS
                      and not u.startswith(("data:", "blob:"))})
    assert outside == [], f"the dashboard requested outside resources: {outside}"
