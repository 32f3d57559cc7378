"""The API docs page, rendered by the service itself from its OpenAPI document.

No script and nothing from another host: the page is plain HTML with one stylesheet served
beside it, under a Content-Security-Policy that allows only those. ``enabled=False`` removes
both the page and ``/openapi.json`` (a deployment that does not publish its API shape).
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

__all__ = ["DOCS_CSP", "install_docs", "render_docs"]

DOCS_CSP = "default-src 'none'; style-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
_CSS = """
body { font: 15px/1.5 system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #1b1b1b; }
h1 { margin-bottom: 0; } .version { color: #555; }
section.op { border: 1px solid #ccc; border-radius: 4px; margin: 1rem 0; padding: 0.5rem 1rem; }
.method { display: inline-block; min-width: 4.5rem; font-weight: bold; text-transform: uppercase; }
code, pre { font: 13px ui-monospace, monospace; } pre { background: #f5f5f5; padding: 0.5rem; overflow-x: auto; }
table { border-collapse: collapse; } td, th { border: 1px solid #ddd; padding: 0.2rem 0.5rem; text-align: left; }
"""


def _schema_name(schema: dict[str, Any]) -> str:
    ref = schema.get("$ref")
    if isinstance(ref, str):
        name = ref.rsplit("/", 1)[-1]
        return f'<a href="#schema-{escape(name)}">{escape(name)}</a>'
    kind = schema.get("type")
    if kind == "array" and isinstance(schema.get("items"), dict):
        return f"array of {_schema_name(schema['items'])}"
    for combinator in ("anyOf", "oneOf", "allOf"):
        options = schema.get(combinator)
        if isinstance(options, list):
            return " | ".join(_schema_name(option) for option in options if isinstance(option, dict))
    return escape(str(kind or "any"))


def _operation(path: str, method: str, op: dict[str, Any]) -> str:
    parts = [
        '<section class="op">',
        f'<h3><span class="method">{escape(method)}</span> <code>{escape(path)}</code></h3>',
    ]
    if op.get("summary"):
        parts.append(f"<p>{escape(str(op['summary']))}</p>")
    if op.get("description"):
        parts.append(f"<pre>{escape(str(op['description']))}</pre>")
    params = [p for p in op.get("parameters", []) if isinstance(p, dict)]
    if params:
        rows = "".join(
            f"<tr><td><code>{escape(str(p.get('name', '')))}</code></td><td>{escape(str(p.get('in', '')))}</td>"
            f"<td>{'yes' if p.get('required') else 'no'}</td><td>{_schema_name(p.get('schema', {}))}</td></tr>"
            for p in params
        )
        parts.append(f"<table><tr><th>parameter</th><th>in</th><th>required</th><th>type</th></tr>{rows}</table>")
    body = op.get("requestBody", {}).get("content", {})
    for media, spec in body.items():
        parts.append(f"<p>body <code>{escape(media)}</code>: {_schema_name(spec.get('schema', {}))}</p>")
    responses = op.get("responses", {})
    if responses:
        items = "".join(
            f"<li><code>{escape(str(status))}</code> {escape(str(spec.get('description', '')))}"
            + "".join(f" — {_schema_name(content.get('schema', {}))}" for content in spec.get("content", {}).values())
            + "</li>"
            for status, spec in responses.items()
        )
        parts.append(f"<ul>{items}</ul>")
    parts.append("</section>")
    return "".join(parts)


def render_docs(openapi: dict[str, Any], *, openapi_url: str | None = "/openapi.json") -> str:
    """The HTML page of an OpenAPI document."""
    info = openapi.get("info", {})
    title = escape(str(info.get("title", "API")))
    parts = [
        '<!doctype html><html lang="en"><head><meta charset="utf-8">',
        f'<title>{title}</title><link rel="stylesheet" href="/docs/style.css"></head><body>',
        f'<h1>{title}</h1><p class="version">version {escape(str(info.get("version", "")))}</p>',
    ]
    if info.get("summary"):
        parts.append(f"<p>{escape(str(info['summary']))}</p>")
    if info.get("description"):
        parts.append(f"<p>{escape(str(info['description']))}</p>")
    if openapi_url:
        parts.append(f'<p>Machine-readable: <a href="{escape(openapi_url)}">{escape(openapi_url)}</a></p>')
    parts.append("<h2>Operations</h2>")
    for path, item in openapi.get("paths", {}).items():
        for method in _METHODS:
            if isinstance(item.get(method), dict):
                parts.append(_operation(path, method, item[method]))
    schemas = openapi.get("components", {}).get("schemas", {})
    if schemas:
        parts.append("<h2>Schemas</h2>")
        for name, schema in schemas.items():
            parts.append(
                f'<h3 id="schema-{escape(name)}">{escape(name)}</h3>'
                f"<pre>{escape(json.dumps(schema, indent=2, ensure_ascii=False))}</pre>"
            )
    parts.append("</body></html>")
    return "".join(parts)


def _remove_route(app: FastAPI, path: str) -> None:
    app.router.routes[:] = [route for route in app.router.routes if getattr(route, "path", None) != path]


def install_docs(app: FastAPI, *, enabled: bool = True) -> None:
    """Serve ``GET /docs`` (and its stylesheet) from the app's OpenAPI document, or turn docs off.

    Expects ``FastAPI(docs_url=None, redoc_url=None)``; with ``enabled=False`` ``/docs`` and
    ``/openapi.json`` answer 404.
    """
    if not enabled:
        if app.openapi_url:
            _remove_route(app, app.openapi_url)
        app.openapi_url = None
        return
    page: list[str] = []  # rendered once, on the first request (the routes are all in by then)

    async def docs_page(_request: Request) -> Response:
        if not page:
            page.append(render_docs(app.openapi(), openapi_url=app.openapi_url))
        return HTMLResponse(page[0], headers={"Content-Security-Policy": DOCS_CSP, "Cache-Control": "no-cache"})

    async def docs_style(_request: Request) -> Response:
        return Response(_CSS, media_type="text/css", headers={"Cache-Control": "max-age=3600"})

    app.add_route("/docs", docs_page, methods=["GET"], include_in_schema=False)
    app.add_route("/docs/style.css", docs_style, methods=["GET"], include_in_schema=False)
