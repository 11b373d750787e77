"""Web pages of the API: a user's own tokens (/account/api-tokens) and the API reference
(/api/v1/docs), rendered on the server from the same OpenAPI document as /api/v1/openapi.json."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import Length

from ..users.limits import API_TOKEN_NAME
from ..web.saving import save_form
from .tokens import create_token, revoke_token, tokens_of

bp = Blueprint("api_tokens", __name__, template_folder="templates")
docs_bp = Blueprint("api_reference", __name__, template_folder="templates")

HTTP_METHODS = ("get", "post", "put", "patch", "delete")


class CreateTokenForm(FlaskForm):
    name = StringField(
        "What is it for?", validators=[Length(max=API_TOKEN_NAME)], default="API token"
    )


class RevokeTokenForm(FlaskForm):
    pass


@bp.route("/account/api-tokens", methods=["GET", "POST"])
@login_required
def tokens() -> ResponseReturnValue:
    form = CreateTokenForm()
    secret = None
    status = 200
    if form.validate_on_submit():
        saved = save_form(form, lambda: create_token(current_user, form.name.data), field="name")
        if saved:
            secret = saved.value.secret
            form = CreateTokenForm(formdata=None)
        else:
            status = saved.status
    elif form.errors:
        status = 400
    return (
        render_template(
            "api/tokens.html",
            form=form,
            revoke_form=RevokeTokenForm(),
            tokens=tokens_of(current_user),
            secret=secret,
        ),
        status,
    )


@bp.post("/account/api-tokens/<int:token_id>/revoke")
@login_required
def revoke(token_id: int) -> ResponseReturnValue:
    form = RevokeTokenForm()
    if not form.validate_on_submit():
        flash("The form had expired; please try again.", "error")
        return redirect(url_for("api_tokens.tokens"))
    saved = save_form(form, lambda: revoke_token(current_user, token_id))
    if not saved:
        flash(saved.message, "error")
        return redirect(url_for("api_tokens.tokens"))
    token = saved.value
    if token is None:
        return render_template(
            "errors/error.html",
            status=404,
            title="Not Found",
            message="We could not find that token.",
        ), 404
    flash(f"The token “{token.name}” ({token.prefix}…) is revoked.", "success")
    return redirect(url_for("api_tokens.tokens"))


# --- The API reference ---------------------------------------------------------------------------


def _resolve(spec: dict[str, Any], item: Any) -> Any:
    """Follow a local $ref (#/components/...) one level."""
    if isinstance(item, dict) and "$ref" in item:
        node: Any = spec
        for part in item["$ref"].lstrip("#/").split("/"):
            node = node.get(part, {})
        return node
    return item


def _type_of(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    kind = schema.get("type", "any")
    if kind == "array":
        return f"array of {_type_of(schema.get('items', {}))}"
    fmt = schema.get("format")
    text = f"{kind} ({fmt})" if fmt else str(kind)
    if schema.get("nullable"):
        text += ", or null"
    return text


def _operations(spec: dict[str, Any]) -> list[dict[str, Any]]:
    operations = []
    for path, item in spec.get("paths", {}).items():
        shared = [_resolve(spec, p) for p in item.get("parameters", [])]
        for method in HTTP_METHODS:
            op = item.get(method)
            if op is None:
                continue
            params = shared + [_resolve(spec, p) for p in op.get("parameters", [])]
            body = op.get("requestBody", {}).get("content", {})
            body_schema = next(iter(body.values()), {}).get("schema") if body else None
            responses = []
            for status, response in op.get("responses", {}).items():
                response = _resolve(spec, response)
                content = response.get("content", {})
                media, schema = next(iter(content.items()), (None, {}))
                responses.append(
                    {
                        "status": status,
                        "description": response.get("description", ""),
                        "media": media,
                        "type": _type_of(schema.get("schema", {})) if media else None,
                        "headers": sorted(response.get("headers", {})),
                    }
                )
            operations.append(
                {
                    "id": f"{method}-{path}".replace("/", "-").replace("{", "").replace("}", ""),
                    "method": method.upper(),
                    "path": path,
                    "tag": (op.get("tags") or [""])[0],
                    "summary": op.get("summary", ""),
                    "description": op.get("description", ""),
                    "parameters": [
                        {
                            "name": p.get("name"),
                            "in": p.get("in"),
                            "required": p.get("required", False),
                            "type": _type_of(p.get("schema", {})),
                            "description": p.get("description", ""),
                            "enum": p.get("schema", {}).get("enum"),
                        }
                        for p in params
                    ],
                    "body": _type_of(body_schema) if body_schema else None,
                    "responses": responses,
                }
            )
    return operations


def _schemas(spec: dict[str, Any]) -> list[dict[str, Any]]:
    result = []
    for name, schema in sorted(spec.get("components", {}).get("schemas", {}).items()):
        required = set(schema.get("required", []))
        fields = [
            {
                "name": field,
                "type": _type_of(prop),
                "required": field in required,
                "read_only": prop.get("readOnly", False),
                "description": prop.get("description", ""),
                "enum": prop.get("enum"),
            }
            for field, prop in schema.get("properties", {}).items()
        ]
        result.append({"name": name, "fields": fields})
    return result


@docs_bp.get("/api/v1/docs")
def docs() -> ResponseReturnValue:
    spec = current_app.extensions["readerapp.api"].spec.to_dict()
    return render_template(
        "api/docs.html",
        base=request.host_url.rstrip("/"),
        info=spec.get("info", {}),
        openapi=spec.get("openapi"),
        operations=_operations(spec),
        schemas=_schemas(spec),
    )
