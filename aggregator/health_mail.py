"""The mail that tells a source's owners it broke or recovered: subject, text and advice.

Dutch first, then English (the owners are Dutch regional desks; some work in English).
"""

from __future__ import annotations

from dataclasses import dataclass

from aggregator.mail import MailMessage

FAILING, HELD, RECOVERED = "failing", "held", "recovered"


@dataclass(frozen=True, slots=True)
class SourceFacts:
    """What the mail says about the source."""

    id: str
    name: str
    url: str
    region: str


def what_to_check(reason: str | None, *, held: bool, http_status: int | None) -> tuple[str, str]:
    """Advice (Dutch, English) for the owner, from the harvest's reason and HTTP status."""
    text = (reason or "").lower()
    if held:
        return (
            "De bron gaf in één keer veel minder activiteiten dan eerst. Zijn ze echt vervallen,"
            " dan hoeft u niets te doen: de volgende keer ophalen bevestigt het en dan"
            " verdwijnen ze uit de agenda. Anders: controleer of de export van uw agenda"
            " volledig is (geen lege of halve export, geen onderhoudspagina).",
            "The source suddenly gave far fewer activities than before. If they really ended,"
            " there is nothing to do: the next harvest confirms it and removes them. Otherwise"
            " check that your calendar's export is complete (not empty or cut short, not a"
            " maintenance page).",
        )
    if http_status in (404, 410):
        return (
            "Het adres bestaat niet (meer). Is de agenda verhuisd? Geef ons dan het nieuwe adres.",
            "The address does not exist (any more). Did the calendar move? Then send us the"
            " new address.",
        )
    if http_status in (401, 403):
        return (
            "De server weigert de toegang. Is de agenda afgeschermd of blokkeert een firewall ons?",
            "The server refuses access. Is the calendar protected, or does a firewall block us?",
        )
    if http_status is not None and http_status >= 500:
        return (
            "De server van de agenda geeft een fout. Werkt de website, en de agenda zelf?",
            "The calendar's server answers with an error. Does the website work, and the"
            " calendar itself?",
        )
    if "timed out" in text or "cannot reach" in text:
        return (
            "De server antwoordt niet (op tijd). Is de website bereikbaar?",
            "The server does not answer (in time). Can the website be reached?",
        )
    if "limit" in text or "too many" in text:
        return (
            "Het bestand is te groot of wordt eindeloos doorgestuurd. Klopt het adres?",
            "The file is too large or is redirected without end. Is the address right?",
        )
    return (
        "Open het adres van de bron in een browser: komt de agenda (iCal, RSS of de pagina)"
        " volledig en zonder fout?",
        "Open the source's address in a browser: does the calendar (iCal, RSS or the page)"
        " come through whole and without error?",
    )


def health_message(
    *,
    kind: str,
    source: SourceFacts,
    to: tuple[str, ...],
    reason: str | None,
    http_status: int | None,
    site_url: str | None,
) -> MailMessage:
    """The mail of ``kind`` (failing, held or recovered) about ``source`` to ``to``."""
    overview_nl = f"{site_url.rstrip('/')}/bronnen" if site_url else "/bronnen"
    overview_en = f"{site_url.rstrip('/')}/en/sources" if site_url else "/en/sources"
    name = f"{source.name} ({source.id})"
    if kind == RECOVERED:
        subject = f"Bron werkt weer / Source recovered: {source.name}"
        nl = [
            f"De bron {name} in regio {source.region} wordt weer goed opgehaald.",
            "Dank voor het herstellen.",
        ]
        en = [f"The source {name} in region {source.region} is harvested well again."]
    else:
        check_nl, check_en = what_to_check(reason, held=kind == HELD, http_status=http_status)
        if kind == HELD:
            subject = f"Bron vastgehouden / Source held: {source.name}"
            nl = [f"De bron {name} in regio {source.region} is vastgehouden."]
            en = [f"The source {name} in region {source.region} is held."]
        else:
            subject = f"Bron mislukt / Source failing: {source.name}"
            nl = [f"Het ophalen van de bron {name} in regio {source.region} is mislukt."]
            en = [f"Harvesting the source {name} in region {source.region} failed."]
        nl += [f"Reden: {reason or 'onbekend'}", f"Wat te controleren: {check_nl}"]
        en += [f"Reason: {reason or 'unknown'}", f"What to check: {check_en}"]
    nl += [
        f"Adres van de bron: {source.url}",
        f"Alle bronnen: {overview_nl}",
        "U krijgt hooguit één bericht per dag dat een bron niet werkt, en één zodra hij weer"
        " werkt.",
    ]
    en += [
        f"Address of the source: {source.url}",
        f"All sources: {overview_en}",
        "You get at most one mail a day that a source is not working, and one when it works again.",
    ]
    text = "\n\n".join(["\n".join(nl), "-- English --", "\n".join(en)]) + "\n"
    return MailMessage(to=to, subject=subject, text=text, headers={"X-Agenda-Source": source.id})
