"""``flowconsole serve``: the console in a real browser (headless Chromium over CDP).

The served page draws the terminal with xterm.js on a canvas, so its text is
not in the DOM. A script installed before the page's own captures the
xterm.js ``Terminal`` the page makes (textual-serve assigns it to a
``terminal`` property; a setter on ``Object.prototype`` sees that first
assignment), and the test reads the screen from that terminal's buffer:
what xterm.js would draw, after the browser parsed every byte it received.
A screenshot is taken beside it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("textual_serve")
pytest.importorskip("websocket")

from tests.browser_cdp import Chromium, Page  # noqa: E402
from tests.real_tools import free_port, require_tool, wait_for  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_workflows"
SAMPLE_NAMES = ("etl_pipeline", "order_saga_shipping_fails", "shop_checkout", "pool_priority_jobs")

CAPTURE_TERMINAL = """
Object.defineProperty(Object.prototype, 'terminal', {configurable: true, set(value) {
  window.__terminal = value;
  Object.defineProperty(this, 'terminal', {value, writable: true, configurable: true, enumerable: true});
}});
"""
SCREEN_TEXT = """
window.__terminal ? Array.from({length: window.__terminal.buffer.active.length},
  (_, y) => window.__terminal.buffer.active.getLine(y).translateToString(true)).join('\\n') : null
"""


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.fixture
def served(tmp_path):
    port = free_port()
    log = open(tmp_path / "serve.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "console.cli", "serve", str(SAMPLES), "--port", str(port),
         "--state-dir", str(tmp_path / "state")],
        cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/"
    wait_for(lambda: urllib.request.urlopen(url, timeout=5).status == 200, 60, "flowconsole serve to answer")
    yield proc, url
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def page():
    browser = Chromium(require_tool("chromium", "chromium"))
    tab = browser.page()
    try:
        tab.call("Page.enable")
        tab.call("Page.addScriptToEvaluateOnNewDocument", source=CAPTURE_TERMINAL)
        yield tab
    finally:
        tab.close()
        browser.close()


def open_console(page: Page, url: str) -> str:
    page.call("Page.navigate", url=url)
    return wait_for(
        lambda: (text := page.evaluate(SCREEN_TEXT)) and all(n in text for n in SAMPLE_NAMES) and text,
        90, "the console to render the sample workflows in the browser", interval=0.25,
    )


def test_the_console_renders_in_a_browser_and_a_key_switches_the_view(served, page: Page, tmp_path) -> None:
    _, url = served
    first = open_console(page, url)
    assert "1 dag" in first and "shown of" not in first
    assert page.screenshot(tmp_path / "console.png").startswith(b"\x89PNG")

    page.evaluate("window.__terminal.focus()")
    page.press("8")

    events = wait_for(
        lambda: (text := page.evaluate(SCREEN_TEXT)) and "Events" in text and "shown of" in text and text,
        60, "the events view after pressing 8", interval=0.25,
    )
    assert "1 dag" in events and "8 events" in events
    page.screenshot(tmp_path / "events.png")


def test_the_console_quits_when_the_browser_leaves(served, page: Page) -> None:
    proc, url = served
    open_console(page, url)
    (console,) = children_of(proc.pid)

    page.call("Page.close")

    wait_for(lambda: not alive(console), 60, "the served console to quit once the browser left")
    assert proc.poll() is None


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP], ids=lambda s: signal.Signals(s).name)
def test_serve_stops_its_consoles_on_a_stop_signal(served, page: Page, signum: int) -> None:
    proc, url = served
    open_console(page, url)
    consoles = children_of(proc.pid)
    assert consoles

    proc.send_signal(signum)

    assert proc.wait(60) == 0
    assert not any(alive(pid) for pid in consoles)


def test_serve_on_a_port_in_use_is_one_line_and_exit_two(served, tmp_path) -> None:
    _, url = served
    port = url.rsplit(":", 1)[1].strip("/")
    done = subprocess.run(
        [sys.executable, "-m", "console.cli", "serve", str(SAMPLES), "--port", port],
        cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith(f"flowconsole: error: cannot serve on 127.0.0.1:{port} (")


STUBBORN = """
import os, signal, subprocess, sys
from console.cli.serve import stop_children
child = subprocess.Popen([sys.executable, "-c",
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); time.sleep(60)"],
    stdout=subprocess.PIPE, text=True)
child.stdout.readline()
stop_children(0.2)
print("alive" if os.path.exists(f"/proc/{child.pid}") else "gone")
"""


def test_a_console_that_ignores_sigterm_is_killed_after_the_grace_period() -> None:
    done = subprocess.run(
        [sys.executable, "-c", STUBBORN], env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True, text=True, timeout=60,
    )
    assert done.stdout.strip() == "gone", done.stderr
