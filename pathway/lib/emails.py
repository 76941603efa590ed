"""Every email the site sends goes through `send_templated_email`: one name, three templates.

`templates/emails/<name>_subject.txt`, `<name>_body.txt` and `<name>_body.html` are rendered with the
same context, so the plain-text and HTML parts can never drift apart in what they say.
"""

from __future__ import annotations

import email.policy

from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

# RFC 5322 allows header lines up to 998 characters. Python folds at 78 by default, and a long
# unbreakable value such as the List-Unsubscribe URL then comes out RFC 2047-encoded, which mail
# providers do not decode there: the one-click unsubscribe would silently stop working.
MAX_HEADER_LINE = 998


class _Message(EmailMultiAlternatives):
    def message(self, *, policy=email.policy.default):
        return super().message(policy=policy.clone(max_line_length=MAX_HEADER_LINE))


def send_templated_email(
    name: str, *, to: list[str], context: dict, headers: dict | None = None, mailer=None
):
    """Render and send the `name` email to `to`; returns the message that was sent.

    `mailer` is an already-open connection from `django.core.mail.mailers` for callers that send many
    messages in a row (the benchmark); by default the MAILERS["default"] backend is used.
    """
    # Subjects are a single header line: newlines from template whitespace would be a header injection error.
    subject = " ".join(render_to_string(f"emails/{name}_subject.txt", context).split())
    body = render_to_string(f"emails/{name}_body.txt", context)
    html = render_to_string(f"emails/{name}_body.html", context)
    message = _Message(subject, body, to=to, headers=headers or {})
    message.attach_alternative(html, "text/html")
    if mailer is not None:
        mailer.send_messages([message])
    else:
        message.send()
    return message
