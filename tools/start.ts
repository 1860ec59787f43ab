/**
 * @module `deno task start`: the service from source, as production runs it: the production
 * permission set (paths following this environment), nothing more.
 */
import { servicePermissions } from "./permissions.ts";
import { ENV_NAMES } from "../src/config/config.ts";

const env = Object.fromEntries(ENV_NAMES.map((n) => [n, Deno.env.get(n)]));
const main = new URL("../main.ts", import.meta.url).pathname;
const child = new Deno.Command(Deno.execPath(), {
  args: [
    "run",
    ...servicePermissions(env),
    main,
    ...(Deno.args.length > 0 ? Deno.args : ["serve"]),
  ],
}).spawn();
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.addSignalListener(signal, () => child.kill(signal));
}
Deno.exit((await child.status).code);
