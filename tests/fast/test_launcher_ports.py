"""--port-base auto picks blocks outside the kernel's range for outgoing connections."""

from __future__ import annotations

from pathlib import Path

from scripts.stack.config import AUTO_PORT_BASES, PORT_OFFSETS, WEED_GRPC_SHIFT, WEED_PORTS, pick_free_base


def test_every_auto_block_stays_below_the_ephemeral_range() -> None:
    ephemeral_low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    highest = AUTO_PORT_BASES[-1] + max(PORT_OFFSETS[name] for name in WEED_PORTS) + WEED_GRPC_SHIFT
    assert highest < ephemeral_low
    assert AUTO_PORT_BASES[0] >= 10000  # and above the ports people run things on by hand (3000, 8080)


def test_a_picked_base_is_one_of_them() -> None:
    assert pick_free_base() in AUTO_PORT_BASES
