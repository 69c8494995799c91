"""The admin door: users, reply templates and the scheduler page, all under /admin and /replies."""
