/** @module The service's version; `deno task compile` stamps the build into `BUILD_INFO`. */
export const SERVICE_VERSION = "0.1.0";
