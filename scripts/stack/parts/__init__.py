"""The parts of the stack, one module each, in dependency order; each starts as soon as the parts it
`needs` are ready, so independent ones start side by side."""

from __future__ import annotations

from scripts.stack.config import PART_NAMES
from scripts.stack.parts import broker, nginx, postgres, s3, services
from scripts.stack.process import Part

PARTS: tuple[Part, ...] = (
    postgres.PART,
    s3.PART,
    broker.PART,
    services.METADATA,
    services.STORAGE,
    services.ANALYTICS,
    services.FILES,
    nginx.PART,
)
assert tuple(part.name for part in PARTS) == PART_NAMES, "config.PART_NAMES names the parts in start order"
