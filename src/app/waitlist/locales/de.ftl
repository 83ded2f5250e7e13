# Doorman-Warteliste: Deutsch.
language-switch = Sprache
back-to-event = Zurück zur Veranstaltung
button-join = In die Warteliste eintragen
tickets-count = { $tickets ->
    [one] 1 Karte
   *[other] { $tickets } Karten
}

form-title = Warteliste: { $event }
form-intro = { $mode ->
    [automatic] { $event } ist ausverkauft. Tragen Sie sich in die Warteliste ein: Werden Plätze frei, bieten wir sie den Personen auf der Liste in der Reihenfolge ihrer Bestätigung per E-Mail an; ein Angebot gilt nur für begrenzte Zeit. Die Anmeldung reserviert keine Tickets.
   *[other] { $event } ist ausverkauft. Tragen Sie sich in die Warteliste ein: Werden Plätze frei, kann der Veranstalter Personen auf der Liste in der Reihenfolge ihrer Bestätigung kontaktieren. Die Anmeldung reserviert keine Tickets.
}
form-required = Mit * markierte Felder sind Pflichtfelder.
field-email = E-Mail-Adresse *
field-email-hint = Wir senden einen Bestätigungslink an diese Adresse.
field-name = Name *
field-phone = Telefonnummer
field-phone-hint = Freiwillig. Ziffern, Leerzeichen, + und - sind erlaubt.
field-tickets = Anzahl Karten *
field-tickets-hint = 1 bis { $max }
field-box-office = Die Adresse der Abendkasse statt der des Kunden verwenden (dann ist eine Telefonnummer nötig)
field-note = Interne Notiz (nur für Mitarbeitende, nie für den Kunden sichtbar)
honeypot = Dieses Feld leer lassen
submit-signup = In die Warteliste eintragen
errors-heading = Bitte korrigieren Sie Folgendes:
error-email = Geben Sie eine gültige E-Mail-Adresse ein, etwa name@beispiel.de.
error-name-missing = Geben Sie einen Namen ein.
error-name-invalid = Der Name ist zu lang (höchstens 100 Zeichen) oder enthält Zeichen, die wir nicht verwenden können.
error-phone = Geben Sie eine Telefonnummer aus Ziffern ein (Leerzeichen, +, - und Klammern sind erlaubt).
error-phone-required = Mit der Adresse der Abendkasse ist eine Telefonnummer nötig.
error-tickets = Wählen Sie eine Anzahl Karten von 1 bis { $max }.
error-note = Die Notiz ist zu lang (höchstens 500 Zeichen) oder enthält Zeichen, die wir nicht verwenden können.

check-mail-title = Sehen Sie in Ihr Postfach
check-mail-body = Wir haben eine Nachricht an die angegebene Adresse geschickt. Folgen Sie dem Link darin, um Ihren Platz auf der Warteliste zu bestätigen. Der Link gilt { $hours } Stunden.
closed-title = Die Warteliste ist nicht geöffnet
closed-body = Für diese Veranstaltung gibt es zurzeit keine offene Warteliste.
full-title = Die Warteliste ist voll
full-body = Die Warteliste für { $event } hat keinen Platz mehr. Versuchen Sie es später noch einmal: Plätze werden frei, wenn andere absagen.
limited-title = Zu viele Versuche
limited-body = Bitte warten Sie ein paar Minuten und versuchen Sie es dann erneut.
bad-form-title = Das Formular ist abgelaufen
bad-form-body = Bitte gehen Sie zurück, laden Sie die Seite neu und senden Sie das Formular noch einmal.

confirm-title = Bestätigen Sie Ihren Platz
confirm-body = Bestätigen Sie Ihre Anmeldung für { $event }: { $count } für { $name }.
confirm-button = Meinen Platz bestätigen
confirmed-title = Sie stehen auf der Warteliste
confirmed-body = Ihre Anmeldung für { $event } ist bestätigt.
place-in-line = Ihr Platz in der Reihe: { $place }
link-expired-title = Dieser Link ist abgelaufen
link-expired-body = Unbestätigte Anmeldungen werden nach einiger Zeit gelöscht. Melden Sie sich erneut an, um einen neuen Link zu erhalten.
link-invalid-title = Dieser Link funktioniert nicht
link-invalid-body = Kopieren Sie den ganzen Link aus der E-Mail in Ihren Browser, oder melden Sie sich erneut an.
link-used-title = Dieser Link wurde bereits verwendet
link-used-body = Ihre Anmeldung wurde mit diesem Link schon bestätigt. Der Link in der Bestätigungsmail zeigt Ihre Anmeldung.

status-title = Ihre Anmeldung zur Warteliste
label-event = Veranstaltung
label-name = Name
label-status = Status
label-tickets = Karten
label-place = Platz in der Reihe
label-actions = Aktionen
status-pending = Wartet auf Bestätigung
status-confirmed = Bestätigt
status-cancelled = Storniert
cancel-hint = Eine Stornierung gilt für die ganze Anmeldung mit allen Karten. Sie lässt sich nicht rückgängig machen.
cancel-button = Anmeldung stornieren
cancelled-title = Ihre Anmeldung ist storniert
cancelled-body = Ihre Anmeldung für { $event } ist storniert. Alle hinter Ihnen rücken einen Platz auf.

mine-title = Meine Anmeldungen zu Wartelisten
mine-empty = Sie haben keine Anmeldungen zu Wartelisten.
mine-signed-out = Melden Sie sich im Shop an, um Ihre Anmeldungen zu sehen. Als Gast finden Sie den Link zu Ihrer Anmeldung in jeder E-Mail von uns.

staff-title = Anmeldung für die Abendkasse
staff-intro = Mitarbeitende der Abendkasse melden Kunden in deren Namen an. Melden Sie sich mit dem Kassen-Token Ihres Veranstalters an (Administratoren des Veranstalters: mit ihrem Admin-Token).
staff-token = Kassen-Token
staff-submit = Anmelden
staff-invalid = Dieser Token ist nicht gültig.
staff-signed-in = Angemeldet als Kassenpersonal von { $organizer }.
staff-signed-in-admin = Angemeldet als Administrator von { $organizer }.
staff-sign-out = Abmelden
staff-signed-out = Sie sind abgemeldet.
staff-next = Öffnen Sie die Warteliste einer Veranstaltung, um Kunden einzutragen: Die Seite zeigt dann die Felder der Kasse.
staff-only-title = Felder der Kasse erfordern eine Anmeldung an der Kasse
staff-only-body = Nur Kassenpersonal des Veranstalters dieser Veranstaltung darf die Adresse der Kasse verwenden oder eine Notiz hinzufügen. Melden Sie sich zuerst an; es wurde nichts gespeichert.
staff-sign-in-link = Anmeldung für die Kasse
staff-box-office-hint = E-Mails gehen dann an { $address }, und die Eintragung ist sofort bestätigt.
staff-placed-title = Eingetragen
staff-placed-body = { $name } steht mit { $count } auf der Warteliste für { $event }, sofort bestätigt. E-Mails gehen an die Adresse der Kasse.
staff-mailed-title = Bestätigungsmail gesendet
staff-mailed-body = Wir haben { $name } eine Bestätigungsmail an { $email } gesendet. Die Eintragung zählt, sobald der Link darin aufgerufen wurde.
staff-already-title = Bereits auf der Warteliste
staff-already-body = Dieser Kunde steht bereits auf der Warteliste für { $event }; nichts hat sich geändert.
staff-note-shown = Interne Notiz: { $note }
staff-another = Weiteren Kunden eintragen
error-no-box-office = Ihr Veranstalter hat keine Adresse der Kasse eingerichtet: Geben Sie die Adresse des Kunden ein.

mail-confirm-subject = Bestätigen Sie Ihren Platz auf der Warteliste für { $event }
mail-confirm-intro = Sie möchten mit { $count } auf die Warteliste für { $event }. Bitte bestätigen Sie innerhalb von { $hours } Stunden; bis dahin zählt die Anmeldung nicht.
mail-confirm-action = Meinen Platz bestätigen
mail-confirmed-subject = Sie stehen auf der Warteliste für { $event }
mail-confirmed-intro = { $mode ->
    [automatic] Ihre Anmeldung für { $event } ({ $count }) ist bestätigt. Ihr Platz in der Reihe ist { $place }. Werden Plätze frei, bieten wir sie Ihnen der Reihe nach per E-Mail an; das Angebot gilt dann { $hours } Stunden. Bis dahin müssen Sie nichts tun.
   *[other] Ihre Anmeldung für { $event } ({ $count }) ist bestätigt. Ihr Platz in der Reihe ist { $place }. Werden Plätze frei, kann der Veranstalter Sie kontaktieren; bis dahin müssen Sie nichts tun.
}
mail-already-subject = Sie stehen bereits auf der Warteliste für { $event }
mail-already-intro = Jemand hat versucht, diese Adresse erneut für { $event } anzumelden. Sie stehen bereits auf der Warteliste; nichts hat sich geändert.
mail-manage-action = Meine Anmeldung ansehen oder stornieren
mail-greeting = Hallo { $name },
mail-footer = Sie erhalten diese Mail, weil diese Adresse für die Warteliste von { $event } angegeben wurde. Waren Sie das nicht, ignorieren Sie diese Mail: Ohne Bestätigung geschieht nichts.

status-offered = Plätze angeboten: buchen oder ablehnen
status-booked = Gebucht
status-declined = Angebot abgelehnt
status-lapsed = Angebot abgelaufen
offer-title = Plätze für Sie: { $event }
offer-body = { $count } für { $event } sind bis { $deadline } für Sie vorgemerkt.
offer-book = Karten buchen
offer-decline-hint = Mit der Ablehnung endet Ihre Anmeldung. Das lässt sich nicht rückgängig machen.
offer-decline-button = Angebot ablehnen
declined-title = Sie haben das Angebot abgelehnt
declined-body = Danke für Ihre Rückmeldung. Ihre Anmeldung für { $event } ist beendet.
offer-ended-title = Dieses Angebot ist beendet
offer-ended-body = { $status ->
    [taken] Sie haben diese Plätze gebucht.
    [declined] Sie haben dieses Angebot abgelehnt.
    [withdrawn] Der Veranstalter hat dieses Angebot zurückgezogen. Ihre Anmeldung steht wieder an ihrem Platz in der Reihe.
   *[expired] Dieses Angebot ist abgelaufen.
}
offer-open-hint = Für diese Anmeldung liegt ein offenes Angebot vor: Buchen oder lehnen Sie es mit den Links in der Angebotsmail ab.
offer-open-link = Zum Angebot
mail-offer-subject = Plätze für { $event } sind für Sie frei
mail-offer-intro = Gute Nachricht: { $count } für { $event } sind für Sie frei. Das Angebot gilt bis { $deadline }. Buchen Sie mit dem ersten Link unten. Wenn Sie die Karten nicht mehr möchten, lehnen Sie das Angebot mit dem zweiten Link ab, damit die nächste Person in der Reihe sie erhält. Das Angebot gilt für Ihre ganze Anmeldung.
mail-offer-action = Karten buchen
mail-offer-decline = Angebot ablehnen
mail-offer-footer = Sie erhalten diese E-Mail, weil Sie auf der Warteliste für { $event } stehen. Läuft das Angebot unbeantwortet ab, endet Ihre Anmeldung.

label-note = Notiz
staff-list-title = Warteliste: { $event }
staff-list-search = Name, E-Mail, Telefon oder Notiz suchen
staff-list-search-button = Suchen
staff-list-export = Liste herunterladen (CSV)
staff-list-empty = Keine Anmeldungen gefunden.
staff-list-more = Nächste Seite
staff-list-link = Liste dieser Veranstaltung öffnen
staff-actions = Aktionen
staff-act-note = Notiz speichern
staff-act-contacted = Als kontaktiert markieren
staff-act-resend = E-Mail erneut senden
staff-act-cancel = Im Namen des Kunden stornieren
staff-act-offer = Angebot senden
staff-offer-link = Link, mit dem der Kunde bucht (Zahlungs- oder Aktionslink)
staff-offer-text = Ihr Text für den Kunden (optional)
staff-offer-hours = Stunden, die das Angebot gilt
staff-contacted-at = Kontaktiert { $when }
staff-offer-state = Angebot { $number }: { $status ->
    [open] offen bis { $deadline }
    [taken] gebucht
    [declined] abgelehnt
    [withdrawn] zurückgezogen
   *[expired] abgelaufen
}
staff-done = { $what ->
    [note] Die Notiz ist gespeichert.
    [contacted] Als kontaktiert markiert.
    [resend] Die E-Mail wird erneut gesendet.
    [cancel] Die Anmeldung ist storniert.
    [offer] Das Angebot ist gesendet.
    [erase] Die Daten sind gelöscht.
   *[other] Erledigt.
}
staff-failed = Nichts geändert: { $reason }
staff-messages-title = Nachrichten: { $event }
staff-messages-link = Gesendete Nachrichten dieser Veranstaltung
staff-messages-empty = Noch keine Nachrichten.
staff-messages-to = An
staff-messages-template = Nachricht
staff-messages-queued = Eingereiht

## Text messages and staff mails
sms-offer = { $event }: { $count } sind bis { $deadline } für Sie frei. Buchen: { $link } Ablehnen: { $decline }
mail-copy-subject = Kopie für das Team: { $subject }
mail-staff-greeting = Hallo,
mail-staff-offers-subject = { $event }: { $offers ->
    [one] ein Angebot verschickt
   *[other] { $offers } Angebote verschickt
}
mail-staff-offers-intro = Freie Plätze von { $event } wurden automatisch in der Reihenfolge der Warteliste angeboten. { $offers ->
    [one] Diese Anmeldung hat ein Angebot erhalten:
   *[other] Diese { $offers } Anmeldungen haben ein Angebot erhalten:
}
mail-staff-offer-line = Angebot { $number }: { $name } <{ $email }>, { $count }, bis { $deadline }
mail-staff-list-action = Liste der Warteliste öffnen
mail-staff-footer = Sie erhalten diese Mail, weil diese Adresse als Team-Adresse der Warteliste von { $event } eingetragen ist.

# Customers' own data (self-service, where the organizer switches it on)
data-heading = Ihre Daten
data-hint = Laden Sie alles herunter, was diese Warteliste über Ihre Anmeldung speichert, oder löschen Sie es. Beim Löschen geben Sie Ihren Platz auf; es lässt sich nicht rückgängig machen.
data-hint-mine = Laden Sie alles herunter, was diese Warteliste über Ihre Anmeldungen speichert, oder löschen Sie es. Beim Löschen geben Sie Ihre Plätze auf; es lässt sich nicht rückgängig machen.
data-download = Meine Daten herunterladen (JSON)
erase-button = Meine Daten löschen
erase-confirm-title = Ihre Daten löschen?
erase-confirm-body = Ihre Anmeldung für { $event } wird storniert, und Ihr Name, Ihre Adresse und Ihre Telefonnummer werden gelöscht. Das lässt sich nicht rückgängig machen.
erase-confirm-body-mine = Ihre Anmeldungen werden storniert, und Ihre Namen, Adressen und Telefonnummern werden gelöscht. Das lässt sich nicht rückgängig machen.
erase-confirm-button = Ja, meine Daten löschen
erased-title = Ihre Daten sind gelöscht
erased-body = Ihre Anmeldung für { $event } ist storniert, und Ihr Name, Ihre Adresse und Ihre Telefonnummer sind gelöscht. Eine letzte E-Mail bestätigt es.
erased-body-mine = Ihre Anmeldungen sind storniert, und Ihre Namen, Adressen und Telefonnummern sind gelöscht.
erased-already = Die Daten dieser Anmeldung sind bereits gelöscht.
mail-erased-subject = Ihre Daten auf der Warteliste für { $event } sind gelöscht
mail-erased-intro = Wie gewünscht ist Ihre Anmeldung für { $event } storniert, und Ihr Name, Ihre Adresse und Ihre Telefonnummer sind gelöscht. Dies ist die letzte E-Mail, die Sie dazu erhalten.
staff-act-erase = Daten löschen
staff-erase-sure = Der Kunde hat darum gebeten: seine Daten endgültig löschen
staff-erase-unsure = Bestätigen Sie mit dem Kästchen, dass der Kunde um das Löschen seiner Daten gebeten hat.
staff-preview = Vorschau
staff-preview-lang = Sprache
staff-preview-title = Vorschau: { $template } ({ $lang })
staff-preview-back = Zurück zu den Nachrichten
staff-test-to = Als Test senden an
staff-test-send = Test senden
staff-test-sent = Als Nachricht { $number } eingereiht: sie steht in den Nachrichten als test:{ $template }.
staff-test-admins = Nur Admins des Veranstalters senden Tests.
field-informed = Halten Sie mich über diese Veranstaltung auf dem Laufenden (über das hinaus, was meine Anmeldung braucht)

# Messages to the whole list
mail-broadcast-intro = Eine Nachricht zur Warteliste von { $event }:
mail-broadcast-footer = Sie erhalten diese Mail, weil Sie auf der Warteliste von { $event } stehen.
mail-news-footer = Sie erhalten diese Mail, weil Sie bei der Anmeldung zur Warteliste von { $event } gebeten haben, informiert zu werden.

# Staff: messages to the whole list
staff-broadcasts-link = Nachrichten an die ganze Liste
staff-broadcasts-title = Nachrichten an die ganze Liste: { $event }
staff-broadcasts-empty = Noch keine Nachrichten an die ganze Liste.
staff-broadcast-audience = Wer sie erhält
staff-broadcast-purpose = Art der Nachricht
staff-broadcast-when = Wann
staff-broadcast-queued = Mails eingereiht
staff-broadcast-cancel = Abbrechen
staff-broadcast-new = Eine Nachricht an die ganze Liste schreiben
staff-broadcast-admins = Nur die Admins des Veranstalters schreiben Nachrichten an die ganze Liste.
audience-waiting = Alle, die noch warten (in der Reihe oder mit einem Angebot)
audience-confirmed = Alle, die bestätigt haben (auch die, deren Angebot beendet ist)
purpose-service = Für jede Anmeldung nötig: geht an alle
purpose-news = Neuigkeiten: nur an die, die „Auf dem Laufenden halten“ angekreuzt haben
staff-broadcast-lang = Sprache des Textes
staff-broadcast-only-lang = Nur an Anmeldungen in dieser Sprache
staff-broadcast-subject = Betreff
staff-broadcast-body = Nachricht
staff-broadcast-now = Jetzt
staff-broadcast-at = Um (UTC)
staff-broadcast-before = Vor Beginn der Veranstaltung (etwa 24h oder 2days)
staff-broadcast-preview = Vorschau
staff-broadcast-schedule = Senden oder einplanen
staff-broadcast-reach = Sie ginge jetzt an { $count } Anmeldungen.
staff-broadcast-scheduled = Nachricht { $number } ist { $status } ({ $when }).
staff-broadcast-cancelled = Nachricht { $number } ist abgebrochen.

# News: a change of mind after signup
mail-news-stop = Keine Neuigkeiten mehr
news-on = Sie erhalten Neuigkeiten zu { $event }, über das hinaus, was Ihre Anmeldung braucht.
news-off = Sie erhalten nur die Nachrichten, die Ihre Anmeldung braucht.
news-stop = Keine Neuigkeiten mehr
news-start = Auf dem Laufenden halten
news-stopped = Sie erhalten keine Neuigkeiten mehr zu { $event }. Nachrichten, die Ihre Anmeldung braucht, kommen weiter.
news-started = Sie erhalten Neuigkeiten zu { $event }.
news-back = Zurück zu Ihrer Anmeldung
staff-broadcast-when-now = jetzt
staff-broadcast-when-at = um { $time }
staff-broadcast-when-before = { $duration } vor Beginn
broadcast-status-scheduled = geplant
broadcast-status-waiting-for-start = wartet auf die Beginnzeit der Veranstaltung
broadcast-status-sending = wird gesendet
broadcast-status-sent = gesendet
broadcast-status-missed = verpasst: die Zeit kam nach Beginn
broadcast-status-cancelled = abgebrochen
