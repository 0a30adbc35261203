"""The API reference at `/api/docs`: one self-contained HTML page written from the OpenAPI spec, with no script
and nothing loaded from anywhere (Swagger UI would come from a CDN). The spec itself is `/api/openapi.json`."""

from __future__ import annotations

import html
import json
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

_STYLE = """
body { font: 16px/1.5 system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #1f2937; }
h2 { margin-top: 2.2rem; border-top: 1px solid #e5e7eb; padding-top: 1rem; }
code, pre { font-family: ui-monospace, monospace; background: #f3f4f6; border-radius: 4px; padding: 0 3px; }
pre { padding: 0.6rem; overflow-x: auto; white-space: pre-wrap; }
table { border-collapse: collapse; } td, th { text-align: left; padding: 2px 12px 2px 0; vertical-align: top; }
.method { font-weight: 700; color: #1d4ed8; }
"""
_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
    "Cache-Control": "no-cache",
}


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _schema(spec: dict[str, Any], ref: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    name = str(ref.get("$ref", "")).rsplit("/", 1)[-1]
    return name, spec.get("components", {}).get("schemas", {}).get(name, ref)


def _fields(spec: dict[str, Any], ref: dict[str, Any]) -> str:
    name, schema = _schema(spec, ref)
    required = set(schema.get("required", []))
    rows = "".join(
        f"<tr><td><code>{_e(field)}</code>{'' if field in required else ' (optional)'}</td>"
        f"<td>{_e(prop.get('description', ''))}</td></tr>"
        for field, prop in schema.get("properties", {}).items()
    )
    return f"<p>Body: <code>{_e(name)}</code></p><table>{rows}</table>" if rows else ""


def _operation(spec: dict[str, Any], path: str, method: str, op: dict[str, Any]) -> str:
    body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    statuses = "".join(
        f"<tr><td>{_e(code)}</td><td>{_e(answer.get('description', ''))}</td></tr>"
        for code, answer in op.get("responses", {}).items()
    )
    return (
        f'<h2><span class="method">{_e(method.upper())}</span> <code>{_e(path)}</code></h2>'
        f"<p>{_e(op.get('summary', ''))}</p>{_fields(spec, body) if body else ''}"
        f"<p>Answers:</p><table>{statuses}</table>"
    )


def reference_page(spec: dict[str, Any]) -> str:
    """The whole page for an OpenAPI `spec`; every string from the spec escaped."""
    info = spec.get("info", {})
    operations = "".join(
        _operation(spec, path, method, op)
        for path, methods in spec.get("paths", {}).items()
        for method, op in methods.items()
    )
    example = json.dumps({"question": "Can SoundCloud train AI on my tracks?"})
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{_e(info.get("title", ""))} API'
        f"</title><style>{_STYLE}</style></head><body><h1>{_e(info.get('title', ''))} API "
        f"{_e(info.get('version', ''))}</h1><p>{_e(info.get('description', ''))}</p>"
        f'<p>Every error is <code>{{"error": "…"}}</code>. The machine-readable spec: '
        f'<a href="openapi.json">/api/openapi.json</a>. Try: <code>curl -H "Content-Type: application/json" '
        f"-d {_e(repr(example))} http://HOST/api/ask</code></p>{operations}</body></html>"
    )


def api_docs(request: Request) -> HTMLResponse:
    return HTMLResponse(reference_page(request.app.openapi()), headers=_HEADERS)
