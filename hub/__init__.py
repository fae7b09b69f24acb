"""ChatwootAI: the library behind the receiver, the workers and the CLI.

CrewAI phones home (tracing, telemetry) unless told not to, which stalls every
kickoff and the process exit on a machine without internet. These defaults are
set here, before anything can import crewai, and an operator can still override them.

OpenBLAS runs one thread per core per call by default: in a worker whose threads
embed queries at the same time (hub.knowledge.embeddings), that oversubscribes the
CPUs and measured 5-15x slower than one BLAS thread per call. Concurrency comes
from the worker's threads, so numpy gets one, unless the operator says otherwise.
"""

import os

for _name, _value in (
    ("CREWAI_TRACING_ENABLED", "false"),
    ("CREWAI_DISABLE_TELEMETRY", "true"),
    ("OTEL_SDK_DISABLED", "true"),
    ("OPENBLAS_NUM_THREADS", "1"),
):
    os.environ.setdefault(_name, _value)

__version__ = "0.1.0"
