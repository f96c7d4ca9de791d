from liftbit_common.db import run_migrations_in_env
from metadata_ms.models import Base

run_migrations_in_env(Base.metadata)
