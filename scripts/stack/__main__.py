from scripts.stack.cli import app

app()
