"""Evidence originals on S3-compatible object storage (MinIO, Ceph RGW, any S3): the same
interface and receipt guarantees as the filesystem store, with nothing kept in the server's memory
or disk, so any number of server processes on any number of machines share one store.

Layout under ``s3://BUCKET/PREFIX/``:

- ``objects/ab/<sha256>`` — a stored original, written only after its bytes hashed to its name;
- ``incoming/<kit>/<sha256>/`` — an upload in progress: a multipart upload of the parts received
  so far (S3 wants parts of at least 5 MiB but the last), and ``tail-<offset>``, the bytes received
  after the parts, starting at ``offset``, not yet a part. Where the upload stands is read from
  the store each time (parts listed + the tail whose offset is where the parts end), so a server
  that died between writing a part and removing the tail it came from still answers right;
- ``incoming/<kit>/<sha256>/assembled`` — the completed multipart upload while it is hashed; copied
  to ``objects/`` only if its SHA-256 is the name.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from central.service.blobs import CHUNK_LIMIT, PART_LIFETIME, BlobBackend
from central.service.common import CentralError, valid_sha256, valid_uuid
from kit_app.i18n import _

if TYPE_CHECKING:
    from central.service.admin import Central

MIN_PART = 5 * 1024 * 1024  # S3's smallest part but the last
ENV_ENDPOINT = "KIT_CENTRAL_S3_ENDPOINT"  # e.g. http://minio.internal:9000 (credentials: the AWS_* variables)

log = logging.getLogger("central.storage")


class S3BlobStore(BlobBackend):
    """Originals in a bucket of S3-compatible object storage (see the module's docstring)."""

    def __init__(self, url: str, endpoint: str | None = None, client: Any = None) -> None:
        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.netloc:
            raise CentralError(_("an object store is named s3://BUCKET or s3://BUCKET/PREFIX, not {url}").format(
                url=url), 2)
        self.url = url
        self.bucket = parts.netloc
        self.prefix = parts.path.strip("/") + "/" if parts.path.strip("/") else ""
        if client is None:
            import boto3
            from botocore.config import Config

            client = boto3.client("s3", endpoint_url=endpoint or os.environ.get(ENV_ENDPOINT) or None,
                                  config=Config(retries={"max_attempts": 5, "mode": "standard"},
                                                s3={"addressing_style": "path"}))
        self.s3 = client

    def __str__(self) -> str:
        return self.url

    # ------------------------------------------------------------ keys
    def _key(self, sha: str) -> str:
        sha = valid_sha256(sha)
        return f"{self.prefix}objects/{sha[:2]}/{sha}"

    def _incoming(self, kit_id: str, sha: str) -> str:
        return f"{self.prefix}incoming/{valid_uuid(kit_id)}/{valid_sha256(sha)}/"

    def _error(self, exc: Exception) -> CentralError:
        log.error("evidence object store %s: %s", self.url, exc)
        return CentralError(_("the central server cannot write its evidence storage now ({reason}): the kit sends "
                              "the originals at a later sync").format(reason=type(exc).__name__), 503)

    def _missing(self, exc: Exception) -> bool:
        code = str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))
        return code in ("404", "NoSuchKey", "NotFound", "NoSuchUpload")

    # ------------------------------------------------------------ reading
    def size(self, sha: str) -> int | None:
        from botocore.exceptions import ClientError

        try:
            return int(self.s3.head_object(Bucket=self.bucket, Key=self._key(sha))["ContentLength"])
        except ClientError as exc:
            if self._missing(exc):
                return None
            raise self._error(exc) from exc

    def has(self, sha: str) -> bool:
        return self.size(sha) is not None

    def _read_key(self, key: str) -> Iterator[bytes]:
        body = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"]
        try:
            yield from body.iter_chunks(1 << 20)
        finally:
            body.close()

    def read(self, sha: str) -> Iterator[bytes]:
        return self._read_key(self._key(sha))

    def _list(self, prefix: str) -> Iterator[dict[str, Any]]:
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            yield from page.get("Contents", [])

    def names(self) -> Iterator[str]:
        return (o["Key"].rsplit("/", 1)[1] for o in self._list(f"{self.prefix}objects/"))

    # ------------------------------------------------------------ an upload's state, read from the store
    def _upload_id(self, key: str, create: bool = False) -> str | None:
        """The multipart upload assembling ``key`` (the oldest, if a race made two)."""
        found = self.s3.list_multipart_uploads(Bucket=self.bucket, Prefix=key).get("Uploads", [])
        found = sorted((u for u in found if u["Key"] == key), key=lambda u: u["Initiated"])
        if found:
            return str(found[0]["UploadId"])
        if not create:
            return None
        return str(self.s3.create_multipart_upload(Bucket=self.bucket, Key=key)["UploadId"])

    def _parts(self, key: str, upload_id: str | None) -> list[dict[str, Any]]:
        if upload_id is None:
            return []
        out: list[dict[str, Any]] = []
        for page in self.s3.get_paginator("list_parts").paginate(Bucket=self.bucket, Key=key, UploadId=upload_id):
            out += page.get("Parts", [])
        return sorted(out, key=lambda p: p["PartNumber"])

    def _state(self, kit_id: str, sha: str) -> tuple[str, str | None, list[dict[str, Any]], int, str | None, int]:
        """(assembled key, upload id, parts, bytes in parts, tail key, tail size). A tail that does not
        start where the parts end is left over from a part written just before a crash: dropped."""
        base = self._incoming(kit_id, sha)
        key = base + "assembled"
        upload_id = self._upload_id(key)
        parts = self._parts(key, upload_id)
        in_parts = sum(int(p["Size"]) for p in parts)
        tail_key, tail_size = None, 0
        for o in self._list(base + "tail-"):
            start = o["Key"].rsplit("-", 1)[1]
            if start.isdigit() and int(start) == in_parts:
                tail_key, tail_size = o["Key"], int(o["Size"])
            else:
                self.s3.delete_object(Bucket=self.bucket, Key=o["Key"])
        return key, upload_id, parts, in_parts, tail_key, tail_size

    def offset(self, kit_id: str, sha: str) -> int:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            _key, _u, _p, in_parts, _t, tail = self._state(kit_id, sha)
        except (ClientError, BotoCoreError) as exc:
            raise self._error(exc) from exc
        return in_parts + tail

    def in_progress(self, kit_id: str) -> int:
        base = f"{self.prefix}incoming/{valid_uuid(kit_id)}/"
        total = sum(int(o["Size"]) for o in self._list(base))
        for u in self.s3.list_multipart_uploads(Bucket=self.bucket, Prefix=base).get("Uploads", []):
            total += sum(int(p["Size"]) for p in self._parts(u["Key"], u["UploadId"]))
        return total

    # ------------------------------------------------------------ writing
    def append(self, kit_id: str, sha: str, offset: int, chunks: Any, size: int | None = None) -> int:
        """Append a chunk at ``offset`` (must equal what is held). The tail grows until it makes a
        part of at least 5 MiB — or the upload's last part, when ``size`` is reached."""
        from botocore.exceptions import BotoCoreError, ClientError

        data = b"".join(chunks)
        if len(data) > CHUNK_LIMIT:
            raise CentralError(_("a chunk may not exceed {CHUNK_LIMIT} bytes").format(CHUNK_LIMIT=CHUNK_LIMIT), 413)
        try:
            key, upload_id, parts, in_parts, tail_key, tail_size = self._state(kit_id, sha)
            have = in_parts + tail_size
            if offset != have:
                raise CentralError(_("the upload of {sha} continues at byte {have}, not {offset}").format(
                    sha=sha[:12], have=have, offset=offset), 409)
            pending = (b"".join(self._read_key(tail_key)) if tail_key else b"") + data
            last = size is not None and have + len(data) >= size
            if len(pending) >= MIN_PART or (last and upload_id is not None):
                upload_id = upload_id or self._upload_id(key, create=True)
                number = (parts[-1]["PartNumber"] + 1) if parts else 1
                self.s3.upload_part(Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=number,
                                    Body=pending)
                # when the upload last moved (what expiry goes by: some stores report no real
                # initiation time, and a long upload still moving is not abandoned)
                self.s3.put_object(Bucket=self.bucket, Key=self._incoming(kit_id, sha) + "active", Body=b"")
                if tail_key:
                    self.s3.delete_object(Bucket=self.bucket, Key=tail_key)
            elif data:
                new_tail = f"{self._incoming(kit_id, sha)}tail-{in_parts}"
                self.s3.put_object(Bucket=self.bucket, Key=new_tail, Body=pending)
        except (ClientError, BotoCoreError) as exc:
            raise self._error(exc) from exc
        return have + len(data)

    def finish(self, central: Central | None, kit_id: str, sha: str, size: int) -> bool:
        """Assemble the upload, check its SHA-256 and store it under its name (if the store holds
        it already, the upload proved the kit has it and is dropped); False (and the upload
        removed) if wrong."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            key, upload_id, parts, in_parts, tail_key, tail_size = self._state(kit_id, sha)
            if in_parts + tail_size != size:
                return False
            if upload_id is None:  # smaller than a part: the tail is the whole file
                data = b"".join(self._read_key(tail_key)) if tail_key else b""
                ok = hashlib.sha256(data).hexdigest() == sha
                if ok and not self.has(sha):
                    self.s3.put_object(Bucket=self.bucket, Key=self._key(sha), Body=data)
                    if central is not None:
                        self._account(central, kit_id, size)
                if tail_key:
                    self.s3.delete_object(Bucket=self.bucket, Key=tail_key)
                return ok
            if tail_key:  # cannot happen after append(size=…), but a part is never lost
                number = parts[-1]["PartNumber"] + 1 if parts else 1
                self.s3.upload_part(Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=number,
                                    Body=b"".join(self._read_key(tail_key)))
                self.s3.delete_object(Bucket=self.bucket, Key=tail_key)
                parts = self._parts(key, upload_id)
            self.s3.complete_multipart_upload(
                Bucket=self.bucket, Key=key, UploadId=upload_id,
                MultipartUpload={"Parts": [{"PartNumber": p["PartNumber"], "ETag": p["ETag"]} for p in parts]})
            h = hashlib.sha256()
            for block in self._read_key(key):
                h.update(block)
            ok = h.hexdigest() == sha
            if ok and not self.has(sha):
                self.s3.copy({"Bucket": self.bucket, "Key": key}, self.bucket, self._key(sha))  # multipart for big ones
                if central is not None:
                    self._account(central, kit_id, size)
            self.s3.delete_object(Bucket=self.bucket, Key=key)
            self.s3.delete_object(Bucket=self.bucket, Key=self._incoming(kit_id, sha) + "active")
            return ok
        except (ClientError, BotoCoreError) as exc:
            raise self._error(exc) from exc

    def put_many(self, items: list[tuple[str, bytes]], central: Central | None = None,
                 kit_id: str | None = None) -> list[str | None]:
        """Store small blobs whole (a bundle): each checked against its SHA-256 before it is put
        (a PUT is atomic: the object is there whole or not at all)."""
        from botocore.exceptions import BotoCoreError, ClientError

        results, new = self._new_whole(items, self.has)
        added = 0
        try:
            for sha, data in new:
                self.s3.put_object(Bucket=self.bucket, Key=self._key(sha), Body=data)
                added += len(data)
        except (ClientError, BotoCoreError) as exc:
            if central is not None and kit_id is not None:
                self._account(central, kit_id, added)
            raise self._error(exc) from exc
        if central is not None and kit_id is not None:
            self._account(central, kit_id, added)
        return results

    def expire(self, older_than: timedelta = PART_LIFETIME) -> int:
        """Abort uploads and remove tails left unfinished for longer than ``older_than``."""
        from botocore.exceptions import ClientError

        cutoff = datetime.now(UTC) - older_than
        removed = 0
        base = f"{self.prefix}incoming/"
        for page in self.s3.get_paginator("list_multipart_uploads").paginate(Bucket=self.bucket, Prefix=base):
            for u in page.get("Uploads", []):
                moved = u["Initiated"]
                with contextlib.suppress(ClientError):
                    moved = self.s3.head_object(Bucket=self.bucket,
                                                Key=u["Key"].rsplit("/", 1)[0] + "/active")["LastModified"]
                if moved < cutoff:
                    self.s3.abort_multipart_upload(Bucket=self.bucket, Key=u["Key"], UploadId=u["UploadId"])
                    removed += 1
        for o in list(self._list(base)):
            if o["LastModified"] < cutoff:
                self.s3.delete_object(Bucket=self.bucket, Key=o["Key"])
                removed += 1
        return removed


def open_blob_store(spec: Any, endpoint: str | None = None) -> BlobBackend:
    """The evidence store ``spec`` names: ``s3://BUCKET[/PREFIX]`` (object storage at ``endpoint``
    or ``$KIT_CENTRAL_S3_ENDPOINT``), else a directory."""
    from pathlib import Path

    from central.service.blobs import BlobStore

    if isinstance(spec, BlobBackend):
        return spec
    if str(spec).startswith("s3://"):
        return S3BlobStore(str(spec), endpoint)
    return BlobStore(Path(spec))
