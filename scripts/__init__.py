"""The launcher (the stack package), the upload script and the docs helpers."""
