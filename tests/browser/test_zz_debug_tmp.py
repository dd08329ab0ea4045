import re
from test_remote_model import remote_site, pick  # noqa: F401

def test_debug(page, remote_site):
    site = remote_site["site"]
    html = (site / "chat/index.html").read_text()
    html2 = re.sub(r"worker-src ([^;]*);", r"worker-src \1 blob:;", html)
    assert html2 != html
    (site / "chat/index.html").write_text(html2)
    js = (site / "static/js/chat.js").read_text()
    old = 'new Worker(new URL("./worker.js", import.meta.url), { type: "module" })'
    assert old in js
    js = js.replace(old, 'new Worker(URL.createObjectURL(new Blob([`import ${JSON.stringify(new URL("./worker.js", import.meta.url).href)};`], { type: "text/javascript" })), { type: "module" })')
    (site / "static/js/chat.js").write_text(js)
    seen = len(remote_site["cdn2_seen"])
    pick(page, remote_site["url"], "unlisted")
    print("ERR", page.evaluate("document.body.dataset.error"))
    print("SEEN", seen, len(remote_site["cdn2_seen"]))
    pick(page, remote_site["url"], "hubbed")
    print("HUBBED ERR", page.evaluate("document.body.dataset.error"), page.get_attribute("body", "data-ready"))
    pick(page, remote_site["url"], "no-cors")
    print("NOCORS ERR", page.evaluate("document.body.dataset.error"))
    print(page.console_lines)
