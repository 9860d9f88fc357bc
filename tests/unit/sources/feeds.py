"""Small feeds and sitemaps written on the fly, so a test says how many entries and which."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

BASE = datetime(2025, 12, 1, 12, 0, tzinfo=UTC)


def rss(links: list[str], *, title: str = "Feed") -> bytes:
    """An RSS 2.0 feed whose first link is the newest (one hour apart)."""
    items = "".join(
        f"<item><title>Story {i}</title><link>{link}</link>"
        f"<pubDate>{format_datetime(BASE - timedelta(hours=i), usegmt=True)}</pubDate></item>"
        for i, link in enumerate(links)
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>{title}</title>'
        f"{items}</channel></rss>"
    ).encode()


def sitemap(links: list[str]) -> bytes:
    urls = "".join(f"<url><loc>{link}</loc></url>" for link in links)
    return (
        f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"{urls}</urlset>"
    ).encode()


def sitemap_index(children: list[str]) -> bytes:
    items = "".join(f"<sitemap><loc>{child}</loc></sitemap>" for child in children)
    return (
        f'<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"{items}</sitemapindex>"
    ).encode()


def links(prefix: str, count: int) -> list[str]:
    return [f"https://news.example/{prefix}/{i}" for i in range(count)]
