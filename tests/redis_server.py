"""A private, throw-away redis-server for tests: free port, temp dir, no persistence.

    with RedisServer() as server:       # or server = RedisServer().start() … server.stop()
        store = RedisStore(server.url)
        server.stop(); server.start()   # a restart keeps the same port

Tests skip (with the reason) when no redis-server binary is installed.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

REDIS_SERVER = Path(os.environ.get("REDIS_SERVER_BIN", "/usr/bin/redis-server"))


def redis_server_binary() -> Path | None:
    if REDIS_SERVER.exists():
        return REDIS_SERVER
    found = shutil.which("redis-server")
    return Path(found) if found else None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _ping(port: int, timeout_s: float = 0.2) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout_s) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    def __init__(self, port: int | None = None, directory: Path | None = None):
        binary = redis_server_binary()
        if binary is None:
            raise FileNotFoundError(f"redis-server not found ({REDIS_SERVER} or on PATH)")
        self.binary = binary
        self.port = port or free_port()
        self._own_dir = directory is None
        self.directory = Path(directory or tempfile.mkdtemp(prefix="mieruka-redis-"))
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, timeout_s: float = 10.0) -> "RedisServer":
        if self.running:
            return self
        log = open(self.directory / "redis.log", "ab")
        self.process = subprocess.Popen(
            [str(self.binary), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.directory), "--daemonize", "no"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self.process.returncode}: {self.log_tail()}")
            if _ping(self.port):
                return self
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"redis-server did not answer PING on port {self.port}: {self.log_tail()}")

    def stop(self, timeout_s: float = 5.0) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout_s)

    def close(self) -> None:
        self.stop()
        if self._own_dir:
            shutil.rmtree(self.directory, ignore_errors=True)

    def log_tail(self, lines: int = 10) -> str:
        try:
            return "\n".join((self.directory / "redis.log").read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def __enter__(self) -> "RedisServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


def make_store(spec):
    """The store a test spec names: ("file", directory, "") or ("redis", url, key prefix).
    A plain function, so that worker processes of multiprocessing tests can open it too."""
    from data_sources.store import FileStore, RedisStore

    kind, where, prefix = spec
    return FileStore(where) if kind == "file" else RedisStore(where, prefix=prefix)


def run_processes(target, args: tuple, count: int = 4, timeout_s: float = 60) -> list[int | None]:
    """Start `count` spawned processes running target(*args, barrier) released together;
    their exit codes once joined."""
    import multiprocessing

    spawn = multiprocessing.get_context("spawn")
    barrier = spawn.Barrier(count)
    processes = [spawn.Process(target=target, args=(*args, barrier)) for _ in range(count)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout_s)
    return [p.exitcode for p in processes]


def at_once(n: int, call, timeout_s: float = 60) -> list:
    """`call` made by n threads of this process released together; their results."""
    import threading

    start, results = threading.Barrier(n), []

    def run():
        start.wait()
        results.append(call())

    threads = [threading.Thread(target=run) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout_s)
    return results
