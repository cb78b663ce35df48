"""gunicorn entry: ``gunicorn 'services.customers.wsgi:app'``."""

from .app import create_app

app = create_app()
