"""Helpers the tests share: the throw-away stack, users, events, HTTP checks, workloads. No test
module imports another test module; what two tests need lives here."""
