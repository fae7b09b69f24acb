"""Every default value in one place, each with the reason it is what it is."""

from __future__ import annotations

ENV_PREFIX = "CHATWOOTAI_"
"""Our settings' prefix. Never bare names such as REDIS_URL: CrewAI reads that one
and switches to (slower) Redis locks."""

DATA_DIR = "var"
"""Embedded stores (Redis, SQLite, local Qdrant) live here unless URLs are given."""

DOMAINS_DIR = "domains"
"""Where the domain folders are read from."""

DEFAULT_DOMAIN = "default"
"""The domain a conversation falls back to when no mapping matches it."""

LLM = "offline"
"""The built-in model: no network, no key, answers from the domain's knowledge."""

CONVERSATION_TTL_SECONDS = 30 * 24 * 3600
"""How long Redis remembers a conversation's domain after its last message.
Chatwoot conversations rarely stay quiet for a month and come back; the key is
refreshed on every message, so an active conversation never expires."""

SWITCH_HISTORY_LIMIT = 50
"""Switch records kept per conversation: enough to audit, bounded in memory."""

RELOAD_INTERVAL_SECONDS = 2.0
"""How often the domain registry looks for changed YAML (a stat of a few files)."""

KITS_MAX = 64
"""Prepared domains (crews, router, knowledge index) a worker keeps; the least recently
served one is dropped for a new one. Each prepared sample domain holds a few MB; 64
covers the tenants active at one time in a deployment of hundreds."""

KITS_WARM_AUTO_MAX = 16
"""With `CHATWOOTAI_KITS_WARM=auto`, a worker prepares every domain at start when there
are at most this many (a small deployment's first replies are not slower), and each
domain at its first message otherwise (a worker is ready in seconds whatever the count)."""

REDIS_KEY_PREFIX = "chatwootai"
"""Every Redis key we write starts with this, so a shared Redis stays tidy."""

VISIBILITY_TIMEOUT_SECONDS = 900
"""How long a taken but unacknowledged message stays invisible before the broker
gives it to another worker: longer than the slowest turn (model timeouts and
retries included), short enough that a crashed worker's message is redelivered
within minutes."""

QUEUE_SHARDS = 8
"""Shared queues (`chatwootai.shard.<n>`) the tenants without a dedicated queue are
spread over by a stable hash of their id: a worker's BRPOP names 4 lists per queue,
so the number of queues, not of tenants, is what it waits on."""

TENANT_MAX_CONCURRENT = 16
"""Turns of one tenant on a shared queue at the same time, across every worker, when
its domain sets no `limits.max_concurrent`: a flood takes at most this many threads."""

WORKER_CONCURRENCY = 8
"""Threads per worker process: a turn mostly waits on the model (I/O), while
CrewAI's own CPU cost is ~30 ms per kickoff."""

OFFLINE_WORKER_CONCURRENCY = 4
"""Threads per worker process when every domain uses the built-in offline model: it
waits on nothing, so more threads only fight over the GIL. Measured on 2 cores with
300 messages: 8 threads cost 62 ms of worker CPU per message (17 replies/s), 4
threads 48 ms (23 replies/s), 1 thread 43 ms (21 replies/s)."""

MAX_WEBHOOK_BYTES = 8 * 1024 * 1024
"""Bodies over 8 MiB are refused with 413, which Chatwoot does not retry. Most
payloads are a few KiB, but an HTML e-mail travels whole, and Rails escapes `<`, `>`
and `&` as `\\u003c`: a 420 KB e-mail arrives as a 1.07 MB body. 8 MiB takes an HTML
e-mail of about 3 MB (attachments travel as URLs), and bounds what one request costs."""

MAX_MESSAGE_CHARS = 8000
"""Characters of one message's text that reach the model (about 2,000 tokens): the rest
is cut, and the model is told (`CUT_TEXT_NOTE`). One pasted document or e-mail cannot
cost minutes of CPU or a fortune in tokens; a real question fits many times over."""

CUT_TEXT_NOTE = "[mensagem longa: {omitted} caracteres do fim foram cortados]"
"""What the model reads after a cut text (customers and prompts are in Portuguese)."""

CUT_TEXT_BACKTRACK_CHARS = 200
"""A cut text ends at the last space within this many characters of the limit, so the
model does not read half a word."""

MAX_YAML_FILE_BYTES = 256 * 1024
"""A domain's YAML file (domain, crews, data, tests) over 256 KiB is refused: the
largest sample file is under 8 KiB, the round-trip loader (which keeps every line
number) costs seconds of CPU per hundred KiB at each reload, and a catalogue that
big belongs in a connector."""

MAX_YAML_DEPTH = 64
"""Nesting of mappings and sequences a domain's YAML file may reach; the schema
needs fewer than 10 levels, and deeper input would exhaust the parser's recursion."""

MAX_YAML_ALIASES = 100
"""Aliases (`*name`) one YAML file may use: enough for shared prompt blocks, too few
to build an alias bomb."""

MAX_YAML_NODES = 100_000
"""Values one YAML file may expand to, aliases expanded: a bound on the memory and
time one file can cost, whatever its aliases point at."""

CONNECTOR_MAX_RESPONSE_BYTES = 1024 * 1024
"""A connector's answer over 1 MiB (after decompression) is refused: the agent reads
a few lines of it, and a bigger one only costs memory and tokens."""

CONNECTOR_THREADS = 32
"""Threads that carry connector calls, so a caller can give up exactly at its deadline
while a dripping server is still being read."""

SIGNATURE_WINDOW_SECONDS = 300
"""Signed webhooks older or newer than this are refused (replay protection)."""

LOG_LEVEL = "INFO"
"""Log level of the service."""

EMBEDDED_REDIS_START_SECONDS = 10.0
"""How long a process waits for the embedded redis-server to answer: it loads its
RDB file before it does, a few milliseconds for the data a single machine holds."""

EMBEDDED_REDIS_STOP_SECONDS = 20.0
"""How long the embedded redis-server may take to save its RDB and exit once its
owner is gone, before it is killed (it stays up when that save fails)."""

UNACKED_RESTORE_SECONDS = 5
"""How often each worker looks for messages a dead worker left unacknowledged past the
visibility timeout (one ZRANGE under kombu's mutex): how late after it they come back."""

DATABASE_CONNECT_TIMEOUT_SECONDS = 5
"""How long a connection to a database server may take: a database that does not
answer costs a turn this much at most before it answers without history and spools
its record (`hub.store.spool`)."""

TURN_SPOOL_KEY = f"{REDIS_KEY_PREFIX}:spool:turns"
"""The Redis list of turn records waiting for the database (`hub.store.spool`)."""

TURN_SPOOL_CAPACITY = 100_000
"""Turn records kept in Redis while the database is away (about 1 KiB each): hours of a
busy deployment's turns, bounded so an outage cannot fill Redis's memory."""

TURN_SPOOL_BATCH = 200
"""Spooled turns written per database transaction when the database is back."""

TURN_SPOOL_LEASE_SECONDS = 30.0
"""How long a drainer holds the spool: a drainer that died frees it after this."""

TURN_SPOOL_DRAIN_SECONDS = 5.0
"""How often each worker process tries to write spooled turns back."""

# Voice notes and pictures -------------------------------------------------------

TRANSCRIPTION_WAIT_SECONDS = 15.0
"""How long a voice note waits for Chatwoot's own transcription (its `message_updated`)
before the bot transcribes it itself or asks the customer to write: Chatwoot's
transcription job usually lands within seconds; the customer should not wait longer."""

AUDIO_UNSUPPORTED_MESSAGE = (
    "Desculpe, ainda não consigo ouvir áudios por aqui. Pode me escrever a sua "
    "mensagem? Assim eu já te ajudo."
)
"""`messages.audio_unsupported`: what a domain says to a voice note it cannot hear."""

IMAGE_UNSUPPORTED_MESSAGE = (
    "Desculpe, ainda não consigo ver imagens por aqui. Pode me descrever em "
    "palavras o que precisa? Assim eu já te ajudo."
)
"""`messages.image_unsupported`: what a domain whose model cannot see says to a picture."""

LIMIT_MESSAGE = (
    "Recebemos muitas mensagens agora e uma pessoa da nossa equipe vai continuar o seu "
    "atendimento por aqui, é só aguardar."
)
"""`messages.limit`: what a domain says when it is over one of its `limits:`, before a
person takes over."""

MAX_IMAGE_BYTES = 5 * 1024 * 1024
"""The largest picture fetched for a vision model (providers refuse bigger ones)."""

MAX_AUDIO_BYTES = 25 * 1024 * 1024
"""The largest voice note sent to a transcription endpoint (OpenAI's own limit)."""

# Chatwoot outages ---------------------------------------------------------------

CHATWOOT_RETRY_SECONDS = 30 * 60.0
"""How long a message keeps being retried while Chatwoot answers 5xx, 429 or nothing:
longer than a deploy, a restart or a database failover; then it is dead-lettered."""

CHATWOOT_RETRY_MAX_DELAY_SECONDS = 60.0
"""The cap of a message's exponential backoff: once Chatwoot is back, every waiting
message is tried again within this long."""

CHATWOOT_BREAKER_FAILURES = 5
"""Failed calls in a row (any worker) that open the circuit to one Chatwoot host."""

CHATWOOT_BREAKER_COOLDOWN_SECONDS = 5.0
"""How long an open circuit refuses calls before one probe is let through; doubles
after each failed probe, up to CHATWOOT_BREAKER_MAX_COOLDOWN_SECONDS."""

CHATWOOT_BREAKER_MAX_COOLDOWN_SECONDS = 60.0
"""The longest an open circuit waits between probes."""

CHATWOOT_DRAIN_RATE = 20.0
"""Calls per second to a Chatwoot host that has just come back (for one longest
cooldown): the backlog is worked off without knocking it over again."""

LATE_REPLY_SECONDS = 600.0
"""A reply posted this long after the customer's last message opens with an apology
(or is handed to a person, as the domain says)."""

LATE_REPLY_APOLOGY = "Desculpe a demora para responder."
"""`conversation.late_reply_apology`: how a late reply opens."""

# The operator console --------------------------------------------------------------

CONSOLE_HOST = "127.0.0.1"
CONSOLE_PORT = 8001
"""`chatwootai console` listens here unless told otherwise (`run` starts it too)."""

CONSOLE_RECENT_TURNS = 50
"""Turns a Conversations page lists, newest first."""

CONSOLE_DAYS = 14
"""Days the At a glance page charts, today included."""

CONSOLE_PLAYGROUND_TURNS = 40
"""Turns a playground conversation keeps; older ones are dropped from the page."""

CONSOLE_CHANNELS = (
    ("Channel::Whatsapp", "WhatsApp"),
    ("Channel::WebWidget", "Website widget"),
)
"""The channels a playground customer may write from: Chatwoot's class, and its label."""

CONSOLE_PLAYGROUND_PHONE = "+55 31 99999-0000"
"""The phone a playground customer on WhatsApp writes from (the channel vouches for it)."""

ANSWER_CACHE = True
"""Domains serve a stored answer to a repeated knowledge question unless they say
`cache: {answers: false}`: such an answer is only the documents' facts (no tool, no
history, no name), made by the same files, knowledge and model, and it passed the reply
gate; personalization is added after it, per customer."""

ANSWER_CACHE_TTL_SECONDS = 6 * 3600
"""How long a stored answer is served: a business day's repeats, while a change the
fingerprints cannot see (a live price in a connector) is at most this old."""

ANSWER_CACHE_THRESHOLD = 0.8
"""Cosine of two questions' embeddings at or above which they ask the same thing, given
that the documents' words in both are the same: MiniLM puts Portuguese paraphrases
("quanto custa o frete?", "quanto é o frete?") at 0.8-0.9, and the guard on the
documents' words keeps "sábado" from "domingo" whatever the cosine."""

ANSWER_CACHE_BUCKET_ENTRIES = 16
"""Stored wordings of one question (same documents' words) at most: enough paraphrases,
and a lookup reads one small hash."""

RETRIEVAL_CACHE_ENTRIES = 2048
"""Queries whose passages a process keeps (least recently used out): the day's
repeated questions of every domain it serves, a few MB."""
