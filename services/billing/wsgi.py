"""gunicorn entry: ``gunicorn 'services.billing.wsgi:app'``."""

from .app import create_app

app = create_app()
