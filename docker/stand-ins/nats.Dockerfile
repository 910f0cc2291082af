# Stand-in for nats:2.10-alpine (see build.sh): Debian's nats-server behind the official image's
# entrypoint (arguments starting with "-" go to nats-server), with a wget for health checks.
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends nats-server wget \
 && rm -rf /var/lib/apt/lists/* && ln -s /usr/sbin/nats-server /usr/local/bin/nats-server
COPY nats-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
ENTRYPOINT ["docker-entrypoint.sh"]
EXPOSE 4222 8222
CMD ["nats-server", "-js"]
