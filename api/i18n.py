"""UI strings in Dutch and English: one table, one lookup function."""

from __future__ import annotations

from datetime import date, datetime

from api.i18n_public import PUBLIC_STRINGS

LANGS = ("nl", "en")
DEFAULT_LANG = "nl"

# key -> (Dutch, English). Placeholders use str.format names.
STRINGS: dict[str, tuple[str, str]] = {
    "site_name": ("Overstap Agenda", "Overstap Agenda"),
    "tagline": (
        "Alle activiteiten voor wie overstapt naar het onderwijs",
        "All activities for people switching into education work",
    ),
    "skip_to_content": ("Naar de inhoud", "Skip to content"),
    "nav_search": ("Zoeken", "Search"),
    "nav_submit": ("Activiteit aanmelden", "Submit an activity"),
    "nav_embed": ("Op je eigen site", "On your own site"),
    "nav_moderation": ("Moderatie", "Moderation"),
    "nav_interest": ("Belangstelling", "Interest"),
    "nav_coverage": ("Dekking", "Coverage"),
    "nav_dashboard": ("Mijn overzicht", "My overview"),
    "nav_login": ("Inloggen", "Log in"),
    "nav_logout": ("Uitloggen", "Log out"),
    "switch_language": ("English", "Nederlands"),
    "switch_language_label": ("Read this page in English", "Lees deze pagina in het Nederlands"),
    "footer_feeds": ("Abonneren en hergebruiken", "Subscribe and reuse"),
    "footer_api": ("Open data (API)", "Open data (API)"),
    "footer_licence": (
        "Broncode onder EUPL-1.2. Gegevens van de genoemde bronnen.",
        "Source code under EUPL-1.2. Data from the sources named.",
    ),
    # search page
    "search_title": ("Activiteiten zoeken", "Search activities"),
    "filters": ("Filters", "Filters"),
    "field_q": ("Zoekwoorden", "Keywords"),
    "field_region": ("Regio", "Region"),
    "field_sector": ("Sector", "Sector"),
    "field_type": ("Soort activiteit", "Type of activity"),
    "field_from": ("Vanaf", "From"),
    "field_to": ("Tot en met", "Until"),
    "field_near": ("In de buurt van (plaats of postcode)", "Near (place or postcode)"),
    "choose": ("Kies…", "Choose…"),
    "map_no_tiles": (
        "De kaart kan nu niet laden en is weggelaten; de lijst toont alle activiteiten.",
        "The map cannot load now and has been left out; the list shows every activity.",
    ),
    "field_plus_online": (
        "Ook online en hybride activiteiten",
        "Also online and hybrid activities",
    ),
    "field_km": ("Afstand (km)", "Distance (km)"),
    "any": ("Alle", "All"),
    "search_button": ("Zoeken", "Search"),
    "reset_filters": ("Filters wissen", "Clear filters"),
    "results_count": ("{n} activiteiten gevonden", "{n} activities found"),
    "results_one": ("1 activiteit gevonden", "1 activity found"),
    "no_results": (
        "Geen activiteiten gevonden. Probeer minder filters of een grotere afstand.",
        "No activities found. Try fewer filters or a larger distance.",
    ),
    "date_out_of_range": (
        "De datum '{value}' ligt niet tussen {earliest} en {latest}.",
        "The date '{value}' is not between {earliest} and {latest}.",
    ),
    "near_unknown": (
        "We kennen de plaats of postcode '{near}' niet; de afstand is niet gebruikt."
        " Geef een plaats (Nijmegen), een postcode (6511 AB) of coördinaten (51.84,5.86).",
        "We do not know the place or postcode '{near}'; distance was not applied."
        " Give a place (Nijmegen), a postcode (6511 AB) or coordinates (51.84,5.86).",
    ),
    "near_ambiguous": (
        "Er zijn meer plaatsen die '{near}' heten: {candidates}. Kies er één; de afstand is"
        " niet gebruikt.",
        "Several places are called '{near}': {candidates}. Pick one; distance was not applied.",
    ),
    "map_title": ("Kaart van de resultaten", "Map of the results"),
    "map_note": (
        "Alleen activiteiten met een bekende plaats staan op de kaart.",
        "Only activities with a known place are on the map.",
    ),
    "subscribe_this_search": ("Deze zoekopdracht in je agenda", "This search in your calendar"),
    "previous_page": ("Vorige", "Previous"),
    "next_page": ("Volgende", "Next"),
    "page_of": ("Pagina {page} van {pages}", "Page {page} of {pages}"),
    "online": ("Online", "Online"),
    "mixed": ("Online en op locatie", "Online and on site"),
    "cancelled": ("Geannuleerd", "Cancelled"),
    "tentative": ("Onder voorbehoud", "Tentative"),
    "all_day": ("Hele dag", "All day"),
    "free": ("Gratis", "Free"),
    # event page
    "when": ("Wanneer", "When"),
    "where": ("Waar", "Where"),
    "organizer": ("Organisator", "Organiser"),
    "region": ("Regio", "Region"),
    "type": ("Soort", "Type"),
    "sectors": ("Sectoren", "Sectors"),
    "audiences": ("Voor wie", "For whom"),
    "phases": ("Fase", "Phase"),
    "language": ("Taal", "Language"),
    "price": ("Kosten", "Cost"),
    "price_free": ("Gratis", "Free"),
    "price_paid": ("Niet gratis", "Not free"),
    "register": ("Aanmelden", "Register"),
    "more_info": ("Meer informatie", "More information"),
    "add_to_calendar": ("Zet in je agenda", "Add to your calendar"),
    "download_ics": (
        "Download (.ics) voor Apple, Outlook of andere agenda",
        "Download (.ics) for Apple, Outlook or another calendar",
    ),
    "google_calendar": ("Google Agenda", "Google Calendar"),
    "outlook_web": ("Outlook.com", "Outlook.com"),
    "sources": ("Bronnen", "Sources"),
    "source_updated": ("bijgewerkt {when}", "updated {when}"),
    "event_removed": (
        "Deze activiteit staat niet meer in de agenda van de bron.",
        "This activity is no longer in the source's calendar.",
    ),
    "back_to_search": ("Terug naar zoeken", "Back to search"),
    "not_found": ("Niet gevonden", "Not found"),
    "error_title": ("Dat lukte niet", "That did not work"),
    "invalid_values": (
        "Deze pagina kan niet worden getoond met de waarde van: {fields}. Pas het adres aan of"
        " begin opnieuw met zoeken.",
        "This page cannot be shown with the value of: {fields}. Correct the address or start"
        " a new search.",
    ),
    "not_found_text": ("Deze pagina bestaat niet (meer).", "This page does not exist (any more)."),
    # region page
    "region_title": ("Activiteiten in {region}", "Activities in {region}"),
    "subscribe_title": ("Abonneer je op deze regio", "Subscribe to this region"),
    "subscribe_intro": (
        "Met een abonnement staan alle activiteiten van deze regio in je eigen agenda en "
        "worden wijzigingen vanzelf bijgewerkt.",
        "With a subscription every activity of this region appears in your own calendar, "
        "and changes are updated automatically.",
    ),
    "subscribe_webcal": ("Abonneren in je agenda-app", "Subscribe in your calendar app"),
    "subscribe_https": ("Agenda-adres (kopiëren)", "Calendar address (copy)"),
    "howto_google": (
        "Google Agenda: kies bij 'Andere agenda's' het plusteken, dan 'Via URL', en plak het "
        "agenda-adres.",
        "Google Calendar: next to 'Other calendars' choose the plus sign, then 'From URL', "
        "and paste the calendar address.",
    ),
    "howto_outlook": (
        "Outlook: kies 'Agenda toevoegen', dan 'Abonneren vanaf internet', en plak het "
        "agenda-adres.",
        "Outlook: choose 'Add calendar', then 'Subscribe from web', and paste the calendar "
        "address.",
    ),
    "howto_apple": (
        "Apple Agenda (Mac, iPhone): klik op 'Abonneren in je agenda-app', of kies Archief > "
        "Nieuw agenda-abonnement en plak het agenda-adres.",
        "Apple Calendar (Mac, iPhone): click 'Subscribe in your calendar app', or choose File "
        "> New Calendar Subscription and paste the calendar address.",
    ),
    "upcoming": ("Komende activiteiten", "Upcoming activities"),
    "all_regions": ("Alle regio's", "All regions"),
    "regions_intro": (
        "Kies een regio om de activiteiten te zien en je erop te abonneren in je eigen agenda.",
        "Choose a region to see its activities and subscribe to them in your own calendar.",
    ),
    "region_upcoming_count": ("{n} komend", "{n} upcoming"),
    "copy": ("Kopiëren", "Copy"),
    "copied": ("Gekopieerd", "Copied"),
    "copy_failed": (
        "Kopiëren lukte niet: selecteer het adres en kopieer het zelf.",
        "Copying did not work: select the address and copy it yourself.",
    ),
    "subscribe_webcal_address": ("Webcal-adres (kopiëren)", "Webcal address (copy)"),
    "feeds_title": ("Alle formaten van deze regio", "Every format of this region"),
    "feeds_intro": (
        "Dezelfde activiteiten voor je eigen site, feedlezer of spreadsheet.",
        "The same activities for your own site, feed reader or spreadsheet.",
    ),
    "feed_ics": ("iCal (agenda-abonnement)", "iCal (calendar subscription)"),
    "feed_rss": ("RSS", "RSS"),
    "feed_atom": ("Atom", "Atom"),
    "feed_jsonfeed": ("JSON Feed", "JSON Feed"),
    "feed_api": ("JSON API", "JSON API"),
    "feed_csv": ("CSV (open data)", "CSV (open data)"),
    "region_coverage": ("Dekking in deze regio", "Coverage in this region"),
    # submission form
    "submit_title": ("Activiteit aanmelden", "Submit an activity"),
    "submit_intro": (
        "Organiseer je een activiteit voor overstappers en heeft je regio geen eigen "
        "agenda-feed? Meld de activiteit hier aan. Een redacteur van de regio kijkt hem na "
        "voordat hij in de agenda verschijnt.",
        "Do you organise an activity for people switching into education, and does your "
        "region have no calendar feed of its own? Submit it here. An editor of the region "
        "checks it before it appears in the calendar.",
    ),
    "required": ("verplicht", "required"),
    "legend_event": ("De activiteit", "The activity"),
    "legend_when": ("Datum en tijd", "Date and time"),
    "legend_where": ("Locatie", "Location"),
    "legend_who": ("Voor wie", "For whom"),
    "legend_contact": ("Jouw gegevens", "Your details"),
    "f_title": ("Titel", "Title"),
    "f_description": ("Beschrijving", "Description"),
    "f_start_date": ("Datum", "Date"),
    "f_start_time": ("Begintijd", "Start time"),
    "f_end_date": ("Einddatum", "End date"),
    "f_end_date_hint": (
        "Alleen als de activiteit meer dagen duurt.",
        "Only for activities lasting several days.",
    ),
    "f_end_time": ("Eindtijd", "End time"),
    "f_time_hint": (
        "Laat de tijden leeg voor een activiteit van de hele dag.",
        "Leave the times empty for an all-day activity.",
    ),
    "f_attendance": ("Vorm", "Format"),
    "att_offline": ("Op locatie", "On site"),
    "att_online": ("Online", "Online"),
    "att_mixed": ("Op locatie en online", "On site and online"),
    "f_location_name": ("Naam van de locatie", "Name of the venue"),
    "f_address": ("Adres", "Address"),
    "f_postcode": ("Postcode", "Postcode"),
    "f_city": ("Plaats", "Town"),
    "f_region": ("Regio", "Region"),
    "f_url": ("Webpagina van de activiteit", "Web page of the activity"),
    "f_registration_url": ("Aanmeldlink", "Registration link"),
    "f_organizer_name": ("Organisator", "Organiser"),
    "f_organizer_url": ("Website van de organisator", "Organiser's website"),
    "f_activity_type": ("Soort activiteit", "Type of activity"),
    "f_sectors": ("Sectoren", "Sectors"),
    "f_audiences": ("Doelgroepen", "Audiences"),
    "f_language": ("Taal van de activiteit", "Language of the activity"),
    "lang_nl": ("Nederlands", "Dutch"),
    "lang_en": ("Engels", "English"),
    "f_is_free": ("Kosten", "Cost"),
    "free_yes": ("Gratis", "Free"),
    "free_no": ("Niet gratis", "Not free"),
    "free_unknown": ("Onbekend", "Unknown"),
    "f_submitter_email": ("Jouw e-mailadres (niet openbaar)", "Your e-mail address (not public)"),
    "f_submitter_email_hint": (
        "Alleen voor vragen van de redactie.",
        "Only for questions from the editors.",
    ),
    "f_honeypot": ("Laat dit veld leeg", "Leave this field empty"),
    "submit_button": ("Aanmelden", "Submit"),
    "similar_found": (
        "Let op: er staat al een vergelijkbare activiteit op die dag in de agenda:",
        "Note: a similar activity on that day is already in the calendar:",
    ),
    "form_has_errors": (
        "Het formulier is nog niet goed ingevuld. Bekijk de meldingen hieronder.",
        "The form is not complete yet. Please see the messages below.",
    ),
    "submit_thanks_title": ("Bedankt voor je aanmelding", "Thank you for your submission"),
    "submit_thanks_pending": (
        "Een redacteur van de regio bekijkt je activiteit. Daarna verschijnt hij in de "
        "agenda en in alle feeds.",
        "An editor of the region will check your activity. After that it appears in the "
        "calendar and in every feed.",
    ),
    "submit_thanks_published": (
        "Je activiteit staat direct in de agenda.",
        "Your activity is in the calendar right away.",
    ),
    "submit_edit_link": (
        "Bewaar deze link om je aanmelding later te wijzigen:",
        "Keep this link to change your submission later:",
    ),
    "submit_edit_title": ("Aanmelding wijzigen", "Change your submission"),
    "submit_edit_requeued": (
        "Datum of plaats is gewijzigd: de redactie kijkt de wijziging eerst na. Tot dan "
        "blijft de vorige versie zichtbaar.",
        "Date or place changed: the editors check the change first. Until then the previous "
        "version stays visible.",
    ),
    "submit_edit_saved": ("Je wijziging is opgeslagen.", "Your change has been saved."),
    "rate_limited": (
        "Je hebt al veel aanmeldingen gedaan. Probeer het over een uur opnieuw.",
        "You have made many submissions. Please try again in an hour.",
    ),
    "csrf_failed": (
        "Je sessie is verlopen. Laad de pagina opnieuw en probeer het nog eens.",
        "Your session has expired. Reload the page and try again.",
    ),
    # validation messages
    "err_required": ("Vul dit veld in.", "Please fill in this field."),
    "err_too_long": ("Maximaal {max} tekens.", "At most {max} characters."),
    "err_too_short": ("Minimaal {min} tekens.", "At least {min} characters."),
    "err_date": ("Geef een datum als 21-06-2027.", "Give a date like 2027-06-21."),
    "err_date_past": ("Deze datum ligt in het verleden.", "This date is in the past."),
    "err_date_far": (
        "Deze datum ligt meer dan twee jaar vooruit.",
        "This date is more than two years ahead.",
    ),
    "err_time": ("Geef een tijd als 19:30.", "Give a time like 19:30."),
    "err_end_before_start": (
        "Het einde ligt vóór het begin.",
        "The end is before the start.",
    ),
    "err_end_time_needs_start": (
        "Geef ook een begintijd.",
        "Please also give a start time.",
    ),
    "err_postcode": ("Geef een postcode als 1234 AB.", "Give a postcode like 1234 AB."),
    "err_url": (
        "Geef een volledig webadres dat begint met https://.",
        "Give a full web address starting with https://.",
    ),
    "err_email": ("Geef een geldig e-mailadres.", "Give a valid e-mail address."),
    "err_choice": ("Kies een van de mogelijkheden.", "Choose one of the options."),
    "err_place_needed": (
        "Geef voor een activiteit op locatie een plaats of adres.",
        "For an on-site activity, give a town or an address.",
    ),
    "err_region_not_yours": (
        "Je kunt alleen activiteiten in je eigen regio beheren.",
        "You can only manage activities in your own region.",
    ),
    # feed proposal
    "propose_title": ("Agenda-feed aanmelden", "Propose a calendar feed"),
    "propose_intro": (
        "Heeft je organisatie een agenda als iCal-, RSS- of Atom-feed? Meld het adres aan; "
        "we lezen de feed direct proef en een redacteur neemt hem daarna op als bron.",
        "Does your organisation publish a calendar as an iCal, RSS or Atom feed? Propose its "
        "address; we read it on the spot and an editor then adds it as a source.",
    ),
    "f_feed_url": ("Adres van de feed", "Feed address"),
    "f_feed_name": ("Naam van de agenda", "Name of the calendar"),
    "f_feed_kind": ("Soort feed", "Kind of feed"),
    "err_feed_scheme": (
        "Alleen http://, https:// en webcal:// adressen.",
        "Only http://, https:// and webcal:// addresses.",
    ),
    "err_feed_private": (
        "Dit adres wijst naar een intern of lokaal netwerk en wordt geweigerd.",
        "This address points to an internal or local network and is refused.",
    ),
    "err_feed_unresolvable": ("Deze servernaam bestaat niet.", "This host name does not exist."),
    "err_feed_fetch": (
        "De feed kon niet worden opgehaald: {reason}",
        "The feed could not be fetched: {reason}",
    ),
    "err_feed_parse": (
        "De feed kon niet worden gelezen: {reason}",
        "The feed could not be read: {reason}",
    ),
    "err_feed_empty": (
        "De feed is gelezen maar bevat geen activiteiten.",
        "The feed was read but contains no activities.",
    ),
    "propose_thanks": (
        "De feed is gelezen ({n} activiteiten) en wacht op een redacteur.",
        "The feed was read ({n} activities) and waits for an editor.",
    ),
    # login and moderation
    "login_title": ("Inloggen voor redacteuren", "Log in for editors"),
    "f_email": ("E-mailadres", "E-mail address"),
    "f_password": ("Wachtwoord", "Password"),
    "login_button": ("Inloggen", "Log in"),
    "login_failed": (
        "E-mailadres of wachtwoord klopt niet.",
        "E-mail address or password is wrong.",
    ),
    "login_limited": (
        "Te veel pogingen. Probeer het over een kwartier opnieuw.",
        "Too many attempts. Please try again in a quarter of an hour.",
    ),
    "moderation_title": ("Moderatie", "Moderation"),
    "users_title": ("Accounts", "Accounts"),
    "user_role": ("Rol", "Role"),
    "user_trusted": ("Vertrouwd", "Trusted"),
    "user_active": ("Actief", "Active"),
    "user_add": ("Account toevoegen", "Add an account"),
    "user_first_password": (
        "Eerste wachtwoord (min. 10 tekens)",
        "First password (10+ characters)",
    ),
    "role_admin": ("Beheerder", "Admin"),
    "role_editor": ("Regioredacteur", "Region editor"),
    "role_submitter": ("Indiener", "Submitter"),
    "yes": ("ja", "yes"),
    "no": ("nee", "no"),
    "toggle": ("Wijzig", "Change"),
    "queue_empty": ("Er wacht niets op moderatie.", "Nothing is waiting for moderation."),
    "queue_pending": ("Wacht op moderatie ({n})", "Waiting for moderation ({n})"),
    "recently_decided": ("Recent beoordeeld", "Recently decided"),
    "submitted_by": ("Aangemeld door {who} op {when}", "Submitted by {who} on {when}"),
    "status_pending": ("Wacht", "Pending"),
    "status_approved": ("Goedgekeurd", "Approved"),
    "status_rejected": ("Afgewezen", "Rejected"),
    "kind_event": ("Activiteit", "Activity"),
    "kind_source": ("Feed", "Feed"),
    "review": ("Beoordelen", "Review"),
    "approve": ("Opslaan en goedkeuren", "Save and approve"),
    "save": ("Opslaan", "Save"),
    "save_only": ("Alleen opslaan", "Save only"),
    "saved_msg": ("Opgeslagen; nog niet goedgekeurd.", "Saved; not approved yet."),
    "reject": ("Afwijzen", "Reject"),
    "reject_reason": ("Reden van afwijzing", "Reason for rejection"),
    "f_reason": ("Reden van afwijzing", "Reason for rejection"),
    "f_name": ("Naam van de agenda", "Name of the calendar"),
    "f_kind": ("Soort feed", "Kind of feed"),
    "err_reason_required": ("Geef een reden voor de afwijzing.", "Give a reason for rejecting."),
    "trust_submitter": (
        "Vertrouw deze indiener: volgende aanmeldingen komen direct in de agenda",
        "Trust this submitter: their next submissions go straight into the calendar",
    ),
    "approved_msg": ("Goedgekeurd en gepubliceerd.", "Approved and published."),
    "rejected_msg": ("Afgewezen.", "Rejected."),
    "possible_duplicates": ("Mogelijk dubbel met:", "Possibly a duplicate of:"),
    "feed_check": ("Proefgelezen: {n} activiteiten", "Test read: {n} activities"),
    "view_in_calendar": ("Bekijk in de agenda", "View in the calendar"),
    # the editor's dashboard
    "dash_title": ("Mijn overzicht", "My overview"),
    "dash_coverage": ("Dekking van {region}", "Coverage of {region}"),
    "dash_coverage_all": ("Dekking per regio", "Coverage per region"),
    "dash_region_page": ("De regiopagina", "The region page"),
    "dash_all_pending": ("Alles wat wacht", "Everything that waits"),
    "dash_sources": ("Bronnen ({n})", "Sources ({n})"),
    "dash_no_sources": (
        "Er zijn nog geen bronnen voor deze regio.",
        "There are no sources for this region yet.",
    ),
    "dash_failing": (
        "{n} bron(nen) gaven bij de laatste keer ophalen een fout.",
        "{n} source(s) failed at the last harvest.",
    ),
    "dash_source": ("Bron", "Source"),
    "dash_state": ("Staat", "State"),
    "dash_events": ("Activiteiten", "Activities"),
    "dash_last_success": ("Laatst gelukt", "Last success"),
    "dash_last_error": ("Laatste fout", "Last error"),
    "dash_state_ok": ("in orde", "fine"),
    "dash_state_error": ("fout", "failing"),
    "dash_state_new": ("nog niet opgehaald", "not harvested yet"),
    # mail about submissions (sent in Dutch, then English)
    "mail_editors_new_subject": (
        "Nieuw ter moderatie in {region}: {title}",
        "New for moderation in {region}: {title}",
    ),
    "mail_editors_new": (
        "Er is een nieuwe inzending voor {region}: “{title}”.\nBekijk en beoordeel hem: {url}",
        "There is a new submission for {region}: “{title}”.\nReview it: {url}",
    ),
    "mail_editors_changed_subject": (
        "Gewijzigd, opnieuw ter moderatie in {region}: {title}",
        "Changed, back for moderation in {region}: {title}",
    ),
    "mail_editors_changed": (
        "De indiener heeft datum, tijd of plaats van “{title}” ({region}) gewijzigd; de "
        "vorige versie blijft zichtbaar tot je beslist.\nBekijk de wijziging: {url}",
        "The submitter changed the date, time or place of “{title}” ({region}); the "
        "previous version stays visible until you decide.\nReview the change: {url}",
    ),
    "mail_received_subject": ("Ontvangen: {title}", "Received: {title}"),
    "mail_received_pending": (
        "Dank je wel. “{title}” wacht op een redacteur van de regio; je krijgt bericht "
        "zodra er besloten is.\nMet deze persoonlijke link pas je de activiteit aan (bewaar "
        "hem, deel hem niet): {edit}",
        "Thank you. “{title}” waits for an editor of the region; you will hear as soon as "
        "it is decided.\nWith this private link you can change the activity (keep it, do "
        "not share it): {edit}",
    ),
    "mail_received_published": (
        "Dank je wel. “{title}” staat in de agenda.\nMet deze persoonlijke link pas je de "
        "activiteit aan (bewaar hem, deel hem niet): {edit}",
        "Thank you. “{title}” is in the calendar.\nWith this private link you can change "
        "the activity (keep it, do not share it): {edit}",
    ),
    "mail_approved_subject": ("Goedgekeurd: {title}", "Approved: {title}"),
    "mail_approved": (
        "Je inzending “{title}” is goedgekeurd en staat in de agenda.",
        "Your submission “{title}” has been approved and is in the calendar.",
    ),
    "mail_rejected_subject": ("Niet geplaatst: {title}", "Not published: {title}"),
    "mail_rejected": (
        "Je inzending “{title}” is niet geplaatst. De reden van de redacteur: {reason}",
        "Your submission “{title}” has not been published. The editor's reason: {reason}",
    ),
    "mail_edit_link": (
        "Je persoonlijke link om de activiteit aan te passen: {edit}",
        "Your private link to change the activity: {edit}",
    ),
    "session_expired_kept": (
        "Je sessie was verlopen, daarom is er nog niets opgeslagen. Wat je had ingevuld "
        "staat hieronder: controleer het en verstuur het opnieuw.",
        "Your session had expired, so nothing has been saved yet. What you filled in is "
        "below: check it and send it again.",
    ),
    "login_draft_kept": (
        "Je bent niet meer ingelogd. Log opnieuw in: wat je had ingevuld staat daarna weer "
        "in het formulier (er is nog niets opgeslagen).",
        "You are no longer logged in. Log in again: what you filled in will be back in the "
        "form (nothing has been saved yet).",
    ),
    "draft_restored": (
        "Wat je voor het inloggen had ingevuld staat weer in het formulier. Er is nog niets "
        "opgeslagen: controleer het en verstuur het opnieuw.",
        "What you filled in before logging in is back in the form. Nothing has been saved "
        "yet: check it and send it again.",
    ),
    # changing one's password
    "pw_title": ("Wachtwoord wijzigen", "Change password"),
    "pw_intro": (
        "Na het wijzigen blijf je hier ingelogd; op elk ander apparaat word je uitgelogd.",
        "After the change you stay logged in here; every other device is logged out.",
    ),
    "pw_policy": (
        "Minstens 10 tekens, waarvan 5 verschillende; geen veelgebruikt wachtwoord.",
        "At least 10 characters, 5 of them different; not a common password.",
    ),
    "pw_button": ("Wachtwoord wijzigen", "Change password"),
    "pw_done": (
        "Je wachtwoord is gewijzigd. Andere sessies zijn beëindigd.",
        "Your password has been changed. Other sessions have been ended.",
    ),
    "f_current_password": ("Huidig wachtwoord", "Current password"),
    "f_new_password": ("Nieuw wachtwoord", "New password"),
    "f_new_password_again": ("Nieuw wachtwoord nog een keer", "New password again"),
    "pw_mismatch": ("De twee nieuwe wachtwoorden verschillen.", "The two new passwords differ."),
    "pw_wrong": ("Het huidige wachtwoord klopt niet.", "The current password is wrong."),
    "pw_same": (
        "Het nieuwe wachtwoord is hetzelfde als het huidige.",
        "The new password is the same as the current one.",
    ),
    "pw_short": ("Gebruik minstens {n} tekens.", "Use at least {n} characters."),
    "pw_varied": (
        "Gebruik minstens {n} verschillende tekens.",
        "Use at least {n} different characters.",
    ),
    "pw_common": (
        "Dit is een van de meest gebruikte wachtwoorden.",
        "This is one of the most common passwords.",
    ),
    "pw_email": (
        "Het wachtwoord mag je e-mailadres niet bevatten.",
        "The password may not contain your e-mail address.",
    ),
    # embed
    "embed_title": ("De agenda op je eigen website", "The calendar on your own website"),
    "embed_intro": (
        "Kies filters en kopieer het stukje code naar je website. De lijst werkt zichzelf "
        "bij en neemt de stijl van je site niet over (en andersom).",
        "Choose filters and copy the snippet into your website. The list keeps itself up to "
        "date and does not take over your site's styles (nor the other way round).",
    ),
    "embed_limit": ("Aantal activiteiten", "Number of activities"),
    "embed_language": ("Taal", "Language"),
    "embed_make": ("Maak de code", "Make the code"),
    "embed_script": ("Als widget met JavaScript", "As a widget with JavaScript"),
    "embed_iframe": (
        "Als iframe die zijn eigen hoogte aanpast (aanbevolen)",
        "As an iframe that sets its own height (recommended)",
    ),
    "embed_preview": ("Voorbeeld", "Preview"),
    "embed_loading": ("Activiteiten laden…", "Loading activities…"),
    "embed_error": (
        "De activiteiten konden niet worden geladen.",
        "The activities could not be loaded.",
    ),
    "embed_none": ("Er staan nu geen activiteiten gepland.", "No activities are planned now."),
    "embed_heading": ("Activiteiten voor overstappers", "Activities for career switchers"),
    "embed_more": (
        "Alle activiteiten in de Overstap Agenda",
        "All activities in the Overstap Agenda",
    ),
    "embed_color": ("Kleur van links en kop", "Colour of links and heading"),
    "embed_color_hint": (
        "Moet goed leesbaar zijn op de achtergrond (contrast minstens 4,5 : 1).",
        "Must stay readable on the background (contrast at least 4.5 : 1).",
    ),
    "embed_background": ("Achtergrondkleur", "Background colour"),
    "embed_compact": ("Compact (kleiner, zonder labels)", "Compact (smaller, without labels)"),
    "embed_iframe_hint": (
        "Plak beide regels waar de lijst moet komen. Het scriptje past de hoogte van de "
        "iframe aan de lijst aan; zonder het script is de iframe 480 pixels hoog.",
        "Paste both lines where the list should appear. The small script fits the iframe's "
        "height to the list; without it the iframe is 480 pixels high.",
    ),
    "embed_script_hint": (
        "De lijst verschijnt direct na het script, in de opmaak van de agenda.",
        "The list appears right after the script, in the calendar's own style.",
    ),
    "embed_copy_iframe": ("Kopieer de iframe-code", "Copy the iframe code"),
    "embed_copy_script": ("Kopieer de scriptcode", "Copy the script code"),
    "embed_copied": ("Gekopieerd.", "Copied."),
    "embed_copy_failed": (
        "Kopiëren lukte niet: selecteer de code en kopieer hem zelf.",
        "Copying did not work: select the code and copy it yourself.",
    ),
    "embed_preview_hint": (
        "Zo ziet de iframe eruit; hij verandert mee met je keuzes.",
        "This is the iframe as it will look; it follows your choices.",
    ),
    "embed_preview_widget": ("Voorbeeld met JavaScript", "Preview with JavaScript"),
    "embed_err_title": ("Deze lijst kan zo niet getoond worden", "This list cannot be shown"),
    "embed_err_intro": (
        "De code op deze website vraagt iets wat de agenda niet kent:",
        "The code on this website asks for something the calendar does not know:",
    ),
    "embed_err_builder": ("Maak nieuwe code", "Make new code"),
    "embed_err_unknown": ("onbekende waarde “{value}”", "unknown value “{value}”"),
    "embed_err_limit": ("een getal van 1 tot en met {max}", "a number from 1 to {max}"),
    "embed_err_color": (
        "“{value}” is geen kleur; gebruik een hexcode zoals #0b5394",
        "“{value}” is not a colour; use a hex code such as #0b5394",
    ),
    "embed_err_contrast": (
        "te weinig contrast met de achtergrond ({ratio} : 1, minstens 4,5 : 1 nodig)",
        "too little contrast with the background ({ratio} : 1, at least 4.5 : 1 needed)",
    ),
    # source health (/bronnen, /en/sources)
    "nav_sources": ("Bronnen", "Sources"),
    "sources_title": ("Bronnen en hun gezondheid", "Sources and their health"),
    "sources_intro": (
        "De agenda haalt zijn activiteiten op uit deze bronnen. Per bron: de regio, wanneer het"
        " ophalen het laatst lukte en mislukte (en waarom), hoeveel activiteiten er nu van"
        " komen en hoe dat aantal over de laatste 30 keer ophalen verliep.",
        "The calendar harvests its activities from these sources. For each: the region, when"
        " the last harvest succeeded and failed (and why), how many activities it gives now"
        " and how that number went over the last 30 harvests.",
    ),
    "sources_summary": ("{n} bronnen", "{n} sources"),
    "sources_table": ("Alle bronnen", "All sources"),
    "col_source": ("Bron", "Source"),
    "col_state": ("Toestand", "State"),
    "col_events": ("Activiteiten nu", "Events now"),
    "col_trend": ("Verloop", "Trend"),
    "col_last_success": ("Laatst gelukt", "Last success"),
    "col_last_failure": ("Laatst mislukt", "Last failure"),
    "col_failures": ("Keer op rij mislukt", "Consecutive failures"),
    "state_healthy": ("gezond", "healthy"),
    "state_degraded": ("verzwakt", "degraded"),
    "state_failing": ("mislukt", "failing"),
    "state_held": ("vastgehouden", "held"),
    "state_pending": ("nog niet opgehaald", "not harvested yet"),
    "states_legend": (
        "Verzwakt: minder dan de helft van het gebruikelijke aantal activiteiten, veel"
        " overgeslagen records of traag. Vastgehouden: de bron gaf ineens veel minder"
        " activiteiten; er wordt niets verwijderd tot de volgende keer ophalen dat bevestigt.",
        "Degraded: fewer than half the usual number of activities, many skipped records or"
        " slow. Held: the source suddenly gave far fewer activities; nothing is removed until"
        " the next harvest confirms it.",
    ),
    "never": ("nooit", "never"),
    "trend_none": ("Nog geen verloop", "No trend yet"),
    "trend_text": (
        "Activiteiten na de laatste {runs} keer ophalen: van {first} naar {last}"
        " (laagste {low}, hoogste {high})",
        "Events after the last {runs} harvests: from {first} to {last}"
        " (lowest {low}, highest {high})",
    ),
}
STRINGS.update(PUBLIC_STRINGS)  # the public pages' strings (api/i18n_public.py)


def normalise_lang(value: str | None) -> str:
    """Return a supported language code (Dutch when unknown)."""
    return value if value in LANGS else DEFAULT_LANG


def t(key: str, lang: str, /, **params: object) -> str:
    """The UI string ``key`` in ``lang``; a missing key shows itself (visible in tests)."""
    pair = STRINGS.get(key)
    if pair is None:
        return key
    text = pair[1] if lang == "en" else pair[0]
    return text.format(**params) if params else text


_MONTHS_NL = (
    "januari", "februari", "maart", "april", "mei", "juni",
    "juli", "augustus", "september", "oktober", "november", "december",
)  # fmt: skip
_MONTHS_EN = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
_DAYS_NL = ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag")
_DAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def long_date(day: date | datetime, lang: str) -> str:
    """'dinsdag 21 juni 2027' / 'Tuesday 21 June 2027' (no locale database needed)."""
    if lang == "en":
        return f"{_DAYS_EN[day.weekday()]} {day.day} {_MONTHS_EN[day.month - 1]} {day.year}"
    return f"{_DAYS_NL[day.weekday()]} {day.day} {_MONTHS_NL[day.month - 1]} {day.year}"


def month_name(month: date, lang: str, *, year: bool = True) -> str:
    """'maart 2027' / 'March 2027' (without the year when ``year`` is false)."""
    name = (_MONTHS_EN if lang == "en" else _MONTHS_NL)[month.month - 1]
    return f"{name} {month.year}" if year else name


def lookup(table: dict[str, tuple[str, str]], key: str, lang: str, /, **params: object) -> str:
    """A string of ``table`` (key -> (Dutch, English), like ``STRINGS``) in ``lang``; the
    pages of one feature may keep their own table and read it with this."""
    text = table[key][1] if lang == "en" else table[key][0]
    return text.format(**params) if params else text
