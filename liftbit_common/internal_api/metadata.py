"""metadata_ms's routes: users, tokens, files and grants, resumable-upload state, the object ledger."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from liftbit_common.contracts import (
    CommitResult,
    DownloadRecord,
    FileCommit,
    FileInfo,
    Filename,
    FilePage,
    IssuedToken,
    LoginAttempt,
    NewAccount,
    NewUpload,
    ObjectKeys,
    ObjectRef,
    ProgressUpdate,
    RemovedObjects,
    StoredFile,
    TokenOwner,
    UploadAllowance,
    UploadState,
    UserCreated,
    UserInfo,
)
from liftbit_common.internal_api.route import Route

PageLimit = Annotated[int, Field(ge=1, le=1000)]


class AllowanceQuery(BaseModel):
    filename: Filename


class FileListQuery(BaseModel):
    limit: PageLimit = 100
    cursor: str | None = Field(None, description="next_cursor of the previous page")


class ReaderQuery(BaseModel):
    reader: str = Field(description="The user asking: the owner or a grantee, else 404")


class ActorQuery(BaseModel):
    actor: str = Field(description="Who deletes; named in the delete event")


class DeletionsQuery(BaseModel):
    limit: PageLimit = 500


class ExpiryReport(BaseModel):
    expired_uploads: int


REGISTER: Route[NewAccount, UserCreated] = Route("POST", "/users", NewAccount, UserCreated, status_code=201)
DESCRIBE_USER: Route[None, UserInfo] = Route("GET", "/users/{username}", answer=UserInfo)
REMOVE_USER: Route[None, RemovedObjects] = Route("DELETE", "/users/{username}", answer=RemovedObjects)
UPLOAD_ALLOWANCE: Route[AllowanceQuery, UploadAllowance] = Route(
    "GET", "/users/{username}/allowance", AllowanceQuery, UploadAllowance, request_in="query"
)
SHARED_WITH: Route[None, list[FileInfo]] = Route("GET", "/users/{username}/shared", answer=list[FileInfo])

ISSUE_TOKEN: Route[LoginAttempt, IssuedToken] = Route("POST", "/tokens", LoginAttempt, IssuedToken)
RESOLVE_TOKEN: Route[None, TokenOwner] = Route("GET", "/tokens/{token_hash}", answer=TokenOwner)
REVOKE_TOKEN: Route[None, None] = Route("DELETE", "/tokens/{token_hash}")

_FILE = "/users/{owner}/files/{filename}"
LIST_FILES: Route[FileListQuery, FilePage] = Route(
    "GET", "/users/{owner}/files", FileListQuery, FilePage, request_in="query"
)
READABLE_FILE: Route[ReaderQuery, StoredFile] = Route("GET", _FILE, ReaderQuery, StoredFile, request_in="query")
# 201 when the commit created the file, 200 when it replaced one.
COMMIT_FILE: Route[FileCommit, CommitResult] = Route("PUT", _FILE, FileCommit, CommitResult)
DELETE_FILE: Route[ActorQuery, ObjectRef] = Route("DELETE", _FILE, ActorQuery, ObjectRef, request_in="query")
RECORD_DOWNLOAD: Route[DownloadRecord, None] = Route("POST", f"{_FILE}/downloads", DownloadRecord)
GRANTEES: Route[None, list[str]] = Route("GET", f"{_FILE}/grants", answer=list[str])
GRANT: Route[None, None] = Route("PUT", f"{_FILE}/grants/{{grantee}}")
REVOKE_GRANT: Route[None, None] = Route("DELETE", f"{_FILE}/grants/{{grantee}}")

_UPLOAD = "/users/{owner}/uploads/{upload_id}"
CREATE_UPLOAD: Route[NewUpload, UploadState] = Route(
    "POST", "/users/{owner}/uploads", NewUpload, UploadState, status_code=201
)
GET_UPLOAD: Route[None, UploadState] = Route("GET", _UPLOAD, answer=UploadState)
ADVANCE_UPLOAD: Route[ProgressUpdate, UploadState] = Route("PATCH", _UPLOAD, ProgressUpdate, UploadState)
REMOVE_UPLOAD: Route[None, RemovedObjects] = Route("DELETE", _UPLOAD, answer=RemovedObjects)

DUE_DELETIONS: Route[DeletionsQuery, list[ObjectRef]] = Route(
    "GET", "/object-deletions", DeletionsQuery, list[ObjectRef], request_in="query"
)
DELETIONS_DONE: Route[ObjectKeys, None] = Route("POST", "/object-deletions/done", ObjectKeys)
UNREFERENCED_OBJECTS: Route[ObjectKeys, ObjectKeys] = Route("POST", "/objects/unreferenced", ObjectKeys, ObjectKeys)
MULTIPART_IN_USE: Route[ObjectKeys, ObjectKeys] = Route("POST", "/multipart-uploads/in-use", ObjectKeys, ObjectKeys)
EXPIRE_UPLOADS: Route[None, ExpiryReport] = Route("POST", "/maintenance/expire", answer=ExpiryReport)
