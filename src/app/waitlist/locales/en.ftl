# Doorman waitlist: English. Every file holds the same message ids (a test checks).
language-switch = Language
back-to-event = Back to the event
button-join = Join the waitlist
tickets-count = { $tickets ->
    [one] 1 ticket
   *[other] { $tickets } tickets
}

form-title = Waitlist: { $event }
form-intro = { $mode ->
    [automatic] { $event } is sold out. Join the waitlist: when seats come free, they are offered by e-mail to the people on the list, in the order they confirmed; an offer holds for a limited time. Joining does not reserve tickets.
   *[other] { $event } is sold out. Join the waitlist: when seats come free, the organizer may contact people on the list, in the order they confirmed. Joining does not reserve tickets.
}
form-required = Fields marked * are required.
field-email = E-mail address *
field-email-hint = We send a confirmation link to this address.
field-name = Name *
field-phone = Phone number
field-phone-hint = Optional. Digits, spaces, + and - are fine.
field-tickets = Number of tickets *
field-tickets-hint = 1 to { $max }
field-box-office = Use the box-office address instead of the customer's (then a phone number is required)
field-note = Internal note (staff only, never shown to the customer)
honeypot = Leave this field empty
submit-signup = Join the waitlist
errors-heading = Please correct the following:
error-email = Enter a valid e-mail address, like name@example.com.
error-name-missing = Enter a name.
error-name-invalid = The name is too long (at most 100 characters) or holds characters we cannot use.
error-phone = Enter a phone number of digits (spaces, +, - and brackets are fine).
error-phone-required = A phone number is required when the box-office address is used.
error-tickets = Choose a number of tickets from 1 to { $max }.
error-note = The note is too long (at most 500 characters) or holds characters we cannot use.

check-mail-title = Check your mail
check-mail-body = We sent a message to the address you gave. Follow the link in it to confirm your place on the waitlist. The link works for { $hours } hours.
closed-title = The waitlist is not open
closed-body = This event has no open waitlist at the moment.
full-title = The waitlist is full
full-body = The waitlist for { $event } has no room left. You can try again later: places come free when others cancel.
limited-title = Too many attempts
limited-body = Please wait a few minutes, then try again.
bad-form-title = The form has expired
bad-form-body = Please go back, reload the page and send the form again.

confirm-title = Confirm your place
confirm-body = Confirm your signup for { $event }: { $count } for { $name }.
confirm-button = Confirm my place
confirmed-title = You are on the waitlist
confirmed-body = Your signup for { $event } is confirmed.
place-in-line = Your place in line: { $place }
link-expired-title = This link has expired
link-expired-body = Unconfirmed signups are removed after a while. Sign up again to get a new link.
link-invalid-title = This link does not work
link-invalid-body = Copy the whole link from the e-mail into your browser, or sign up again.
link-used-title = This link was already used
link-used-body = Your signup was confirmed with this link before. The link in the confirmation mail shows your signup.

status-title = Your waitlist signup
label-event = Event
label-name = Name
label-status = Status
label-tickets = Tickets
label-place = Place in line
label-actions = Actions
status-pending = Waiting for confirmation
status-confirmed = Confirmed
status-cancelled = Cancelled
cancel-hint = Cancelling gives up the whole signup, all its tickets. It cannot be undone.
cancel-button = Cancel the signup
cancelled-title = Your signup is cancelled
cancelled-body = Your signup for { $event } is cancelled. Everyone behind you moved up one place.

mine-title = My waitlist signups
mine-empty = You have no waitlist signups.
mine-signed-out = Sign in to the shop to see your waitlist signups. A guest finds the link to their signup in every e-mail we send.

staff-title = Box-office sign-in
staff-intro = Box-office staff sign customers up on their behalf. Sign in with the box-office token of your organizer (the organizer's admins: with their admin token).
staff-token = Box-office token
staff-submit = Sign in
staff-invalid = That token is not valid.
staff-signed-in = Signed in as box-office staff of { $organizer }.
staff-signed-in-admin = Signed in as an admin of { $organizer }.
staff-sign-out = Sign out
staff-signed-out = You are signed out.
staff-next = Open the waitlist of an event to sign customers up: its page then shows the box-office fields.
staff-only-title = Box-office fields need a box-office sign-in
staff-only-body = Only box-office staff of this event's organizer may use the box-office address or add a note. Sign in first; nothing was stored.
staff-sign-in-link = Box-office sign-in
staff-box-office-hint = Mails then go to { $address }, and the signup is confirmed at once.
staff-placed-title = Signed up
staff-placed-body = { $name } is on the waitlist for { $event } with { $count }, confirmed at once. Mails go to the box-office address.
staff-mailed-title = Confirmation mail sent
staff-mailed-body = We sent { $name } a confirmation mail at { $email }. The signup counts once they follow its link.
staff-already-title = Already on the waitlist
staff-already-body = This customer is already on the waitlist for { $event }; nothing has changed.
staff-note-shown = Internal note: { $note }
staff-another = Sign up another customer
error-no-box-office = Your organizer has no box-office address set up: enter the customer's address instead.

mail-confirm-subject = Confirm your place on the waitlist for { $event }
mail-confirm-intro = You asked to join the waitlist for { $event } with { $count }. Please confirm within { $hours } hours; until then the signup does not count.
mail-confirm-action = Confirm my place
mail-confirmed-subject = You are on the waitlist for { $event }
mail-confirmed-intro = { $mode ->
    [automatic] Your signup for { $event } ({ $count }) is confirmed. Your place in line is { $place }. When seats come free, we offer them to you by e-mail in your turn; the offer then holds for { $hours } hours. Until then there is nothing you need to do.
   *[other] Your signup for { $event } ({ $count }) is confirmed. Your place in line is { $place }. When seats come free, the organizer may contact you; until then there is nothing you need to do.
}
mail-already-subject = You are already on the waitlist for { $event }
mail-already-intro = Someone tried to sign this address up for { $event } again. You are already on the waitlist; nothing has changed.
mail-manage-action = See or cancel my signup
mail-greeting = Hello { $name },
mail-footer = You get this mail because this address was entered on the waitlist of { $event }. If that was not you, ignore this mail: nothing happens without confirmation.

status-offered = Seats offered: book or decline them
status-booked = Booked
status-declined = Offer declined
status-lapsed = Offer expired
offer-title = Seats for you: { $event }
offer-body = { $count } for { $event } are held for you until { $deadline }.
offer-book = Book my tickets
offer-decline-hint = Declining ends your signup. It cannot be undone.
offer-decline-button = Decline the offer
declined-title = You declined the offer
declined-body = Thank you for letting us know. Your signup for { $event } has ended.
offer-ended-title = This offer has ended
offer-ended-body = { $status ->
    [taken] You booked these seats.
    [declined] You declined this offer.
    [withdrawn] The organizer withdrew this offer. Your signup is back in its place in line.
   *[expired] This offer has expired.
}
offer-open-hint = You have an open offer for this signup: book or decline it with the links in the offer mail.
offer-open-link = See the offer
mail-offer-subject = Seats for { $event } are free for you
mail-offer-intro = Good news: { $count } for { $event } are free for you. The offer holds until { $deadline }. Book them with the first link below. If you no longer want them, decline the offer with the second link, so the next person in line gets them. The offer is for your whole signup.
mail-offer-action = Book my tickets
mail-offer-decline = Decline the offer
mail-offer-footer = You get this mail because you are on the waitlist of { $event }. If the offer expires unanswered, your signup ends.

label-note = Note
staff-list-title = Waitlist: { $event }
staff-list-search = Search name, e-mail, phone or note
staff-list-search-button = Search
staff-list-export = Download the list (CSV)
staff-list-empty = No signups found.
staff-list-more = Next page
staff-list-link = Open the list of this event
staff-actions = Actions
staff-act-note = Save the note
staff-act-contacted = Mark contacted
staff-act-resend = Send the mail again
staff-act-cancel = Cancel on the customer's behalf
staff-act-offer = Send the offer
staff-offer-link = Link the customer books with (payment or action link)
staff-offer-text = Your text for the customer (optional)
staff-offer-hours = Hours the offer holds
staff-contacted-at = Contacted { $when }
staff-offer-state = Offer { $number }: { $status ->
    [open] open until { $deadline }
    [taken] taken
    [declined] declined
    [withdrawn] withdrawn
   *[expired] expired
}
staff-done = { $what ->
    [note] The note is saved.
    [contacted] Marked contacted.
    [resend] The mail is queued again.
    [cancel] The signup is cancelled.
    [offer] The offer is sent.
    [erase] The data is erased.
   *[other] Done.
}
staff-failed = Nothing was done: { $reason }
staff-messages-title = Messages: { $event }
staff-messages-link = Messages sent for this event
staff-messages-empty = No messages yet.
staff-messages-to = To
staff-messages-template = Message
staff-messages-queued = Queued

## Text messages and staff mails
sms-offer = { $event }: { $count } are free for you until { $deadline }. Book: { $link } Decline: { $decline }
mail-copy-subject = Copy for staff: { $subject }
mail-staff-greeting = Hello,
mail-staff-offers-subject = { $event }: { $offers ->
    [one] one offer made
   *[other] { $offers } offers made
}
mail-staff-offers-intro = Freed seats of { $event } were offered automatically, in line order. { $offers ->
    [one] This signup received an offer:
   *[other] These { $offers } signups received an offer:
}
mail-staff-offer-line = Offer { $number }: { $name } <{ $email }>, { $count }, until { $deadline }
mail-staff-list-action = Open the waitlist's staff list
mail-staff-footer = You get this mail because this address is a staff address of the waitlist of { $event }.

# Customers' own data (self-service, where the organizer switches it on)
data-heading = Your data
data-hint = Download everything this waitlist holds about your signup, or erase it. Erasing gives up your place and cannot be undone.
data-hint-mine = Download everything this waitlist holds about your signups, or erase it. Erasing gives up your places and cannot be undone.
data-download = Download my data (JSON)
erase-button = Erase my data
erase-confirm-title = Erase your data?
erase-confirm-body = Your signup for { $event } will be cancelled, and your name, address and phone number erased. This cannot be undone.
erase-confirm-body-mine = Your signups will be cancelled, and your names, addresses and phone numbers erased. This cannot be undone.
erase-confirm-button = Yes, erase my data
erased-title = Your data is erased
erased-body = Your signup for { $event } is cancelled, and your name, address and phone number are erased. A last mail confirms it.
erased-body-mine = Your signups are cancelled, and your names, addresses and phone numbers are erased.
erased-already = The data of this signup is erased already.
mail-erased-subject = Your data on the waitlist for { $event } is erased
mail-erased-intro = As you asked, your signup for { $event } is cancelled, and your name, address and phone number are erased. This is the last mail you receive about it.
staff-act-erase = Erase data
staff-erase-sure = The customer asked: erase their data for good
staff-erase-unsure = Tick the box to confirm that the customer asked for their data to be erased.
staff-preview = Preview
staff-preview-lang = Language
staff-preview-title = Preview: { $template } ({ $lang })
staff-preview-back = Back to the messages
staff-test-to = Send it as a test to
staff-test-send = Send test
staff-test-sent = Queued as message { $number }: it shows in the messages as test:{ $template }.
staff-test-admins = Only the organizer's admins send tests.
field-informed = Keep me informed about this event (news beyond what my signup needs)

# Messages to the whole list
mail-broadcast-intro = A message about the waitlist of { $event }:
mail-broadcast-footer = You get this mail because you are on the waitlist of { $event }.
mail-news-footer = You get this mail because you asked to be kept informed when you joined the waitlist of { $event }.

# Staff: messages to the whole list
staff-broadcasts-link = Messages to the whole list
staff-broadcasts-title = Messages to the whole list: { $event }
staff-broadcasts-empty = No messages to the whole list yet.
staff-broadcast-audience = Who gets it
staff-broadcast-purpose = Kind of message
staff-broadcast-when = When
staff-broadcast-queued = Mails queued
staff-broadcast-cancel = Cancel
staff-broadcast-new = Write a message to the whole list
staff-broadcast-admins = Only the organizer's admins write messages to the whole list.
audience-waiting = Everyone still waiting (in line, or holding an offer)
audience-confirmed = Everyone who confirmed (those whose offer ended too)
purpose-service = Needed by every signup: goes to all of them
purpose-news = News: only to those who ticked "keep me informed"
staff-broadcast-lang = Language of the text
staff-broadcast-only-lang = Only to signups in this language
staff-broadcast-subject = Subject
staff-broadcast-body = Message
staff-broadcast-now = Now
staff-broadcast-at = At (UTC)
staff-broadcast-before = Before the event's start (such as 24h or 2days)
staff-broadcast-preview = Preview
staff-broadcast-schedule = Send or schedule it
staff-broadcast-reach = It would reach { $count } signups now.
staff-broadcast-scheduled = Message { $number } is { $status } ({ $when }).
staff-broadcast-cancelled = Message { $number } is cancelled.

# News: a change of mind after signup
mail-news-stop = Stop the news
news-on = You get news about { $event } beyond what your signup needs.
news-off = You get only the messages your signup needs.
news-stop = Stop the news
news-start = Keep me informed
news-stopped = You get no more news about { $event }. Messages your signup needs still come.
news-started = You will get news about { $event }.
news-back = Back to your signup
staff-broadcast-when-now = now
staff-broadcast-when-at = at { $time }
staff-broadcast-when-before = { $duration } before the start
broadcast-status-scheduled = scheduled
broadcast-status-waiting-for-start = waiting for the event's start time
broadcast-status-sending = being sent
broadcast-status-sent = sent
broadcast-status-missed = missed: its time came after the start
broadcast-status-cancelled = cancelled
