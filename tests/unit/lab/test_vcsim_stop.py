"""tests/lab/vcsim.py's stop_pid: a simulator that is our child is reaped at once, not waited on until timeout."""

import os
import subprocess
import sys
import time

import pytest

# tests/lab is on sys.path (tests/conftest.py)
import vcsim  # pylint: disable=import-error


def assert_reaped(child):
    """stop_pid reaped ``child``: no zombie is left for anyone to wait for."""
    with pytest.raises(ChildProcessError):
        os.waitpid(child.pid, os.WNOHANG)
    child.wait(timeout=1)


def test_a_child_that_exits_on_sigterm_is_reaped_at_once():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    started = time.monotonic()
    vcsim.stop_pid(child.pid, timeout=10)
    # an unreaped child still answers kill(pid, 0): before, this waited the whole 10 s
    assert time.monotonic() - started < 3
    assert_reaped(child)


def test_a_child_that_ignores_sigterm_is_killed_and_reaped_after_the_timeout():
    code = ("import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
            "print('ready', flush=True)\ntime.sleep(60)")
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "ready"
    started = time.monotonic()
    vcsim.stop_pid(child.pid, timeout=0.5)
    assert 0.5 <= time.monotonic() - started < 3
    assert_reaped(child)
    child.stdout.close()
