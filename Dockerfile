# The a2a-temporal image: the worker by default, the A2A gateway with `a2a-temporal serve`.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY a2a_temporal ./a2a_temporal
COPY workflows ./workflows
COPY activities ./activities
COPY examples ./examples
COPY worker.py ./
RUN pip install --no-cache-dir '.[a2a]'

USER nobody
CMD ["python", "worker.py"]
