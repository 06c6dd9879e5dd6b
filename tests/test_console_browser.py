"""A real headless Chromium (Debian's, through its chromedriver) drives the console page
during a simulated session: live updates without reload, controls that change the
session's log, and no request to anything but 127.0.0.1."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator

import pytest
from console_driver import RunningConsole, start_console
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
WAIT_S = 30


@pytest.fixture()
def browser() -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM  # Debian's: nothing is downloaded
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--no-first-run", "--disable-background-networking", "--disable-sync",
                 "--disable-component-update", "--disable-default-apps",
                 "--window-size=1280,1000"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(DRIVER))
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture()
def console() -> Iterator[RunningConsole]:
    running = start_console()
    try:
        yield running
    finally:
        running.stop()


def text_of(driver: webdriver.Chrome, element_id: str) -> str:
    return driver.find_element(By.ID, element_id).text


def session_events(console: RunningConsole) -> list[dict]:
    return console.state()["events"]


def test_the_console_follows_and_steers_a_session(browser: webdriver.Chrome,
                                                 console: RunningConsole) -> None:
    wait = WebDriverWait(browser, WAIT_S, poll_frequency=0.1)
    browser.get(console.url)
    wait.until(lambda d: text_of(d, "connection") == "Live.")
    browser.execute_script("window.loadedOnce = 'yes';")  # gone if the page reloads
    assert browser.find_elements(By.CSS_SELECTOR, "#rating-list li") == []

    # The session asks for a rating; it is answered from outside the page (as the client
    # would): the page shows the rating and the next step without a reload.
    console.wait_for(lambda s: s["step"] == "rating_start", what="the rating question")
    wait.until(lambda d: text_of(d, "step") == "rating_start")
    assert console.control("rating", value=4).status_code == 202
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#rating-list li"))
    item = browser.find_element(By.CSS_SELECTOR, "#rating-list li")
    assert item.get_attribute("data-value") == "4" and ": 4" in item.text
    wait.until(lambda d: text_of(d, "step") == "notice")
    chart = browser.find_element(By.CSS_SELECTOR, "#chart svg")
    assert "4 at" in chart.get_attribute("aria-label")
    assert browser.execute_script("return window.loadedOnce;") == "yes"

    # Pause by its keyboard shortcut: the session's own log gets the control and pauses.
    browser.find_element(By.TAG_NAME, "body").send_keys("p")
    state = console.wait_for(lambda s: any(e["event"] == "paused" for e in s["events"]),
                             what="the pause")
    controls = [e for e in state["events"] if e["event"] == "control"]
    assert controls[-1]["action"] == "pause" and "refused" not in controls[-1]
    wait.until(lambda d: "paused" in text_of(d, "engine-phase"))

    # Grounding now, by its button: a stop into the grounding steps.
    browser.find_element(By.CSS_SELECTOR, "button[data-action=grounding]").click()
    state = console.wait_for(lambda s: s["step"] == "grounding_stop", what="grounding")
    actions = [e["action"] for e in state["events"] if e["event"] == "control"]
    assert actions == ["rating", "pause", "grounding"]
    wait.until(lambda d: text_of(d, "phase") == "Grounding")
    logged = browser.find_element(By.ID, "event-list").text
    assert "control grounding" in logged and "went to grounding_stop" in logged

    # Everything the page asked for went to this console, and nothing was blocked.
    requested = []
    for entry in browser.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            requested.append(message["params"]["request"]["url"])
    assert requested and all(url.startswith(console.base + "/") for url in requested), requested
    problems = [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert problems == []


def test_the_page_is_usable_at_200_percent_zoom(browser: webdriver.Chrome,
                                                console: RunningConsole) -> None:
    # 200 % zoom of a 1280-pixel window is a 640-pixel layout viewport.
    browser.set_window_size(640, 900)
    browser.get(console.url)
    WebDriverWait(browser, WAIT_S).until(lambda d: text_of(d, "connection") == "Live.")
    overflow = browser.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth;")
    assert overflow <= 0
    # Every control is a real button or field, reachable with the Tab key.
    focusable = browser.execute_script(
        "return [...document.querySelectorAll('button, input, select, textarea')]"
        ".filter(e => e.tabIndex >= 0 && !e.closest('[hidden]')).length;")
    buttons = browser.find_elements(By.CSS_SELECTOR, "button[data-action]")
    assert len(buttons) >= 19 and focusable >= len(buttons) + 3
    assert all(b.get_attribute("aria-keyshortcuts") for b in buttons)
    live_regions = browser.find_elements(By.CSS_SELECTOR, "[aria-live]")
    assert len(live_regions) >= 2
