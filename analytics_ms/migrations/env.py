from analytics_ms.tables import metadata
from liftbit_common.db import run_migrations_in_env

run_migrations_in_env(metadata)
