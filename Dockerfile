# One image for web, worker and beat (see docker-compose.yml; the worker runs
# `celery -A pathway worker --pool=threads --concurrency=4`, README "Deadline reminders").
FROM python:3.12-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 VAR_DIR=/var/lib/pathway
WORKDIR /app
COPY pyproject.toml ./
RUN pip install --upgrade pip
COPY . .
RUN pip install -e . \
 && mkdir -p /var/lib/pathway \
 && DEBUG=false SECRET_KEY=collectstatic-only ALLOWED_HOSTS=localhost SITE_URL=http://localhost \
    CACHE_URL=redis://unused SMTP_HOST=unused python manage.py collectstatic --noinput \
 && useradd --system --home /app pathway && chown -R pathway /var/lib/pathway
USER pathway
EXPOSE 8000
# pathway/gunicorn_conf.py: the access log, without the secrets some URLs carry.
CMD ["gunicorn", "-c", "python:pathway.gunicorn_conf", "pathway.wsgi", "--bind", "0.0.0.0:8000", "--workers", "2", "--threads", "4"]
