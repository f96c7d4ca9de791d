"""The launcher of the local stack (no Docker): `python -m scripts.stack up|down|status|…`.

- config: the data folder, ports, secrets and service settings of a stack
- info: StackInfo, the one reader of a running stack's stack.env and PID files
- process: how a part is started, checked and stopped
- parts/: one module per part (postgres, s3, broker, services, nginx)
- supervisor: starts the parts in order and restarts any that dies
- cli: the commands behind make up / down / status / logs
"""
