"""Which `api_access_token` a conversation's replies use, and what keeps one from working.

An agent bot's token works only in the Chatwoot account the bot was installed in
(Chatwoot answers 401 "Bot is not authorized to access this account" for any
other), so a token belongs to an account, not to a business domain. A reply, a
note, a handoff all use the token of the conversation's own account, whichever
domain answers it (an agent's switch label may hand an account-1 conversation to a
domain of account 2): the token of the first domain mapped to the account (by id)
whose `token_env` is set, else `CHATWOOTAI_CHATWOOT_TOKEN`.

`token_warnings` is what `chatwootai domains validate` says about it: an account
whose conversations (switched or not) have no token to be answered with, domains
of one account whose tokens differ (the first one wins), and a switch that sends
conversations to a domain whose handoff agent or team belongs to another account
(ids are an account's own: that assignment is skipped).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping

from hub.domains.domain import Domain
from hub.exceptions import TokenWarning
from hub.settings import Settings

GLOBAL_TOKEN_ENV = "CHATWOOTAI_CHATWOOT_TOKEN"


def account_token(
    claimants: Iterable[Domain], settings: Settings, environ: Mapping[str, str] = os.environ
) -> str | None:
    """The token for an account whose domains are `claimants` (in id order)."""
    for domain in claimants:
        env_name = domain.spec.chatwoot.token_env
        if env_name and environ.get(env_name):
            return environ[env_name]
    return settings.chatwoot_token.get_secret_value() if settings.chatwoot_token else None


def claimants_of(domains: Mapping[str, Domain], account_id: int) -> list[Domain]:
    """The domains mapped to an account, in id order."""
    return [d for _, d in sorted(domains.items()) if d.spec.chatwoot.account_id == account_id]


def token_warnings(
    domains: Mapping[str, Domain], settings: Settings, environ: Mapping[str, str] = os.environ
) -> list[TokenWarning]:
    """What keeps replies from reaching an account, each at the switch label or the
    `chatwoot` key it comes from."""
    found: list[TokenWarning] = []
    accounts = {d.spec.chatwoot.account_id for d in domains.values()}
    for shared in sorted(a for a in accounts if a is not None):
        found += _disagreeing(claimants_of(domains, shared), environ)
    for domain_id, domain in sorted(domains.items()):
        account = domain.spec.chatwoot.account_id
        switches = {
            label: target
            for label, target in domain.spec.switching.labels.items()
            if target != domain_id and target in domains
        }
        if not switches:
            continue
        if account is None:
            token = settings.chatwoot_token.get_secret_value() if settings.chatwoot_token else None
        else:
            token = account_token(claimants_of(domains, account), settings, environ)
        if token is None:
            found.append(_no_token(domain, account, switches))
        if account is None:
            continue
        for label, target_id in sorted(switches.items()):
            target = domains[target_id]
            home, handoff = target.spec.chatwoot.account_id, target.spec.handoff
            if home not in (None, account) and (handoff.assignee_id or handoff.team_id):
                found.append(
                    _warning(
                        domain,
                        ("switching", "labels", label),
                        f"switch label {label!r} sends account {account}'s conversations to "
                        f"{target_id!r}, whose handoff agent/team belong to account {home}: "
                        "a handoff there opens the conversation without assigning it",
                        expected="a switch target on the same account, or no handoff ids",
                    )
                )
    return found


def _no_token(domain: Domain, account: int | None, switches: Mapping[str, str]) -> TokenWarning:
    labels = ", ".join(f"{label!r} → {target}" for label, target in sorted(switches.items()))
    if account is None:
        where = "conversations of accounts no domain maps"
        fix = f"set {GLOBAL_TOKEN_ENV}"
    else:
        where = f"account {account}'s conversations"
        own = domain.spec.chatwoot.token_env
        fix = f"set {own} or {GLOBAL_TOKEN_ENV}" if own else f"set {GLOBAL_TOKEN_ENV}"
    return _warning(
        domain,
        ("switching", "labels"),
        f"{where} have no bot token: no reply can be posted there, whichever domain a "
        f"switch label sends them to ({labels})",
        expected=fix,
    )


def _disagreeing(claimants: list[Domain], environ: Mapping[str, str]) -> list[TokenWarning]:
    """Domains of one account whose token variables hold different tokens."""
    named = [
        (d, environ[d.spec.chatwoot.token_env])
        for d in claimants
        if d.spec.chatwoot.token_env and environ.get(d.spec.chatwoot.token_env)
    ]
    if len({token for _, token in named}) < 2:
        return []
    first = named[0][0]
    return [
        _warning(
            domain,
            ("chatwoot", "token_env"),
            f"{domain.spec.chatwoot.token_env} differs from {first.spec.chatwoot.token_env} "
            f"({first.id!r}), and a token belongs to the account: every conversation of account "
            f"{domain.spec.chatwoot.account_id} is answered with {first.id!r}'s",
            expected="the domains of one Chatwoot account naming the same bot token",
        )
        for domain, token in named[1:]
        if token != named[0][1]
    ]


def _warning(domain: Domain, path: tuple[str, ...], message: str, *, expected: str) -> TokenWarning:
    position = domain.document.position_of(path)
    key_path = ".".join(path)
    return TokenWarning(
        f"{domain.id}: {message}",
        file=position.file if position else None,
        line=position.line if position else None,
        key_path=key_path,
        expected=expected,
    )
