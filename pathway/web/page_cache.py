"""The per-applicant content cache of the heavy pages: the dashboard's content, the timeline, the
calendar feed and the API's pathway.

What is cached is the content only, never the layout around it (it carries the CSP nonce, the CSRF
token, the messages and the navigation). A content fragment with a form in it is rendered with a
placeholder for the CSRF token, which `with_csrf_token` swaps for the request's own token on the way
out, so no token is ever stored.

The key says everything the content depends on:
- the applicant's version, bumped by every service that changes their pathway, and the reference
  version, bumped by every edit of templates, cycles, events and rule tables (milestones/versions.py);
- the applicant's local date (days left, "today", rules in force);
- the variant: who looks (the applicant, or an advisor by their id, so that what an advisor may see
  can differ by advisor) and anything else of the viewer's the content shows.
A deadline or an event passing within the day changes the content too ("overdue today"), so each entry
also records the first such moment after it was built and counts as missing from then on.

The cache is the project's configured one (Redis in production, process memory in `make run` and the
tests). Entries of old versions are never asked for again and expire after CONTENT_TTL.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from django.core.cache import cache
from django.middleware.csrf import get_token
from django.utils import timezone

from milestones.versions import PageState
from pathway.lib.times import today_in

# Long enough to matter, short enough that a day's worth of old-version entries goes away on its own.
CONTENT_TTL = 6 * 60 * 60
CSRF_PLACEHOLDER = "csrf-token-placeholder-4f1c"


def next_moment(now: datetime, instants: Iterable[datetime | None]) -> datetime | None:
    """The first of `instants` after `now` (a deadline or an event about to pass), or None."""
    return min((at for at in instants if at is not None and at > now), default=None)


def cached_content(
    *,
    kind: str,
    applicant_id: int,
    state: PageState,
    build: Callable[[datetime], tuple[object, datetime | None]],
    variant: str = "",
):
    """The content of `kind` for this applicant: from the cache, or `build(now)`, which returns the
    content and the moment it stops being right (or None), then stored.

    `state` (milestones.versions.page_state) must be read before `build` reads the data: content built
    from newer data than its key says is harmless (nobody asks for that key again); the other way
    round cannot happen.
    """
    now = timezone.now()
    key = (
        f"page:{kind}:{applicant_id}:{variant}:{state.applicant_version}:{state.reference_version}:"
        f"{today_in(state.tz, now).isoformat()}"
    )
    return cached(key, build, now=now)


def cached(key: str, build: Callable[[datetime], tuple[object, datetime | None]], *, now: datetime):
    """The entry under `key` while it is valid, else `build(now)`'s content, stored with its end."""
    entry = cache.get(key)
    if entry is not None and (entry[1] is None or now.timestamp() < entry[1]):
        return entry[0]
    content, valid_until = build(now)
    cache.set(key, (content, valid_until.timestamp() if valid_until else None), CONTENT_TTL)
    return content


def csrf_context() -> dict:
    """Context for rendering cacheable content: `{% csrf_token %}` writes the placeholder."""
    return {"csrf_token": CSRF_PLACEHOLDER}


def with_csrf_token(request, html: str) -> str:
    """The cached content with the request's own CSRF token in its forms."""
    if CSRF_PLACEHOLDER not in html:
        return html
    return html.replace(CSRF_PLACEHOLDER, get_token(request))
