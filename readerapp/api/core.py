"""The API's machinery: problem+json errors, Bearer authentication, pagination and preconditions.

Every error under ``/api/`` is ``application/problem+json`` (RFC 9457). flask-smorest registers
one app-wide handler for HTTP errors; ``ReaderApi`` keeps it for ``/api/`` and hands every other
path back to the site's own error pages.
"""

from __future__ import annotations

import http
import json
from collections.abc import Callable
from copy import deepcopy
from functools import wraps
from typing import Any

import apispec
import marshmallow as ma
import sqlalchemy as sa
from flask import Response, current_app, g, request, url_for
from flask_login import AnonymousUserMixin
from flask_smorest import Api
from flask_smorest import Blueprint as SmorestBlueprint
from flask_smorest.pagination import PaginationMetadataSchema, PaginationParameters
from flask_smorest.utils import prepare_response, unpack_tuple_response
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from webargs.flaskparser import FlaskParser
from werkzeug.exceptions import HTTPException

from ..access import is_staff
from ..errors import FieldError, VersionConflict
from ..extensions import db
from ..security import token_accepted
from ..users.models import User

PROBLEM_CONTENT_TYPE = "application/problem+json"
API_PREFIX = "/api/"
# PostgreSQL's integer: ids and counts outside it can never match a row.
MAX_INT = 2**31 - 1
# No request body of this API nests more than a few levels; a deeper one is refused before it
# can exhaust the stack of the decoder or of the validation that walks it.
MAX_JSON_DEPTH = 32


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details, as every API error is answered."""

    type = ma.fields.String(
        required=True, metadata={"description": "A URI naming the kind of problem."}
    )
    title = ma.fields.String(required=True, metadata={"description": "Short summary."})
    status = ma.fields.Integer(required=True, metadata={"description": "The HTTP status."})
    detail = ma.fields.String(
        required=True, metadata={"description": "What went wrong, for a person to read."}
    )
    errors = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Raw()),
        metadata={
            "description": 'Per-field messages by location, e.g. {"json": {"field": ["msg"]}}.'
        },
    )


DEFAULT_DETAIL = {
    400: "The request could not be understood.",
    401: "Send a valid personal API token as 'Authorization: Bearer <token>'.",
    403: "Your account may not do this.",
    404: "There is nothing here, or you may not see it.",
    405: "This method is not allowed on this URL.",
    409: "The request conflicts with the current state of the data.",
    412: "The resource changed since you read it: read it again and resend with its new ETag.",
    413: "The request body is too large.",
    422: "Some fields are not valid; see 'errors'.",
    428: "This update needs an If-Match header with the ETag you last read.",
    500: "Something went wrong on our side. It has been logged.",
}


def problem(
    status: int,
    detail: str | None = None,
    *,
    errors: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    title = http.HTTPStatus(status).phrase if status in http.HTTPStatus._value2member_map_ else ""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title or "Error",
        "status": status,
        "detail": detail or DEFAULT_DETAIL.get(status, title or "Error"),
    }
    if errors:
        body["errors"] = errors
    response = current_app.response_class(
        json.dumps(body), status=status, content_type=PROBLEM_CONTENT_TYPE
    )
    for name, value in (headers or {}).items():
        response.headers[name] = value
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="readerapp"'
    return response


def _errors_of(data: dict[str, Any]) -> dict[str, Any] | None:
    errors = data.get("errors") or data.get("messages")
    if not isinstance(errors, dict):
        return None
    # webargs nests by location ({"json": {...}, "query": {...}}); a message about a location as
    # a whole (a body that is not JSON) goes under "_schema", as marshmallow names it.
    return {
        location: messages if isinstance(messages, dict) else {"_schema": messages}
        for location, messages in errors.items()
    }


class ProblemAnswers(apispec.BasePlugin):
    """Documents the problem answers every operation can give besides those its view declares:
    401 without a valid token, 404 for an id that is not there or not yours, and for writes 403
    (your role may not) and 409 (the change clashes with existing data)."""

    WRITES = frozenset({"post", "put", "patch", "delete"})

    def operation_helper(
        self, path: str | None = None, operations: dict | None = None, **kwargs: Any
    ) -> None:
        for method, operation in (operations or {}).items():
            statuses = [401]
            if method in self.WRITES:
                statuses += [403, 404, 409]
            elif "{" in (path or ""):
                statuses.append(404)
            responses = operation.setdefault("responses", {})
            for status in statuses:
                responses.setdefault(str(status), http.HTTPStatus(status).name)


class ReaderApi(Api):
    """flask-smorest's Api, answering and documenting errors as problem+json."""

    ERROR_SCHEMA = ProblemSchema

    def handle_http_exception(self, error: HTTPException) -> Response:  # type: ignore[override]
        if not request.path.startswith(API_PREFIX):
            from ..web.errors import render_error

            if error.code and error.code >= 500:
                db.session.rollback()
            return render_error(error)
        status = error.code or 500
        if status == 304:  # flask-smorest's "Not Modified" travels as an exception; no body
            return current_app.response_class(status=304)
        if status >= 500:
            db.session.rollback()
        data = getattr(error, "data", None) or {}
        detail = data.get("message") if isinstance(data.get("message"), str) else None
        if detail is None and status < 500 and error.description:
            detail = _default_description(error)
        headers = {k: v for k, v in (data.get("headers") or {}).items() if k != "Content-Type"}
        if status == 405:
            allow = error.get_response().headers.get("Allow")
            if allow:
                headers["Allow"] = allow
        return problem(status, detail, errors=_errors_of(data), headers=headers)

    def _register_responses(self) -> None:
        """Document every error response as problem+json (flask-smorest says application/json)."""
        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_CONTENT_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Default error response", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_CONTENT_TYPE)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)

    def _register_pagination_header(self) -> None:
        """X-Pagination carries JSON: documented as content, not as an object-valued header
        (which OpenAPI would serialise as "key,value,...")."""
        self.spec.components.header(
            "PAGINATION",
            {
                "description": "Pagination metadata, as JSON.",
                "content": {"application/json": {"schema": PaginationMetadataSchema}},
            },
            lazy=True,
        )


def _default_description(error: HTTPException) -> str | None:
    """Werkzeug's generic descriptions talk about browsers; ours talk to API clients."""
    if error.code == 413:
        limit = request.max_content_length
        return f"The request body is larger than the {limit} bytes allowed." if limit else None
    generic = type(error).description
    if error.description and error.description != generic:
        return error.description
    return None


# --- Request bodies ------------------------------------------------------------------------------


def _nested_deeper_than(value: Any, limit: int) -> bool:
    """Whether decoded JSON nests lists and objects more than ``limit`` levels, walked level
    by level without recursion. (The decoder makes exact dicts and lists: ``type`` is enough,
    and much faster than isinstance on a long flat list.)"""
    level = [value] if type(value) in (dict, list) else []
    for _ in range(limit):
        below = []
        for item in level:
            for child in item.values() if type(item) is dict else item:
                if type(child) in (dict, list):
                    below.append(child)
        if not below:
            return False
        level = below
    return True


class JsonBodyParser(FlaskParser):
    """webargs' parser, refusing with a 400 a JSON body nested too deeply to decode or walk."""

    def _raw_load_json(self, req: Any) -> Any:
        from flask_smorest import abort

        message = f"The JSON body nests more than {MAX_JSON_DEPTH} levels deep."
        try:
            data = super()._raw_load_json(req)
        except RecursionError:
            abort(400, message=message, errors={"json": {"_schema": [message]}})
        if _nested_deeper_than(data, MAX_JSON_DEPTH):
            abort(400, message=message, errors={"json": {"_schema": [message]}})
        return data


def limit_body() -> None:
    """API bodies are small records: a smaller limit than the site's uploads (413 above it)."""
    request.max_content_length = current_app.config["API_MAX_BODY_BYTES"]


# --- Pagination with page / per_page -------------------------------------------------------------


class PageArgsSchema(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    page = ma.fields.Integer(
        load_default=1,
        validate=ma.validate.Range(min=1, max=MAX_INT),
        metadata={"description": "Page number, from 1."},
    )
    page_size = ma.fields.Integer(
        data_key="per_page",
        load_default=20,
        validate=ma.validate.Range(min=1, max=100),
        metadata={"description": "Items per page (1 to 100)."},
    )

    @ma.post_load
    def make_paginator(self, data: dict[str, int], **kwargs: Any) -> PaginationParameters:
        return PaginationParameters(**data)


class Blueprint(SmorestBlueprint):
    """A resource blueprint: Bearer-authenticated, problem+json errors, page/per_page."""

    _page_parser = FlaskParser()
    ARGUMENTS_PARSER = JsonBodyParser()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.before_request(limit_body)
        self.before_request(authenticate_request)
        self.after_request(_private)
        self.register_error_handler(IntegrityError, _integrity_error)
        self.register_error_handler(DataError, _data_error)
        self.register_error_handler(StaleDataError, _stale_error)
        # Every domain's refusal is a FieldError (a subclass of it): one handler answers them
        # all, so a new domain error needs no handler of its own.
        self.register_error_handler(FieldError, _unprocessable)
        self.register_error_handler(VersionConflict, _version_conflict)

    def paginate(self, pager: Any = None, **kwargs: Any) -> Callable[[Any], Any]:  # type: ignore[override]
        """Pagination in the resource: the view gets ``pagination_parameters``, sets item_count.

        flask-smorest calls the size ``page_size``; the API's clients know ``per_page``.
        """
        status = self._page_parser.DEFAULT_VALIDATION_STATUS

        def decorator(func: Callable[..., Any]) -> Callable[..., Any]:
            @wraps(func)
            def wrapper(*args: Any, **kw: Any) -> Any:
                params = self._page_parser.parse(PageArgsSchema, request, location="query")
                kw["pagination_parameters"] = params
                result, code, headers = unpack_tuple_response(
                    current_app.ensure_sync(func)(*args, **kw)
                )
                if getattr(params, "after", None) is not None:
                    # A cursor's page has no number: the header says how many match in all.
                    headers = {
                        **(headers or {}),
                        self.PAGINATION_HEADER_NAME: json.dumps({"total": params.item_count}),
                    }
                else:
                    result, headers = self._set_pagination_metadata(params, result, headers)
                if getattr(params, "next_url", None):
                    headers = {**(headers or {}), "Link": f'<{params.next_url}>; rel="next"'}
                return result, code, headers

            wrapper._apidoc = deepcopy(getattr(wrapper, "_apidoc", {}))  # type: ignore[attr-defined]
            wrapper._apidoc["pagination"] = {  # type: ignore[attr-defined]
                "parameters": {"in": "query", "schema": PageArgsSchema},
                "response": {status: http.HTTPStatus(status).name},
            }
            return wrapper

        return decorator


def _count(query: Any) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(query.order_by(None).subquery())
    )


def paginate_query(query: Any, params: PaginationParameters) -> list[Any]:
    """One page of a SELECT, with the total count for the X-Pagination header."""
    params.item_count = _count(query)
    page = query.limit(params.page_size).offset(params.first_item)
    return list(db.session.scalars(page).unique())


def keyset_page(
    query: Any,
    params: PaginationParameters,
    after: Any | None,
    cursor_of: Callable[[Any], str],
) -> list[Any]:
    """A page that can continue from a cursor: ``after`` is the condition "ordered after the
    cursor's row" (None without a cursor, then ``page`` counts as usual).

    OFFSET walks past every earlier row, so deep pages get slower the deeper they are; a cursor
    seeks straight to its row. Either way the answer's Link header names the next page by cursor.
    """
    if after is None:
        items = paginate_query(query, params)
        more = params.first_item + len(items) < (params.item_count or 0)
    else:
        params.after = after
        params.item_count = _count(query)
        rows = list(db.session.scalars(query.where(after).limit(params.page_size + 1)).unique())
        items, more = rows[: params.page_size], len(rows) > params.page_size
    if more and items:
        args = request.args.to_dict()
        args.pop("page", None)
        args["after"] = cursor_of(items[-1])
        params.next_url = url_for(request.endpoint or "", **(request.view_args or {}), **args)
    return items


# --- Domain errors -------------------------------------------------------------------------------


def _integrity_error(error: IntegrityError) -> Response:
    db.session.rollback()
    return problem(409, "This would duplicate or break a link to existing data.")


def _data_error(error: DataError) -> Response:
    db.session.rollback()
    return problem(422, "A value is out of range or not in the expected form.")


def _stale_error(error: StaleDataError) -> Response:
    db.session.rollback()
    return problem(412)


# Operations name the form field at fault; the API's field is sometimes called otherwise.
API_FIELD_NAMES = {
    "register_codes": "register",
    "new_codes": "register",
    "materials": "material_ids",
    "reason": "cancellation_reason",
    "date": "start_dt",
    "air_date": "air_dt",
    "air_time": "air_dt",
    "repeat_of": "repeat_of_id",
    "measure_version_id": "measure_key",
}


def _unprocessable(error: FieldError) -> Response:
    """A rule an operation refused: 422 on the field at fault, or 409 when the input clashes
    with data that exists (a name taken, a start another session has)."""
    db.session.rollback()
    message = error.message or str(error)
    field = error.field
    errors = {"json": {API_FIELD_NAMES.get(field, field): [message]}} if field else None
    return problem(409 if error.conflict else 422, message, errors=errors)


def _version_conflict(error: VersionConflict) -> Response:
    db.session.rollback()
    return problem(412)


# --- Authentication ------------------------------------------------------------------------------


def api_user() -> User:
    """The user of the token that authenticated this request."""
    return g.api_user


def _private(response: Response) -> Response:
    """Answers depend on whose token asked: shared caches must not reuse them across users."""
    response.vary.add("Authorization")
    response.headers.setdefault("Cache-Control", "private, no-cache")
    return response


def authenticate_request() -> Response | None:
    """Only a Bearer token authenticates an API request: the session cookie is never read."""
    from ..access import disclosure_for, sees_participants
    from .tokens import user_for_token

    # Flask-Login reads ``g._login_user`` before the session: this keeps the cookie out.
    g._login_user = AnonymousUserMixin()
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return problem(401)
    user = user_for_token(token.strip())
    if user is None:
        return problem(401, "This API token is not valid, or it has been revoked.")
    g.api_user = user
    g.api_partner = not sees_participants(user)
    # The API speaks to scripts: a suppressed count of people is the machine marker ("<5").
    g.api_disclosure = disclosure_for(user, machine=True)
    g._login_user = user
    token_accepted()
    return None


def forbid(detail: str | None = None) -> None:
    from flask_smorest import abort

    abort(403, message=detail or DEFAULT_DETAIL[403])


def staff_only(may: str) -> None:
    """403 unless the caller is a manager or an admin; ``may`` says what they alone may do."""
    if not is_staff(api_user()):
        forbid(f"Only managers and admins may {may}.")


def not_found() -> None:
    from flask_smorest import abort

    abort(404, message=DEFAULT_DETAIL[404])


def get_or_404(model: type[Any], ident: int, options: Any = None) -> Any:
    if not 0 < ident <= MAX_INT:
        not_found()
    item = db.session.get(model, ident, options=options)
    if item is None:
        not_found()
    return item


def field_error(status: int, field: str | None, message: str) -> None:
    """Abort with a per-field message, as validation errors are reported."""
    from flask_smorest import abort

    errors = {"json": {field: [message]}} if field else None
    abort(status, message=message, errors=errors)


__all__ = [
    "MAX_INT",
    "PROBLEM_CONTENT_TYPE",
    "Blueprint",
    "ReaderApi",
    "api_user",
    "field_error",
    "forbid",
    "get_or_404",
    "keyset_page",
    "not_found",
    "paginate_query",
    "problem",
    "staff_only",
]
