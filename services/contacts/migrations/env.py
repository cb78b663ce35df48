from shared.migrations import run_env
from services.contacts.models import Base

run_env(Base.metadata)
