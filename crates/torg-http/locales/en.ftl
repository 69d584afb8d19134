# English.
language-name = English
skip-to-content = Skip to content
nav-label = Main menu
nav-inbox = Inbox
nav-signed-in-as = Signed in as
nav-logout = Sign out
language-switcher = Language
footer-text = Torg – the municipality's communication hub

portal-choose-title = Choose a municipality
portal-staff-link = Staff sign-in

contact-title = Contact the municipality
contact-intro = Write to us and we will answer as soon as we can. You get a reference number and a private link where you can follow your case.
form-error-heading = Something needs fixing
field-name = Name
field-required = required
field-contact-legend = How can we answer you?
field-contact-hint = Give an email address, a mobile number or both.
field-email = Email
field-phone = Mobile number
field-topic = Topic
field-message = Message
field-message-hint = Do not write national identity numbers or health information here.
field-attachment = Attachment (optional)
field-attachment-hint = One file, at most 25 MB.
contact-submit = Send

receipt-title = Thank you, we have received your inquiry
receipt-thanks = Your inquiry is registered.
receipt-reference = Reference number:
receipt-expect-answer = You can expect an answer by { $deadline }.
receipt-follow-heading = Follow your case
receipt-follow-text = Keep this link. There you see our answers and can write to us again:
receipt-follow-private = The link is private. Do not share it.

follow-title = Inquiry
label-status = Status
label-received = Received
label-expected-answer = Expected answer by
follow-thread = Messages
follow-add-message = Write a new message
follow-send = Send message

login-title = Sign in
field-municipality = Municipality
field-username = Username
field-password = Password
login-submit = Sign in
login-wrong = Wrong username or password. Try again, or ask an administrator for a new password.

inbox-title = Inbox
inbox-filters = Filter inquiries
inbox-search = Search
label-unit = Unit
filter-all = All
label-channel = Channel
label-assignee = Assignee
filter-anyone = Anyone
filter-mine = Mine
inbox-filter-submit = Show
inbox-caption = Inquiries by deadline
label-reference = Reference
label-deadline = Deadline
label-citizen = Citizen
label-summary = Content
inbox-empty = No inquiries match the filter.
inbox-next-page = Next page
filter-not-closed = Not closed

inquiry-heading = Inquiry
label-contact = Contact
inquiry-reply = Reply to the citizen
inquiry-canned = Canned reply
inquiry-canned-use = Use canned reply
inquiry-reply-label = Reply
inquiry-signature-hint = The reply is signed: { $signature }
inquiry-send-reply = Send reply
inquiry-note = Internal note
inquiry-note-label = Note (never shown to the citizen)
inquiry-add-note = Save note
inquiry-assign = Assign
assignee-nobody = Nobody
inquiry-assign-submit = Assign
inquiry-status = Status
inquiry-status-submit = Change status

error-back = Back
error-storage = We cannot save or fetch data right now. Wait a moment and try again.
error-heading-unavailable = The service is temporarily unavailable
error-unknown-municipality = There is no municipality with the short name “{ $slug }”. Check the address.
error-heading-not-found = Page not found
error-bad-form = The form did not arrive in the right shape. Reload the page and try again.
error-too-large = The submission is too large. Attachments can be at most 25 MB.
error-invalid-encoding = The text contains characters we cannot read. Please type it again.
error-unknown-follow-link = The link is not valid. Check that you copied the whole link from the receipt.
error-form-expired = The form has expired. Reload the page and try again.
error-unknown-inquiry = The inquiry does not exist.
error-forbidden = You are not allowed to do this.
error-missing-field = Fill in all required fields.
error-too-long = The text is too long. Split it up or send it as an attachment.
error-invalid-characters = The text contains invalid characters.
error-invalid-email = The email address does not look right. Write it like name@example.com
error-invalid-phone = The mobile number does not look right. Write 8 digits, or + and the country code first.
error-missing-contact = Give an email address or a mobile number so that we can answer you.
error-no-units = The municipality does not take inquiries here yet.
error-attachment-too-large = The attachment is too large. At most 25 MB.
error-storage-error = We could not save your inquiry. Try again in a little while.

unit-days = d
unit-hours = h
unit-minutes = min
time-left = { $time } left
time-overdue = { $time } overdue
time-closed = Closed

topic-other = Other
topic-school = Kindergarten and school
topic-health = Health and care
topic-water = Water and sewage
topic-roads = Roads and traffic
topic-waste = Waste collection
topic-building = Planning and building
topic-culture = Culture and leisure

status-new = New
status-open = In progress
status-waiting_for_citizen = Waiting for citizen
status-closed = Closed

channel-web = Contact form
channel-chat = Chat
channel-email = Email
channel-sms = SMS
channel-phone = Phone
channel-facebook = Facebook
channel-instagram = Instagram
channel-mastodon = Mastodon
channel-api = API

kind-inbound = From citizen
kind-outbound = Reply
kind-note = Internal note

done-reply = The reply is sent.
done-note = The note is saved.
done-assign = The inquiry is assigned.
done-status = The status is changed.
