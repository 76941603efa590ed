"""Middleware for every face."""

from __future__ import annotations

from django.utils.cache import patch_cache_control


class PrivateNoStoreMiddleware:
    """`Cache-Control: private, no-store` on every response to a signed-in user.

    Their pages, the JSON API answered to their session or token, even redirects and refused forms are
    theirs alone: no shared proxy may keep them, and no browser disk cache may hold them for the next
    person at a shared computer (or after logout). It must run after AuthenticationMiddleware (the API's
    token authentication sets request.user in the view) and after WhiteNoise, which answers static files
    before this is reached, so they stay cacheable.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.user.is_authenticated:
            patch_cache_control(response, private=True, no_store=True)
        return response
