"""UI strings of the public pages' search, event page, map and error pages (Dutch, English).

Kept apart from ``api.i18n.STRINGS`` (which takes them in) so that the public pages'
strings can grow without touching the shared table.
"""

from __future__ import annotations

PUBLIC_STRINGS: dict[str, tuple[str, str]] = {
    # search: filters
    "more_filters": ("Meer filters", "More filters"),
    "filters_active": ("{n} actief", "{n} active"),
    "field_audience": ("Voor wie", "For whom"),
    "field_phase": ("Fase (klantreis)", "Stage (customer journey)"),
    "field_attendance": ("Hoe", "How"),
    "attendance_any": ("Op locatie en online", "On site and online"),
    "attendance_offline": ("Op locatie", "On site"),
    "attendance_online": ("Alleen online", "Online only"),
    "field_free": ("Kosten", "Cost"),
    "free_only": ("Alleen gratis", "Free only"),
    "paid_only": ("Alleen betaald", "Paid only"),
    "field_lang": ("Taal van de activiteit", "Language of the activity"),
    "field_sort": ("Sorteren op", "Sort by"),
    "sort_date": ("Datum", "Date"),
    "sort_relevance": ("Relevantie (met zoekwoorden)", "Relevance (with keywords)"),
    "sort_distance": ("Afstand (met plaats of postcode)", "Distance (with place or postcode)"),
    "results_in_order": ("Op volgorde van: {order}", "In order of: {order}"),
    "active_filters": ("Actieve filters", "Active filters"),
    "drop_filter": ("Filter {label} weghalen", "Remove filter {label}"),
    "widen_search": (
        "Niets gevonden. Probeer het ruimer: haal een filter weg.",
        "Nothing found. Try a wider search: remove a filter.",
    ),
    "widen_km": ("Zoek binnen {km} km", "Search within {km} km"),
    "widen_all": ("Alle activiteiten tonen", "Show all activities"),
    "distance_km": ("{km} km", "{km} km"),
    "distance_label": ("Afstand", "Distance"),
    # search: input errors next to their field
    "err_date": (
        "'{value}' is geen datum; gebruik jjjj-mm-dd (bijvoorbeeld 2027-03-01). Dit filter is "
        "niet gebruikt.",
        "'{value}' is not a date; use yyyy-mm-dd (for example 2027-03-01). This filter was "
        "not used.",
    ),
    "err_to_before_from": (
        "'Tot en met' ({to}) ligt vóór 'Vanaf' ({start}); 'Tot en met' is niet gebruikt.",
        "'Until' ({to}) is before 'From' ({start}); 'Until' was not used.",
    ),
    "err_unknown_value": (
        "'{value}' kennen we niet; dit filter is niet gebruikt.",
        "'{value}' is not known here; this filter was not used.",
    ),
    "err_km": (
        "Geef een afstand tussen 1 en 300 km; gezocht is binnen {km} km.",
        "Give a distance between 1 and 300 km; searched within {km} km.",
    ),
    "err_needs_near": (
        "Vul eerst een plaats of postcode in; dit is niet gebruikt.",
        "Fill in a place or postcode first; this was not used.",
    ),
    "err_summary": (
        "Niet alles wat je invulde kon worden gebruikt; zie de uitleg bij het veld.",
        "Not everything you filled in could be used; see the note at the field.",
    ),
    # search: series
    "series_weekly": ("elke {day}", "every {day}"),
    "series_count": ("{n} keer", "{n} times"),
    "series_next": ("eerstvolgende {when}", "next {when}"),
    "series_all_dates": ("Alle {n} data", "All {n} dates"),
    # event page
    "share": ("Delen", "Share"),
    "share_copy": ("Link kopiëren", "Copy link"),
    "share_copied": ("Link gekopieerd", "Link copied"),
    "share_link": ("Link naar deze activiteit", "Link to this activity"),
    "route": ("Route plannen (OpenStreetMap)", "Plan a route (OpenStreetMap)"),
    "more_like_this": ("Meer zoals dit", "More like this"),
    "event_past": (
        "Deze activiteit is voorbij.",
        "This activity is over.",
    ),
    "event_cancelled_text": (
        "Deze activiteit gaat niet door.",
        "This activity will not take place.",
    ),
    "back_to_results": ("Terug naar de resultaten", "Back to the results"),
    # map
    "map_label": ("Kaart", "Map"),
    "map_zoom_in": ("Inzoomen", "Zoom in"),
    "map_attribution": ("© OpenStreetMap-bijdragers", "© OpenStreetMap contributors"),
    "map_zoom_out": ("Uitzoomen", "Zoom out"),
    # error pages
    "error_400": ("Dit verzoek klopt niet", "This request is not right"),
    "error_400_text": (
        "De pagina kreeg iets wat ze niet kan gebruiken. Controleer de link of begin opnieuw.",
        "The page received something it cannot use. Check the link or start again.",
    ),
    "error_403": ("Geen toegang", "No access"),
    "error_403_text": (
        "Je hebt geen toegang tot deze pagina. Log in met een account dat dat wel heeft.",
        "You have no access to this page. Log in with an account that has.",
    ),
    "error_405": ("Dat kan hier niet", "That is not possible here"),
    "error_405_text": (
        "Deze pagina kan dit verzoek niet afhandelen.",
        "This page cannot handle this request.",
    ),
    "error_410": ("Niet meer beschikbaar", "No longer available"),
    "error_410_text": ("Deze pagina is weggehaald.", "This page has been removed."),
    "error_429": ("Even rustig aan", "Slow down a little"),
    "error_429_text": (
        "Er kwamen te veel verzoeken tegelijk. Probeer het over een paar minuten opnieuw.",
        "Too many requests came in at once. Try again in a few minutes.",
    ),
    "error_500": ("Er ging iets mis", "Something went wrong"),
    "error_500_text": (
        "Er ging bij ons iets mis. Probeer het later opnieuw; de fout is vastgelegd.",
        "Something went wrong on our side. Try again later; the error has been logged.",
    ),
    "error_503": ("Even niet beschikbaar", "Briefly unavailable"),
    "error_503_text": (
        "De agenda is even niet bereikbaar. Probeer het over een paar minuten opnieuw.",
        "The calendar cannot be reached right now. Try again in a few minutes.",
    ),
    "error_code": ("Foutcode {code}", "Error code {code}"),
}
