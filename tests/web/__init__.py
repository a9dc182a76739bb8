"""Page tests: the web interface through Django's test client."""
