# Doorman-wachtlijst: Nederlands.
language-switch = Taal
back-to-event = Terug naar het evenement
button-join = Op de wachtlijst
tickets-count = { $tickets ->
    [one] 1 kaartje
   *[other] { $tickets } kaartjes
}

form-title = Wachtlijst: { $event }
form-intro = { $mode ->
    [automatic] { $event } is uitverkocht. Zet je op de wachtlijst: als er plaatsen vrijkomen, bieden we ze per e-mail aan de mensen op de lijst aan, in de volgorde waarin ze bevestigd hebben; een aanbod geldt maar een beperkte tijd. Aanmelden reserveert geen tickets.
   *[other] { $event } is uitverkocht. Zet je op de wachtlijst: als er plaatsen vrijkomen, kan de organisator mensen op de lijst benaderen, in de volgorde waarin ze bevestigd hebben. Aanmelden reserveert geen tickets.
}
form-required = Velden met * zijn verplicht.
field-email = E-mailadres *
field-email-hint = We sturen een bevestigingslink naar dit adres.
field-name = Naam *
field-phone = Telefoonnummer
field-phone-hint = Niet verplicht. Cijfers, spaties, + en - mogen.
field-tickets = Aantal kaartjes *
field-tickets-hint = 1 tot en met { $max }
field-box-office = Het adres van de kassa gebruiken in plaats van dat van de klant (dan is een telefoonnummer verplicht)
field-note = Interne notitie (alleen voor medewerkers, nooit zichtbaar voor de klant)
honeypot = Laat dit veld leeg
submit-signup = Op de wachtlijst
errors-heading = Verbeter het volgende:
error-email = Vul een geldig e-mailadres in, zoals naam@voorbeeld.nl.
error-name-missing = Vul een naam in.
error-name-invalid = De naam is te lang (hoogstens 100 tekens) of bevat tekens die we niet kunnen gebruiken.
error-phone = Vul een telefoonnummer in cijfers in (spaties, +, - en haakjes mogen).
error-phone-required = Met het adres van de kassa is een telefoonnummer verplicht.
error-tickets = Kies een aantal kaartjes van 1 tot en met { $max }.
error-note = De notitie is te lang (hoogstens 500 tekens) of bevat tekens die we niet kunnen gebruiken.

check-mail-title = Kijk in je mailbox
check-mail-body = We hebben een bericht gestuurd naar het adres dat je opgaf. Volg de link daarin om je plaats op de wachtlijst te bevestigen. De link werkt { $hours } uur.
closed-title = De wachtlijst is niet open
closed-body = Dit evenement heeft op dit moment geen open wachtlijst.
full-title = De wachtlijst is vol
full-body = De wachtlijst voor { $event } heeft geen plaats meer. Probeer het later nog eens: er komen plaatsen vrij als anderen annuleren.
limited-title = Te veel pogingen
limited-body = Wacht een paar minuten en probeer het dan opnieuw.
bad-form-title = Het formulier is verlopen
bad-form-body = Ga terug, laad de pagina opnieuw en verstuur het formulier nog eens.

confirm-title = Bevestig je plaats
confirm-body = Bevestig je aanmelding voor { $event }: { $count } voor { $name }.
confirm-button = Mijn plaats bevestigen
confirmed-title = Je staat op de wachtlijst
confirmed-body = Je aanmelding voor { $event } is bevestigd.
place-in-line = Je plaats in de rij: { $place }
link-expired-title = Deze link is verlopen
link-expired-body = Onbevestigde aanmeldingen worden na een tijd verwijderd. Meld je opnieuw aan voor een nieuwe link.
link-invalid-title = Deze link werkt niet
link-invalid-body = Kopieer de hele link uit de e-mail naar je browser, of meld je opnieuw aan.
link-used-title = Deze link is al gebruikt
link-used-body = Je aanmelding is met deze link al bevestigd. De link in de bevestigingsmail laat je aanmelding zien.

status-title = Je aanmelding voor de wachtlijst
label-event = Evenement
label-name = Naam
label-status = Status
label-tickets = Kaartjes
label-place = Plaats in de rij
label-actions = Acties
status-pending = Wacht op bevestiging
status-confirmed = Bevestigd
status-cancelled = Geannuleerd
cancel-hint = Annuleren geldt voor de hele aanmelding, met alle kaartjes. Dit kan niet ongedaan worden gemaakt.
cancel-button = Aanmelding annuleren
cancelled-title = Je aanmelding is geannuleerd
cancelled-body = Je aanmelding voor { $event } is geannuleerd. Iedereen achter je schuift een plaats op.

mine-title = Mijn aanmeldingen voor wachtlijsten
mine-empty = Je hebt geen aanmeldingen voor wachtlijsten.
mine-signed-out = Log in bij de winkel om je aanmeldingen te zien. Als gast vind je de link naar je aanmelding in elke e-mail van ons.

staff-title = Inloggen voor de kassa
staff-intro = Kassamedewerkers melden klanten namens hen aan. Log in met de kassatoken van je organisator (beheerders van de organisator: met hun beheertoken).
staff-token = Kassatoken
staff-submit = Inloggen
staff-invalid = Deze token is niet geldig.
staff-signed-in = Ingelogd als kassamedewerker van { $organizer }.
staff-signed-in-admin = Ingelogd als beheerder van { $organizer }.
staff-sign-out = Uitloggen
staff-signed-out = Je bent uitgelogd.
staff-next = Open de wachtlijst van een evenement om klanten aan te melden: de pagina toont dan de kassavelden.
staff-only-title = Kassavelden vragen om inloggen voor de kassa
staff-only-body = Alleen kassamedewerkers van de organisator van dit evenement mogen het kassa-adres gebruiken of een notitie toevoegen. Log eerst in; er is niets opgeslagen.
staff-sign-in-link = Inloggen voor de kassa
staff-box-office-hint = E-mails gaan dan naar { $address } en de aanmelding is meteen bevestigd.
staff-placed-title = Aangemeld
staff-placed-body = { $name } staat op de wachtlijst voor { $event } met { $count }, meteen bevestigd. E-mails gaan naar het kassa-adres.
staff-mailed-title = Bevestigingsmail verstuurd
staff-mailed-body = We hebben { $name } een bevestigingsmail gestuurd naar { $email }. De aanmelding telt zodra de link erin is gevolgd.
staff-already-title = Staat al op de wachtlijst
staff-already-body = Deze klant staat al op de wachtlijst voor { $event }; er is niets veranderd.
staff-note-shown = Interne notitie: { $note }
staff-another = Nog een klant aanmelden
error-no-box-office = Je organisator heeft geen kassa-adres ingesteld: vul het adres van de klant in.

mail-confirm-subject = Bevestig je plaats op de wachtlijst voor { $event }
mail-confirm-intro = Je wilde op de wachtlijst voor { $event } met { $count }. Bevestig binnen { $hours } uur; tot dan telt de aanmelding niet.
mail-confirm-action = Mijn plaats bevestigen
mail-confirmed-subject = Je staat op de wachtlijst voor { $event }
mail-confirmed-intro = { $mode ->
    [automatic] Je aanmelding voor { $event } ({ $count }) is bevestigd. Je plaats in de rij is { $place }. Als er plaatsen vrijkomen, bieden we ze je op je beurt per e-mail aan; het aanbod geldt dan { $hours } uur. Tot die tijd hoef je niets te doen.
   *[other] Je aanmelding voor { $event } ({ $count }) is bevestigd. Je plaats in de rij is { $place }. Als er plaatsen vrijkomen, kan de organisator contact met je opnemen; tot die tijd hoef je niets te doen.
}
mail-already-subject = Je staat al op de wachtlijst voor { $event }
mail-already-intro = Iemand probeerde dit adres opnieuw aan te melden voor { $event }. Je staat al op de wachtlijst; er is niets veranderd.
mail-manage-action = Mijn aanmelding bekijken of annuleren
mail-greeting = Hallo { $name },
mail-footer = Je krijgt deze mail omdat dit adres is opgegeven voor de wachtlijst van { $event }. Was jij dat niet, negeer deze mail dan: zonder bevestiging gebeurt er niets.

status-offered = Plaatsen aangeboden: boek of weiger ze
status-booked = Geboekt
status-declined = Aanbod geweigerd
status-lapsed = Aanbod verlopen
offer-title = Plaatsen voor jou: { $event }
offer-body = { $count } voor { $event } worden tot { $deadline } voor je vastgehouden.
offer-book = Mijn tickets boeken
offer-decline-hint = Weigeren beëindigt je aanmelding. Dat kan niet ongedaan worden gemaakt.
offer-decline-button = Aanbod weigeren
declined-title = Je hebt het aanbod geweigerd
declined-body = Bedankt voor je bericht. Je aanmelding voor { $event } is beëindigd.
offer-ended-title = Dit aanbod is beëindigd
offer-ended-body = { $status ->
    [taken] Je hebt deze plaatsen geboekt.
    [declined] Je hebt dit aanbod geweigerd.
    [withdrawn] De organisator heeft dit aanbod ingetrokken. Je aanmelding staat weer op haar plaats in de rij.
   *[expired] Dit aanbod is verlopen.
}
offer-open-hint = Voor deze aanmelding staat een aanbod open: boek of weiger het met de links in de e-mail met het aanbod.
offer-open-link = Bekijk het aanbod
mail-offer-subject = Er zijn plaatsen voor je vrij voor { $event }
mail-offer-intro = Goed nieuws: { $count } voor { $event } zijn voor je vrij. Het aanbod geldt tot { $deadline }. Boek ze met de eerste link hieronder. Wil je ze niet meer, weiger het aanbod dan met de tweede link, zodat de volgende in de rij ze krijgt. Het aanbod geldt voor je hele aanmelding.
mail-offer-action = Mijn tickets boeken
mail-offer-decline = Aanbod weigeren
mail-offer-footer = Je krijgt deze e-mail omdat je op de wachtlijst voor { $event } staat. Verloopt het aanbod zonder antwoord, dan eindigt je aanmelding.

label-note = Notitie
staff-list-title = Wachtlijst: { $event }
staff-list-search = Zoek op naam, e-mail, telefoon of notitie
staff-list-search-button = Zoeken
staff-list-export = Lijst downloaden (CSV)
staff-list-empty = Geen aanmeldingen gevonden.
staff-list-more = Volgende pagina
staff-list-link = Open de lijst van dit evenement
staff-actions = Acties
staff-act-note = Notitie opslaan
staff-act-contacted = Markeren als benaderd
staff-act-resend = E-mail opnieuw sturen
staff-act-cancel = Annuleren namens de klant
staff-act-offer = Aanbod sturen
staff-offer-link = Link waarmee de klant boekt (betaal- of actielink)
staff-offer-text = Je tekst voor de klant (optioneel)
staff-offer-hours = Uren dat het aanbod geldt
staff-contacted-at = Benaderd { $when }
staff-offer-state = Aanbod { $number }: { $status ->
    [open] open tot { $deadline }
    [taken] geboekt
    [declined] geweigerd
    [withdrawn] ingetrokken
   *[expired] verlopen
}
staff-done = { $what ->
    [note] De notitie is opgeslagen.
    [contacted] Gemarkeerd als benaderd.
    [resend] De e-mail wordt opnieuw verstuurd.
    [cancel] De aanmelding is geannuleerd.
    [offer] Het aanbod is verstuurd.
    [erase] De gegevens zijn gewist.
   *[other] Klaar.
}
staff-failed = Er is niets gewijzigd: { $reason }
staff-messages-title = Berichten: { $event }
staff-messages-link = Verstuurde berichten voor dit evenement
staff-messages-empty = Nog geen berichten.
staff-messages-to = Aan
staff-messages-template = Bericht
staff-messages-queued = In de wachtrij gezet

## Text messages and staff mails
sms-offer = { $event }: { $count } zijn tot { $deadline } voor je vrij. Boeken: { $link } Afslaan: { $decline }
mail-copy-subject = Kopie voor medewerkers: { $subject }
mail-staff-greeting = Hallo,
mail-staff-offers-subject = { $event }: { $offers ->
    [one] één aanbod verstuurd
   *[other] { $offers } aanbiedingen verstuurd
}
mail-staff-offers-intro = Vrijgekomen plaatsen van { $event } zijn automatisch aangeboden, in de volgorde van de wachtlijst. { $offers ->
    [one] Deze aanmelding kreeg een aanbod:
   *[other] Deze { $offers } aanmeldingen kregen een aanbod:
}
mail-staff-offer-line = Aanbod { $number }: { $name } <{ $email }>, { $count }, tot { $deadline }
mail-staff-list-action = De lijst van de wachtlijst openen
mail-staff-footer = Je krijgt deze mail omdat dit adres een medewerkersadres is van de wachtlijst van { $event }.

# Customers' own data (self-service, where the organizer switches it on)
data-heading = Je gegevens
data-hint = Download alles wat deze wachtlijst over je aanmelding bewaart, of wis het. Wissen geeft je plaats op en kan niet ongedaan worden gemaakt.
data-hint-mine = Download alles wat deze wachtlijst over je aanmeldingen bewaart, of wis het. Wissen geeft je plaatsen op en kan niet ongedaan worden gemaakt.
data-download = Mijn gegevens downloaden (JSON)
erase-button = Mijn gegevens wissen
erase-confirm-title = Je gegevens wissen?
erase-confirm-body = Je aanmelding voor { $event } wordt geannuleerd, en je naam, adres en telefoonnummer worden gewist. Dit kan niet ongedaan worden gemaakt.
erase-confirm-body-mine = Je aanmeldingen worden geannuleerd, en je namen, adressen en telefoonnummers worden gewist. Dit kan niet ongedaan worden gemaakt.
erase-confirm-button = Ja, wis mijn gegevens
erased-title = Je gegevens zijn gewist
erased-body = Je aanmelding voor { $event } is geannuleerd, en je naam, adres en telefoonnummer zijn gewist. Een laatste e-mail bevestigt het.
erased-body-mine = Je aanmeldingen zijn geannuleerd, en je namen, adressen en telefoonnummers zijn gewist.
erased-already = De gegevens van deze aanmelding zijn al gewist.
mail-erased-subject = Je gegevens op de wachtlijst voor { $event } zijn gewist
mail-erased-intro = Zoals je vroeg, is je aanmelding voor { $event } geannuleerd, en je naam, adres en telefoonnummer zijn gewist. Dit is de laatste e-mail die je hierover ontvangt.
staff-act-erase = Gegevens wissen
staff-erase-sure = De klant vroeg erom: wis de gegevens definitief
staff-erase-unsure = Vink het vakje aan om te bevestigen dat de klant vroeg om zijn gegevens te wissen.
staff-preview = Voorbeeld
staff-preview-lang = Taal
staff-preview-title = Voorbeeld: { $template } ({ $lang })
staff-preview-back = Terug naar de berichten
staff-test-to = Als test sturen naar
staff-test-send = Test sturen
staff-test-sent = In de wachtrij als bericht { $number }: het staat in de berichten als test:{ $template }.
staff-test-admins = Alleen beheerders van de organisator sturen tests.
field-informed = Houd me op de hoogte van dit evenement (meer dan wat mijn aanmelding nodig heeft)

# Messages to the whole list
mail-broadcast-intro = Een bericht over de wachtlijst van { $event }:
mail-broadcast-footer = Je krijgt deze mail omdat je op de wachtlijst van { $event } staat.
mail-news-footer = Je krijgt deze mail omdat je bij je aanmelding voor de wachtlijst van { $event } vroeg om op de hoogte te blijven.

# Staff: messages to the whole list
staff-broadcasts-link = Berichten aan de hele lijst
staff-broadcasts-title = Berichten aan de hele lijst: { $event }
staff-broadcasts-empty = Nog geen berichten aan de hele lijst.
staff-broadcast-audience = Wie het krijgt
staff-broadcast-purpose = Soort bericht
staff-broadcast-when = Wanneer
staff-broadcast-queued = Mails in de wachtrij
staff-broadcast-cancel = Annuleren
staff-broadcast-new = Een bericht aan de hele lijst schrijven
staff-broadcast-admins = Alleen de beheerders van de organisator schrijven berichten aan de hele lijst.
audience-waiting = Iedereen die nog wacht (in de rij, of met een aanbod)
audience-confirmed = Iedereen die bevestigde (ook wie een aanbod had dat afliep)
purpose-service = Nodig voor elke aanmelding: gaat naar iedereen
purpose-news = Nieuws: alleen naar wie "houd me op de hoogte" aanvinkte
staff-broadcast-lang = Taal van de tekst
staff-broadcast-only-lang = Alleen naar aanmeldingen in deze taal
staff-broadcast-subject = Onderwerp
staff-broadcast-body = Bericht
staff-broadcast-now = Nu
staff-broadcast-at = Om (UTC)
staff-broadcast-before = Voor het begin van het evenement (zoals 24h of 2days)
staff-broadcast-preview = Voorbeeld
staff-broadcast-schedule = Versturen of inplannen
staff-broadcast-reach = Het zou nu { $count } aanmeldingen bereiken.
staff-broadcast-scheduled = Bericht { $number } is { $status } ({ $when }).
staff-broadcast-cancelled = Bericht { $number } is geannuleerd.

# News: a change of mind after signup
mail-news-stop = Geen nieuws meer
news-on = Je krijgt nieuws over { $event }, meer dan je aanmelding nodig heeft.
news-off = Je krijgt alleen de berichten die je aanmelding nodig heeft.
news-stop = Geen nieuws meer
news-start = Houd me op de hoogte
news-stopped = Je krijgt geen nieuws meer over { $event }. Berichten die je aanmelding nodig heeft, komen nog wel.
news-started = Je krijgt nieuws over { $event }.
news-back = Terug naar je aanmelding
staff-broadcast-when-now = nu
staff-broadcast-when-at = om { $time }
staff-broadcast-when-before = { $duration } voor het begin
broadcast-status-scheduled = ingepland
broadcast-status-waiting-for-start = wacht op de begintijd van het evenement
broadcast-status-sending = wordt verstuurd
broadcast-status-sent = verstuurd
broadcast-status-missed = gemist: de tijd kwam na het begin
broadcast-status-cancelled = geannuleerd
