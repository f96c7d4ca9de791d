"""SeaweedFS's S3 server (`weed mini`, 128 MB volumes: `weed server`'s 30 GB volumes run out of
space as soon as a second bucket exists), with the stack's own credentials."""

from __future__ import annotations

import json

from scripts.stack.config import VENV_BIN, StackConfig, write_private
from scripts.stack.process import Part

READY_PROBE_KEY = ".liftbit-ready-probe"
BUCKETS = ("liftbit", "tansu")


def identities(config: StackConfig) -> str:
    path = config.run / "s3-identities.json"
    identity = {
        "identities": [
            {
                "name": "liftbit",
                "credentials": [
                    {"accessKey": config.secrets["S3_KEY_ID"], "secretKey": config.secrets["S3_KEY_SECRET"]}
                ],
                "actions": ["Admin", "Read", "Write", "List", "Tagging"],
            }
        ]
    }
    write_private(path, json.dumps(identity))
    return str(path)


def command(config: StackConfig) -> list[str]:
    (config.home / "s3").mkdir(exist_ok=True)
    p = config.ports
    return [
        str(VENV_BIN / "weed"),
        "mini",
        f"-dir={config.home / 's3'}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-master.port={p['WEED_MASTER_PORT']}",
        f"-volume.port={p['WEED_VOLUME_PORT']}",
        f"-filer.port={p['WEED_FILER_PORT']}",
        f"-s3.port={p['S3_PORT']}",
        f"-admin.port={p['WEED_ADMIN_PORT']}",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        "-webdav=false",
        "-admin.ui=false",
        f"-s3.config={identities(config)}",
        f"-bucket={','.join(BUCKETS)}",
        "-master.telemetry=false",
    ]


def ready(config: StackConfig) -> bool:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    client = boto3.client(
        "s3",
        endpoint_url=config.s3_url,
        aws_access_key_id=config.secrets["S3_KEY_ID"],
        aws_secret_access_key=config.secrets["S3_KEY_SECRET"],
        region_name="us-east-1",
        config=Config(connect_timeout=1, read_timeout=2, retries={"total_max_attempts": 1}),
    )
    try:
        for bucket in BUCKETS:
            client.head_bucket(Bucket=bucket)
        # Buckets answer before the volume server has registered; ready means a write succeeds.
        client.put_object(Bucket="liftbit", Key=READY_PROBE_KEY, Body=b"")
        client.delete_object(Bucket="liftbit", Key=READY_PROBE_KEY)
    except (BotoCoreError, ClientError):
        return False
    return True


PART = Part("s3", command=command, ready=ready, start_timeout=90)
