"""moto's server in a process of its own, so that it does not share a GIL with the handlers.

``python -m newsflow_cli.moto_process`` starts ``ThreadedMotoServer`` on a free port of
127.0.0.1, prints the port on one line and serves until its standard input closes: the parent
holds that pipe, so the server ends with the parent even when the parent is killed.
"""

from __future__ import annotations

import importlib.util
import logging
import subprocess
import sys
import warnings

_START_TIMEOUT_SECONDS = 60.0
_STOP_WAIT_SECONDS = 5.0


def quiet_moto_logs() -> None:
    """moto's server logs every request through werkzeug, and each resource type its
    CloudFormation skips as a warning: the caller reports those itself (``skipped_resources``).
    """
    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)
    logging.getLogger("moto").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message=r"Tried to parse .* not supported by moto")


class MotoProcess:
    """The parent's handle: ``endpoint_url``, ``pid``, ``stop()``."""

    def __init__(self, process: subprocess.Popen[str], port: int) -> None:
        self._process = process
        self.port = port
        self.endpoint_url = f"http://127.0.0.1:{port}"

    @property
    def pid(self) -> int:
        return self._process.pid

    @classmethod
    def start(cls) -> MotoProcess:
        [server] = cls.start_many(1)
        return server

    @classmethod
    def start_many(cls, count: int) -> list[MotoProcess]:
        """``count`` servers, started at once (each imports moto, which takes seconds)."""
        # Said here, in the caller's process, so the CLI names the missing extra.
        if importlib.util.find_spec("moto") is None:
            raise ModuleNotFoundError("No module named 'moto'", name="moto")
        processes = [
            subprocess.Popen(
                [sys.executable, "-m", "newsflow_cli.moto_process"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            for _ in range(count)
        ]
        from newsflow_cli.lambda_runtime import read_line

        servers: list[MotoProcess] = []
        try:
            for process in processes:
                assert process.stdout is not None
                line = read_line(process.stdout, _START_TIMEOUT_SECONDS)
                if not line or not line.strip().isdigit():
                    raise RuntimeError(f"moto's server did not start (it said {line!r})")
                servers.append(cls(process, int(line)))
        except BaseException:
            for process in processes:
                process.kill()
                process.wait()
            raise
        return servers

    def stop(self) -> None:
        stop_child(self._process)


def stop_child(process: subprocess.Popen[str]) -> None:
    """End a child that exits when its stdin closes; killed if it has not within a few seconds."""
    if process.poll() is None:
        assert process.stdin is not None
        process.stdin.close()
        try:
            process.wait(_STOP_WAIT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if process.stdout is not None:
        process.stdout.close()


def main() -> None:
    from moto.server import ThreadedMotoServer

    quiet_moto_logs()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    _, port = server.get_host_and_port()
    print(port, flush=True)
    sys.stdin.read()  # until the parent closes the pipe (or ends)
    server.stop()


if __name__ == "__main__":
    main()
