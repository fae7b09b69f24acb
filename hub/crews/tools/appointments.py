"""Tools over a domain's agenda: free slots, booking and cancelling appointments.

Bound like every business tool to the turn's domain, its time zone and its
conversation, account included (`TurnContext`): the model chooses who and when, never whose agenda.
Times are read and written as local wall-clock times of the domain ("sexta-feira,
04/12/2026 às 08:00"); the store keeps them in UTC. Whatever a customer can cause
(a name that matches nobody, a date that is no slot, a slot someone else just
took, a late cancellation) comes back as text the agent relays, never as an
exception, and a taken slot comes back with other free ones. Each call also
records its outcome as data on the turn's context (`SlotsData`, `BookingData`,
`CancellationData`), which the offline model answers from.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from hub.conversation.hours import WEEKDAY_NAMES_PT
from hub.crews.tools.business import BusinessTool
from hub.crews.tools.guard import records_failures
from hub.exceptions import SlotTakenError, SlotUnavailableError, StoreError
from hub.knowledge.text import normalize
from hub.store.appointments import FREE_CANCELLATION_HOURS, book, cancel, upcoming
from hub.store.database import session_scope
from hub.store.models import Appointment, Professional
from hub.store.schedule import Slot, free_slots, match_professionals, professionals, zone
from hub.turn import (
    AppointmentData,
    BookingData,
    BookingOutcome,
    CancellationData,
    SlotData,
    SlotsData,
)

SLOT_DAYS = 14
"""How far ahead free slots are offered."""

SLOTS_SHOWN = 8
"""Free slots one answer lists at most (the agent offers a few of them)."""

SLOTS_PER_DAY = 3
"""At most this many slots of one day, so a list reaches past the first morning."""

ALTERNATIVES = 3
"""Other free slots offered when the one asked for is taken or is no slot."""

WEEKDAY_WORDS = ("segunda", "terca", "quarta", "quinta", "sexta", "sabado", "domingo")
"""Folded weekday names, Monday first as in `date.weekday()`; "sex" and "sab" also match."""

PERIODS = {"manha": (0, 12), "tarde": (12, 18), "noite": (18, 24)}
"""Parts of the day a customer may prefer, as local hours [start, end)."""

_ISO = re.compile(r"\d{4}-\d{2}-\d{2}[t ]\d{1,2}:\d{2}(:\d{2})?([+-]\d{2}:?\d{2}|z)?")
_DATE = re.compile(r"\b(\d{1,2})/(\d{1,2})(?:/(\d{2,4}))?\b")
_TIME = re.compile(r"\b(\d{1,2})\s*(?::\s*(\d{2})|h\s*(\d{2})?\b)|\bas (\d{1,2})\b(?!\s*[:h\d])")
_WEEKDAY = re.compile(r"\b(segunda|terca|quarta|quinta|sexta|sex|sabado|sab|domingo)\b")


def utc_now() -> datetime:
    """The current instant, aware: the default clock of the agenda tools."""
    return datetime.now(UTC)


def slot_when(starts_at: datetime) -> str:
    """ "sexta-feira, 04/12/2026 às 08:00": weekday, date and time, as customers read them."""
    return f"{WEEKDAY_NAMES_PT[starts_at.weekday()]}, {starts_at:%d/%m/%Y} às {starts_at:%H:%M}"


def slot_line(slot: Slot) -> str:
    """One free slot: "sexta-feira, 04/12/2026 às 08:00 — Dra. Carla Mendes (Dermatologia)"."""
    return f"{slot_when(slot.starts_at)} — {slot.professional} ({slot.specialty})"


def slot_data(slot: Slot) -> SlotData:
    """A free slot as a tool result's item."""
    return SlotData(
        starts_at=slot.starts_at,
        professional=slot.professional,
        specialty=slot.specialty,
        line=slot_line(slot),
    )


def listed(slots: Sequence[SlotData]) -> str:
    """Slots one a line, as the tools write them: "- sexta-feira, 04/12/2026 às 08:00 — …"."""
    return "\n".join(f"- {slot.line}" for slot in slots)


def parse_when(text: str, tz: ZoneInfo, now: datetime) -> datetime | None:
    """A local date and time from how people write it, or None when it names no instant.

    Accepts ISO ("2026-12-03 14:00", with or without an offset) and Brazilian forms
    ("03/12/2026 14:00", "03/12 às 14h", "sexta às 8h30", "amanhã 9:00"). A date
    without a year is the next one from today; a weekday the next such day.
    """
    folded = normalize(text)
    if match := _ISO.search(folded):
        try:
            moment = datetime.fromisoformat(
                match[0].upper().replace("T", " ").replace("Z", "+00:00")
            )
        except ValueError:
            return None
        return moment.astimezone(tz) if moment.tzinfo else moment.replace(tzinfo=tz)
    day = _day(folded, now.astimezone(tz).date())
    hour = _time(_DATE.sub(" ", folded))
    if day is None or hour is None:
        return None
    return datetime.combine(day, hour, tzinfo=tz)


def _day(folded: str, today: date) -> date | None:
    if match := _DATE.search(folded):
        day, month, year = int(match[1]), int(match[2]), match[3]
        try:
            if year:
                return date(int(year) + (2000 if len(year) == 2 else 0), month, day)
            candidate = date(today.year, month, day)
        except ValueError:
            return None
        return candidate if candidate >= today else candidate.replace(year=today.year + 1)
    if re.search(r"\bhoje\b", folded):
        return today
    if re.search(r"\bamanha\b", folded):
        return today + timedelta(days=1)
    if match := _WEEKDAY.search(folded):
        weekday = next(i for i, word in enumerate(WEEKDAY_WORDS) if word.startswith(match[1]))
        return today + timedelta(days=(weekday - today.weekday()) % 7)
    return None


def _time(folded: str) -> time | None:
    match = _TIME.search(folded)
    if match is None:
        return None
    hour = int(match[1] or match[4])
    minute = int(match[2] or match[3] or 0)
    return time(hour, minute) if hour < 24 and minute < 60 else None


def fits(starts_at: datetime, when: str, today: date) -> bool:
    """Whether a local start fits words such as "sexta", "04/12", "de manhã", "quinta 10h".

    A weekday means any such day; a date (or "hoje", "amanhã") that very day; a
    time that very time; a part of the day ("manhã", "tarde", "noite") its hours.
    """
    folded = normalize(when)
    day = _day(folded, today)
    if day is not None:
        any_such_weekday = not _DATE.search(folded) and _WEEKDAY.search(folded)
        same = starts_at.weekday() == day.weekday() if any_such_weekday else starts_at.date() == day
        if not same:
            return False
    hour = _time(_DATE.sub(" ", folded))
    if hour is not None and starts_at.time() != hour:
        return False
    return all(
        start <= starts_at.hour < end for word, (start, end) in PERIODS.items() if word in folded
    )


def spread(
    slots: Sequence[Slot], *, per_day: int = SLOTS_PER_DAY, limit: int = SLOTS_SHOWN
) -> list[Slot]:
    """The first slots in time order, at most `per_day` of any one day, `limit` in all."""
    chosen: list[Slot] = []
    per: dict[date, int] = {}
    for slot in slots:
        day = slot.starts_at.date()
        if per.get(day, 0) < per_day:
            chosen.append(slot)
            per[day] = per.get(day, 0) + 1
        if len(chosen) == limit:
            break
    return chosen


class _AgendaTool(BusinessTool):
    """What the agenda tools share: the clock (a test sets its own), the zone, free slots."""

    clock: Callable[[], datetime] = utc_now

    @property
    def zone(self) -> ZoneInfo:
        return zone(self.timezone)

    def _free(self, session: Session, who: str, now: datetime) -> list[Slot]:
        today = now.astimezone(self.zone).date()
        return free_slots(
            session,
            self.context.domain_id,
            start=today,
            end=today + timedelta(days=SLOT_DAYS),
            tz=self.zone,
            now=now,
            who=who,
        )

    def _nobody(self, session: Session, who: str) -> str:
        """No one is `who`: say so, with who can be booked (if anyone can, in this domain)."""
        people = professionals(session, self.context.domain_id)
        roster = "; ".join(f"{row.name} ({row.specialty})" for row in people)
        listed = f" Profissionais: {roster}." if roster else ""
        return f"Nenhum profissional ou especialidade corresponde a '{who}'.{listed}"


class SlotArgs(BaseModel):
    who: str = Field(description="nome do profissional ou especialidade, como dermatologia")
    when: str = Field(
        default="", description="dia ou período de preferência, se houver (sexta, 04/12, manhã)"
    )


class AppointmentSlotsTool(_AgendaTool):
    name: str = "appointment_slots"
    description: str = (
        "Horários livres de um profissional ou especialidade nos próximos 14 dias "
        "(dia da semana, data, hora e profissional)."
    )
    args_schema: type[BaseModel] = SlotArgs

    @records_failures(SQLAlchemyError)
    def _run(self, who: str, when: str = "", **_: Any) -> str:
        self.context.tool_calls.append(self.name)
        now = self.clock()
        with session_scope(self.engine) as session:
            if not match_professionals(session, self.context.domain_id, who):
                nobody = self._nobody(session, who)
                return self._returned(SlotsData(who, when, matched=False), nobody)
            found = self._free(session, who, now)
        today = now.astimezone(self.zone).date()
        preferred = [slot for slot in found if fits(slot.starts_at, when, today)] if when else found
        if not found:
            return self._returned(
                SlotsData(who, when),
                f"Não há horários livres para {who} nos próximos {SLOT_DAYS} dias.",
            )
        if not preferred:
            others = tuple(slot_data(slot) for slot in spread(found, limit=ALTERNATIVES))
            problem = f"Não há horários livres para {who} em {when}."
            return self._returned(
                SlotsData(who, when, fits=False, slots=others, problem=problem),
                f"{problem} Outros horários livres:\n{listed(others)}",
            )
        shown = tuple(slot_data(slot) for slot in spread(preferred))
        return self._returned(
            SlotsData(who, when, slots=shown), f"Horários livres:\n{listed(shown)}"
        )


class BookingArgs(BaseModel):
    professional: str = Field(description="nome do profissional (ou a especialidade)")
    starts_at: str = Field(description="data e hora locais do horário escolhido: 04/12/2026 08:00")
    patient_name: str = Field(
        default="", description="nome completo de quem será atendido, se for outra pessoa"
    )


class BookAppointmentTool(_AgendaTool):
    name: str = "book_appointment"
    description: str = (
        "Marca uma consulta em um horário livre (data e hora locais) com o profissional; "
        "se o horário já estiver ocupado, devolve outros horários livres."
    )
    args_schema: type[BaseModel] = BookingArgs

    @records_failures(SQLAlchemyError)
    def _run(self, professional: str, starts_at: str, patient_name: str = "", **_: Any) -> str:
        self.context.tool_calls.append(self.name)
        now = self.clock()
        moment = parse_when(starts_at, self.zone, now)
        if moment is None:
            return self._returned(
                BookingData("unclear_time", professional),
                f"Não entendi a data e a hora '{starts_at}' (por exemplo: 04/12/2026 08:00).",
            )
        # Whom it is for: as told, else the contact; unknown in a bare terminal chat.
        patient = patient_name.strip() or self.context.customer_name.strip()
        with session_scope(self.engine) as session:
            people = match_professionals(session, self.context.domain_id, professional)
            if len(people) != 1:
                who = self._who(session, professional, people)
                return self._returned(BookingData("unclear_who", professional, moment), who)
            person = people[0]
        try:
            with session_scope(self.engine) as session:
                appointment = book(
                    session,
                    self.context.domain_id,
                    person.name,
                    moment,
                    customer_name=patient,
                    customer_phone=self.context.contact_phone,
                    account_id=self.context.account_id,
                    conversation_id=self.context.conversation_id,
                    tz=self.zone,
                    now=now,
                )
        except SlotTakenError:
            return self._instead(
                "taken",
                person,
                moment,
                f"O horário de {slot_when(moment)} com {person.name} "
                "acabou de ser reservado por outra pessoa.",
                now,
            )
        except SlotUnavailableError:
            return self._instead(
                "unavailable",
                person,
                moment,
                f"{person.name} não tem horário livre em {slot_when(moment)}.",
                now,
            )
        local = appointment.starts_at.astimezone(self.zone)
        whom = f", para {patient}" if patient else ""
        booked = BookingData(
            "booked", person.name, local, patient=patient, appointment_id=appointment.id
        )
        return self._returned(
            booked,
            f"Consulta marcada: {person.name} ({person.specialty}), {slot_when(local)}{whom}. "
            f"Número do agendamento: {appointment.id}.",
        )

    def _who(self, session: Session, professional: str, people: list[Professional]) -> str:
        if people:
            names = "; ".join(f"{row.name} ({row.specialty})" for row in people)
            return f"'{professional}' corresponde a mais de um profissional: {names}."
        return self._nobody(session, professional)

    def _instead(
        self,
        outcome: BookingOutcome,
        person: Professional,
        moment: datetime,
        problem: str,
        now: datetime,
    ) -> str:
        """Not booked: say why, with other free slots of the same professional."""
        with session_scope(self.engine) as session:
            free = spread(self._free(session, person.name, now), limit=ALTERNATIVES)
        others = tuple(slot_data(slot) for slot in free)
        data = BookingData(outcome, person.name, moment, problem=problem, alternatives=others)
        if not others:
            return self._returned(
                data,
                f"{problem} Não há outros horários livres com {person.name} "
                f"nos próximos {SLOT_DAYS} dias.",
            )
        return self._returned(data, f"{problem} Outros horários livres:\n{listed(others)}")


class CancellationArgs(BaseModel):
    professional: str = Field(default="", description="profissional da consulta, se houver várias")
    starts_at: str = Field(
        default="", description="dia e/ou hora da consulta, se houver várias (sexta, 10:00)"
    )


class CancelAppointmentTool(_AgendaTool):
    name: str = "cancel_appointment"
    description: str = (
        "Cancela uma consulta marcada nesta conversa e diz se o cancelamento foi dentro do "
        "prazo gratuito."
    )
    args_schema: type[BaseModel] = CancellationArgs

    @records_failures(SQLAlchemyError)
    def _run(self, professional: str = "", starts_at: str = "", **_: Any) -> str:
        self.context.tool_calls.append(self.name)
        now = self.clock()
        nothing = "Não há consultas marcadas nesta conversa para cancelar."
        if self.context.conversation_id is None:
            return self._returned(CancellationData("nothing"), nothing)
        with session_scope(self.engine) as session:
            booked = upcoming(
                session,
                self.context.domain_id,
                account_id=self.context.account_id,
                now=now,
                conversation_id=self.context.conversation_id,
            )
            if not booked:
                return self._returned(CancellationData("nothing"), nothing)
            chosen = self._chosen(session, booked, professional, starts_at, now)
            if len(chosen) != 1:
                mentioned = "; ".join(self._describe(a) for a in booked)
                problem = "Há mais de uma consulta marcada"
                if not chosen:
                    problem = "Nenhuma consulta marcada corresponde a esse pedido"
                unclear = CancellationData("unclear", booked=tuple(map(self._data, booked)))
                return self._returned(
                    unclear, f"{problem}. Consultas marcadas nesta conversa: {mentioned}."
                )
            try:
                outcome = cancel(
                    session,
                    self.context.domain_id,
                    chosen[0].id,
                    account_id=self.context.account_id,
                    now=now,
                )
            except StoreError as error:
                return self._returned(
                    CancellationData("refused"), f"Não foi possível cancelar a consulta: {error}."
                )
            described = self._describe(outcome.appointment)
            cancelled = self._data(outcome.appointment)
        hours = f"{FREE_CANCELLATION_HOURS:g}"
        if outcome.fee_applies:
            rule = (
                f"Faltavam menos de {hours} horas para a consulta: o cancelamento ficou fora do "
                "prazo gratuito, e vale a regra de cancelamento tardio."
            )
        else:
            rule = (
                f"Faltavam mais de {hours} horas para a consulta: o cancelamento ficou dentro "
                "do prazo gratuito, sem custo."
            )
        return self._returned(
            CancellationData("cancelled", cancelled, fee_applies=outcome.fee_applies),
            f"Consulta cancelada: {described}. {rule}",
        )

    def _chosen(
        self,
        session: Session,
        booked: list[Appointment],
        professional: str,
        starts_at: str,
        now: datetime,
    ) -> list[Appointment]:
        """The booked appointments the arguments point at (every one when none is given)."""
        chosen = booked
        if professional.strip():
            people = match_professionals(session, self.context.domain_id, professional)
            ids = {row.id for row in people}
            chosen = [a for a in chosen if a.professional_id in ids]
        if starts_at.strip():
            today = now.astimezone(self.zone).date()
            chosen = [
                a for a in chosen if fits(a.starts_at.astimezone(self.zone), starts_at, today)
            ]
        return chosen

    def _describe(self, appointment: Appointment) -> str:
        """Professional, specialty and local time: read inside the session (lazy relation)."""
        person = appointment.professional
        local = appointment.starts_at.astimezone(self.zone)
        return f"{person.name} ({person.specialty}), {slot_when(local)}"

    def _data(self, appointment: Appointment) -> AppointmentData:
        """The appointment as a tool result's item: read inside the session, like `_describe`."""
        person = appointment.professional
        return AppointmentData(
            person.name, person.specialty, appointment.starts_at.astimezone(self.zone)
        )
