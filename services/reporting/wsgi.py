"""gunicorn entry: ``gunicorn 'services.reporting.wsgi:app'``."""

from .app import create_app

app = create_app()
