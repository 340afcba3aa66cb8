"""Helpers of the previred plugin's HTTP tests: a local document server, PDFs made with
fpdf2, the plugin configuration pointing at them, and a client key."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CLIENT_KEY = "previred-client-key-0123456789abcdef"
CLIENT = {"Authorization": f"Bearer {CLIENT_KEY}"}

#: Where the local server serves Previred's documents (two templates: the first misses).
URL_TEMPLATES = (
    "/wp-content/uploads/{year}/{month}/Indicadores-Previsionales-Previred-{mes}-{year}.pdf",
    "/alt/{year}/Indicadores-{Mes}-{yy}.pdf",
)


class DocumentServer:
    """A tiny HTTP server on 127.0.0.1 serving canned documents; records every hit."""

    def __init__(self) -> None:
        self.documents: dict[str, tuple[int, str, bytes]] = {}
        self.hits: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.hits.append(self.path)
                status, kind, body = server.documents.get(
                    self.path, (404, "text/html", b"<html>No encontrado</html>")
                )
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def serve(self, path: str, body: bytes, kind: str = "application/pdf", status: int = 200):
        self.documents[path] = (status, kind, body)

    def templates(self) -> list[str]:
        return [self.url + template for template in URL_TEMPLATES]


def make_pdf(lines: list[str]) -> bytes:
    """A text PDF, like Previred's, made with fpdf2."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=10)
    for line in lines:
        pdf.cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def previred_config(
    server: DocumentServer | None = None, extra: str = "", force_min_interval_s: float = 0
) -> str:
    urls = ", ".join(f'"{url}"' for url in server.templates()) if server else ""
    return f"""
[plugins.previred]
fetch_urls = [{urls}]
fetch_timeout_s = 2
force_min_interval_s = {force_min_interval_s}

[llm.retry]
base_delay_s = 0.01
max_delay_s = 0.05

[[auth.keys]]
name = "odoo-empresa-1"
env = "PREVIRED_CLIENT_KEY"
companies = [1]
roles = ["client"]
{extra}
"""
