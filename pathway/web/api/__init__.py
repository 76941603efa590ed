"""The JSON API (/api/v1/), for applicants' own scripts: read the pathway, record progress, read cycle dates,
search the program directory and add programs to one's own list.

Authentication: the browser session (with CSRF for unsafe methods) or a personal access token sent as
`Authorization: Bearer ppl_...` (created on /settings/tokens/). Pathway endpoints serve applicants only;
everyone else gets 404, as on the HTML pages. Times are ISO 8601 in US Eastern time, where the Match
defines its deadlines.
"""

from __future__ import annotations

from ninja import NinjaAPI

from . import cycles, pathway, programs, season
from .auth import SessionAuth, TokenAuth

api = NinjaAPI(
    title="Residency Pathway Planner API",
    version="1",
    description=__doc__,
    auth=[TokenAuth(), SessionAuth()],
    urls_namespace="api",
    # Swagger UI would load its assets from a CDN, which our CSP (and offline use) rules out.
    docs_url=None,
)
api.add_router("", pathway.router)
api.add_router("", cycles.router)
api.add_router("", programs.router)
api.add_router("", season.router)
