"""Finding cases and customers by what a caller says: a reference fragment, a name, a phone typed
any way, an e-mail, or words of the complaint in Chinese or English.

`documents` keeps one search document per case and per customer, rebuilt in the transaction of the
change that affects it; `query` reads what was typed; `finder` matches and ranks with the
database's own text index (SQLite FTS5 trigram, PostgreSQL pg_trgm)."""
