# First version: build the single executable with pinned Deno, run it distroless and non-root.
# (deno compile downloads its runtime, so the build stage needs internet access.)
FROM denoland/deno:2.9.6 AS build
WORKDIR /src
COPY deno.json deno.lock ./
RUN deno install --frozen
COPY main.ts ./
COPY src ./src
RUN deno compile --frozen --allow-all --output /out/matrixrmapi main.ts

FROM gcr.io/distroless/cc-debian12:nonroot AS production
COPY --from=build /out/matrixrmapi /usr/local/bin/matrixrmapi
USER nonroot
EXPOSE 4625 8012
VOLUME ["/data/persistent"]
HEALTHCHECK --interval=10s --timeout=3s --retries=5 CMD ["/usr/local/bin/matrixrmapi", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/matrixrmapi"]
CMD ["serve"]
