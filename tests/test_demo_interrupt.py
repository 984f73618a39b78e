"""The demo stops on Ctrl+C even when the kernel hands SIGINT to one of its server threads."""

from __future__ import annotations

import subprocess
import sys
import textwrap

CHILD = textwrap.dedent(
    """
    import signal, threading, time
    from lianxin_cli.demo.run import until_interrupted

    def poke():
        time.sleep(0.3)
        # SIGINT to this thread, not the main one: what the kernel may do with a Ctrl+C
        signal.pthread_kill(threading.get_ident(), signal.SIGINT)
        time.sleep(30)

    threading.Thread(target=poke, daemon=True).start()
    try:
        until_interrupted(step=0.1)
    except KeyboardInterrupt:
        print("stopped", flush=True)
    """
)


def test_a_sigint_taken_by_another_thread_still_stops_the_wait() -> None:
    done = subprocess.run(
        [sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=20, check=False
    )
    assert done.stdout == "stopped\n", done.stderr[-500:]
    assert done.returncode == 0
