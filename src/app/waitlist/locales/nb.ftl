# Doorman-venteliste: norsk bokmål.
language-switch = Språk
back-to-event = Tilbake til arrangementet
button-join = Sett meg på ventelisten
tickets-count = { $tickets ->
    [one] 1 billett
   *[other] { $tickets } billetter
}

form-title = Venteliste: { $event }
form-intro = { $mode ->
    [automatic] { $event } er utsolgt. Sett deg på ventelisten: når det blir ledige plasser, tilbyr vi dem på e-post til dem på listen i den rekkefølgen de bekreftet; et tilbud gjelder bare en begrenset tid. Påmeldingen reserverer ingen billetter.
   *[other] { $event } er utsolgt. Sett deg på ventelisten: når det blir ledige plasser, kan arrangøren kontakte dem på listen i den rekkefølgen de bekreftet. Påmeldingen reserverer ingen billetter.
}
form-required = Felt merket med * må fylles ut.
field-email = E-postadresse *
field-email-hint = Vi sender en bekreftelseslenke til denne adressen.
field-name = Navn *
field-phone = Telefonnummer
field-phone-hint = Valgfritt. Sifre, mellomrom, + og - går fint.
field-tickets = Antall billetter *
field-tickets-hint = 1 til { $max }
field-box-office = Bruk billettkontorets adresse i stedet for kundens (da må telefonnummer fylles ut)
field-note = Intern merknad (bare for ansatte, vises aldri for kunden)
honeypot = La dette feltet stå tomt
submit-signup = Sett meg på ventelisten
errors-heading = Rett opp følgende:
error-email = Skriv inn en gyldig e-postadresse, for eksempel navn@eksempel.no.
error-name-missing = Skriv inn et navn.
error-name-invalid = Navnet er for langt (høyst 100 tegn) eller inneholder tegn vi ikke kan bruke.
error-phone = Skriv inn et telefonnummer med sifre (mellomrom, +, - og parenteser går fint).
error-phone-required = Med billettkontorets adresse må telefonnummer fylles ut.
error-tickets = Velg et antall billetter fra 1 til { $max }.
error-note = Merknaden er for lang (høyst 500 tegn) eller inneholder tegn vi ikke kan bruke.

check-mail-title = Sjekk e-posten din
check-mail-body = Vi har sendt en melding til adressen du oppga. Følg lenken i den for å bekrefte plassen din på ventelisten. Lenken virker i { $hours } timer.
closed-title = Ventelisten er ikke åpen
closed-body = Dette arrangementet har ingen åpen venteliste akkurat nå.
full-title = Ventelisten er full
full-body = Ventelisten for { $event } har ikke plass til flere. Prøv igjen senere: det blir ledige plasser når andre melder seg av.
limited-title = For mange forsøk
limited-body = Vent noen minutter, og prøv igjen.
bad-form-title = Skjemaet er utløpt
bad-form-body = Gå tilbake, last inn siden på nytt og send skjemaet igjen.

confirm-title = Bekreft plassen din
confirm-body = Bekreft påmeldingen din til { $event }: { $count } for { $name }.
confirm-button = Bekreft plassen min
confirmed-title = Du står på ventelisten
confirmed-body = Påmeldingen din til { $event } er bekreftet.
place-in-line = Din plass i køen: { $place }
link-expired-title = Denne lenken er utløpt
link-expired-body = Ubekreftede påmeldinger slettes etter en stund. Meld deg på igjen for å få en ny lenke.
link-invalid-title = Denne lenken virker ikke
link-invalid-body = Kopier hele lenken fra e-posten inn i nettleseren, eller meld deg på igjen.
link-used-title = Denne lenken er allerede brukt
link-used-body = Påmeldingen din er allerede bekreftet med denne lenken. Lenken i bekreftelsesmeldingen viser påmeldingen din.

status-title = Påmeldingen din til ventelisten
label-event = Arrangement
label-name = Navn
label-status = Status
label-tickets = Billetter
label-place = Plass i køen
label-actions = Handlinger
status-pending = Venter på bekreftelse
status-confirmed = Bekreftet
status-cancelled = Avmeldt
cancel-hint = Avmelding gjelder hele påmeldingen, med alle billettene. Det kan ikke angres.
cancel-button = Meld av
cancelled-title = Du er meldt av
cancelled-body = Påmeldingen din til { $event } er avmeldt. Alle bak deg rykker én plass fram.

mine-title = Mine påmeldinger til ventelister
mine-empty = Du har ingen påmeldinger til ventelister.
mine-signed-out = Logg inn i butikken for å se påmeldingene dine. Som gjest finner du lenken til påmeldingen din i hver e-post fra oss.

staff-title = Innlogging for billettkontoret
staff-intro = Ansatte i billettkontoret melder på kunder på deres vegne. Logg inn med billettkontor-tokenet til arrangøren din (arrangørens administratorer: med admin-tokenet sitt).
staff-token = Billettkontor-token
staff-submit = Logg inn
staff-invalid = Dette tokenet er ikke gyldig.
staff-signed-in = Logget inn som ansatt i billettkontoret til { $organizer }.
staff-signed-in-admin = Logget inn som administrator for { $organizer }.
staff-sign-out = Logg ut
staff-signed-out = Du er logget ut.
staff-next = Åpne ventelisten for et arrangement for å melde på kunder: siden viser da billettlukefeltene.
staff-only-title = Billettlukefelt krever innlogging for billettluken
staff-only-body = Bare billettlukeansatte hos arrangøren av dette arrangementet kan bruke billettlukens adresse eller legge til et notat. Logg inn først; ingenting ble lagret.
staff-sign-in-link = Innlogging for billettluken
staff-box-office-hint = E-post går da til { $address }, og påmeldingen bekreftes med en gang.
staff-placed-title = Påmeldt
staff-placed-body = { $name } står på ventelisten for { $event } med { $count }, bekreftet med en gang. E-post går til billettlukens adresse.
staff-mailed-title = Bekreftelse sendt
staff-mailed-body = Vi sendte { $name } en bekreftelse til { $email }. Påmeldingen teller når lenken i den er fulgt.
staff-already-title = Står allerede på ventelisten
staff-already-body = Denne kunden står allerede på ventelisten for { $event }; ingenting er endret.
staff-note-shown = Internt notat: { $note }
staff-another = Meld på en kunde til
error-no-box-office = Arrangøren din har ingen adresse for billettluken: skriv inn kundens adresse.

mail-confirm-subject = Bekreft plassen din på ventelisten for { $event }
mail-confirm-intro = Du ba om å komme på ventelisten for { $event } med { $count }. Bekreft innen { $hours } timer; fram til da teller ikke påmeldingen.
mail-confirm-action = Bekreft plassen min
mail-confirmed-subject = Du står på ventelisten for { $event }
mail-confirmed-intro = { $mode ->
    [automatic] Påmeldingen din til { $event } ({ $count }) er bekreftet. Plassen din i køen er { $place }. Når det blir ledige plasser, tilbyr vi dem til deg på e-post når det er din tur; tilbudet gjelder da i { $hours } timer. Til da trenger du ikke gjøre noe.
   *[other] Påmeldingen din til { $event } ({ $count }) er bekreftet. Plassen din i køen er { $place }. Når det blir ledige plasser, kan arrangøren kontakte deg; til da trenger du ikke gjøre noe.
}
mail-already-subject = Du står allerede på ventelisten for { $event }
mail-already-intro = Noen prøvde å melde på denne adressen til { $event } igjen. Du står allerede på ventelisten; ingenting er endret.
mail-manage-action = Se eller meld av påmeldingen min
mail-greeting = Hei { $name },
mail-footer = Du får denne e-posten fordi denne adressen ble oppgitt på ventelisten for { $event }. Var det ikke deg, kan du se bort fra den: uten bekreftelse skjer det ingenting.

status-offered = Plasser tilbudt: bestill eller avslå
status-booked = Bestilt
status-declined = Tilbud avslått
status-lapsed = Tilbud utløpt
offer-title = Plasser til deg: { $event }
offer-body = { $count } til { $event } holdes av til deg til { $deadline }.
offer-book = Bestill billettene mine
offer-decline-hint = Avslår du, avsluttes påmeldingen din. Det kan ikke angres.
offer-decline-button = Avslå tilbudet
declined-title = Du har avslått tilbudet
declined-body = Takk for beskjed. Påmeldingen din til { $event } er avsluttet.
offer-ended-title = Dette tilbudet er avsluttet
offer-ended-body = { $status ->
    [taken] Du har bestilt disse plassene.
    [declined] Du har avslått dette tilbudet.
    [withdrawn] Arrangøren har trukket tilbake dette tilbudet. Påmeldingen din står igjen på sin plass i køen.
   *[expired] Dette tilbudet har utløpt.
}
offer-open-hint = Du har et åpent tilbud for denne påmeldingen: bestill eller avslå det med lenkene i e-posten med tilbudet.
offer-open-link = Se tilbudet
mail-offer-subject = Det er ledige plasser til deg på { $event }
mail-offer-intro = Gode nyheter: { $count } til { $event } er ledige for deg. Tilbudet gjelder til { $deadline }. Bestill dem med den første lenken nedenfor. Vil du ikke ha dem lenger, avslå tilbudet med den andre lenken, slik at nestemann i køen får dem. Tilbudet gjelder hele påmeldingen din.
mail-offer-action = Bestill billettene mine
mail-offer-decline = Avslå tilbudet
mail-offer-footer = Du får denne e-posten fordi du står på ventelisten til { $event }. Utløper tilbudet uten svar, avsluttes påmeldingen din.

label-note = Notat
staff-list-title = Venteliste: { $event }
staff-list-search = Søk etter navn, e-post, telefon eller notat
staff-list-search-button = Søk
staff-list-export = Last ned listen (CSV)
staff-list-empty = Fant ingen påmeldinger.
staff-list-more = Neste side
staff-list-link = Åpne listen for dette arrangementet
staff-actions = Handlinger
staff-act-note = Lagre notatet
staff-act-contacted = Merk som kontaktet
staff-act-resend = Send e-posten på nytt
staff-act-cancel = Avbestill på kundens vegne
staff-act-offer = Send tilbudet
staff-offer-link = Lenke kunden bestiller med (betalings- eller handlingslenke)
staff-offer-text = Din tekst til kunden (valgfritt)
staff-offer-hours = Timer tilbudet gjelder
staff-contacted-at = Kontaktet { $when }
staff-offer-state = Tilbud { $number }: { $status ->
    [open] åpent til { $deadline }
    [taken] bestilt
    [declined] avslått
    [withdrawn] trukket tilbake
   *[expired] utløpt
}
staff-done = { $what ->
    [note] Notatet er lagret.
    [contacted] Merket som kontaktet.
    [resend] E-posten sendes på nytt.
    [cancel] Påmeldingen er avbestilt.
    [offer] Tilbudet er sendt.
    [erase] Dataene er slettet.
   *[other] Ferdig.
}
staff-failed = Ingenting ble endret: { $reason }
staff-messages-title = Meldinger: { $event }
staff-messages-link = Sendte meldinger for dette arrangementet
staff-messages-empty = Ingen meldinger ennå.
staff-messages-to = Til
staff-messages-template = Melding
staff-messages-queued = Lagt i kø

## Text messages and staff mails
sms-offer = { $event }: { $count } er ledige for deg til { $deadline }. Bestill: { $link } Avslå: { $decline }
mail-copy-subject = Kopi til personalet: { $subject }
mail-staff-greeting = Hei,
mail-staff-offers-subject = { $event }: { $offers ->
    [one] ett tilbud sendt
   *[other] { $offers } tilbud sendt
}
mail-staff-offers-intro = Ledige plasser til { $event } ble tilbudt automatisk, i ventelistens rekkefølge. { $offers ->
    [one] Denne påmeldingen fikk et tilbud:
   *[other] Disse { $offers } påmeldingene fikk et tilbud:
}
mail-staff-offer-line = Tilbud { $number }: { $name } <{ $email }>, { $count }, til { $deadline }
mail-staff-list-action = Åpne ventelistens liste
mail-staff-footer = Du får denne e-posten fordi denne adressen er en personaladresse for ventelisten til { $event }.

# Customers' own data (self-service, where the organizer switches it on)
data-heading = Dine data
data-hint = Last ned alt denne ventelisten lagrer om påmeldingen din, eller slett det. Sletting gir opp plassen din og kan ikke angres.
data-hint-mine = Last ned alt denne ventelisten lagrer om påmeldingene dine, eller slett det. Sletting gir opp plassene dine og kan ikke angres.
data-download = Last ned dataene mine (JSON)
erase-button = Slett dataene mine
erase-confirm-title = Slette dataene dine?
erase-confirm-body = Påmeldingen din til { $event } blir kansellert, og navnet, adressen og telefonnummeret ditt slettet. Dette kan ikke angres.
erase-confirm-body-mine = Påmeldingene dine blir kansellert, og navn, adresser og telefonnumre slettet. Dette kan ikke angres.
erase-confirm-button = Ja, slett dataene mine
erased-title = Dataene dine er slettet
erased-body = Påmeldingen din til { $event } er kansellert, og navnet, adressen og telefonnummeret ditt er slettet. En siste e-post bekrefter det.
erased-body-mine = Påmeldingene dine er kansellert, og navn, adresser og telefonnumre er slettet.
erased-already = Dataene for denne påmeldingen er allerede slettet.
mail-erased-subject = Dataene dine på ventelisten for { $event } er slettet
mail-erased-intro = Som du ba om, er påmeldingen din til { $event } kansellert, og navnet, adressen og telefonnummeret ditt er slettet. Dette er den siste e-posten du får om den.
staff-act-erase = Slett data
staff-erase-sure = Kunden ba om det: slett dataene for godt
staff-erase-unsure = Kryss av i boksen for å bekrefte at kunden ba om å få dataene sine slettet.
staff-preview = Forhåndsvis
staff-preview-lang = Språk
staff-preview-title = Forhåndsvisning: { $template } ({ $lang })
staff-preview-back = Tilbake til meldingene
staff-test-to = Send som test til
staff-test-send = Send test
staff-test-sent = Satt i kø som melding { $number }: den vises i meldingene som test:{ $template }.
staff-test-admins = Bare arrangørens administratorer sender tester.
field-informed = Hold meg oppdatert om dette arrangementet (mer enn det påmeldingen min trenger)

# Messages to the whole list
mail-broadcast-intro = En melding om ventelisten for { $event }:
mail-broadcast-footer = Du får denne e-posten fordi du står på ventelisten for { $event }.
mail-news-footer = Du får denne e-posten fordi du ba om å bli holdt orientert da du meldte deg på ventelisten for { $event }.

# Staff: messages to the whole list
staff-broadcasts-link = Meldinger til hele listen
staff-broadcasts-title = Meldinger til hele listen: { $event }
staff-broadcasts-empty = Ingen meldinger til hele listen ennå.
staff-broadcast-audience = Hvem får den
staff-broadcast-purpose = Type melding
staff-broadcast-when = Når
staff-broadcast-queued = E-poster i kø
staff-broadcast-cancel = Avbryt
staff-broadcast-new = Skriv en melding til hele listen
staff-broadcast-admins = Bare arrangørens administratorer skriver meldinger til hele listen.
audience-waiting = Alle som fortsatt venter (i køen, eller med et tilbud)
audience-confirmed = Alle som bekreftet (også de med et tilbud som er over)
purpose-service = Nødvendig for hver påmelding: går til alle
purpose-news = Nyheter: bare til dem som krysset av for «hold meg orientert»
staff-broadcast-lang = Tekstens språk
staff-broadcast-only-lang = Bare til påmeldinger på dette språket
staff-broadcast-subject = Emne
staff-broadcast-body = Melding
staff-broadcast-now = Nå
staff-broadcast-at = Kl. (UTC)
staff-broadcast-before = Før arrangementet starter (som 24h eller 2days)
staff-broadcast-preview = Forhåndsvisning
staff-broadcast-schedule = Send eller planlegg den
staff-broadcast-reach = Den ville nådd { $count } påmeldinger nå.
staff-broadcast-scheduled = Melding { $number } er { $status } ({ $when }).
staff-broadcast-cancelled = Melding { $number } er avbrutt.

# News: a change of mind after signup
mail-news-stop = Ingen flere nyheter
news-on = Du får nyheter om { $event } utover det påmeldingen din trenger.
news-off = Du får bare meldingene påmeldingen din trenger.
news-stop = Ingen flere nyheter
news-start = Hold meg orientert
news-stopped = Du får ikke flere nyheter om { $event }. Meldinger påmeldingen din trenger, kommer fortsatt.
news-started = Du får nyheter om { $event }.
news-back = Tilbake til påmeldingen din
staff-broadcast-when-now = nå
staff-broadcast-when-at = kl. { $time }
staff-broadcast-when-before = { $duration } før start
broadcast-status-scheduled = planlagt
broadcast-status-waiting-for-start = venter på arrangementets starttid
broadcast-status-sending = sendes
broadcast-status-sent = sendt
broadcast-status-missed = gikk tapt: tiden kom etter start
broadcast-status-cancelled = avbrutt
