"""Full launches of the tool beside the pylti1p3 Flask example's launch path, in one run.

    .venv/bin/python bench/versus_anchor.py [--launches 500] [--clients 4] [--runs 3]
        [--workers 2] [--anchors DIR] [--anchor-work DIR] [--floor]
        [--postgres URL [--redis URL]] [--json]

Both are driven by the same load generator, ../shared/anchors/launchbench.py, by URL: OIDC
login, launch POST with the state cookie (Secure cookies are sent to loopback, as browsers
do), and the landing page; a launch counts only when the page arrives with its text (the
tool's questionnaire start page, the example's "Welcome"). The tool runs under gunicorn
with deploy/gunicorn.conf.py (`--workers`), the example with one sync worker, as its README
says (it keeps state in one process's memory). Runs alternate tool, example, tool, ...

Per side it prints launches/s and the median ms per launch (median of the runs, with min
and max), the server's CPU time per launch (user + system of every server process over the
run, divided by the launches), the generator's CPU share, and the median ms at one client.
DATABASE_URL (PostgreSQL) and REDIS_URL pick the tool's stores; SQLite otherwise.
`--postgres URL` (and `--redis URL`) runs a second tool on PostgreSQL in the same
interleaved runs and prints its figures and its ratios to the first tool's: PostgreSQL
against SQLite measured in one run, on a machine whose speed moves from one run to the next.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.processes import Gunicorn, free_port  # noqa: E402

SECRET = "bench-secret-key-that-is-long-enough-for-the-checks"
PY = sys.executable
CLIENT, DEPLOYMENT = "bench-client", "bench-deployment-1"
TICKS = os.sysconf("SC_CLK_TCK")


def default_anchors() -> Path | None:
    """../shared/anchors from the main checkout or from a worktree beside it."""
    for base in (ROOT.parent, ROOT.parent.parent):
        candidate = base / "shared" / "anchors"
        if (candidate / "launchbench.py").exists():
            return candidate
    return None


def wait_until_answers(process: subprocess.Popen, url: str, seconds: float, what: str) -> None:
    """Return once `url` answers at all; RuntimeError when `process` ends or time runs out."""
    import requests

    deadline = time.monotonic() + seconds
    while True:
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start")
        try:
            requests.get(url, timeout=2)
            return
        except requests.RequestException:
            time.sleep(0.2)


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process, its live children and the children it reaped."""
    def own(p: int, reaped: bool) -> float:
        fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = int(fields[11]) + int(fields[12])  # utime, stime
        if reaped:
            ticks += int(fields[13]) + int(fields[14])  # cutime, cstime
        return ticks / TICKS

    total = own(pid, True)
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return total + sum(own(int(child), False) for child in children)


def registered_tool(tmp: Path, issuer: str, tool_url: str, database_url: str | None = None,
                    redis_url: str | None = None) -> dict[str, str]:
    """A fresh tool database (and Redis, when REDIS_URL is set) with keys and the platform of
    `issuer` registered under CLIENT and DEPLOYMENT; the environment that reaches it. The
    database and Redis come from the arguments, else from DATABASE_URL and REDIS_URL."""
    tmp.mkdir(parents=True, exist_ok=True)
    database_url = (database_url or os.environ.get("DATABASE_URL")
                    or f"sqlite:///{tmp / 'bench.sqlite3'}")
    redis_url = os.environ.get("REDIS_URL", "") if redis_url is None else redis_url
    env = dict(os.environ, LTI_TOOL_CONFIG=str(tmp / "none.toml"),
               LTI_TOOL_SECRET_KEY=SECRET, LTI_TOOL_TOOL_URL=tool_url,
               LTI_TOOL_ENV="test", LTI_TOOL_KEYS_DIR=str(tmp / "keys"),
               LTI_TOOL_LOG_LEVEL="WARNING", LTI_TOOL_REDIS_URL=redis_url,
               DATABASE_URL=database_url)
    if "postgresql" in database_url:
        from sqlalchemy import create_engine, text

        engine = create_engine(database_url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public;"))
        engine.dispose()
    if redis_url:
        import redis

        redis.Redis.from_url(redis_url).flushdb()

    def flask(*args: str) -> None:
        subprocess.run([PY, "-m", "flask", "--app", "lti_tool", *args], cwd=ROOT, env=env,
                       check=True, capture_output=True)

    flask("db", "upgrade")
    flask("keys", "generate")
    flask("platforms", "add", "--issuer", issuer, "--client-id", CLIENT,
          "--auth-login-url", issuer + "/auth", "--auth-token-url", issuer + "/token",
          "--key-set-url", issuer + "/jwks", "--deployment", DEPLOYMENT)
    return env


class ToolServer:
    """The tool under gunicorn on a fresh database, registered with launchbench's platform."""

    def __init__(self, tmp: Path, issuer: str, workers: int, database_url: str | None = None,
                 redis_url: str | None = None) -> None:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        env = registered_tool(tmp, issuer, self.url, database_url, redis_url)
        self.database_url = env["DATABASE_URL"]
        self.redis_url = env["LTI_TOOL_REDIS_URL"]
        self.workers = workers
        self.gunicorn = Gunicorn(tool_url=self.url, database_url=self.database_url,
                                 keys_dir=str(tmp / "keys"), secret=SECRET, workers=workers,
                                 threads=int(os.environ.get("GUNICORN_THREADS", 4)),
                                 redis_url=self.redis_url, port=port, production_config=True)
        self.pid = self.gunicorn.process.pid

    def launch_args(self) -> list[str]:
        """launchbench's arguments for the tool: land on the questionnaire's start page."""
        return ["--login-url", self.url + "/lti/login", "--launch-url", self.url + "/lti/launch",
                "--follow-redirects", "--expect-text", 'action="/questionnaire/begin"']

    def stop(self) -> None:
        """Stop gunicorn."""
        self.gunicorn.stop()


class AnchorServer:
    """The pylti1p3 example's launch path under gunicorn with one worker (its start.sh)."""

    def __init__(self, anchors: Path, work: Path, issuer: str) -> None:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.workers = 1
        self.process = subprocess.Popen(
            [str(anchors / "pylti1p3-example" / "start.sh"), str(work), str(port), issuer,
             CLIENT, DEPLOYMENT], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # The first start installs its virtualenv.
        wait_until_answers(self.process, self.url + "/jwks/", 300,
                           "the anchor (see its start.sh)")
        self.pid = self.process.pid  # start.sh execs gunicorn: this is its master

    def launch_args(self) -> list[str]:
        """launchbench's arguments for the example, as its README gives them."""
        return ["--login-url", self.url + "/login/", "--launch-url", self.url + "/launch/",
                "--login-param", "lti1p3_new_window=1", "--expect-text", "Welcome"]

    def stop(self) -> None:
        """Stop its gunicorn."""
        self.process.terminate()
        self.process.wait(10)


class FloorServer:
    """bench/floor_app.py under gunicorn with deploy/gunicorn.conf.py and the tool's worker
    count: the least a launch costs in this stack (Flask, PyJWT, gunicorn)."""

    def __init__(self, issuer: str, workers: int) -> None:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.workers = workers
        env = dict(os.environ, FLOOR_ISSUER=issuer, FLOOR_CLIENT_ID=CLIENT,
                   GUNICORN_BIND=f"127.0.0.1:{port}", GUNICORN_WORKERS=str(workers),
                   GUNICORN_THREADS=os.environ.get("GUNICORN_THREADS", "4"),
                   GUNICORN_PRELOAD="0", GUNICORN_LOG_LEVEL="warning", GUNICORN_ACCESSLOG="",
                   GUNICORN_CONTROL_SOCKET="")
        gunicorn = str(Path(PY).with_name("gunicorn"))
        self.process = subprocess.Popen(
            [gunicorn, "-c", str(ROOT / "deploy" / "gunicorn.conf.py"), "--chdir",
             str(ROOT / "bench"), "floor_app:app"], env=env, stdout=subprocess.DEVNULL)
        wait_until_answers(self.process, self.url + "/", 30, "the floor app")
        self.pid = self.process.pid

    def launch_args(self) -> list[str]:
        """launchbench's arguments: the same landing text as the tool's."""
        return ["--login-url", self.url + "/login", "--launch-url", self.url + "/launch",
                "--expect-text", 'action="/questionnaire/begin"']

    def stop(self) -> None:
        """Stop its gunicorn."""
        self.process.terminate()
        self.process.wait(10)


def drive(launchbench: Path, server, common: list[str], launches: int, clients: int) -> dict:
    """One launchbench run against a server: its figures plus CPU accounting."""
    before_server = cpu_seconds(server.pid)
    before_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [PY, str(launchbench), *common, *server.launch_args(), "-n", str(launches),
         "-c", str(clients), "--json"], capture_output=True, text=True)
    wall = time.perf_counter() - started
    after_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_cpu = cpu_seconds(server.pid) - before_server
    if done.returncode not in (0, 1) or not done.stdout.strip():
        raise RuntimeError(f"launchbench failed: {done.stderr[-2000:]}")
    result = json.loads(done.stdout)
    generator_cpu = ((after_children.ru_utime - before_children.ru_utime)
                     + (after_children.ru_stime - before_children.ru_stime))
    ok = max(result["ok"], 1)
    result.update(server_cpu_ms=server_cpu / ok * 1000, generator_cpu_share=generator_cpu / wall,
                  server_cpu_share=server_cpu / result["wall_s"])
    return result


def spread(values: list[float], digits: int = 1) -> str:
    """median (min-max)."""
    return (f"{statistics.median(values):.{digits}f} "
            f"({min(values):.{digits}f}-{max(values):.{digits}f})")


def measure(args: argparse.Namespace) -> dict:
    """Start both servers, run the interleaved repetitions; every figure in a dict."""
    anchors = Path(args.anchors) if args.anchors else default_anchors()
    if anchors is None:
        raise SystemExit("no anchors folder (../shared/anchors); give --anchors DIR")
    launchbench = anchors / "launchbench.py"
    jwks_port = free_port()
    issuer = f"http://127.0.0.1:{jwks_port}"
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="dmd-versus-") as tmp_name:
        tmp = Path(tmp_name)
        work = Path(args.anchor_work) if args.anchor_work else ROOT / "instance" / "bench-anchor"
        common = ["--jwks-port", str(jwks_port), "--client-id", CLIENT, "--deployment-id",
                  DEPLOYMENT, "--key-file", str(tmp / "platform.pem"), "--warmup", "20",
                  "--users", "50"]
        servers = {"tool": ToolServer(tmp, issuer, args.workers)}
        try:
            if getattr(args, "postgres", None):  # bench/all.py has no such option
                servers["tool_pg"] = ToolServer(tmp / "pg", issuer, args.workers,
                                                args.postgres, args.redis)
            servers["anchor"] = AnchorServer(anchors, work, issuer)
            if args.floor:
                servers["floor"] = FloorServer(issuer, args.workers)
        except BaseException:
            for server in servers.values():
                server.stop()
            raise
        tool = servers["tool"]
        runs: dict[str, list[dict]] = {name: [] for name in servers}
        single: dict[str, list[dict]] = {name: [] for name in servers}
        try:
            for _ in range(args.runs):
                for name, server in servers.items():
                    runs[name].append(drive(launchbench, server, common, args.launches,
                                            args.clients))
            for _ in range(args.runs):
                for name, server in servers.items():
                    single[name].append(drive(launchbench, server, common, args.single, 1))
        finally:
            for server in servers.values():
                server.stop()
    database = "PostgreSQL" if "postgresql" in tool.database_url else "SQLite"
    if tool.redis_url:
        database += " + Redis"
    return {"database": database, "tool_workers": tool.workers, "anchor_workers": 1,
            "threads": int(os.environ.get("GUNICORN_THREADS", 4)), "runs": args.runs,
            "launches": args.launches, "clients": args.clients, "cores": os.cpu_count(),
            "load_before": load_before, "load_after": os.getloadavg(),
            "runs_detail": runs, "single_detail": single,
            "pg_redis": bool(getattr(args, "postgres", None) and getattr(args, "redis", ""))}


def table(figures: dict) -> list[tuple[str, str, str]]:
    """(measure, tool, anchor) rows."""
    rows = []
    detail, single = figures["runs_detail"], figures["single_detail"]

    def pick(side: str, key: str, source=detail) -> list[float]:
        return [r[key] for r in source[side]]

    for label, key, digits in (("launches/s", "launches_per_s", 1),
                               ("median ms per launch", "median_ms", 1),
                               ("server CPU ms per launch", "server_cpu_ms", 2),
                               ("generator CPU (share of one core)", "generator_cpu_share", 2)):
        rows.append((label, spread(pick("tool", key), digits), spread(pick("anchor", key), digits)))
    rows.append(("errors (all runs)", str(sum(pick("tool", "errors"))),
                 str(sum(pick("anchor", "errors")))))
    rows.append(("median ms at one client", spread(pick("tool", "median_ms", single)),
                 spread(pick("anchor", "median_ms", single))))
    return rows


def ratios(figures: dict) -> dict[str, float]:
    """Tool / anchor: launches per second and CPU per launch (medians of the runs)."""
    detail = figures["runs_detail"]

    def med(side: str, key: str) -> float:
        return statistics.median(r[key] for r in detail[side])

    found = {"launches": med("tool", "launches_per_s") / med("anchor", "launches_per_s"),
             "cpu": med("tool", "server_cpu_ms") / med("anchor", "server_cpu_ms")}
    if "floor" in detail:
        found["floor_cpu"] = med("floor", "server_cpu_ms") / med("anchor", "server_cpu_ms")
        found["tool_over_floor"] = med("tool", "server_cpu_ms") / med("floor", "server_cpu_ms")
    return found


def postgres_line(figures: dict) -> str | None:
    """The PostgreSQL tool's figures beside the first tool's, when it ran (--postgres)."""
    detail, single = figures["runs_detail"], figures["single_detail"]
    if "tool_pg" not in detail:
        return None

    def med(side: str, key: str, source=detail) -> float:
        return statistics.median(r[key] for r in source[side])

    redis = " + Redis" if figures.get("pg_redis") else ""
    rate = spread([r["launches_per_s"] for r in detail["tool_pg"]])
    cpu = spread([r["server_cpu_ms"] for r in detail["tool_pg"]], 2)
    one = spread([r["median_ms"] for r in single["tool_pg"]])
    errors = sum(r["errors"] for r in detail["tool_pg"])
    rate_ratio = med("tool_pg", "launches_per_s") / med("tool", "launches_per_s")
    cpu_ratio = med("tool_pg", "server_cpu_ms") / med("tool", "server_cpu_ms")
    one_ratio = med("tool_pg", "median_ms", single) / med("tool", "median_ms", single)
    return (f"the tool on PostgreSQL{redis} in the same runs: launches/s {rate}, server CPU ms "
            f"per launch {cpu}, median ms at one client {one}, errors {errors}; PostgreSQL/"
            f"{figures['database']}: launches/s {rate_ratio:.2f}x, server CPU per launch "
            f"{cpu_ratio:.2f}x, median at one client {one_ratio:.2f}x")


def floor_line(figures: dict) -> str | None:
    """The floor's figures in one sentence, when it ran."""
    detail = figures["runs_detail"]
    if "floor" not in detail:
        return None
    ratio = ratios(figures)
    cpu = spread([r["server_cpu_ms"] for r in detail["floor"]], 2)
    rate = spread([r["launches_per_s"] for r in detail["floor"]])
    single = spread([r["median_ms"] for r in figures["single_detail"]["floor"]])
    return (f"floor (bench/floor_app.py: Flask + PyJWT, no database, same gunicorn settings and "
            f"workers): server CPU ms per launch {cpu}, launches/s {rate}, median ms at one "
            f"client {single}, errors {sum(r['errors'] for r in detail['floor'])}; floor/example "
            f"CPU {ratio['floor_cpu']:.2f}x, tool/floor CPU {ratio['tool_over_floor']:.2f}x")


def report(figures: dict) -> str:
    """The printed table."""
    rows = table(figures)
    ratio = ratios(figures)
    lines = [
        f"launch vs the pylti1p3 example: {figures['database']}, tool {figures['tool_workers']} "
        f"gunicorn workers x {figures['threads']} threads, example 1 worker; "
        f"{figures['launches']} launches x {figures['clients']} clients x {figures['runs']} runs "
        f"(interleaved), {figures['cores']} cores",
        "load average before {:.2f} {:.2f} {:.2f}, after {:.2f} {:.2f} {:.2f}".format(
            *figures["load_before"], *figures["load_after"]),
        "medians of the runs (min-max); a launch = login + launch POST + landing page",
    ]
    width = max(len(r[0]) for r in rows)
    lines.append(f"{'':<{width}}  {'tool':>22}  {'example':>22}")
    lines += [f"{label:<{width}}  {tool:>22}  {anchor:>22}" for label, tool, anchor in rows]
    lines.append(f"ratio tool/example: launches/s {ratio['launches']:.2f}x, "
                 f"server CPU per launch {ratio['cpu']:.2f}x")
    for extra in (postgres_line(figures), floor_line(figures)):
        if extra:
            lines.append(extra)
    return "\n".join(lines)


def main() -> None:
    """Parse options, measure, print."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--launches", type=int, default=500)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--single", type=int, default=100, help="launches at one client")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--anchors", help="the anchors folder (default ../shared/anchors)")
    parser.add_argument("--anchor-work", help="where the example's copy and virtualenv live")
    parser.add_argument("--floor", action="store_true",
                        help="also launch bench/floor_app.py, the least a launch costs here")
    parser.add_argument("--postgres", metavar="URL",
                        help="also run the tool on this PostgreSQL database (its schema is "
                             "dropped), in the same interleaved runs: PostgreSQL against the "
                             "first tool's database in one run")
    parser.add_argument("--redis", metavar="URL", default="",
                        help="the Redis of the --postgres tool (default: none)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    figures = measure(args)
    print(json.dumps(figures, indent=2) if args.json else report(figures))


if __name__ == "__main__":
    main()
