#!/usr/bin/env python3
"""Drives the events console of a running `auditlog serve` in a real browser (Debian's
chromium and chromium-driver through Selenium) and checks what it shows against the API.

    console_test.py BASE_URL READ_TOKEN WRITE_TOKEN SCREENSHOT_DIR

The server must hold a generated log (with blocked, redacted and admin events), sign
checkpoints (--signing-key) and run with --no-read-audit, so that the API's answers do not change while the page reads them. Prints one
line per check and, last, a JSON summary (page weight, render times); exits 1 on the first
failed check. CLIConsoleTests.swift runs it; it can also be run by hand.
"""

import json
import os
import statistics
import sys
import tempfile
import time
import urllib.parse
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

BASE, READ, WRITE, SHOTS = sys.argv[1].rstrip("/"), sys.argv[2], sys.argv[3], sys.argv[4]
os.makedirs(SHOTS, exist_ok=True)
summary = {}


def check(condition, what):
    if not condition:
        print(f"FAIL: {what}", flush=True)
        raise SystemExit(1)
    print(f"ok: {what}", flush=True)


def api(path, token=READ, raw=False, method="GET", body=None):
    request = urllib.request.Request(BASE + path, method=method, data=body)
    request.add_header("Authorization", "Bearer " + token)
    if body is not None:
        request.add_header("Content-Type", "application/x-ndjson")
    with urllib.request.urlopen(request, timeout=30) as response:
        data = response.read()
    return data if raw else json.loads(data)


def ids(path):
    return [e["id"] for e in api(path)["data"]]


options = webdriver.ChromeOptions()
options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,800", "--disable-gpu"]:
    options.add_argument(argument)
options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
downloads = tempfile.mkdtemp(prefix="console-downloads-")
options.add_experimental_option("prefs", {"download.default_directory": downloads, "download.prompt_for_download": False})
# The viewer's zone is not UTC, so local times and UTC titles differ.
service = Service(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver"), env={**os.environ, "TZ": "America/New_York"})
driver = webdriver.Chrome(service=service, options=options)
driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": downloads})
wait = WebDriverWait(driver, 15)


def errors():
    """Console errors since the last call (the browser's log is drained by reading it)."""
    return [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def rows():
    """The ids of the table's rows, top to bottom (one round trip to the browser)."""
    return driver.execute_script("return Array.from(document.querySelectorAll('#events-body tr'), r => r.dataset.id)")


def settled_rows(minimum=1):
    """The table's rows once loading has finished and at least `minimum` are shown."""
    wait.until(lambda d: len(rows()) >= minimum and "Loading" not in d.find_element(By.ID, "events-status").text)
    return rows()


def shot(name):
    driver.save_screenshot(os.path.join(SHOTS, name + ".png"))


def open_view(fragment):
    driver.get(BASE + "/" + fragment)


try:
    # 1. The page loads and asks for a token; no console errors.
    open_view("")
    wait.until(lambda d: d.find_elements(By.ID, "token"))
    check(errors() == [], "the page loads with no console errors")
    check(driver.execute_script("return sessionStorage.length") == 0, "no token is stored before one is given")
    shot("token")

    # 2. A bad token gets a clear message, and is not kept.
    driver.find_element(By.ID, "token").send_keys("not-a-token" + Keys.ENTER)
    wait.until(lambda d: d.find_element(By.ID, "token-error").is_displayed())
    message = driver.find_element(By.ID, "token-error").text
    check("refused" in message and "401" in message, f"a bad token shows a clear message: {message!r}")
    check(driver.execute_script("return sessionStorage.getItem('auditlog.token')") is None, "a refused token is not kept")
    errors()  # the refused request's 401 is logged by the browser itself

    # 3. The right token: the newest 50 events, as the API has them; the token stays out of URLs and cookies.
    field = driver.find_element(By.ID, "token")
    field.clear()
    field.send_keys(READ + Keys.ENTER)
    shown = settled_rows(50)
    check(len(shown) == 50, "the events view shows a page of 50")
    check(shown == ids("/v1/events?limit=50"), "the page is the API's newest 50, in order")
    check(READ not in driver.current_url and driver.get_cookies() == [], "the token is in neither the URL nor a cookie")
    check(driver.execute_script("return sessionStorage.getItem('auditlog.token')") == READ, "the token is kept in sessionStorage")
    first_time = driver.find_element(By.CSS_SELECTOR, "#events-body tr time")
    check(first_time.get_attribute("title").endswith("Z (UTC)"), "times show UTC on hover")
    check(errors() == [], "the events view has no console errors")
    shot("events")

    # 4. Filters by verdict and user show exactly the API's answer for the same query, and live in the URL.
    blocked = api("/v1/events?verdict=block&limit=1000")["data"]
    counts = {}
    for e in blocked:
        counts[e.get("user")] = counts.get(e.get("user"), 0) + 1
    user = max((u for u in counts if u), key=lambda u: counts[u])
    Select(driver.find_element(By.ID, "f-verdict")).select_by_value("block")
    wait.until(lambda d: "verdict=block" in d.current_url)
    settled_rows()
    user_field = driver.find_element(By.ID, "f-user")
    user_field.send_keys(user + Keys.ENTER)
    wait.until(lambda d: "user=" in d.current_url)
    expected = ids("/v1/events?" + urllib.parse.urlencode({"verdict": "block", "user": user, "limit": 50}))
    wait.until(lambda d: rows() == expected)
    check(rows() == expected and len(expected) >= 2, f"verdict=block and user={user}: the {len(expected)} events the API returns")
    shared = driver.current_url
    open_view("")
    driver.get(shared)
    wait.until(lambda d: rows() == expected)
    check(True, "the URL holds the filters: opening it again shows the same events")

    # 5. Load more continues by cursor without duplicates or gaps.
    open_view("#/events?verdict=allow")
    settled_rows(50)
    for pages in (2, 3):
        driver.find_element(By.ID, "load-more").click()
        settled_rows(50 * pages)
    shown = rows()
    check(len(shown) == 150 and len(set(shown)) == 150, "three pages: 150 events, none twice")
    check(shown == ids("/v1/events?verdict=allow&limit=150"), "the three pages are the API's first 150, in order (no gaps)")

    # 6. Keyboard: arrows move between rows, Enter opens one.
    body_rows = driver.find_elements(By.CSS_SELECTOR, "#events-body tr")
    body_rows[0].send_keys(Keys.ARROW_DOWN)
    check(driver.switch_to.active_element.get_attribute("data-id") == shown[1], "ArrowDown moves to the next row")
    driver.switch_to.active_element.send_keys(Keys.ENTER)
    wait.until(lambda d: d.find_elements(By.ID, "detail-seq"))
    check(urllib.parse.unquote(driver.current_url).endswith("#/event/" + shown[1]), "Enter opens the event")

    # 7. The detail view: policy results, redactions, seq, segment and chain value.
    redacted = next(e for e in api("/v1/events?verdict=redact&limit=200")["data"] if e.get("policies") and e.get("redactions"))
    located = api("/v1/events/" + urllib.parse.quote(redacted["id"], safe="") + "?location=true")
    open_view("#/event/" + urllib.parse.quote(redacted["id"], safe=""))
    wait.until(lambda d: d.find_elements(By.ID, "policies") and (d.find_elements(By.ID, "proof-ok") or d.find_elements(By.ID, "proof-bad")))
    policies = driver.find_element(By.ID, "policies").text
    redactions = driver.find_element(By.ID, "redactions").text
    check(redacted["policies"][0]["name"] in policies, "the detail shows a policy result")
    check(redacted["redactions"][0]["replacement"] in redactions, "the detail shows a redaction")
    check(driver.find_element(By.ID, "detail-seq").text == str(located["seq"]), "the detail shows the seq")
    check(driver.find_element(By.ID, "detail-chain").text == located["chain_value"], "the detail shows the chain value")
    check(driver.find_elements(By.ID, "proof-ok") != [], "the detail checks the inclusion proof against the signed checkpoint's root")
    check(driver.find_element(By.ID, "show-command").text == "auditlog show " + redacted["id"], "the detail gives the auditlog show command")
    check(errors() == [], "the detail view has no console errors")
    shot("detail")
    admin = next((e for e in api("/v1/events?admin=true&limit=200")["data"] if isinstance(e.get("details"), dict) and "old" in e["details"]), None)
    if admin:
        open_view("#/event/" + urllib.parse.quote(admin["id"], safe=""))
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#details table.diff"))
        field_name = next(iter(admin["details"]["new"]))
        check(field_name in driver.find_element(By.ID, "details").text, "an admin event shows the diff of its details")

    # 8. Usage: one bar per day, and the CSV the API gives.
    open_view("#/usage?since=30d&by=team")
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#usage-chart g.bar") and d.find_elements(By.ID, "usage-table"))
    days = {r["day"] for r in api("/v1/usage?since=30d&group_by=day")["rows"]}
    bars = driver.find_elements(By.CSS_SELECTOR, "#usage-chart g.bar")
    check(len(bars) == len(days) and {b.get_attribute("data-day") for b in bars} == days, f"the chart has one bar per day ({len(days)})")
    table_rows = driver.find_elements(By.CSS_SELECTOR, "#usage-table tbody tr")
    check(len(table_rows) == len(api("/v1/usage?since=30d&group_by=team")["rows"]), "the usage table has a row per team")
    driver.find_element(By.ID, "usage-csv").click()
    deadline = time.time() + 10
    files = []
    while time.time() < deadline and not files:
        files = [f for f in os.listdir(downloads) if f.endswith(".csv")]
        time.sleep(0.1)
    check(files != [], "the CSV downloads")
    with open(os.path.join(downloads, files[0]), "rb") as f:
        check(f.read() == api("/v1/usage?since=30d&group_by=team&sort=cost&format=csv", raw=True), "the CSV download matches /v1/usage?format=csv")
    driver.find_element(By.CSS_SELECTOR, "#usage-table thead button.sort").click()
    wait.until(lambda d: "sort=team" in d.current_url and d.find_elements(By.CSS_SELECTOR, "#usage-table tbody tr"))
    names = [r.find_element(By.TAG_NAME, "th").text for r in driver.find_elements(By.CSS_SELECTOR, "#usage-table tbody tr")]
    check(names == sorted(names, reverse=True) or names == sorted(names), "the table sorts by a column")
    check(errors() == [], "the usage view has no console errors")
    shot("usage")

    # 9. Integrity: verify runs and shows the green tick.
    open_view("#/integrity")
    wait.until(lambda d: d.find_elements(By.ID, "not-verified") or d.find_elements(By.ID, "verify-report"))
    driver.find_element(By.ID, "verify-now").click()
    wait.until(lambda d: d.find_elements(By.ID, "verify-report") and d.find_element(By.ID, "verify-progress-text").text == "Done.")
    check(driver.find_element(By.ID, "verify-report").get_attribute("data-ok") == "true", "verify from the page: intact, with the tick")
    check(errors() == [], "the integrity view has no console errors")
    shot("integrity")

    # 10. Live mode: a newly appended blocked event appears within 2 s; pause holds new ones back.
    open_view("#/events?verdict=block")
    settled_rows()
    driver.find_element(By.ID, "live").click()
    wait.until(lambda d: "waiting" in d.find_element(By.ID, "live-status").text)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    new_id = f"evt_console_live_{int(time.time() * 1000)}"
    line = json.dumps({"id": new_id, "event_type": "decision", "timestamp": stamp, "verdict": "block", "user": "live@acme.com", "team": "payments", "reason_code": "jailbreak_attempt"})
    posting = time.time()
    api("/v1/events", token=WRITE, method="POST", body=line.encode())
    appended = time.time()  # acknowledged: durable, in the log
    WebDriverWait(driver, 5, poll_frequency=0.05).until(lambda d: new_id in rows())
    latency = time.time() - appended
    summary["live_seconds"] = round(latency, 3)
    summary["live_seconds_from_post"] = round(time.time() - posting, 3)
    check(latency <= 2.0 and rows()[0] == new_id, f"a newly appended blocked event appears at the top in live mode {latency:.2f} s after the append returned")
    driver.find_element(By.ID, "pause").click()
    held_id = new_id + "_paused"
    api("/v1/events", token=WRITE, method="POST", body=line.replace(new_id, held_id).encode())
    time.sleep(1.0)
    check(held_id not in rows(), "paused: a new event is held back")
    driver.find_element(By.ID, "pause").click()
    WebDriverWait(driver, 5).until(lambda d: held_id in rows())
    check(rows()[:2] == [held_id, new_id], "resumed: the held event appears, nothing missed or repeated")
    check(errors() == [], "live mode has no console errors")

    # 11. A narrow window: no sideways scrolling of the page.
    driver.set_window_size(420, 800)
    open_view("#/events")
    settled_rows(50)
    overflow = driver.execute_script("return document.documentElement.scrollWidth - document.documentElement.clientWidth")
    check(overflow <= 0, f"readable on a narrow window (page overflow {overflow} px)")
    shot("events-narrow")
    driver.set_window_size(1280, 800)

    # 12. Page weight and the time to render 50 events after the API answered.
    assets = ["/", "/console/console.css", "/console/favicon.svg"] + [f"/console/{n}.js" for n in ("app", "api", "format", "events", "detail", "usage", "integrity")]
    weight = sum(len(urllib.request.urlopen(BASE + a, timeout=10).read()) for a in assets)
    summary["asset_bytes"] = weight
    check(weight <= 150_000, f"the console's assets are {weight} bytes (≤ 150 KB)")
    renders, answers = [], []
    for _ in range(7):
        open_view("#/events?since=30d")
        driver.refresh()
        wait.until(lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("data-last-render-ms") and len(rows()) == 50)
        html = driver.find_element(By.TAG_NAME, "html")
        renders.append(float(html.get_attribute("data-last-render-ms")))
        answers.append(float(html.get_attribute("data-last-api-ms")))
    summary["render_ms_median"] = statistics.median(renders)
    summary["render_ms_max"] = max(renders)
    summary["api_ms_median"] = statistics.median(answers)
    check(statistics.median(renders) <= 300, f"50 events render in {statistics.median(renders):.1f} ms (median of 7) after the API answered in {statistics.median(answers):.1f} ms")
    print("summary " + json.dumps(summary), flush=True)
finally:
    driver.quit()
