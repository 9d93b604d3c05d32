# The customer-health image: one image for the pipeline, the dashboard and the simulator
# (see docker-compose.yml and docs/deployment.md). Configuration comes from the environment
# (CUSTOMER_HEALTH_*, KAFKA_BOOTSTRAP_SERVERS) or a TOML file named by CUSTOMER_HEALTH_CONFIG.
FROM python:3.11.13-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# An unprivileged user owns the database volume (/data) and the simulator's state (/state).
RUN useradd --system --uid 10001 --create-home --home-dir /home/app --shell /usr/sbin/nologin app \
    && mkdir -p /data /state \
    && chown app:app /data /state

WORKDIR /app
COPY pyproject.toml README.md ./
COPY customer_health ./customer_health
COPY ingest ./ingest
COPY dashboard ./dashboard
COPY expectations ./expectations
COPY sql ./sql
# Editable: the SQL files (sql/) and the dashboard app are read from /app at run time.
RUN pip install -e .

USER app
ENV CUSTOMER_HEALTH_DB_PATH=/data/customer_health.duckdb
VOLUME ["/data"]
EXPOSE 8501
ENTRYPOINT ["customer-health"]
CMD ["ingest"]
