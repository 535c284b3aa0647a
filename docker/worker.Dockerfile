# The onboarding worker image: a Prefect process worker that runs the onboarding flows
# (prefect.yaml's deployments) from /app. It carries the flows and the ledger's contract
# only: no ledger, which it reaches over HTTP (ONBOARDING_LEDGER_URL).
#   docker build -f docker/worker.Dockerfile -t onboarding-worker .
#   docker run -e PREFECT_API_URL=... -e ONBOARDING_LEDGER_URL=... \
#     -e ONBOARDING_LEDGER_ADMIN_TOKEN=... -e ONBOARDING_ENVIRONMENT=production onboarding-worker
FROM python:3.11-slim
COPY --from=ghcr.io/astral-sh/uv:0.13.9 /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/opt/onboarding
WORKDIR /app
COPY pyproject.toml uv.lock ./
COPY api/pyproject.toml api/
COPY flows/pyproject.toml flows/
COPY contract/pyproject.toml contract/
COPY tests/harness/pyproject.toml tests/harness/
RUN uv sync --frozen --no-dev --package onboarding --no-install-workspace
COPY contract contract
COPY flows flows
COPY templates templates
COPY prefect.yaml ./
# Editable: the deployments' entrypoints (flows/onboarding.py:...) and the email
# templates are read from /app, as prefect.yaml expects.
RUN uv sync --frozen --no-dev --package onboarding
ENV PATH=/opt/onboarding/bin:$PATH \
    PYTHONUNBUFFERED=1
USER 10001
CMD ["prefect", "worker", "start", "--pool", "onboarding", "--type", "process"]
