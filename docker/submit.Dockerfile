# The one-shot `submit` service: the PyFlink client (Python + a JVM) with the project's code.
FROM eclipse-temurin:17-jre-jammy
RUN apt-get update && apt-get install -y --no-install-recommends python3.11 python3.11-venv \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.lock .
RUN python3.11 -m venv /venv && /venv/bin/pip install --no-cache-dir -r requirements.lock
COPY . .
ENV PATH=/venv/bin:$PATH
