# Stand-in for postgres:15-bookworm (see build.sh): Debian's PostgreSQL 15 behind an entrypoint
# honouring what docker-compose.yml uses of the official one: POSTGRES_USER, POSTGRES_DB,
# POSTGRES_PASSWORD(_FILE), PGDATA, the first start's initdb, port 5432 and pg_isready.
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends postgresql-15 \
 && rm -rf /var/lib/apt/lists/* && mkdir -p /var/run/postgresql && chown postgres:postgres /var/run/postgresql
ENV PATH=/usr/lib/postgresql/15/bin:$PATH PGDATA=/var/lib/postgresql/data
COPY postgres-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
ENTRYPOINT ["docker-entrypoint.sh"]
STOPSIGNAL SIGINT
EXPOSE 5432
CMD ["postgres"]
