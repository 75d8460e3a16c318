"""Real headless Chromium (Debian's ``chromium``) driven by Playwright, for the UI's end-to-end tests.

Playwright's own browser download cannot work here (``playwright install`` fetches from a CDN), so
the system Chromium is launched by path. Screenshots go to ``artifacts/`` at the repository root
(gitignored; CI keeps it as the run's artifacts).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
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
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"{CHROMIUM} is missing: `make install` installs Debian's chromium package")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


def shoot(page: Page, name: str, *, phone: bool = True) -> None:
    """Save the page at desktop size (and phone width), full length, under ``artifacts/``."""
    ARTIFACTS.mkdir(exist_ok=True)
    safe = re.sub(r"[^a-z0-9_.-]+", "-", name.lower())
    original = page.viewport_size
    page.set_viewport_size(DESKTOP)
    page.screenshot(path=str(ARTIFACTS / f"{safe}-desktop.png"), full_page=True)
    if phone:
        page.set_viewport_size(PHONE)
        page.screenshot(path=str(ARTIFACTS / f"{safe}-phone.png"), full_page=True)
    if original is not None:
        page.set_viewport_size(original)


# Runs in the page: form controls, buttons and links without an accessible name, and visible
# text whose contrast with its background is under WCAG AA (4.5:1; 3:1 for large text).
_AUDIT = """
() => {
  const problems = [];
  const named = (el) => {
    if (el.getAttribute('aria-label') || el.getAttribute('aria-labelledby') || el.title) return true;
    if (el.labels && el.labels.length) return true;
    return (el.textContent || '').trim().length > 0 || !!el.querySelector('img[alt]');
  };
  const shown = (el) => {
    const r = el.getBoundingClientRect();
    const s = getComputedStyle(el);
    return r.width > 1 && r.height > 1 && s.visibility !== 'hidden' && s.display !== 'none';
  };
  for (const el of document.querySelectorAll('input:not([type=hidden]), select, textarea, button, a[href]')) {
    if (el.closest('svg')) continue;
    if (!named(el)) problems.push('no accessible name: ' + el.outerHTML.slice(0, 120));
  }
  const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    for (let node = el; node && node.nodeType === 1; node = node.parentElement) {
      const c = rgb(getComputedStyle(node).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0.5)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const seen = new Set();
  while (walker.nextNode()) {
    const el = walker.currentNode.parentElement;
    if (!el || seen.has(el) || !walker.currentNode.textContent.trim()) continue;
    seen.add(el);
    if (el.closest('svg, script, style, noscript, .visually-hidden') || !shown(el)) continue;
    const s = getComputedStyle(el);
    if (parseFloat(s.opacity) < 1) continue;
    const fg = lum(rgb(s.color).slice(0, 3)), bg = lum(background(el));
    const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
    const size = parseFloat(s.fontSize), bold = parseInt(s.fontWeight, 10) >= 700;
    const needed = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    const text = el.textContent.trim().slice(0, 60);
    if (ratio < needed) problems.push('contrast ' + ratio.toFixed(2) + ': ' + text);
  }
  const ids = {};
  for (const el of document.querySelectorAll('[id]')) { ids[el.id] = (ids[el.id] || 0) + 1; }
  for (const [id, n] of Object.entries(ids)) { if (n > 1) problems.push('duplicate id: ' + id); }
  if (document.documentElement.scrollWidth > window.innerWidth + 1) {
    problems.push('page wider than the viewport: ' + document.documentElement.scrollWidth + 'px');
  }
  return problems;
}
"""


def audit(page: Page) -> None:
    """Fail on unnamed controls, low contrast, duplicate ids or sideways scrolling, at both widths."""
    original = page.viewport_size
    found: list[str] = []
    for size in (DESKTOP, PHONE):
        page.set_viewport_size(size)
        found += [f"{size['width']}px: {p}" for p in page.evaluate(_AUDIT)]
    if original is not None:
        page.set_viewport_size(original)
    assert not found, f"{page.url}:\n" + "\n".join(found)


def shoot_and_audit(page: Page, name: str) -> None:
    shoot(page, name)
    audit(page)
