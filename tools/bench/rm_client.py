"""RM's callback client, as Rasenmaeher runs it: aiohttp, a fresh session (so a new TCP
connection and a full mTLS handshake, no session resumption) for every call, 5 s total timeout.

Reads one JSON object on stdin:
  {"url", "cert", "key", "cacert", "names": [callsign, ...], "count",
   "mode": "open" | "closed", "rate" (open: calls started per second),
   "concurrency" (closed: calls in flight)}
Prints one JSON object: latencies in ms (from the call's scheduled start in open mode, so a
client that falls behind cannot hide latency), errors by kind, wall time, the client's CPU time
and how late the open loop started its calls.
"""

import asyncio
import json
import resource
import ssl
import sys
import time

import aiohttp


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


async def main() -> None:
    o = json.load(sys.stdin)
    ctx = ssl.create_default_context(cafile=o["cacert"])
    ctx.load_cert_chain(o["cert"], o["key"])
    names = o["names"]
    count = o["count"]
    latencies: list[float] = []
    errors: dict[str, int] = {}
    lags: list[float] = []
    timeout = aiohttp.ClientTimeout(total=5)

    async def call(i: int, start: float) -> None:
        name = names[i % len(names)]
        body = {"uuid": name, "callsign": name, "x509cert": "-"}
        try:
            connector = aiohttp.TCPConnector(ssl=ctx, force_close=True)
            async with aiohttp.ClientSession(connector=connector, timeout=timeout) as s:
                async with s.post(o["url"], json=body) as res:
                    await res.read()
                    status = res.status
                    answered = time.perf_counter()  # RM has its answer; closing is its own
            if status == 200:
                latencies.append((answered - start) * 1000)
            else:
                errors[f"HTTP {status}"] = errors.get(f"HTTP {status}", 0) + 1
        except asyncio.TimeoutError:
            errors["timeout (5 s)"] = errors.get("timeout (5 s)", 0) + 1
        except Exception as e:  # noqa: BLE001 - every failure is a figure here
            kind = type(e).__name__
            errors[kind] = errors.get(kind, 0) + 1

    cpu0 = _cpu()
    t0 = time.perf_counter()
    if o["mode"] == "open":
        period = 1.0 / o["rate"]
        tasks = []
        for i in range(count):
            due = t0 + i * period
            now = time.perf_counter()
            if due > now:
                await asyncio.sleep(due - now)
            lags.append((time.perf_counter() - due) * 1000)
            tasks.append(asyncio.create_task(call(i, due)))
        await asyncio.gather(*tasks)
    else:
        nxt = 0

        async def worker() -> None:
            nonlocal nxt
            while nxt < count:
                i = nxt
                nxt += 1
                await call(i, time.perf_counter())

        await asyncio.gather(*(worker() for _ in range(o["concurrency"])))
    wall = time.perf_counter() - t0
    lags.sort()
    json.dump(
        {
            "latenciesMs": latencies,
            "errors": errors,
            "wallS": wall,
            "clientCpuS": _cpu() - cpu0,
            "lagP99Ms": lags[int(len(lags) * 0.99)] if lags else 0,
            "lagMaxMs": lags[-1] if lags else 0,
        },
        sys.stdout,
    )


asyncio.run(main())
