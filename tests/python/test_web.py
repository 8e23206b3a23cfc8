"""The browser front end (Sources/SluiceServer/Web), driven by Playwright in Debian's Chromium
against a real `sluice serve`. Every test fails on any console error or uncaught exception,
and leaves a screenshot in $SLUICE_SCREENSHOTS (default .artifacts/screenshots/)."""

from __future__ import annotations

import re
import tempfile
import time
from pathlib import Path
from typing import Iterator
from urllib.parse import parse_qs, urlparse

import pytest

from web_support import LARGE, TEXTS, VIDEO_FRAMES, Site, frame_colour, screenshots, site as make_site

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def web() -> Iterator[Site]:
    with tempfile.TemporaryDirectory(prefix="sluice-pytest-web-") as tmp:
        with make_site(Path(tmp)) as s:
            yield s


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: apt-get install chromium"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser, web, request):
    context = browser.new_context(base_url=web.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    problems: list[str] = []
    # Chromium logs every 4xx reply as a console error ("Failed to load resource"), which
    # no page script can prevent; a test names the statuses it provokes on purpose (a bad
    # query, a private project), and any other console error fails it.
    page.expected_statuses = set()

    def console(message) -> None:
        if message.type != "error":
            return
        refused = re.match(r"Failed to load resource: the server responded with a status of (\d+)", message.text)
        if refused and int(refused.group(1)) in page.expected_statuses:
            return
        problems.append(f"console.{message.type}: {message.text} at {message.location}")

    page.on("console", console)
    page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
    try:
        yield page
    finally:
        page.screenshot(path=str(screenshots() / f"{request.node.name}.png"), full_page=True)
        context.close()
    assert problems == [], "no console errors or uncaught exceptions"


def gallery(project: str = "coco-dataset", dataset: str = "Default") -> str:
    return f"/p/{project}/d/{dataset}"


def wait_for_images(page, count: int) -> None:
    page.wait_for_function(
        """n => { const imgs = [...document.querySelectorAll('.tile img')];
                  return imgs.length === n && imgs.every(i => i.complete && i.naturalWidth > 0); }""", arg=count)


def slice_count(web: Site, dataset_id: int, query: str, key: str = "") -> int:
    reply = web.post(f"/datasets/{dataset_id}/slices", {"query": query}, key)
    assert reply.status_code == 201, reply.text
    return reply.json()["count"]


def test_home_lists_projects_datasets_counts_and_snapshots(page, web) -> None:
    page.goto("/")
    row = page.locator('section[data-project="coco-dataset"] tr[data-dataset="Default"]')
    row.wait_for()
    assert row.locator("td[data-count]").inner_text() == "9"
    assert row.locator("th a").get_attribute("href") == "/p/coco-dataset/d/Default"
    assert page.locator('section[data-project="secret"]').count() == 0, "a private project is not listed without its key"
    row.locator("th a").click()
    page.wait_for_url("**/p/coco-dataset/d/Default")
    page.locator(".tile").first.wait_for()


def test_gallery_draws_thumbnails_and_every_shape(page, web) -> None:
    asked: list[str] = []
    page.on("request", lambda r: asked.append(urlparse(r.url).path) if "/api/v1/" in r.url else None)
    page.goto(gallery())
    wait_for_images(page, 9)
    # A public dataset's page carries its first data (GalleryBoot): the first view asks the
    # API for thumbnails only (the histogram comes after it).
    first_data = [path for path in asked if not re.search(r"/files/\d+/thumbnail$|/datasets/\d+/labels$", path)]
    assert first_data == [], first_data
    assert sum(path.endswith("/thumbnail") for path in asked) == 9
    assert page.locator("#count").get_attribute("data-count") == "9"
    dataset = web.dataset("coco-dataset")
    items = web.get(f"/datasets/{dataset['id']}/items", start=0, end=9)["items"]
    instances = sum(len(item["instances"]) for item in items)
    assert page.locator(".tile svg .inst").count() == instances == 24
    kinds = {i["kind"] for item in items for i in item["instances"]}
    geometry = [i["geometry"] for item in items for i in item["instances"]]
    if any(g.get("mask") for g in geometry):
        assert page.locator(".tile svg path.area").count() >= sum(1 for g in geometry if g.get("mask") or g.get("polygon"))
        assert all(len(d) > 20 for d in page.locator(".tile svg path.area").evaluate_all("ps => ps.map(p => p.getAttribute('d'))"))
    if "keypoints" in kinds:
        assert page.locator(".tile svg line.bone").count() > 0 and page.locator(".tile svg circle.joint").count() > 0
    # Colours are the labels' own.
    person = next(label for label in web.get("/projects/coco-dataset/labels") if label["name"] == "person")
    colour = page.locator(".tile svg .inst").first.evaluate("g => getComputedStyle(g).color")
    r, g, b = (int(person["color"][i:i + 2], 16) for i in (1, 3, 5))
    assert colour == f"rgb({r}, {g}, {b})"
    # Shapes sit on the image: the overlay's box is the frame's, and its viewBox the file's size.
    first = items[0]["file"]["media"]
    assert page.locator(".tile").first.locator("svg").get_attribute("viewBox") == f"0 0 {first['width']} {first['height']}"


def test_query_applies_a_slice_and_explains_a_bad_one(page, web) -> None:
    dataset = web.dataset("coco-dataset")
    expected = slice_count(web, dataset["id"], "labels.person > 2")
    page.goto(gallery() + "?query=labels.person%20%3E%202")
    page.wait_for_function("n => document.querySelector('#count')?.dataset.count === String(n)", arg=expected)
    wait_for_images(page, expected)
    assert f"{expected} of 9" in page.locator("#count").inner_text()

    page.expected_statuses = {400, 422}   # the bad queries below, refused by the server
    page.fill("#query", "labels.person >")
    page.press("#query", "Enter")
    error = page.locator("#query-error")
    error.wait_for()
    refused = web.post(f"/datasets/{dataset['id']}/slices", {"query": "labels.person >"}).json()["error"]
    assert refused["message"] in error.inner_text()
    mark = error.locator(".mark").inner_text()
    assert mark == " " * (refused["detail"]["column"] - 1) + "^", "the caret under the column"
    assert page.locator(".tile").count() == 0

    page.fill("#query", "labels.persn > 2")
    page.press("#query", "Enter")
    page.locator("button.suggestion", has_text="person").click()
    page.wait_for_function("n => document.querySelector('#count')?.dataset.count === String(n)", arg=expected)
    assert parse_qs(urlparse(page.url).query)["query"] == ["labels.person > 2"]
    assert page.locator("#query").input_value() == "labels.person > 2"


def test_histogram_bars_open_the_label_slice(page, web) -> None:
    dataset = web.dataset("coco-dataset")
    labels = web.get(f"/datasets/{dataset['id']}/labels")["labels"]
    person = next(label for label in labels if label["name"] == "person")
    page.goto(gallery())
    bar = page.locator('.bar-link[data-label="person"]')
    assert f"{person['instances']} inst" in bar.inner_text() and f"{person['files']} files" in bar.inner_text()
    bar.click()
    page.wait_for_function("() => new URLSearchParams(location.search).get('query') === 'labels.person > 0'")
    expected = slice_count(web, dataset["id"], "labels.person > 0")
    assert expected == person["files"]
    page.wait_for_function("n => document.querySelector('#count')?.dataset.count === String(n)", arg=expected)


def test_item_view_lists_instances_highlights_and_steps(page, web) -> None:
    dataset = web.dataset("coco-dataset")
    items = web.get(f"/datasets/{dataset['id']}/items", start=0, end=9)["items"]
    at = next(i for i, item in enumerate(items) if len(item["instances"]) >= 2 and i + 1 < len(items))
    item = items[at]
    page.goto(gallery() + f"/items/{at}")
    rows = page.locator("li.instance")
    rows.first.wait_for()
    assert rows.count() == len(item["instances"])
    page.wait_for_function("() => { const i = document.querySelector('img.full'); return i && i.complete && i.naturalWidth > 0; }")
    assert page.locator("h1").inner_text().startswith(item["file"]["name"])
    assert page.locator("svg.overlay .inst").count() == len(item["instances"])
    rows.nth(1).hover()
    assert page.locator("svg.overlay .inst.hl").get_attribute("data-index") == "1"
    assert "hl" in rows.nth(1).get_attribute("class").split()
    page.mouse.move(0, 0)
    assert page.locator("svg.overlay .inst.hl").count() == 0
    # And from the shape to the list: hovering the second instance's outline.
    joints = page.locator('svg.overlay .inst[data-index="1"] circle')
    shape = joints.first if joints.count() else page.locator('svg.overlay .inst[data-index="1"] path.area').first
    shape.hover(force=True)
    page.wait_for_function("() => document.querySelector('li.instance.hl')")
    assert page.locator("li.instance.hl").count() == 1

    page.keyboard.press("ArrowRight")
    page.wait_for_url(f"**/items/{at + 1}")
    nxt = items[at + 1]
    page.wait_for_function("n => document.querySelector('h1')?.textContent.startsWith(n)", arg=nxt["file"]["name"])
    assert page.locator("li.instance").count() == len(nxt["instances"])
    page.keyboard.press("ArrowLeft")
    page.wait_for_url(f"**/items/{at}")
    page.keyboard.press("Escape")
    page.wait_for_url("**/p/coco-dataset/d/Default")
    page.locator(".tile").first.wait_for()


def test_versions_and_diff(page, web) -> None:
    dataset = web.dataset("writable")
    before = dataset["count"]
    assert web.post(f"/datasets/{dataset['id']}/snapshots", {"name": "before-web"}, web.editor).status_code == 201
    first = web.get(f"/datasets/{dataset['id']}/items/0")["file"]
    appended = web.post(f"/datasets/{dataset['id']}/files", {"files": [{
        "name": "again.jpg", "sha256": first["media"]["sha256"],
        "instances": [{"label": "person", "kind": "box", "bbox": [10, 10, 200, 300]}]}]}, web.editor)
    assert appended.status_code in (200, 201), appended.text

    page.goto(gallery("writable") + "?version=before-web")
    page.wait_for_function("n => document.querySelector('#count')?.dataset.count === String(n)", arg=before)
    wait_for_images(page, before)
    assert page.locator("#version").input_value() == "before-web"
    page.select_option("#version", "")
    page.wait_for_function("n => document.querySelector('#count')?.dataset.count === String(n)", arg=before + 1)
    assert "version" not in page.url

    page.goto(gallery("writable") + "/diff?from=before-web")
    page.wait_for_selector(".diff-summary[data-done]")
    row = page.locator(f'ol.diff li[data-position="{before}"]')
    assert "file added" in row.inner_text() and "+1 instance" in row.inner_text()
    assert page.locator("ol.diff li").count() == 1
    row.locator("a").click()
    page.wait_for_url(f"**/items/{before}")
    page.wait_for_function("() => document.querySelector('h1')?.textContent.startsWith('again.jpg')")


def test_live_switch_shows_new_files_as_they_are_written(page, web) -> None:
    made = web.post("/projects/writable/datasets", {"name": "Live"}, web.editor)
    assert made.status_code in (200, 201), made.text
    live = made.json()
    media = web.get(f"/datasets/{web.dataset('writable')['id']}/items/0")["file"]["media"]["sha256"]

    def append(name: str) -> None:
        reply = web.post(f"/datasets/{live['id']}/files", {"files": [{"name": name, "sha256": media, "instances": [
            {"label": "person", "kind": "box", "bbox": [5, 5, 100, 100]}]}]}, web.editor)
        assert reply.status_code in (200, 201), reply.text

    append("first.jpg")
    page.goto(gallery("writable", "Live"))
    wait_for_images(page, 1)
    page.check("#live")
    page.wait_for_selector("#live-state:text('following changes')")
    started = time.monotonic()
    append("second.jpg")
    wait_for_images(page, 2)
    assert page.locator("#count").get_attribute("data-count") == "2"
    assert time.monotonic() - started < 5
    assert "second.jpg" in page.locator('.tile[data-position="1"]').inner_text()
    page.uncheck("#live")
    assert page.locator("#live-state").inner_text() == ""


def test_private_project_asks_for_a_key(page, web) -> None:
    page.expected_statuses = {401}   # only if the project list does not show it as private
    page.goto(gallery("secret"))
    page.locator("#key-panel").wait_for()
    assert page.locator(".tile").count() == 0
    page.fill("#key-input", web.viewer)
    page.press("#key-input", "Enter")
    count = web.dataset("secret", key=web.viewer)["count"]
    wait_for_images(page, count)
    assert page.locator("#key-panel").is_hidden()
    assert page.evaluate("() => localStorage.length") == 0, "the key stays in sessionStorage"
    assert page.evaluate("() => sessionStorage.getItem('sluice.key')") == web.viewer
    page.locator(".tile").first.click()
    page.wait_for_function("() => { const i = document.querySelector('img.full'); return i && i.naturalWidth > 0; }")


def test_keyboard_only(page, web) -> None:
    page.goto(gallery())
    wait_for_images(page, 9)
    for _ in range(60):
        page.keyboard.press("Tab")
        focused = page.evaluate("() => document.activeElement.className")
        assert page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle") != "none", focused
        if "tile" in focused.split():
            break
    else:
        pytest.fail("Tab never reached a tile")
    assert page.evaluate("() => document.activeElement.dataset.position") == "0"
    page.keyboard.press("Enter")
    page.wait_for_url("**/items/0")
    page.locator("li.instance").first.wait_for()
    page.keyboard.press("ArrowRight")
    page.wait_for_url("**/items/1")
    page.keyboard.press("Escape")
    page.wait_for_url("**/p/coco-dataset/d/Default")
    page.wait_for_function("() => document.activeElement?.dataset?.position === '1'")


def test_large_dataset_jumps_without_fetching_everything(page, web) -> None:
    requests_seen: list[str] = []
    page.on("request", lambda r: requests_seen.append(r.url) if "/items" in r.url and "/api/" in r.url else None)
    dataset = web.dataset("big")
    assert dataset["count"] == LARGE
    page.goto(gallery("big"))
    page.locator('.tile[data-position="0"]:not(.pending)').wait_for()
    page.fill("#goto", "15000")
    page.press("#goto", "Enter")
    tile = page.locator('.tile[data-position="15000"]:not(.pending)')
    tile.wait_for()
    expected = web.get(f"/datasets/{dataset['id']}/items/15000")["file"]["name"]
    assert expected in tile.inner_text()
    scroller = page.locator("#grid").bounding_box()
    box = tile.bounding_box()
    assert scroller["y"] <= box["y"] < scroller["y"] + 50, "position 15,000 is at the top of the view"
    assert page.locator(".tile").count() < 200
    assert "15000" in page.evaluate("() => document.activeElement.dataset.position")
    pages = []
    for url in requests_seen:
        params = parse_qs(urlparse(url).query)
        start, end = int(params["start"][0]), int(params["end"][0])
        assert 0 < end - start <= 100, f"one page at most: {url}"
        pages.append(start)
    assert all(start == 0 or 14_000 <= start <= 15_200 for start in pages), pages
    assert len(pages) <= 6, pages


def _by_frame(item: dict) -> dict[int, list]:
    frames: dict[int, list] = {}
    for instance in item["instances"]:
        frames.setdefault(instance["frame"], []).append(instance)
    return frames


def _shown_frame(page) -> int:
    return int(page.locator(".stage .frame").get_attribute("data-frame"))


def _picture_frame(page) -> int:
    """Which frame the <video> shows, told by its colour (the test video fills frame n with
    frame_colour(n)): the picture itself, read back through a canvas."""
    mean = page.evaluate("""() => {
        const v = document.querySelector('video.full');
        const c = document.createElement('canvas');
        c.width = v.videoWidth; c.height = v.videoHeight;
        const g = c.getContext('2d');
        g.drawImage(v, 0, 0);
        const d = g.getImageData(0, 0, c.width, c.height).data;
        const sum = [0, 0, 0];
        for (let i = 0; i < d.length; i += 4) { sum[0] += d[i]; sum[1] += d[i + 1]; sum[2] += d[i + 2]; }
        return sum.map((s) => s / (d.length / 4));
    }""")
    return min(range(VIDEO_FRAMES), key=lambda n: sum(abs(a - b) for a, b in zip(mean, frame_colour(n))))


def _settled(page) -> None:
    page.wait_for_function("() => { const v = document.querySelector('video.full'); return v && !v.seeking && v.readyState >= 2; }")


def _assert_frame_drawn(page, frames: dict, n: int) -> None:
    """The overlay, the list and the picture all show frame n, with the instances of n."""
    assert _shown_frame(page) == n
    expected = frames.get(n, [])
    assert page.locator("svg.overlay .inst").count() == len(expected), f"frame {n}"
    assert page.locator("li.instance").count() == len(expected)
    assert page.locator(".frame-readout").inner_text().startswith(f"frame {n} of {VIDEO_FRAMES}")
    boxes = sorted(i["bbox"] for i in expected if i["kind"] == "box")
    drawn = sorted(page.locator("svg.overlay rect.box:not(.faint)").evaluate_all(
        "rs => rs.map(r => ['x', 'y', 'width', 'height'].map(a => Number(r.getAttribute(a))))"))
    assert [[round(x, 3) for x in (b[0], b[1], b[2] - b[0], b[3] - b[1])] for b in boxes] == \
        [[round(x, 3) for x in d] for d in drawn], f"the boxes of frame {n}"
    _settled(page)
    assert _picture_frame(page) == n, f"the picture is frame {n}"


def test_video_plays_with_the_annotations_of_the_frame_on_screen(page, web) -> None:
    dataset = web.dataset("media", "clips")
    item = web.get(f"/datasets/{dataset['id']}/items/0")
    frames = _by_frame(item)
    assert item["file"]["type"] == "video" and item["file"]["media"]["frame_count"] == VIDEO_FRAMES
    first = min(frames)

    # The tile is the first annotated frame, with that frame's shapes.
    page.goto(gallery("media", "clips"))
    wait_for_images(page, 1)
    tile = page.locator(".tile").first
    assert tile.locator(".badge").inner_text() == f"▶ frame {first}"
    assert tile.locator("svg .inst").count() == len(frames[first])

    page.goto(gallery("media", "clips") + "/items/0")
    page.locator(".frame-readout").wait_for()
    _assert_frame_drawn(page, frames, first)

    page.keyboard.press(".")
    _assert_frame_drawn(page, frames, first + 1)
    page.keyboard.press(",")
    _assert_frame_drawn(page, frames, first)
    page.fill("#frame", "12")
    page.press("#frame", "Enter")
    _assert_frame_drawn(page, frames, 12)
    page.wait_for_url(re.compile(r".*[?&]frame=12$"))

    # Hovering a listed instance highlights its shape on the frame.
    page.locator("li.instance").first.hover()
    assert page.locator("svg.overlay .inst.hl").get_attribute("data-index") == "0"
    page.mouse.move(0, 0)

    # Playing moves the frame and its shapes along; paused, all three agree again.
    page.click("button.play")
    page.wait_for_function("() => Number(document.querySelector('.stage .frame').dataset.frame) >= 16")
    page.click("button.play")
    page.wait_for_function("() => document.querySelector('video.full').paused")
    _settled(page)
    _assert_frame_drawn(page, frames, _shown_frame(page))

    # A link to a frame opens at it.
    page.goto(gallery("media", "clips") + "/items/0?frame=20")
    page.locator(".frame-readout").wait_for()
    _assert_frame_drawn(page, frames, 20)


def test_a_video_thumbnail_is_the_frame_asked_for(web) -> None:
    import io

    import requests
    from PIL import Image

    dataset = web.dataset("media", "clips")
    file_id = web.get(f"/datasets/{dataset['id']}/items/0")["file"]["id"]
    for n in (0, 7, 24):
        reply = requests.get(f"{web.url}/api/v1/files/{file_id}/thumbnail", params={"size": 64, "frame": n}, timeout=30)
        assert reply.status_code == 200 and reply.headers["Content-Type"] == "image/jpeg"
        pixels = Image.open(io.BytesIO(reply.content)).convert("RGB")
        assert pixels.size == (64, 48)
        mean = [sum(channel) / len(channel) for channel in zip(*pixels.getdata())]
        nearest = min(range(VIDEO_FRAMES), key=lambda k: sum(abs(a - b) for a, b in zip(mean, frame_colour(k))))
        assert nearest == n, f"thumbnail of frame {n} shows frame {nearest}"
    past = requests.get(f"{web.url}/api/v1/files/{file_id}/thumbnail", params={"frame": VIDEO_FRAMES}, timeout=30)
    assert past.status_code == 422 and past.json()["error"]["detail"]["parameter"] == "frame"


def _words(document: dict) -> list[tuple[str, str]]:
    if "entities" in document:
        return [(e["label"], document["text"][e["start_offset"]:e["end_offset"]]) for e in document["entities"]]
    return [(s[2], document["text"][s[0]:s[1]]) for s in document["label"] if isinstance(s, list)]


def test_text_files_show_their_spans(page, web) -> None:
    page.goto(gallery("media", "texts"))
    page.wait_for_function("() => document.querySelectorAll('.tile .snippet').length === 3")
    first = page.locator('.tile[data-position="0"] .snippet')
    assert first.inner_text() == TEXTS[0]["text"]
    # A stretch under two spans (Анна inside the EVENT span) is one mark naming both.
    marks = first.locator("mark").evaluate_all("ms => ms.map(m => [m.textContent, m.dataset.spans])")
    assert ["Анна", "1 3"] in marks and ["Zoë", "0"] in marks

    page.goto(gallery("media", "texts") + "/items/0")
    view = page.locator(".text-view")
    view.wait_for()
    rows = page.locator("li.instance")
    assert rows.count() == len(_words(TEXTS[0]))
    # Each span's marks, joined, are its words, though 🎉 counts one in the offsets and two in JS.
    for index, (label, words) in enumerate(_words(TEXTS[0])):
        got = view.locator("mark").evaluate_all(
            "(ms, i) => ms.filter(m => m.dataset.spans.split(' ').includes(String(i))).map(m => m.textContent).join('')", index)
        assert got == words, f"span {index} ({label})"
        assert f"“{words}”" in rows.nth(index).inner_text()
    labels = view.locator(".span-label").all_inner_texts()
    assert sorted(labels) == sorted(label for label, _ in _words(TEXTS[0]))
    rows.nth(3).hover()
    lit = view.locator("mark.hl").all_inner_texts()
    assert "".join(lit) == "Анна in Köln", "hovering EVENT lights its marks"
    page.mouse.move(0, 0)
    view.locator("mark", has_text="Anna").hover()
    assert "hl" in rows.nth(4).get_attribute("class").split()

    page.keyboard.press("ArrowRight")
    page.wait_for_url("**/items/1")
    page.locator(".text-view").wait_for()
    assert page.locator(".text-view mark").count() == 0
    assert page.locator("li.instance").count() == 1 and "positive" in page.locator("li.instance").inner_text()
    page.keyboard.press("ArrowRight")
    page.wait_for_url("**/items/2")
    page.wait_for_function("() => document.querySelectorAll('.text-view mark').length === 2")
    assert page.locator(".text-view mark").all_inner_texts() == ["Ada", "IBM"]
