"""`chatwootai domains list|show|validate`: look at and check the domain files."""

from __future__ import annotations

from pathlib import Path

import click

from hub.domains.registry import DomainRegistry
from hub.domains.source import dump_yaml
from hub.domains.tokens import token_warnings
from hub.exceptions import ConfigurationError, DomainNotFoundError
from hub.settings import get_settings


def _registry(directory: Path | None) -> DomainRegistry:
    path = directory or get_settings().domains_dir
    try:
        return DomainRegistry(path, reload_interval=float("inf"), log_problems=False)
    except ConfigurationError as error:
        raise click.ClickException(error.render()) from error


@click.group()
def domains() -> None:
    """Business domains: list, show and validate their YAML."""


@domains.command("list")
@click.option("--dir", "directory", type=click.Path(path_type=Path), help="domains folder")
def list_domains(directory: Path | None) -> None:
    """The loaded domains and their Chatwoot mapping."""
    registry = _registry(directory)
    rows = [("DOMAIN", "NAME", "ACCOUNT", "INBOXES", "ROUTES", "STATUS")]
    for domain_id, domain in sorted(registry.domains.items()):
        chatwoot = domain.spec.chatwoot
        rows.append(
            (
                domain_id,
                domain.spec.name,
                str(chatwoot.account_id) if chatwoot.account_id else "-",
                ",".join(map(str, chatwoot.inbox_ids)) or ("all" if chatwoot.account_id else "-"),
                ",".join(domain.spec.routing.routes),
                "ok" if domain_id not in registry.problems else "INVALID (serving last good)",
            )
        )
    for domain_id in sorted(set(registry.problems) - set(registry.domains)):
        rows.append((domain_id, "-", "-", "-", "-", "INVALID (not served)"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    if registry.problems:
        click.echo(f"\n{len(registry.problems)} invalid; see `chatwootai domains validate`.")


@domains.command("show")
@click.argument("domain_id")
@click.option("--dir", "directory", type=click.Path(path_type=Path), help="domains folder")
def show_domain(domain_id: str, directory: Path | None) -> None:
    """One domain's merged (inherited) configuration, as YAML."""
    registry = _registry(directory)
    if domain_id in registry.problems and domain_id not in registry.domains:
        raise click.ClickException(str(registry.problems[domain_id]))
    try:
        domain = registry.get(domain_id)
    except DomainNotFoundError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"# {domain_id}: {' → '.join(domain.chain)}")
    click.echo(dump_yaml(domain.as_data()), nl=False)


@domains.command("validate")
@click.argument("directory", required=False, type=click.Path(path_type=Path))
def validate_domains(directory: Path | None) -> None:
    """Check every domain; print every error with file, line and key path; exit 1 if any.

    Warnings (task texts the offline model would not read; Chatwoot accounts whose
    conversations, switched or not, have no bot token to be answered with) are
    printed too, after the errors, and do not change the exit status.
    """
    registry = _registry(directory)
    errors: dict[str, ConfigurationError] = {}
    for problem in registry.problems.values():
        for error in problem.errors:
            errors.setdefault(error.render(), error)
    ordered = _in_file_order(errors)
    for error in ordered:
        click.echo(error.render(), err=True)
    valid = sorted(set(registry.domains) - set(registry.problems))
    warnings: dict[str, ConfigurationError] = {}
    for domain_id in valid:
        for warning in registry.domains[domain_id].warnings:
            warnings.setdefault(warning.render(), warning)
    serving = {domain_id: registry.domains[domain_id] for domain_id in valid}
    for warning in token_warnings(serving, get_settings()):
        warnings.setdefault(warning.render(), warning)
    for warning in _in_file_order(warnings):
        click.echo(f"warning: {warning.render()}", err=True)
    if ordered:
        files = {str(e.file) for e in ordered}
        click.echo(
            f"\n{len(ordered)} error(s) in {len(files)} file(s); "
            f"invalid: {', '.join(sorted(registry.problems))}; valid: {', '.join(valid) or 'none'}",
            err=True,
        )
        raise SystemExit(1)
    noted = f"; {len(warnings)} warning(s)" if warnings else ""
    click.echo(f"{len(valid)} domain(s) valid: {', '.join(valid)}{noted}")


def _in_file_order(problems: dict[str, ConfigurationError]) -> list[ConfigurationError]:
    return sorted(problems.values(), key=lambda e: (str(e.file or ""), e.line or 0, e.key_path))
