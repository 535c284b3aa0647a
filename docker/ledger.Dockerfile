# The ledger image: the till API and the admin API, from the workspace's lock file.
# It carries the ledger and its contract only: no Prefect, no flows.
#   docker build -f docker/ledger.Dockerfile -t ledger .
#   docker run -e LEDGER_DATABASE_URL=postgresql+psycopg://... -e LEDGER_ADMIN_TOKEN=... \
#     -e LEDGER_STORE_ID_LINK_KEY=... -e LEDGER_PREFECT_API_URL=http://prefect:4200/api \
#     -e LEDGER_PUBLIC_URL=https://ledger.example -e LEDGER_ENVIRONMENT=production \
#     -p 8000:8000 ledger
# (`ledger migrate` as a one-off: docker run ... ledger ledger migrate)
FROM python:3.11-slim AS build
COPY --from=ghcr.io/astral-sh/uv:0.13.9 /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/opt/ledger
WORKDIR /src
# The lock and every member's pyproject.toml first: the dependency layer below stays
# cached until one of them changes.
COPY pyproject.toml uv.lock ./
COPY api/pyproject.toml api/
COPY flows/pyproject.toml flows/
COPY contract/pyproject.toml contract/
COPY tests/harness/pyproject.toml tests/harness/
RUN uv sync --frozen --no-dev --package ledger --no-install-workspace
COPY contract contract
COPY api api
# Not editable: the runtime stage below gets the environment without the sources.
RUN uv sync --frozen --no-dev --package ledger --no-editable

FROM python:3.11-slim
COPY --from=build /opt/ledger /opt/ledger
ENV PATH=/opt/ledger/bin:$PATH \
    PYTHONUNBUFFERED=1
USER 10001
EXPOSE 8000
CMD ["ledger", "serve", "--host", "0.0.0.0", "--port", "8000"]
