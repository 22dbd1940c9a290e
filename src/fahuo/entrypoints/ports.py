"""Binding a port the way a person is told about it: a busy port is a message, not a traceback."""

from __future__ import annotations

import socket

PORT_BUSY_EXIT = 2
DEMO_HINT = ("请换一个端口：make demo PORT=… SANDBOX_PORT=…（或设置 FAHUO_PORT / FAHUO_SANDBOX_PORT）。",
             "Choose other ports: make demo PORT=… SANDBOX_PORT=… (or set FAHUO_PORT / "
             "FAHUO_SANDBOX_PORT).")
SERVE_HINT = ("请换一个端口：fahuo serve --port …（或设置 FAHUO_PORT）。",
              "Choose another port: fahuo serve --port … (or set FAHUO_PORT).")


class PortBusy(Exception):
    def __init__(self, port: int, what: tuple[str, str]) -> None:
        super().__init__(port, what)
        self.port, self.what = port, what

    def message(self, hint: tuple[str, str]) -> str:
        return (f"端口 {self.port}（{self.what[0]}）已被占用，可能另一个 fahuo 或其他程序正在使用。"
                f"{hint[0]}\nPort {self.port} ({self.what[1]}) is already in use, perhaps by "
                f"another fahuo or another program. {hint[1]}")


CONSOLE = ("控制台", "console")
SANDBOX = ("沙箱", "sandbox")


def bind_port(port: int, what: tuple[str, str], host: str = "127.0.0.1") -> socket.socket:
    """A listening socket on ``host:port``, or PortBusy. SO_REUSEADDR as uvicorn sets it: a
    port left in TIME_WAIT by an instance that stopped is free, a listening one is not."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise PortBusy(port, what) from exc
    return sock
