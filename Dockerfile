# Every commlab image, from one build of the whole workspace. From the root:
#
#   docker build --target rest-server -t commlab-rest .
#   docker build --target benchmark --build-arg COMMLAB_COMMIT=$(git rev-parse --short=9 HEAD) -t commlab-benchmark .
#
# Targets: socket-server, rest-server, grpc-server, ws-server, benchmark;
# docker-compose.yml builds them all. The build stage is shared: one compile serves
# the five images. It needs BuildKit (Docker 23 and later, or buildx): its cache
# mounts keep the crates and target/ from one build to the next, so a change
# recompiles only the crates it touches, and .dockerignore keeps docs and READMEs
# out of the context, so editing them rebuilds nothing.

FROM rust:1-slim-bookworm AS build
# The commit `--version` names (a build context has no .git); empty says `unknown`.
ARG COMMLAB_COMMIT=
WORKDIR /src
COPY . .
# No debug line tables and stripped symbols: images of about 85 MB, not 150.
ENV CARGO_PROFILE_RELEASE_DEBUG=false CARGO_PROFILE_RELEASE_STRIP=symbols
RUN --mount=type=cache,id=commlab-cargo-registry,target=/usr/local/cargo/registry \
    --mount=type=cache,id=commlab-target,target=/src/target,sharing=locked \
    COMMLAB_COMMIT="$COMMLAB_COMMIT" cargo build --release --locked --workspace --bins \
 && mkdir /out \
 && cd target/release \
 && cp socket-server socket-client udp-chat rest-server rest-client grpc-server \
       grpc-client grpc-peer ws-server ws-client benchmark /out/

# What every image runs on: a non-root user (uid 10001, no login, no home) and a
# folder it may write reports to.
FROM debian:bookworm-slim AS runtime
RUN groupadd --gid 10001 lab \
 && useradd --uid 10001 --gid lab --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin lab \
 && mkdir /reports && chown lab:lab /reports
WORKDIR /reports
USER lab

FROM runtime AS socket-server
COPY --from=build /out/socket-server /out/socket-client /out/udp-chat /usr/local/bin/
ENV SOCKET_ADDR=0.0.0.0:8080
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --retries=3 \
  CMD ["socket-client", "--url", "127.0.0.1:8080", "--timeout", "2s", "check"]
ENTRYPOINT ["socket-server"]

FROM runtime AS rest-server
COPY --from=build /out/rest-server /out/rest-client /usr/local/bin/
ENV REST_ADDR=0.0.0.0:5000
EXPOSE 5000
HEALTHCHECK --interval=10s --timeout=3s --retries=3 \
  CMD ["rest-client", "--url", "http://127.0.0.1:5000", "--timeout", "2s", "check"]
ENTRYPOINT ["rest-server"]

FROM runtime AS grpc-server
COPY --from=build /out/grpc-server /out/grpc-client /out/grpc-peer /usr/local/bin/
ENV GRPC_ADDR=0.0.0.0:50051
EXPOSE 50051
HEALTHCHECK --interval=10s --timeout=3s --retries=3 \
  CMD ["grpc-client", "--url", "http://127.0.0.1:50051", "--timeout", "2s", "check"]
ENTRYPOINT ["grpc-server"]

FROM runtime AS ws-server
COPY --from=build /out/ws-server /out/ws-client /usr/local/bin/
ENV WS_ADDR=0.0.0.0:8765
EXPOSE 8765
HEALTHCHECK --interval=10s --timeout=3s --retries=3 \
  CMD ["ws-client", "--url", "ws://127.0.0.1:8765", "--timeout", "2s", "check"]
ENTRYPOINT ["ws-server"]

# The benchmark, and (`benchmark serve floor`) the floor's echo beside the servers.
FROM runtime AS benchmark
COPY --from=build /out/benchmark /usr/local/bin/
ENTRYPOINT ["benchmark"]
