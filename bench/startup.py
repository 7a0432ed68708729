"""Time from process start to the first 200 on /healthz, over several runs.

Usage: python3 bench/startup.py BINARY PORT [RUNS]
The clock starts just before the process is spawned; the server is polled
over loopback as fast as it accepts connections.
"""
import http.client
import statistics
import subprocess
import sys
import time


def one_run(binary: str, port: int) -> float:
    start = time.perf_counter()
    proc = subprocess.Popen(
        [binary, "--host", "127.0.0.1", "--port", str(port), "--auth", "none"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = start + 5.0
        while time.perf_counter() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=0.5)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    return (time.perf_counter() - start) * 1000.0
            except OSError:
                time.sleep(0.0005)
        raise RuntimeError("server did not answer /healthz within 5 s")
    finally:
        proc.terminate()
        proc.wait(timeout=5)


def main() -> None:
    binary, port = sys.argv[1], int(sys.argv[2])
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 10
    times = [one_run(binary, port) for _ in range(runs)]
    print(f"startup to first /healthz 200: median {statistics.median(times):.1f} ms, max {max(times):.1f} ms over {runs} runs")


if __name__ == "__main__":
    main()
