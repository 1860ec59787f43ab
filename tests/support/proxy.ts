/**
 * @module A TCP proxy in front of the real Synapse that a test can take down and bring back:
 * the one fault (Synapse unavailable) a real server cannot be made to produce on demand per test.
 */

export interface FaultProxy {
  readonly url: string;
  readonly port: number;
  /** Refuse new connections and cut open ones. */
  down(): void;
  up(): void;
  close(): Promise<void>;
}

export function startFaultProxy(target: string): FaultProxy {
  const { hostname, port: targetPort } = new URL(target);
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const open = new Set<Deno.Conn>();
  let isUp = true;
  const pipes = new Set<Promise<unknown>>();

  const accepting = (async () => {
    for await (const conn of listener) {
      if (!isUp) {
        conn.close();
        continue;
      }
      open.add(conn);
      const pipe = (async () => {
        let upstream: Deno.Conn | null = null;
        try {
          upstream = await Deno.connect({ hostname, port: Number(targetPort) });
          open.add(upstream);
          await Promise.all([
            conn.readable.pipeTo(upstream.writable).catch(() => {}),
            upstream.readable.pipeTo(conn.writable).catch(() => {}),
          ]);
        } catch {
          /* cut */
        } finally {
          for (const c of [conn, upstream]) {
            if (c !== null && open.delete(c)) {
              try {
                c.close();
              } catch { /* already closed */ }
            }
          }
        }
      })();
      pipes.add(pipe);
      pipe.finally(() => pipes.delete(pipe));
    }
  })();

  const cutAll = () => {
    for (const c of open) {
      try {
        c.close();
      } catch { /* already closed */ }
    }
    open.clear();
  };

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    down() {
      isUp = false;
      cutAll();
    },
    up() {
      isUp = true;
    },
    async close() {
      listener.close();
      cutAll();
      await accepting.catch(() => {});
      await Promise.allSettled([...pipes]);
    },
  };
}
