# The `ferryboat` binary in a small non-root image.
#
#   docker build -t ferryboat:0.1.0 .        (or: podman build -t ferryboat:0.1.0 .)
#   docker run --rm ferryboat:0.1.0 providers --jurisdiction EU
#
# Stage 1 builds the release binary with the workspace's locked dependencies; stage 2 is
# distroless: glibc, CA certificates, user 65532, no shell, no package manager.
# Exec form everywhere: nothing here needs /bin/sh at run time.

FROM docker.io/library/rust:1.94-bookworm AS build
WORKDIR /src
COPY . .
RUN ["cargo", "install", "--locked", "--path", "crates/ferryboat-cli", "--root", "/out"]

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/bin/ferryboat /usr/local/bin/ferryboat
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/ferryboat"]
CMD ["--help"]
