"""Remote deadline feeds: fetch an LMS calendar, parse it, upsert its deadlines."""
