# One image, one target per service: `docker build --target classify .`
FROM python:3.11-slim AS base
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 INNSPILL_DATA_DIR=/data INNSPILL_HOST=0.0.0.0
RUN apt-get update \
 && apt-get install -y --no-install-recommends tesseract-ocr tesseract-ocr-nor \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY shared ./shared
COPY services ./services
RUN pip install torch==2.13.0 \
 && pip install .
RUN useradd --create-home --uid 10001 innspill \
 && mkdir -p /data/models /app/models && chown -R innspill /data /app/models
USER innspill
VOLUME ["/data"]

FROM base AS ingest
EXPOSE 8001
CMD ["python", "-m", "services.ingest"]

FROM base AS extract
EXPOSE 8002
CMD ["python", "-m", "services.extract"]

# Operator tooling (topic creation, training): only the images that run it carry it.
FROM base AS tools
COPY --chown=innspill tools ./tools
COPY --chown=innspill data ./data

FROM tools AS classify
# The default model is trained into the image by the project's recipe (deterministic, offline, about a
# minute), so every replica of `--scale classify=N` serves the same model and none trains at start.
ENV INNSPILL_MODEL_DIR=/app/models/default
RUN python -m tools.cli.main ensure-model
EXPOSE 8003
CMD ["python", "-m", "services.classify"]

FROM base AS store
EXPOSE 8004
CMD ["python", "-m", "services.store"]
