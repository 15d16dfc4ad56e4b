# The Zesummen image: the app, the notifier and the CLI share it (see compose.yaml).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PYTHONPATH=/app
WORKDIR /app
COPY requirements.lock pyproject.toml ./
RUN pip install --no-cache-dir -r requirements.lock
COPY server ./server
COPY migrations ./migrations
# migrations/ and templates are read next to the code, so the source tree is run in place
RUN useradd --system --home /app zesummen && mkdir -p /app/.data \
    && chown zesummen /app/.data
USER zesummen
EXPOSE 8000
CMD ["python", "-m", "server", "serve"]
