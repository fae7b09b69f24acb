"""`chatwootai chat`: the production HubCrew in a terminal."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from hub.offline.planner import offers_in
from tests.conftest import ROOT, child_env

CLINIC = ZoneInfo("America/Sao_Paulo")

pytestmark = pytest.mark.slow


def chat(tmp_path: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = child_env()
    env.update({"CHATWOOTAI_DATA_DIR": str(tmp_path), "HOME": str(tmp_path / "home")})
    return subprocess.run(
        [sys.executable, "-m", "hub", "chat", *args],
        env=env,
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_one_turn_prints_the_real_opening_hours_and_exits_zero(tmp_path: Path) -> None:
    result = chat(tmp_path, "--domain", "retail", "--message", "Qual o horário de funcionamento?")
    assert result.returncode == 0, result.stderr
    assert "10:00" in result.stdout and "22:00" in result.stdout
    assert "14:00" in result.stdout  # Sundays and holidays


def test_an_interactive_session_answers_each_line_until_end_of_input(tmp_path: Path) -> None:
    result = chat(
        tmp_path,
        "--domain",
        "health",
        "--show-route",
        stdin="Vocês aceitam Hapvida?\nQual o endereço?\n",
    )
    assert result.returncode == 0, result.stderr
    assert "Hapvida" in result.stdout
    assert "Afonso Pena" in result.stdout
    assert "[rota:" in result.stderr


def test_an_unknown_domain_fails_with_the_known_ones(tmp_path: Path) -> None:
    result = chat(tmp_path, "--domain", "padaria", "--message", "oi")
    assert result.returncode == 1
    assert "no domain 'padaria'" in result.stderr


def test_a_product_question_is_answered_with_the_catalogue_s_product_and_price(
    tmp_path: Path,
) -> None:
    result = chat(
        tmp_path,
        "--domain",
        "cosmetics",
        "--message",
        "Vocês têm protetor solar para pele oleosa? Quanto custa?",
    )
    assert result.returncode == 0, result.stderr
    assert "BP-002" in result.stdout and "Protetor Solar Facial FPS 50" in result.stdout
    assert "R$ 69,90" in result.stdout


def test_an_order_number_gets_the_order_s_status_and_refund_term(tmp_path: Path) -> None:
    question = "Qual o status do pedido CC-2026-00020?"
    phone = "+55 11 98765-4320"  # the order's own
    result = chat(tmp_path, "--domain", "retail", "--phone", phone, "--message", question)
    assert result.returncode == 0, result.stderr
    assert "cancelado" in result.stdout
    assert "reembolso será feito em até 7 dias úteis" in result.stdout


def test_without_the_order_s_phone_the_order_is_found_but_not_told(tmp_path: Path) -> None:
    question = "Qual o status do pedido CC-2026-00020?"
    result = chat(tmp_path, "--domain", "retail", "--message", question)
    assert result.returncode == 0, result.stderr
    assert "confirme o telefone ou o e-mail" in result.stdout
    assert "cancelado" not in result.stdout and "reembolso" not in result.stdout


def test_the_clinic_offers_free_slots_and_books_the_one_picked_in_the_embedded_database(
    tmp_path: Path,
) -> None:
    result = chat(
        tmp_path,
        "--domain",
        "health",
        "--name",
        "Maria Silva",
        "--message",
        "Quero marcar consulta com a dermatologista",
        "--message",
        "Pode marcar o primeiro horário",
    )
    assert result.returncode == 0, result.stderr
    offer, confirmation = result.stdout.split("Pronto, sua consulta está marcada!")
    offered = offers_in(offer)
    assert 1 <= len(offered) <= 3
    assert all(o.weekday == "sexta" and o.professional == "Dra. Carla Mendes" for o in offered)
    first = offered[0]
    assert f"Dra. Carla Mendes (Dermatologia), {first.line.split(' — ')[0]}" in confirmation
    assert "15 minutos antes" in confirmation and "documento de identidade" in confirmation
    assert "carteirinha do convênio" in confirmation

    database = sqlite3.connect(tmp_path / "chatwootai.sqlite3")
    try:
        rows = database.execute(
            "SELECT a.domain, p.name, a.starts_at, a.customer_name, a.status"
            " FROM appointments a JOIN professionals p ON p.id = a.professional_id"
        ).fetchall()
    finally:
        database.close()
    ((domain, name, starts_at, customer, status),) = rows
    local = datetime.fromisoformat(starts_at).replace(tzinfo=UTC).astimezone(CLINIC)
    assert (domain, name, customer, status) == (
        "health",
        "Dra. Carla Mendes",
        "Maria Silva",
        "booked",
    )
    assert f"{local:%d/%m/%Y %H:%M}" == first.starts_at
