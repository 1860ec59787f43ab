/** @module The service's version and build; `deno task compile` stamps `BUILD` for its output. */
export const SERVICE_VERSION = "0.1.0";

/** Replaced by tools/compile.ts while it compiles; from source it says so. */
export const BUILD: { readonly commit: string; readonly builtAt: string | null } = {
  commit: "source",
  builtAt: null,
};

/** `matrixrmapi 0.1.0 (commit abc1234, built 2026-…, deno 2.9.6)`. */
export function versionLine(denoVersion: string): string {
  const built = BUILD.builtAt === null ? "" : `, built ${BUILD.builtAt}`;
  return `matrixrmapi ${SERVICE_VERSION} (commit ${BUILD.commit}${built}, deno ${denoVersion})`;
}
