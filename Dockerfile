# ptim in a container (Debian 12), for Kubernetes Indexed Jobs and other
# schedulers that run images:  docker build -t ptim .
# The build stage runs scripts/bootstrap.sh (Debian packages, the pinned
# models checked against scripts/SHA256SUMS.models) and a Release build; the
# image carries the binary, its command module, the models and the runtime
# libraries only.
FROM debian:12 AS build
WORKDIR /src
COPY . .
RUN rm -rf build build-asan build-fuzz models samples \
 && apt-get update -qq && apt-get install -y -qq --no-install-recommends ca-certificates nodejs npm >/dev/null \
 && bash scripts/bootstrap.sh \
 && cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/opt/ptim >/dev/null \
 && cmake --build build -j "$(nproc)" --target ptim ptim_commands \
 && cmake --install build >/dev/null \
 && mkdir -p /opt/ptim/share/ptim && cp -rL models /opt/ptim/share/ptim/models

FROM debian:12-slim
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends \
      libavformat59 libavcodec59 libavdevice59 libavfilter8 libavutil57 libswscale6 libswresample4 \
      libxnnpack0 libpthreadpool0 libinih1 libcjson1 libmicrohttpd12 liblz4-1 >/dev/null \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /opt/ptim /opt/ptim
ENV PATH=/opt/ptim/bin:$PATH
ENTRYPOINT ["ptim"]
CMD ["--help"]
