from shared.migrations import run_env
from services.reminders.models import Base

run_env(Base.metadata)
