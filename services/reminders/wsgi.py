"""gunicorn entry: ``gunicorn 'services.reminders.wsgi:app'``."""

from .app import create_app

app = create_app()
