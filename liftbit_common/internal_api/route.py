"""One internal route: its method, path template, request and answer models."""

from __future__ import annotations

import inspect
import re
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar
from urllib.parse import quote

from fastapi import APIRouter
from fastapi.params import Query as QueryParam
from pydantic import BaseModel, TypeAdapter

RequestT = TypeVar("RequestT", bound=BaseModel | None)
AnswerT = TypeVar("AnswerT")
Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])

_PATH_PARAMETER = re.compile(r"{(\w+)(?::\w+)?}")


@dataclass(frozen=True)
class Route(Generic[RequestT, AnswerT]):
    """``request`` travels as the JSON body, or with ``request_in="query"`` as the query string
    (then the body, if ``streams_body``, is a byte stream). ``answer`` None means 204 No Content."""

    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
    path: str
    request: type[RequestT] | None = None
    answer: type[AnswerT] | None = None
    request_in: Literal["json", "query"] = "json"
    streams_body: bool = False
    status_code: int | None = None  # default: 200, or 204 without an answer
    path_parameters: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "path_parameters", tuple(_PATH_PARAMETER.findall(self.path)))
        if self.streams_body and (self.request is not None and self.request_in != "query"):
            raise ValueError(f"{self}: a streamed body leaves only the query string for the request model")

    @property
    def success_status(self) -> int:
        return self.status_code or (200 if self.answer is not None else 204)

    def url(self, parameters: dict[str, object]) -> str:
        """The path with each parameter filled in, percent-encoded whole (a filename may hold '?' or '%')."""
        if set(parameters) != set(self.path_parameters):
            raise TypeError(f"{self.method} {self.path} takes {self.path_parameters}, not {tuple(parameters)}")
        return _PATH_PARAMETER.sub(lambda match: quote(str(parameters[match[1]]), safe=""), self.path)

    def answer_shape(self) -> type[AnswerT]:
        if self.answer is None:
            raise TypeError(f"{self.method} {self.path} answers no content")
        return self.answer

    def answer_adapter(self) -> TypeAdapter[AnswerT]:
        return _adapter(self.answer_shape())


@dataclass(frozen=True)
class Encoded(Generic[AnswerT]):
    """An answer as its service encoded it (the JSON of ``shape``), for passing on unparsed:
    parsing a 1,000-entry listing and encoding it again cost files_ms 5 ms of CPU per request."""

    shape: type[AnswerT]
    json: bytes

    def parsed(self) -> AnswerT:
        return _adapter(self.shape).validate_json(self.json)


ModelT = TypeVar("ModelT", bound=BaseModel)


def encoded(answer: ModelT) -> Encoded[ModelT]:
    return Encoded(type(answer), answer.model_dump_json().encode())


_ADAPTERS: dict[object, TypeAdapter[Any]] = {}


def _adapter(shape: type[AnswerT]) -> TypeAdapter[AnswerT]:
    """One TypeAdapter per answer shape; building them is not free."""
    if shape not in _ADAPTERS:
        _ADAPTERS[shape] = TypeAdapter(shape)
    return typing.cast("TypeAdapter[AnswerT]", _ADAPTERS[shape])


def serve(router: APIRouter, route: Route[Any, Any], **route_options: Any) -> Callable[[Endpoint], Endpoint]:
    """Register the decorated handler for ``route`` on ``router``, after checking that it takes the
    route's path parameters and request model and returns its answer model."""

    def register(endpoint: Endpoint) -> Endpoint:
        _check_handler(route, endpoint)
        router.add_api_route(
            route.path,
            endpoint,
            methods=[route.method],
            status_code=route.success_status,
            response_model=route.answer,
            **route_options,
        )
        return endpoint

    return register


def _check_handler(route: Route[Any, Any], endpoint: Callable[..., Any]) -> None:
    where = f"{endpoint.__module__}.{endpoint.__qualname__} serving {route.method} {route.path}"
    hints = typing.get_type_hints(endpoint, include_extras=True)
    parameters = inspect.signature(endpoint).parameters
    missing = [name for name in route.path_parameters if name not in parameters]
    if missing:
        raise TypeError(f"{where} lacks the path parameters {missing}")
    if route.request is not None and not any(
        _is_request(hints.get(name), route) for name in parameters if name not in route.path_parameters
    ):
        where_to = "the query model" if route.request_in == "query" else "the body"
        raise TypeError(f"{where} must take {route.request.__name__} as {where_to}")
    answer = hints.get("return")
    expected = type(None) if route.answer is None else route.answer
    if answer != expected:
        raise TypeError(f"{where} must return {expected}, not {answer}")


def _is_request(hint: object, route: Route[Any, Any]) -> bool:
    if route.request_in == "json":
        return hint is route.request
    if typing.get_origin(hint) is not typing.Annotated:
        return False
    model, *metadata = typing.get_args(hint)
    return model is route.request and any(isinstance(item, QueryParam) for item in metadata)
