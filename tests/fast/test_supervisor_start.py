"""The supervisor starts each part as soon as the parts it needs are ready, not one after another."""

from __future__ import annotations

from pathlib import Path

from scripts.stack.config import StackConfig
from scripts.stack.process import Part
from scripts.stack.supervisor import Supervisor, read_state


def test_a_part_waits_for_its_needs_and_independent_parts_start_together(tmp_path: Path) -> None:
    config = StackConfig(home=tmp_path, ports={}, secrets={})
    for folder in (config.logs, config.run):
        folder.mkdir()
    released = tmp_path / "slow-may-be-ready"

    def part(name: str, ready: Path, needs: tuple[str, ...] = ()) -> Part:
        return Part(name, command=lambda c: ["sleep", "60"], ready=lambda c: ready.exists(), needs=needs)

    slow, fast = part("slow", released), part("fast", tmp_path)  # fast is ready as soon as it runs
    after = part("after", tmp_path, needs=("slow",))
    supervisor = Supervisor(config, parts=(slow, after, fast))
    try:
        for watched in (slow, after, fast):
            supervisor.tend(watched)
        assert read_state(config, "slow").startswith("starting")
        assert read_state(config, "after") == "waiting for slow"
        supervisor.tend(fast)
        assert read_state(config, "fast").startswith("ready"), "fast waited for slow, which it does not need"

        released.touch()
        supervisor.tend(slow)
        assert read_state(config, "slow").startswith("ready")
        supervisor.tend(after)
        assert read_state(config, "after").startswith("starting")
        supervisor.tend(after)
        assert read_state(config, "after").startswith("ready")
    finally:
        supervisor.stop_all()
    assert all(read_state(config, name) == "stopped" for name in ("slow", "after", "fast"))
    assert not any(config.run.glob("*.pid")), "every part was stopped by its PID"
