"""The socket is private, and peers are checked with SO_PEERCRED."""

from __future__ import annotations

import os
import pwd
import socket

import msgpack
import pytest


def test_socket_and_directory_modes(core_daemon) -> None:
    assert core_daemon.socket.stat().st_mode & 0o777 == 0o600
    assert core_daemon.socket.parent.stat().st_mode & 0o777 == 0o700


def _ping_as(uid: int, sock: str) -> object:
    """Connect from a forked child that dropped to `uid` (no exec needed)."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        try:
            os.close(read_fd)
            os.setgid(uid)
            os.setuid(uid)
            s = socket.socket(socket.AF_UNIX)
            s.settimeout(10)
            s.connect(sock)
            try:  # a refused peer may find the socket closed before it writes
                s.sendall(msgpack.packb([0, 1, "system.ping", []]))
            except OSError:
                pass
            os.write(write_fd, s.recv(4096))
        finally:
            os._exit(0)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as fh:
        data = fh.read()
    os.waitpid(pid, 0)
    return msgpack.unpackb(data, raw=False) if data else None


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to connect as another user")
@pytest.mark.parametrize("allowed", [False, True])
def test_other_users_are_refused_unless_allowed(make_daemon, example_plugin, allowed) -> None:
    nobody = pwd.getpwnam("nobody").pw_uid
    config = {"daemon": {"plugins": [example_plugin]}}
    if allowed:
        config["security"] = {"allowed_uids": [nobody]}
    d = make_daemon(config)
    # open the file permissions so that only the SO_PEERCRED check stands in the way
    for path in (d.root, d.socket.parent):
        os.chmod(path, 0o755)
    os.chmod(d.socket, 0o777)
    answer = _ping_as(nobody, str(d.socket))
    if allowed:
        assert answer == [1, 1, None, "pong"]
    else:
        assert isinstance(answer, list) and answer[2]["code"] == -32003
        assert f"uid {nobody}" in answer[2]["message"]
        assert "refused connection" in d.log()
