"""The path, query and header parameters that several JSON routes share (路径、查询与请求头参数),
each with its description (Chinese term, then English) and a valid example for the OpenAPI
document. Validation is FastAPI's, by the bounds given here; what a value means to the rules is
the route's and the domain's."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Header, Path, Query

from projections.queries import encode_cursor

from . import schema_examples as ex

PlatformId = Annotated[UUID, Path(description="平台编号 The platform's id (UUID), as `POST /platforms` answered it",
                                  examples=[ex.PLATFORM_ID])]
IdempotencyKey = Annotated[str | None, Header(
    alias="Idempotency-Key", max_length=200, examples=["6f1d2c3b-apply-xinghe-20211206"],
    description="幂等键 Idempotency key: 1-200 printable ASCII characters chosen by the client; a retry with the "
    "same key and the same request answers the first result instead of acting twice (header "
    "`Idempotent-Replayed: true`), the same key with another request is refused")]
IfMatch = Annotated[str | None, Header(
    alias="If-Match", max_length=20, examples=['"18"'],
    description="版本校验 The platform version the client saw (its `version`, or the ETag of `GET "
    "/platforms/{id}`); 412 if the platform has changed since")]
MinPosition = Annotated[int | None, Query(
    ge=0, le=2**53, examples=[188],
    description="读己之写 Wait until the read models have processed this event-log position (the `position` a "
    "command answered: read your writes); 422 beyond the end of the log, 503 if they lag")]
Limit = Annotated[int, Query(ge=1, le=500, description="每页条数 How many items a page holds (1-500)",
                             examples=[50])]
# Lists that answered every item before they were paged keep doing so without ?limit=.
WholeLimit = Annotated[int | None, Query(ge=1, le=500, examples=[50],
                                         description="每页条数 Items per page (1-500); every item without it")]
_CURSOR = "翻页游标 `next_cursor` of the previous page"
# Each list's cursors are its own (a cursor of another list is refused): each example is a real one.
PlatformsCursor = Annotated[str | None, Query(max_length=200, examples=[encode_cursor("p", 1)], description=_CURSOR)]
BatchesCursor = Annotated[str | None, Query(max_length=200, examples=[encode_cursor("b", 1)], description=_CURSOR)]
HistoryCursor = Annotated[str | None, Query(max_length=200, examples=[encode_cursor("h", 50)], description=_CURSOR)]
SubfieldsCursor = Annotated[str | None, Query(max_length=200, examples=[encode_cursor("s", 10)], description=_CURSOR)]
PoliciesCursor = Annotated[str | None, Query(max_length=200, examples=[encode_cursor("v", 1)], description=_CURSOR)]
DeadlinesCursor = Annotated[str | None, Query(max_length=200, examples=[encode_cursor("d", 50)], description=_CURSOR)]
LogCursor = Annotated[str | None, Query(max_length=200, examples=[encode_cursor("l", 100)],
                                        description=f"{_CURSOR} (instead of `after`)")]
CheckpointsCursor = Annotated[str | None, Query(max_length=200, examples=[encode_cursor("c", 100)],
                                                description=f"{_CURSOR} (instead of `after`)")]
FiscalYear = Annotated[int | None, Query(ge=2000, le=2100, examples=[2023],
                                         description="财政年度 Only this fiscal year (a calendar year); "
                                         "default: every year")]

__all__ = ["BatchesCursor", "CheckpointsCursor", "DeadlinesCursor", "FiscalYear", "HistoryCursor", "IdempotencyKey",
           "IfMatch", "Limit", "LogCursor", "MinPosition", "PlatformId", "PlatformsCursor", "PoliciesCursor",
           "SubfieldsCursor", "WholeLimit"]
