"""The S3 adapter: blocking boto3 calls, each run in a worker thread so the event loop never waits."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from liftbit_common.errors import ErrorCode, NotFound, ServiceUnavailable

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

T = TypeVar("T")
_UNREACHABLE = (EndpointConnectionError, ConnectionError, ConnectTimeoutError, ReadTimeoutError)


@dataclass(frozen=True)
class StaleObject:
    key: str
    last_modified: datetime


@dataclass(frozen=True)
class StaleMultipart:
    key: str
    upload_id: str
    initiated: datetime


class ObjectStore:
    def __init__(
        self,
        *,
        endpoint_url: str | None,
        key_id: str | None,
        key_secret: str | None,
        region: str,
        bucket: str,
        max_connections: int,
        connect_timeout: float,
        read_timeout: float,
        max_attempts: int,
    ) -> None:
        self.bucket = bucket
        self._client: S3Client = boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            aws_access_key_id=key_id,
            aws_secret_access_key=key_secret,
            region_name=region,
            config=Config(
                connect_timeout=connect_timeout,
                read_timeout=read_timeout,
                retries={"total_max_attempts": max_attempts, "mode": "standard"},
                max_pool_connections=max_connections,
                # Checksums the server does not ask for only cost CPU; we hash with SHA-256 ourselves.
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
                # Over plain HTTP botocore would SHA-256 every part to sign it (and the server hash it
                # again to check): the body is hashed once already, while it streams.
                s3={"addressing_style": "path" if endpoint_url else "auto", "payload_signing_enabled": False},
                signature_version="s3v4",
            ),
        )

    async def _call(self, function: Callable[..., T], /, **kwargs: Any) -> T:
        try:
            return await asyncio.to_thread(function, **kwargs)
        except _UNREACHABLE as exc:
            raise ServiceUnavailable("s3", f"s3 is unavailable: {exc}") from exc
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in ("NoSuchKey", "404", "NoSuchUpload"):
                raise NotFound("object not found", code=ErrorCode.OBJECT_NOT_FOUND) from exc
            if exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) >= 500:
                raise ServiceUnavailable("s3", f"s3 failed: {code}") from exc
            raise
        except BotoCoreError as exc:
            raise ServiceUnavailable("s3", f"s3 is unavailable: {exc}") from exc

    async def ensure_bucket(self) -> None:
        try:
            await self._call(self._client.head_bucket, Bucket=self.bucket)
        except NotFound:
            await self._call(self._client.create_bucket, Bucket=self.bucket)

    async def check(self) -> None:
        await self._call(self._client.head_bucket, Bucket=self.bucket)

    async def put(self, key: str, body: bytes | bytearray, content_type: str) -> None:
        await self._call(self._client.put_object, Bucket=self.bucket, Key=key, Body=body, ContentType=content_type)

    async def get_bytes(self, key: str) -> bytes:
        response = await self._call(self._client.get_object, Bucket=self.bucket, Key=key)
        return await asyncio.to_thread(response["Body"].read)

    async def iter_object(self, key: str, chunk_size: int) -> AsyncIterator[bytes]:
        response = await self._call(self._client.get_object, Bucket=self.bucket, Key=key)
        body = response["Body"]
        try:
            while chunk := await asyncio.to_thread(body.read, chunk_size):
                yield chunk
        finally:
            body.close()

    async def start_multipart(self, key: str, content_type: str) -> str:
        response = await self._call(
            self._client.create_multipart_upload, Bucket=self.bucket, Key=key, ContentType=content_type
        )
        return response["UploadId"]

    async def upload_part(self, key: str, upload_id: str, number: int, body: bytes | bytearray) -> str:
        response = await self._call(
            self._client.upload_part, Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=body
        )
        return response["ETag"]

    async def complete_multipart(self, key: str, upload_id: str, parts: Sequence[tuple[int, str]]) -> None:
        await self._call(
            self._client.complete_multipart_upload,
            Bucket=self.bucket,
            Key=key,
            UploadId=upload_id,
            MultipartUpload={"Parts": [{"PartNumber": n, "ETag": etag} for n, etag in sorted(parts)]},
        )

    async def abort_multipart(self, key: str, upload_id: str) -> None:
        with contextlib.suppress(NotFound):  # already gone: aborting is idempotent for us
            await self._call(self._client.abort_multipart_upload, Bucket=self.bucket, Key=key, UploadId=upload_id)

    async def delete(self, keys: Iterable[str]) -> None:
        batch = [{"Key": key} for key in keys]
        for start in range(0, len(batch), 1000):  # S3's limit per DeleteObjects call
            await self._call(
                self._client.delete_objects,
                Bucket=self.bucket,
                Delete={"Objects": batch[start : start + 1000], "Quiet": True},
            )

    def presign_get(self, key: str, *, ttl_seconds: int, content_type: str, content_disposition: str) -> str:
        """A short-lived GET URL; nginx fetches it for the client (X-Accel-Redirect)."""
        return self._client.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.bucket,
                "Key": key,
                "ResponseContentType": content_type,
                "ResponseContentDisposition": content_disposition,
            },
            ExpiresIn=ttl_seconds,
        )

    async def list_objects(self, start_after: str | None, limit: int) -> list[StaleObject]:
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "MaxKeys": limit}
        if start_after:
            kwargs["StartAfter"] = start_after
        response = await self._call(self._client.list_objects_v2, **kwargs)
        return [StaleObject(o["Key"], o["LastModified"]) for o in response.get("Contents", [])]

    async def list_multipart_uploads(self) -> list[StaleMultipart]:
        response = await self._call(self._client.list_multipart_uploads, Bucket=self.bucket)
        return [StaleMultipart(u["Key"], u["UploadId"], u["Initiated"]) for u in response.get("Uploads", [])]
