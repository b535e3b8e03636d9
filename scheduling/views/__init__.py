"""Server-rendered pages. Each module is thin: it reads with selectors, writes
through the services, and turns a DomainError into errors next to the fields."""
