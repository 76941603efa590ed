"""gunicorn's settings for the web process: `gunicorn -c python:pathway.gunicorn_conf pathway.wsgi ...`.

The access log is on (to stdout) and never writes the secrets that calendar-feed and unsubscribe URLs
carry in their path, whether in the request line, the Referer or any other field of the log format.
"""

from __future__ import annotations

from gunicorn.glogging import Logger

from pathway.lib.logs import SecretPathFilter

accesslog = "-"

# One instance: addFilter ignores a filter it already has, and gunicorn runs setup() again on reload.
SECRET_PATH_FILTER = SecretPathFilter()


class AccessLogWithoutSecrets(Logger):
    def setup(self, cfg):
        super().setup(cfg)
        self.access_log.addFilter(SECRET_PATH_FILTER)


logger_class = AccessLogWithoutSecrets
