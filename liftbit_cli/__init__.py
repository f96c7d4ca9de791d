"""`liftbit`, the command-line client of LiftBit's public API (typer + rich + httpx)."""
