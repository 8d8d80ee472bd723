"""One module per UI section: TITLE and build(host)."""
