"""gunicorn entry: ``gunicorn 'services.contacts.wsgi:app'``."""

from .app import create_app

app = create_app()
