# Production image: the same code as `make run`, configured by AGORA_* variables.
FROM python:3.11-slim AS build
WORKDIR /app
COPY requirements.lock pyproject.toml README.md ./
COPY src ./src
RUN python -m venv /opt/agora \
 && /opt/agora/bin/pip install --no-cache-dir -r requirements.lock \
 && /opt/agora/bin/pip install --no-cache-dir --no-deps .

FROM python:3.11-slim
RUN useradd --system --uid 10001 --home /app agora
COPY --from=build /opt/agora /opt/agora
ENV PATH=/opt/agora/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    AGORA_HOST=0.0.0.0 \
    AGORA_PORT=8000 \
    AGORA_ENVIRONMENT=production
WORKDIR /app
USER agora
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/health/live', timeout=2).status != 200)"
CMD ["agora", "serve"]
