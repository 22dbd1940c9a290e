"""``python -m fahuo.sandbox --db PATH --host 127.0.0.1 --port 8765``"""
from __future__ import annotations

import argparse

import uvicorn

from .app import create_app


def serve(db_path: str, host: str = "127.0.0.1", port: int = 8765) -> None:
    """Run the sandbox in the foreground until interrupted."""
    uvicorn.run(create_app(db_path), host=host, port=port, log_level="info", access_log=False)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m fahuo.sandbox", description="Local Douyin open-platform sandbox")
    ap.add_argument("--db", required=True, help="SQLite file for the sandbox state")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8765)
    a = ap.parse_args(argv)
    serve(a.db, a.host, a.port)


if __name__ == "__main__":
    main()
