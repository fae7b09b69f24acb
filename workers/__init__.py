"""The Celery worker side of ChatwootAI (`celery -A workers worker`).

Workers consume the per-domain queues (`chatwootai.<domain>`, see
`hub.domains.domain.Domain.queue`) and run the domain's crews. The Celery app
and its tasks are built on the foundation in `hub/`: settings, the domain
registry and the DomainManager.
"""
