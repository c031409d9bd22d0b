"""Communication hub: contacts, threads, e-mails and events, WhatsApp/SMS, calls, notes, suppressions."""
