/** The deployment files agree with the code: known variables only, the ecosystem's volumes, probes that work without a shell. */
import assert from "node:assert/strict";
import { parse, parseAllDocuments } from "yaml";
import { ENV_NAMES } from "../../src/config/config.ts";
import { MALLOC_TUNABLES } from "../../tools/bench/probe.ts";

const root = new URL("../../", import.meta.url).pathname;
type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v ?? {}) as Obj;

Deno.test("the compose block uses only variables the service reads, and the ecosystem's volumes", async () => {
  const compose = obj(
    parse(await Deno.readTextFile(`${root}deploy/compose/docker-compose.matrixrmapi.yml`)),
  );
  const svc = obj(obj(compose.services).matrixrmapi);
  const env = obj(svc.environment);
  for (const name of Object.keys(env)) {
    assert.ok(ENV_NAMES.includes(name), `unknown variable ${name}`);
  }
  assert.ok("SYNAPSE_REGISTRATION_SECRET" in env);
  assert.deepEqual(
    (svc.volumes as string[]).map((v) => v.split(":")[1]).sort(),
    ["/ca_public", "/data/persistent", "/data/persistent/oidc", "/pvarki"],
  );
  assert.deepEqual(obj(svc.healthcheck).test, [
    "CMD",
    "/usr/local/bin/matrixrmapi",
    "healthcheck",
    "--timeout",
    "2",
  ]);
  assert.equal(env.MTLS_TRUST_PROXY_HEADER, "true");
  assert.match(String(env.MTLS_TRUSTED_PROXIES), /\/32/);
  // The Python entrypoint's /etc/hosts rewrite, done by compose for a non-root image.
  assert.deepEqual(
    (svc.extra_hosts as string[]).map((h) => h.replace(/:\?[^}]*\}/, "}")),
    [
      "${SERVER_DOMAIN}:host-gateway",
      "mtls.${SERVER_DOMAIN}:host-gateway",
      "kc.${SERVER_DOMAIN}:host-gateway",
    ],
  );
  const direct = obj(
    parse(
      await Deno.readTextFile(`${root}deploy/compose/docker-compose.matrixrmapi-direct-mtls.yml`),
    ),
  );
  const directEnv = obj(obj(obj(direct.services).matrixrmapi).environment);
  for (const name of Object.keys(directEnv)) {
    assert.ok(ENV_NAMES.includes(name), `unknown variable ${name}`);
  }
  assert.equal(directEnv.MTLS_TRUST_PROXY_HEADER, "false");
  // RM's product certificate is clientAuth only: direct mTLS must name a real server pair, one
  // on a volume the file mounts (the deployment's certificate, as the products' nginx has it).
  const serverCert = String(directEnv.MTLS_SERVER_CERT_PATH ?? "");
  const mounts = (obj(obj(direct.services).matrixrmapi).volumes as string[]).map((v) =>
    v.split(":")[1]!
  );
  assert.ok(serverCert !== "", "MTLS_SERVER_CERT_PATH is set");
  assert.ok(directEnv.MTLS_SERVER_KEY_PATH, "MTLS_SERVER_KEY_PATH is set");
  assert.ok(mounts.some((m) => serverCert.startsWith(`${m}/`)), `${serverCert} is on a mount`);
  assert.ok(!serverCert.startsWith("/data/persistent/"), "not the product pair");
});

Deno.test("the Kubernetes manifests run one non-root replica on a read-only root with healthcheck probes", async () => {
  const docs = parseAllDocuments(await Deno.readTextFile(`${root}deploy/k8s/matrixrmapi.yaml`)).map(
    (d) => obj(d.toJS()),
  );
  const kinds = docs.map((d) => d.kind).sort();
  assert.deepEqual(kinds, ["Deployment", "NetworkPolicy", "PersistentVolumeClaim", "Service"]);
  const deployment = docs.find((d) => d.kind === "Deployment")!;
  const spec = obj(deployment.spec);
  assert.equal(spec.replicas, 1);
  assert.equal(obj(spec.strategy).type, "Recreate");
  const pod = obj(obj(spec.template).spec);
  assert.equal(obj(pod.securityContext).runAsNonRoot, true);
  const container = obj((pod.containers as unknown[])[0]);
  assert.equal(obj(container.securityContext).readOnlyRootFilesystem, true);
  for (const probe of ["startupProbe", "livenessProbe", "readinessProbe"]) {
    assert.deepEqual((obj(obj(container[probe]).exec).command as string[]).slice(0, 2), [
      "/usr/local/bin/matrixrmapi",
      "healthcheck",
    ]);
  }
  for (const e of container.env as Array<{ name: string }>) {
    assert.ok(ENV_NAMES.includes(e.name), `unknown variable ${e.name}`);
  }
});

Deno.test("the Dockerfile is multi-stage, distroless, non-root, with an exec-form healthcheck", async () => {
  const text = await Deno.readTextFile(`${root}Dockerfile`);
  assert.match(text, /^FROM denoland\/deno:\$\{DENO_VERSION\} AS build$/m);
  assert.match(text, /^FROM gcr\.io\/distroless\/cc-debian12:nonroot AS production$/m);
  assert.match(text, /^USER 65532:65532$/m);
  assert.match(text, /^EXPOSE 4625 8012$/m);
  assert.match(text, /^VOLUME \["\/data\/persistent", "\/pvarki", "\/ca_public"\]$/m);
  assert.match(text, /CMD \["\/usr\/local\/bin\/matrixrmapi", "healthcheck"/);
  const pinned = (await Deno.readTextFile(`${root}tools/deno/package.json`)).match(
    /"deno": "([\d.]+)"/,
  )?.[1];
  assert.match(
    text,
    new RegExp(`^ARG DENO_VERSION=${pinned?.replaceAll(".", "\\.")}$`, "m"),
    "Docker and tools/deno pin the same Deno",
  );
  assert.ok(
    text.includes(`\nENV GLIBC_TUNABLES=${MALLOC_TUNABLES}\n`),
    "the image's allocator settings are the ones the bench measures",
  );
});

Deno.test("hadolint finds nothing in the Dockerfile", async () => {
  const venv = `${root}.local/hadolint-venv`;
  const bin = `${venv}/bin/hadolint`;
  if (!(await Deno.stat(bin).catch(() => null))) {
    for (
      const args of [["-m", "venv", venv], [
        `${venv}/bin/pip`,
        "install",
        "-q",
        "-r",
        `${root}tools/hadolint-requirements.txt`,
      ]]
    ) {
      const cmd = args[0]!.startsWith("-") ? "python3" : args.shift()!;
      const out = await new Deno.Command(cmd, { args, stdout: "null", stderr: "piped" }).output()
        .catch(() => null);
      if (!out?.success) {
        if (Deno.env.get("CI") === "true") {
          throw new Error(`cannot install hadolint: ${new TextDecoder().decode(out?.stderr)}`);
        }
        // deno-lint-ignore no-console
        console.warn("hadolint unavailable (no Python/pip): Dockerfile not linted");
        return;
      }
    }
  }
  const out = await new Deno.Command(bin, {
    args: [`${root}Dockerfile`],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(
    out.code,
    0,
    new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr),
  );
});

/**
 * The names our compose files use from docker-rasenmaeher-integration's docker-compose.yml (read
 * there on 2026-12-04): services, volumes, networks, and the networks productsnginx is on.
 */
const ECOSYSTEM = {
  services: ["matrixrmapi", "productsnginx", "rmnginx", "synapse"],
  volumes: [
    "ca_public",
    "kraftwerk_shared_matrix",
    "le_certs",
    "matrix_data",
    "synapse_config_vol",
  ],
  networks: ["intranet", "ocspnet", "productnet"],
  productsnginxNetworks: ["intranet", "ocspnet", "productnet"],
};

Deno.test("our compose files name only the ecosystem's services, volumes and networks, and trust productsnginx on every shared network", async () => {
  const files = ["docker-compose.matrixrmapi.yml", "docker-compose.matrixrmapi-direct-mtls.yml"];
  for (const file of files) {
    const compose = obj(parse(await Deno.readTextFile(`${root}deploy/compose/${file}`)));
    const services = obj(compose.services);
    for (const [name, service] of Object.entries(services)) {
      const s = obj(service);
      if (name !== "matrixrmapi-prepare") {
        assert.ok(ECOSYSTEM.services.includes(name), `${file}: ${name}`);
      }
      for (const v of (s.volumes as string[] | undefined) ?? []) {
        assert.ok(ECOSYSTEM.volumes.includes(v.split(":")[0]!), `${file}: volume ${v}`);
      }
      const nets = Array.isArray(s.networks) ? s.networks : Object.keys(obj(s.networks));
      for (const n of nets) assert.ok(ECOSYSTEM.networks.includes(n), `${file}: network ${n}`);
      for (const dep of Object.keys(obj(s.depends_on))) {
        assert.ok(
          dep in services || ECOSYSTEM.services.includes(dep),
          `${file}: depends on ${dep}`,
        );
      }
    }
  }
  const main = obj(parse(await Deno.readTextFile(`${root}deploy/compose/${files[0]}`)));
  const services = obj(main.services);
  const ours = obj(services.matrixrmapi);
  const nginx = obj(obj(services.productsnginx).networks);
  assert.deepEqual(
    Object.keys(nginx).sort(),
    ECOSYSTEM.productsnginxNetworks,
    "keeps its networks",
  );
  const trusted = String(obj(ours.environment).MTLS_TRUSTED_PROXIES).replace(
    /^\$\{[^:]+:-(.*)\}$/,
    "$1",
  );
  for (const net of ours.networks as string[]) {
    const address = obj(nginx[net]).ipv4_address;
    assert.ok(typeof address === "string", `productsnginx has a fixed address on ${net}`);
    assert.ok(trusted.split(",").includes(`${address}/32`), `${address} is trusted`);
  }
  const prepare = obj(services["matrixrmapi-prepare"]);
  assert.equal(prepare.user, "0");
  assert.deepEqual(prepare.command, ["prepare-volumes"]);
  assert.equal(
    obj(obj(ours.depends_on)["matrixrmapi-prepare"]).condition,
    "service_completed_successfully",
  );
  const prepared = (prepare.volumes as string[]).map((v) => v.split(":")[1]).sort();
  const mounted = (ours.volumes as string[]).map((v) => v.split(":")[1]).filter((m) =>
    m!.startsWith("/data/")
  ).sort();
  assert.deepEqual(prepared, mounted, "it prepares every volume the service writes");
});
