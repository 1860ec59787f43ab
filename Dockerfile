# matrixrmapi: one self-contained executable in a distroless image.
#   docker build --target production -t matrixrmapi .
# The build stage needs internet access: `deno compile` downloads Deno's runtime (denort).

ARG DENO_VERSION=2.9.6

FROM denoland/deno:${DENO_VERSION} AS build
WORKDIR /src
COPY deno.json deno.lock ./
RUN deno install --frozen
COPY main.ts ./
COPY src ./src
COPY tools/permissions.ts tools/compile.ts ./tools/
ARG BUILD_COMMIT=unknown
# compile.ts bakes in the production permission set and stamps the commit into `version`.
RUN BUILD_COMMIT="${BUILD_COMMIT}" deno run --allow-all tools/compile.ts /out/matrixrmapi \
 && /out/matrixrmapi version \
 && mkdir -p /out/rootfs/data/persistent/oidc /out/rootfs/pvarki /out/rootfs/ca_public

FROM gcr.io/distroless/cc-debian12:nonroot AS production
COPY --from=build /out/matrixrmapi /usr/local/bin/matrixrmapi
# Mount points owned by the non-root user, so fresh named volumes are writable by it (oidc: the
# nested synapse_config_vol, which Docker would otherwise create root-owned).
COPY --from=build --chown=65532:65532 /out/rootfs/ /
USER 65532:65532
# glibc hands freed buffers over 64 KiB back to the system (10–15 MiB less after mTLS traffic).
ENV GLIBC_TUNABLES=glibc.malloc.mmap_threshold=65536:glibc.malloc.trim_threshold=65536
EXPOSE 4625 8012
VOLUME ["/data/persistent", "/pvarki", "/ca_public"]
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
  CMD ["/usr/local/bin/matrixrmapi", "healthcheck", "--timeout", "2"]
ENTRYPOINT ["/usr/local/bin/matrixrmapi"]
CMD ["serve"]
