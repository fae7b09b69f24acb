"""ChatwootAI: the library behind the receiver, the workers and the CLI.

CrewAI phones home (tracing, telemetry) unless told not to, which stalls every
kickoff and the process exit on a machine without internet. These defaults are
set here, before anything can import crewai, and an operator can still override them.
"""

import os

for _name, _value in (
    ("CREWAI_TRACING_ENABLED", "false"),
    ("CREWAI_DISABLE_TELEMETRY", "true"),
    ("OTEL_SDK_DISABLED", "true"),
):
    os.environ.setdefault(_name, _value)

__version__ = "0.1.0"
