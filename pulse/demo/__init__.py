"""A realistic demo organisation, so a newcomer sees every feature working at once."""
